"""The process stand-in's option queries where it refuses to answer, without QEMU.

What it answers is compared with real QEMU in
``tests/differential/test_standin_help.py``; here, what it refuses as not
modelled (exit status 2 and a ``cputopo:`` line): the properties of device
types other than CPUs, releases with no capture, and a query after an
option the stand-in cannot check as QEMU reads it.
"""

from __future__ import annotations

import pytest

from topology.qemu import QemuSimulator, QemuStartError, UnsupportedOptionError
from topology.qemu._stdio import main as stand_in_main


def _run(
    capfd: pytest.CaptureFixture[str], *args: str, version: str = "10.0"
) -> tuple[int, str, str]:
    capfd.readouterr()
    status = stand_in_main(["qemu-system-x86_64", "--qemu-version", version, *args])
    out, err = capfd.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("args", "why"),
    [
        # QEMU has the type and would list its properties; the stand-in has CPUs' only.
        (["-device", "virtio-net-pci,help"], "properties of CPU device types only"),
        (["-device", "virtio-net,help"], "not of virtio-net-pci"),  # an alias
        # Options QEMU reads before the query that the stand-in cannot check.
        (["-drive", "file=x", "-cpu", "help"], "-drive file=x"),
        (["-display", "gtk", "-cpu", "help"], "-display gtk"),
        (["-m", "1G,help", "-cpu", "help"], "-m's own help"),
        (["-object", '{"qom-type": "memory-backend-ram"}', "-cpu", "help"], "JSON"),
        (["-device", "{bad", "-cpu", "help"], "JSON"),
        (["-name", "vm,debug-threads", "-cpu", "help"], "flags of -name"),
        (["-h", "-cpu", "help"], "-h"),
    ],
)
def test_what_the_stand_in_cannot_tell_exits_2(
    capfd: pytest.CaptureFixture[str], args: list[str], why: str
) -> None:
    status, out, err = _run(capfd, *args)
    assert (status, out) == (2, "")
    assert err.startswith("cputopo: ") and why in err


@pytest.mark.parametrize("args", [["-cpu", "help"], ["-device", "help"], ["-accel", "help"]])
def test_a_release_with_no_capture_has_no_help_text(
    capfd: pytest.CaptureFixture[str], args: list[str]
) -> None:
    status, out, err = _run(capfd, *args, version="9.0")
    assert (status, out) == (2, "")
    assert "qemu-system-x86_64 9.0" in err


def test_a_loop_error_before_the_query_wins_with_its_warnings(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # QEMU 7.2, 10.0 and 11.1: the -numa warning, then the -m refusal; no help.
    status, out, err = _run(capfd, "-numa", "node,mem", "-m", "foo", "-cpu", "help")
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        "qemu-system-x86_64: -numa node,mem: warning: short-form boolean option 'mem' deprecated",
        "Please use mem=on instead",
        "qemu-system-x86_64: -m foo: Parameter 'size' expects a non-negative number below 2^64",
        "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-",
        "and exabytes, respectively.",
    ]


def test_in_process_the_simulator_still_refuses_help_texts() -> None:
    # The texts are the process's; QemuSimulator has no stdout to print them on.
    with pytest.raises(UnsupportedOptionError):
        QemuSimulator(["qemu-system-x86_64", "-cpu", "help"], version="10.0")


def test_cpu_help_with_more_is_a_model_named_help() -> None:
    # Only -cpu help (or ?) as a whole asks; QEMU then looks for a model "help".
    with pytest.raises(QemuStartError) as refused:
        QemuSimulator(["qemu-system-x86_64", "-cpu", "help,x"], version="10.0")
    assert refused.value.stderr == "qemu-system-x86_64: unable to find CPU model 'help'\n"
