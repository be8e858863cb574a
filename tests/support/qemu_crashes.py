"""QEMU crashing at random, and what a differential test does about it.

QEMU 7.2 sometimes dies after a pseries core unplug under TCG: a heap
corruption that glibc reports (``free(): corrupted unsorted chunks``, exit -6)
or a segmentation fault (exit -11), in about one run of twenty (measured: 10 of
198 drawn unplug sequences). That is a QEMU bug, not behaviour to compare with
the model. Such a run is run once more; if QEMU crashes at random again the
example is left out, saying so: a :class:`QemuCrashedAtRandom` warning in
pytest's warnings summary, and counts at the end of the session (see
``tests/conftest.py``). Inside a Hypothesis test the example is rejected; any
other test is skipped.

What counts as a random crash is narrow: death by a signal (not a kill at the
time limit), and no text of the crashes QEMU has every time, which the model
reproduces and the tests compare (a failed assertion, ``Unexpected error in
...``, SIGFPE's division by zero). A reply, an event or a message that differs
from the model's is never a crash: it fails the test as it did.
"""

from __future__ import annotations

import signal
import warnings
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

import pytest
from hypothesis import reject
from hypothesis.control import currently_in_test_context

__all__ = [
    "COUNTS",
    "QemuCrashedAtRandom",
    "RandomCrashCounts",
    "random_crash",
    "rerun_if_crashed_at_random",
]

_T = TypeVar("_T")

#: What glibc prints when it finds the heap corrupt (``malloc/malloc.c``
#: malloc_printerr); the first was seen with QEMU 7.2 pseries.
HEAP_CORRUPTION_TEXTS: Final = (
    "free(): ",
    "malloc(): ",
    "realloc(): ",
    "double free or corruption",
    "corrupted size vs. prev_size",
    "corrupted double-linked list",
    "munmap_chunk(): ",
    "malloc_consolidate(): ",
)
#: Texts of the crashes QEMU has every time (the model reproduces them): GLib's
#: and C's failed assertions, error_abort's report.
DETERMINISTIC_TEXTS: Final = ("assertion failed: (", "Assertion `", "Unexpected error in ")


class QemuCrashedAtRandom(UserWarning):
    """An example was left out: QEMU crashed at random on it twice in a row."""


class RandomCrashCounts:
    """How often QEMU crashed at random in this session, and what was done."""

    def __init__(self) -> None:
        self.rerun = 0
        self.recovered = 0
        self.left_out: list[str] = []

    def summary(self) -> str | None:
        """One line for the end of the session, or None when QEMU never crashed at random."""
        if not self.rerun:
            return None
        return (
            f"QEMU crashed at random {self.rerun + len(self.left_out)} times: "
            f"{self.rerun} runs rerun, {self.recovered} compared on the rerun, "
            f"{len(self.left_out)} examples left out (crashed again)"
        )


#: The session's counts (tests/conftest.py prints them).
COUNTS: Final = RandomCrashCounts()


def random_crash(
    exit_code: int, stderr_lines: Sequence[str], timed_out: bool = False
) -> str | None:
    """Why a QEMU run looks like a random crash, or None when it does not.

    >>> random_crash(-6, ["free(): corrupted unsorted chunks"])
    'free(): corrupted unsorted chunks'
    >>> random_crash(-11, [])
    'killed by SIGSEGV'
    >>> random_crash(-6, ["**", "ERROR:tcg/tcg.c:1006:tcg_register_thread: assertion failed: (n)"])
    >>> random_crash(-8, []), random_crash(1, ["qemu-system-ppc64: bad"])
    (None, None)
    """
    if exit_code >= 0 or timed_out or exit_code == -signal.SIGFPE:
        return None
    if any(text in line for line in stderr_lines for text in DETERMINISTIC_TEXTS):
        return None
    for line in reversed(stderr_lines):
        if any(text in line for text in HEAP_CORRUPTION_TEXTS):
            return line.strip()
    try:
        return f"killed by {signal.Signals(-exit_code).name}"
    except ValueError:
        return f"killed by signal {-exit_code}"


def rerun_if_crashed_at_random(
    attempt: Callable[[], _T],
    outcome: Callable[[_T], tuple[int, Sequence[str], bool]],
    what: str,
    counts: RandomCrashCounts = COUNTS,
) -> _T:
    """``attempt()``, and once more if QEMU crashed at random; leave the example out
    if it crashes at random again.

    ``outcome`` tells a result's exit status, stderr lines and whether it hit
    its time limit; ``what`` names the run in the message; ``counts`` is
    where it is counted (the session's).
    """
    first = attempt()
    reason = random_crash(*outcome(first))
    if reason is None:
        return first
    counts.rerun += 1
    second = attempt()
    again = random_crash(*outcome(second))
    if again is None:
        counts.recovered += 1
        return second
    message = f"QEMU crashed at random twice ({reason}; then {again}), example left out: {what}"
    counts.left_out.append(message)
    warnings.warn(message, QemuCrashedAtRandom, stacklevel=2)
    if currently_in_test_context():
        reject()
    pytest.skip(message)
