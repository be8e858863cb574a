"""Regenerate ``topology/qemu/data/help-<target>-<version>.json.gz`` from real QEMU.

Run from a checkout, as root (QEMU 10.0 and 11.1 run by ``chroot``)::

    python3 -m tools.capture_option_help [--target T ...] [--version V ...]

The process stand-in prints these texts for ``-cpu help``, ``-device help``
and ``-device DRIVER,help``. QEMU prints them before it selects a machine or
starts an accelerator, so they depend on the binary alone: checked here by
asking again with every machine type and with ``-accel kvm`` (same bytes),
before anything is written. Each file holds, for one binary of one release:

* ``cpu-help`` and ``device-help``: the whole stdout of ``-cpu help`` and
  ``-device help``;
* ``cpu-devices``: ``-device TYPE,help`` of every CPU device type of the
  target (every non-abstract type below :data:`CPU_BASE_TYPES`, as
  ``qom-list-types`` gives them), without the first line (``TYPE options:``);
  the texts are the same for most types, so each distinct text is kept once
  with the types that print it. A type whose help QEMU does not print (it
  fails or crashes) is left out, and the stand-in refuses it as not modelled;
* ``aliases``: the names of QEMU's device alias table (:data:`ALIASES`) that
  this binary resolves, and the type each one names (which may be missing
  from the binary: QEMU then reports the type as not found).

The files are gzipped (the texts are long and repeat themselves across
targets), written with no timestamp so that the same texts give the same bytes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Final

from tests.support.qemu_runner import QEMU_VERSIONS, QemuJob, qemu_command, run_many
from topology._resolve import catalogue
from topology._resolve.catalogue import TARGETS

OUT_DIR: Final = Path("topology/qemu/data")

#: The QOM type every CPU device type of the target derives from: the types
#: ``-device`` and ``device_add`` take for CPUs (sPAPR cores on ppc64).
CPU_BASE_TYPES: Final = {
    "x86_64": "x86_64-cpu",
    "ppc64": "spapr-cpu-core",
    "s390x": "s390x-cpu",
    "aarch64": "arm-cpu",
}

#: The alias names of QEMU's ``qdev_alias_table`` (system/qdev-monitor.c, QEMU
#: 7.2 to 11.1), whichever target they are for: each is asked of every binary.
ALIASES: Final = (
    "ac97",
    "e1000-82540em",
    "es1370",
    "ahci",
    "lsi",
    "virtio-9p",
    "virtio-balloon",
    "virtio-blk",
    "virtio-gpu",
    "virtio-gpu-gl",
    "virtio-gpu-rutabaga",
    "virtio-input-host",
    "virtio-iommu",
    "virtio-keyboard",
    "virtio-mouse",
    "virtio-net",
    "virtio-rng",
    "virtio-scsi",
    "virtio-serial",
    "virtio-sound",
    "virtio-tablet",
)

# A machine type to start for qom-list-types (aarch64 has no default).
_PROBE_MACHINE: Final = {"aarch64": ("-machine", "virt")}
_OPTIONS_LINE: Final = re.compile(r"(\S+) options:\n")
_NOT_FOUND: Final = re.compile(r"Device '([^']*)' not found")


def _run(target: str, version: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*qemu_command(target, version), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _help(target: str, version: str, *args: str) -> str:
    done = _run(target, version, *args)
    if done.returncode != 0 or done.stderr:
        raise RuntimeError(f"{target} {version} {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def cpu_device_types(target: str, version: str) -> list[str]:
    """The non-abstract types below the target's CPU base type, sorted."""
    command = (("qom-list-types", {"implements": CPU_BASE_TYPES[target]}),)
    (run,) = run_many([QemuJob(target, _PROBE_MACHINE.get(target, ()), command, 60.0, version)])
    if run.exit_code != 0 or "return" not in run.replies[0]:
        raise RuntimeError(f"{target} {version} qom-list-types: {run}")
    entries: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
    return sorted(entry["name"] for entry in entries)


def _check_alone(target: str, version: str, option: str, text: str) -> None:
    """The text does not change with the machine type or the accelerator."""
    machines = catalogue.machine_types(target, version) or ()
    variants = [("-accel", "kvm"), ("-accel", "tcg")]
    variants += [("-machine", machine.name) for machine in machines]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        outputs = pool.map(lambda extra: _run(target, version, *extra, option, "help"), variants)
        for extra, done in zip(variants, outputs, strict=True):
            if done.stdout != text:
                raise RuntimeError(f"{target} {version} {' '.join(extra)} {option} help differs")


def _device_texts(target: str, version: str, types: list[str]) -> list[dict[str, Any]]:
    """``-device TYPE,help`` of each type, each distinct text once with its types."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda name: _run(target, version, "-device", f"{name},help"), types))
    by_text: dict[str, list[str]] = {}
    for name, done in zip(types, runs, strict=True):
        header = f"{name} options:\n"
        if done.returncode != 0 or done.stderr or not done.stdout.startswith(header):
            print(f"  left out: -device {name},help: {done.returncode} {done.stderr.strip()}")
            continue
        by_text.setdefault(done.stdout.removeprefix(header), []).append(name)
    return [{"types": names, "text": text} for text, names in by_text.items()]


def _aliases(target: str, version: str) -> dict[str, str]:
    """Each alias of :data:`ALIASES` the binary resolves, and the type it names."""
    resolved: dict[str, str] = {}
    for alias in ALIASES:
        done = _run(target, version, "-device", f"{alias},help")
        match = _OPTIONS_LINE.match(done.stdout)
        missing = _NOT_FOUND.search(done.stderr)
        if match is not None:
            resolved[alias] = match.group(1)
        elif missing is not None and missing.group(1) != alias:
            resolved[alias] = missing.group(1)  # the alias names a type not built in
        elif missing is None:
            raise RuntimeError(f"{target} {version} -device {alias},help: {done.stderr.strip()}")
    return resolved


def capture(target: str, version: str) -> dict[str, Any]:
    """The help texts of ``qemu-system-<target>`` of QEMU ``version``."""
    cpu_help = _help(target, version, "-cpu", "help")
    device_help = _help(target, version, "-device", "help")
    _check_alone(target, version, "-cpu", cpu_help)
    _check_alone(target, version, "-device", device_help)
    return {
        "cpu-help": cpu_help,
        "device-help": device_help,
        "cpu-devices": _device_texts(target, version, cpu_device_types(target, version)),
        "aliases": _aliases(target, version),
    }


def _dump(document: dict[str, Any]) -> str:
    """One top-level member per line, one text per line of ``cpu-devices``."""
    lines = [f"{json.dumps(key)}:{json.dumps(value)}" for key, value in document.items()]
    return "{" + ",\n".join(lines).replace('}, {"types"', '},\n{"types"') + "}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=TARGETS)
    parser.add_argument("--version", action="append", choices=QEMU_VERSIONS)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for target in args.target or TARGETS:
        for version in args.version or QEMU_VERSIONS:
            document = capture(target, version)
            path = args.out / f"help-{target}-{version}.json.gz"
            path.write_bytes(gzip.compress(_dump(document).encode(), 9, mtime=0))
            print(path, len(document["cpu-devices"]), "distinct CPU device texts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
