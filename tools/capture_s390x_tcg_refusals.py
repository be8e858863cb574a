"""Regenerate ``arch/s390x/data/tcg-refusals.json`` from real QEMU.

Run from a checkout, as root (QEMU 10.0 and 11.1 run by ``chroot``)::

    python3 -m tools.capture_s390x_tcg_refusals [--out FILE]

Under TCG, a CPU model with features TCG does not emulate is refused when its
CPU is realized, at start (``-cpu MODEL``) as for ``device_add MODEL-s390x-cpu``:
``Some features requested in the CPU model are not available in the
[current ]configuration: <features>``. For each release and each CPU model
and alias ``-cpu help`` lists, QEMU is started paused on the newest
``s390-ccw-virtio`` with ``-smp 1`` and, when it refuses, the message (without
the ``qemu-system-s390x:`` prefix), the hint line after it and the warnings before it are kept. The
same run on the oldest machine type of the release must print the same
(checked, not stored: the features TCG lacks do not depend on it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Final

from tests.support.qemu_runner import QEMU_VERSIONS, QemuJob, run_many
from topology import machine_types
from topology._resolve.catalogue import cpu_models

PREFIX: Final = "qemu-system-s390x: "
OUT: Final = Path("arch/s390x/data/tcg-refusals.json")


def _refusals(version: str, machine: str) -> dict[str, dict[str, object]]:
    models = sorted(cpu_models("s390x", version) or {})
    jobs = [
        QemuJob("s390x", ("-machine", machine, "-cpu", model, "-smp", "1"), (), 30.0, version)
        for model in models
    ]
    found: dict[str, dict[str, object]] = {}
    for model, run in zip(models, run_many(jobs), strict=True):
        if run.exit_code == 0:
            continue
        lines = list(run.stderr_lines)
        starts = [i for i, line in enumerate(lines) if line.startswith(PREFIX + "Some")]
        if not starts:
            # host: "unable to find CPU model 'host'" without KVM (modelled elsewhere).
            continue
        first = starts[0]
        found[model] = {
            "message": lines[first].removeprefix(PREFIX),
            "hint": lines[first + 1] if first + 1 < len(lines) else None,
            # Printed while the model's features are checked (2.x types:
            # "'iep' requires 'sea_esop2'."), without the deprecation warning.
            "warnings": [
                line.removeprefix(PREFIX + "warning: ")
                for line in lines[:first]
                if line.startswith(PREFIX + "warning: ") and "is deprecated" not in line
            ],
        }
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    document: dict[str, object] = {}
    for version in QEMU_VERSIONS:
        groups: dict[str, dict[str, dict[str, object]]] = {}
        previous: dict[str, dict[str, object]] | None = None
        for machine_type in machine_types("s390x", qemu_version=version):  # newest first
            refusals = _refusals(version, machine_type.name)
            release = machine_type.name.removeprefix("s390-ccw-virtio-")
            if refusals != previous:
                groups[release] = refusals
            else:
                groups[release] = groups.pop(next(reversed(groups)))
            previous = refusals
        known = sorted(name for name in cpu_models("s390x", version) or {} if name != "host")
        document[version] = {"models": known, "refused": groups}
        print(f"{version}: groups from {', '.join(groups)}", file=sys.stderr)
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
