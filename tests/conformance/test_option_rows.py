"""The stand-in against every captured row of ``tests/data/option_cases.json``.

Each row is a command line QEMU 7.2 or 10.0 was started with, and what it
printed and returned (``tests/data/README.md`` says how it was captured). The
stand-in gets the same command line and must refuse or start the same way,
with the same exit status and exactly the same stderr lines. Needs no QEMU.

Two kinds of rows are not QEMU's answer to the stand-in:

* help texts other than ``-smp help`` (``-machine help``, ``-cpu help``,
  ``-device help``...) are not modelled: the stand-in raises
  :class:`topology.qemu.UnsupportedOptionError` for them;
* rows that start KVM: the table was captured on a host without ``/dev/kvm``,
  while the stand-in answers as a host where KVM works.
"""

from __future__ import annotations

from typing import Any, Final

import pytest

from tests.data.capture_option_cases import load_rows
from topology.qemu import QemuSimulator, QemuStartError, UnsupportedOptionError

ROWS: Final = load_rows()
#: QEMU's start-up options in the captured rows (no -accel: TCG is the default).
_HEAD: Final = ("-S", "-nodefaults", "-no-user-config", "-display", "none", "-qmp", "stdio")


def _starts_kvm(args: tuple[str, ...]) -> bool:
    accels = [args[i + 1] for i, word in enumerate(args[:-1]) if word == "-accel"]
    if accels:
        return accels[0] == "kvm"
    return "-enable-kvm" in args or args[:2] == ("-machine", "accel=kvm")


def _is_help(row: dict[str, Any]) -> bool:
    return row["stdout_first"] is not None and "-smp" not in row["args"]


def _row_id(row: dict[str, Any]) -> str:
    return f"{row['version']}-{row['target']}-{' '.join(row['args']) or 'defaults'}"


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(row) for row in ROWS])
def test_option_row(row: dict[str, Any]) -> None:
    argv = [f"qemu-system-{row['target']}", *_HEAD, *row["args"]]
    if _is_help(row):
        with pytest.raises(UnsupportedOptionError):
            QemuSimulator(argv, version=row["version"])
        return
    if _starts_kvm(row["args"]):
        # Captured without /dev/kvm, where QEMU refuses; the stand-in answers as
        # QEMU on a host with KVM (docs/testing-without-qemu.md), so it starts.
        QemuSimulator(argv, version=row["version"])
        return
    try:
        sim = QemuSimulator(argv, version=row["version"])
    except QemuStartError as refused:
        exit_code, stderr, stdout = refused.exit_code, refused.stderr, refused.stdout
    else:
        exit_code, stderr, stdout = 0, sim.stderr, ""
    assert (exit_code, tuple(stderr.splitlines())) == (row["exit_code"], row["stderr"])
    lines = stdout.splitlines()
    assert len(lines) == row["stdout_lines"]
    if row["stdout_first"] is not None:
        assert lines[0] == row["stdout_first"]
