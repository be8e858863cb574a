"""``topology.qemu.validate`` against real QEMU 7.2: the verdict on a command line
carries QEMU's exit status and every stderr line, unchanged.

The refusals and warnings themselves are the stand-in's (``test_sessions.py``
here holds them to QEMU); plans, exit codes and JSON without QEMU are in
``tests/unit/test_validate.py``.
"""

from __future__ import annotations

import pytest

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, run_qemu
from topology.qemu import validate


def _argv(target: str, *args: str) -> list[str]:
    return [f"qemu-system-{target}", *BASE_ARGS, *args]


@pytest.mark.qemu
@pytest.mark.parametrize(
    ("target", "args"),
    [
        ("x86_64", ["-machine", "q35", "-smp", "4,sockets=3"]),
        ("x86_64", ["-machine", "pc-q35-7.2", "-smp", "4,maxcpus=8"]),
        ("x86_64", ["-machine", "q35", "-smp", "2,threads=2"]),  # AMD HT warning
        ("s390x", ["-smp", "2,threads=2"]),
        ("aarch64", ["-machine", "virt", "-smp", "9"]),
    ],
)
def test_verdict_carries_qemus_exit_status_and_stderr(target: str, args: list[str]) -> None:
    require_qemu(target)
    run = run_qemu(target, args, [])
    report = validate(_argv(target, *args), version="7.2")
    assert report.valid == (run.exit_code == 0)
    assert report.exit_code == (None if run.exit_code == 0 else run.exit_code)
    assert list(report.stderr) == list(run.stderr_lines)
