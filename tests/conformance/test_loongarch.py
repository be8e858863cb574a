"""The conformance kit run for the LoongArch ``virt`` plugin against real QEMU.

What a plugin author runs (``python -m topology.testing.conformance --target
loongarch64 ...``), here on QEMU 7.2 (the host's), 10.0 and 11.1 (their Debian
roots, see ``tests/support/qemu_runner.py``); skipped where that QEMU is missing.
"""

from __future__ import annotations

import os
import shlex
from typing import Final

import pytest

from tests.support.plugins import require_entry_point
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import qemu_command
from topology.testing.conformance import run_conformance

pytestmark = pytest.mark.qemu

#: Cases per run (CPUTOPO_CONFORMANCE_EXAMPLES runs more).
EXAMPLES: Final = int(os.environ.get("CPUTOPO_CONFORMANCE_EXAMPLES") or 30)


@pytest.fixture(autouse=True)
def _registered() -> None:
    require_entry_point("loongarch")


@pytest.mark.parametrize("version", ["7.2", "10.0", "11.1"])
def test_loongarch64_conforms(version: str) -> None:
    require_qemu("loongarch64", version)
    qemu = shlex.join(qemu_command("loongarch64", version))
    report = run_conformance(
        target="loongarch64", qemu=qemu, version=version, examples=EXAMPLES, seed=1
    )
    assert report.ok, str(report)
    assert report.cases == EXAMPLES and report.started > 0 and report.refused > 0
    assert report.qemu_release.startswith(f"{version}.")
