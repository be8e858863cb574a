"""The test suite's rule for QEMU crashing at random (tests/support/qemu_crashes.py).

The texts are QEMU's and glibc's as seen on the QEMU runs here: QEMU 7.2.22
pseries after a core unplug (``free(): corrupted unsorted chunks``, exit -6;
exit -11), QEMU 7.2/10.0/11.1's GLib assertion when TCG runs out of vCPU
contexts, QEMU 10.0's abort for more than 255 x86 CPUs without x2APIC, and the
SIGFPE of a division by zero while filling in ``-smp``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import pytest
from _pytest.outcomes import Skipped
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.qemu_crashes import (
    QemuCrashedAtRandom,
    RandomCrashCounts,
    random_crash,
    rerun_if_crashed_at_random,
)
from tests.support.qemu_runner import run_qemu

TCG_ABORT = [
    "**",
    "ERROR:../../tcg/tcg.c:482:tcg_register_thread: assertion failed: (n < tcg_max_ctxs)",
]
APIC_ABORT = [
    "Unexpected error in apic_common_set_id() at ../hw/intc/apic_common.c:447:",
    "qemu-system-x86_64: APIC ID 255 requires x2APIC feature in CPU",
]
ACPI_ASSERT = [
    "qemu-system-x86_64: ../../hw/acpi/ich9.c:385: ich9_pm_set_cpu_hotplug_legacy: "
    "Assertion `!value' failed."
]


@pytest.mark.parametrize(
    ("exit_code", "stderr", "timed_out", "random"),
    [
        (-6, ["free(): corrupted unsorted chunks"], False, True),
        (-11, [], False, True),
        (-6, [], False, True),
        (-6, TCG_ABORT, False, False),
        (-6, APIC_ABORT, False, False),
        (-6, ACPI_ASSERT, False, False),
        (-8, [], False, False),
        (-9, [], True, False),
        (0, ["free(): corrupted unsorted chunks"], False, False),
        (1, ["qemu-system-ppc64: core 0 already populated"], False, False),
    ],
)
def test_what_counts_as_a_random_crash(
    exit_code: int, stderr: list[str], timed_out: bool, random: bool
) -> None:
    assert (random_crash(exit_code, stderr, timed_out) is not None) is random


Result = tuple[int, Sequence[str]]


def _attempts(*outcomes: Result) -> tuple[list[int], Callable[[], Result]]:
    calls: list[int] = []

    def attempt() -> Result:
        calls.append(len(calls))
        return outcomes[len(calls) - 1]

    return calls, attempt


def _outcome(result: Result) -> tuple[int, Sequence[str], bool]:
    return result[0], result[1], False


def test_a_run_that_ends_well_or_crashes_as_always_is_not_rerun() -> None:
    for ending in [(0, []), (-6, TCG_ABORT), (1, ["refused"])]:
        counts = RandomCrashCounts()
        calls, attempt = _attempts(ending)
        assert rerun_if_crashed_at_random(attempt, _outcome, "x", counts) == ending
        assert calls == [0] and counts.rerun == 0


def test_a_random_crash_is_run_again_and_the_second_run_is_compared() -> None:
    counts = RandomCrashCounts()
    calls, attempt = _attempts((-11, []), (0, ["fine"]))
    assert rerun_if_crashed_at_random(attempt, _outcome, "x", counts) == (0, ["fine"])
    assert calls == [0, 1]
    assert (counts.rerun, counts.recovered, counts.left_out) == (1, 1, [])


def test_a_second_random_crash_leaves_the_test_out_with_a_warning() -> None:
    counts = RandomCrashCounts()
    _calls, attempt = _attempts((-6, ["free(): corrupted unsorted chunks"]), (-11, []))
    with (
        pytest.warns(QemuCrashedAtRandom, match="crashed at random twice"),
        pytest.raises(Skipped, match="example left out: pseries run"),
    ):
        rerun_if_crashed_at_random(attempt, _outcome, "pseries run", counts)
    assert counts.rerun == 1 and len(counts.left_out) == 1
    assert counts.summary() == (
        "QEMU crashed at random 2 times: 1 runs rerun, 0 compared on the rerun, "
        "1 examples left out (crashed again)"
    )


def test_inside_hypothesis_only_the_example_is_left_out() -> None:
    counts = RandomCrashCounts()
    seen: list[int] = []

    @settings(max_examples=5, database=None)
    @given(st.integers(0, 3))
    @example(0)
    def drawn(n: int) -> None:
        seen.append(n)
        if n == 0:
            _calls, attempt = _attempts((-11, []), (-11, []))
            rerun_if_crashed_at_random(attempt, _outcome, f"example {n}", counts)
            raise AssertionError("a left-out example goes no further")

    with pytest.warns(QemuCrashedAtRandom):
        drawn()  # rejected examples are no failure, and the other examples run
    assert any(n != 0 for n in seen)


def test_a_program_other_than_qemu_is_never_rerun() -> None:
    # A crash of the stand-in is its own behaviour, compared as it is.
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]
    run = run_qemu("x86_64", [], program=crash, timeout=30)
    assert run.exit_code == -11
