"""Regenerate ``arch/spapr/data/pvrs.json`` from real QEMU.

Run from a checkout, as root (QEMU 10.0 and 11.1 run by ``chroot``)::

    python3 -m tools.capture_spapr_pvrs [--out FILE]

The PVR (processor version register) is how a pseries guest knows its CPU, and
one model name can mean another PVR in another release (``power10_v2.0`` is
0x00800200 in QEMU 7.2 and 0x00801200 in 10.0). No QOM property holds it; HMP
``info registers`` prints it. For each release and each server model name
``-cpu help`` lists (``power*``, aliases included), QEMU is started paused on
``pseries`` with ``-smp 1`` and the PVR of CPU 0 is read; names QEMU refuses
on pseries under TCG are left out.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Final

from tests.support.qemu_runner import QEMU_VERSIONS, QemuJob, run_many
from topology._resolve.catalogue import cpu_models

OUT: Final = Path("arch/spapr/data/pvrs.json")
_PVR: Final = re.compile(r"PVR ([0-9a-f]+)")


def _pvrs(version: str) -> dict[str, str]:
    models = sorted(name for name in cpu_models("ppc64", version) or {} if name.startswith("power"))
    info = ("human-monitor-command", {"command-line": "info registers"})
    jobs = [
        QemuJob("ppc64", ("-machine", "pseries", "-cpu", name, "-smp", "1"), (info,), 30.0, version)
        for name in models
    ]
    found: dict[str, str] = {}
    for name, run in zip(models, run_many(jobs), strict=True):
        if run.exit_code != 0 or not run.replies:
            continue
        text = str(run.replies[0].get("return", ""))
        match = _PVR.search(text)
        if match:
            found[name] = f"0x{int(match[1], 16):08x}"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    document = {version: _pvrs(version) for version in QEMU_VERSIONS}
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
