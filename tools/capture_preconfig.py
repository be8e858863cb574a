"""Regenerate ``topology/qemu/data/preconfig-commands.json`` from real QEMU.

Run from a checkout, as root (QEMU 10.0 and 11.1 run by ``chroot``)::

    python3 -m tools.capture_preconfig

QEMU started with ``--preconfig`` waits for ``x-exit-preconfig`` before it
builds the machine, and until then refuses every command not marked for that
phase (``The command 'X' is permitted only after machine initialization has
completed``). QEMU checks the phase before it reads the arguments, so each
command the binary has (its captured ``query-commands``) is sent with an
argument no command has: a command allowed in the phase then fails on that
argument and does nothing. The file maps each target and release to the
commands that passed the phase check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from tests.support.qemu_runner import QEMU_VERSIONS, QemuJob, run_many
from topology._resolve.catalogue import TARGETS
from topology._versions import qemu_version
from topology.qemu import _discovery

OUT: Final = Path("topology/qemu/data/preconfig-commands.json")
_PROBE_MACHINE: Final = {"aarch64": ("-machine", "virt")}
_REFUSED: Final = "is permitted only after machine initialization has completed"


def allowed(target: str, version: str) -> list[str]:
    """The commands ``qemu-system-<target>`` of ``version`` answers before machine init."""
    names = [
        entry["name"]
        for entry in _discovery.captured(target, qemu_version(version), "query-commands")
        if entry["name"] != "qmp_capabilities"
    ]
    commands = tuple((name, {"cputopo-probe": 0}) for name in names)
    args = ("--preconfig", *_PROBE_MACHINE.get(target, ()))
    (run,) = run_many([QemuJob(target, args, commands, 60.0, version)])
    if len(run.replies) != len(names):
        raise RuntimeError(f"{target} {version}: {run}")
    found = []
    for name, reply in zip(names, run.replies, strict=True):
        error = reply.get("error")
        if not (isinstance(error, dict) and _REFUSED in str(error.get("desc"))):
            found.append(name)
    return sorted(found)


def main() -> int:
    document = {
        target: {version: allowed(target, version) for version in QEMU_VERSIONS}
        for target in TARGETS
    }
    OUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(OUT, {t: {v: len(c) for v, c in d.items()} for t, d in document.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
