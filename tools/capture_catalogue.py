"""Regenerate ``topology/_resolve/data/`` from the real QEMU binaries.

Run from a checkout, as root (QEMU 10.0 and 11.1 run by ``chroot``)::

    python3 -m tools.capture_catalogue [--target T ...] [--version V ...] [--out DIR]

QEMU 7.2 is the host's ``qemu-system-<target>``; QEMU 10.0 and 11.1 run in
their Debian roots (``chroot ROOT /usr/bin/qemu-system-<target>``, see
:mod:`tests.support.qemu_runner`).  Most of it is help output: ``-machine help``,
``-machine TYPE,help`` for every type listed, ``-cpu help``, ``-device
CPUTYPE,help`` and ``-accel help``.  The help texts the catalogue rebuilds
(``-machine help``, ``-machine TYPE,help``) are checked to come back byte for
byte before anything is written.  ``-machine TYPE,help`` lists only the class
properties; the ones QEMU adds per instance are read from QEMU started paused
with each type (:mod:`._capture_qom`, a few hundred short runs per target),
and how each type's list was obtained is kept in the data.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from tests.support.qemu_runner import QEMU_VERSIONS, qemu_command
from tools.capture_qom import InstanceProperties, capture_instance_properties
from topology._resolve.catalogue import (
    TARGETS,
    MachineTypeEntry,
    format_machine_list,
    format_machine_properties,
)

VERSIONS: Final = QEMU_VERSIONS
# The CPU device type whose properties are captured: the hot-plug type of the
# default model (x86, s390x), the sPAPR core type (ppc64), virt's default (aarch64).
CPU_DEVICE_TYPES: Final = {
    "x86_64": "qemu64-x86_64-cpu",
    "ppc64": "power9_v2.0-spapr-cpu-core",
    "s390x": "qemu-s390x-cpu",
    "aarch64": "cortex-a57-arm-cpu",
}
# 7.2 prefixes each -cpu help line with the target's name; 10.0 and aarch64 indent.
_CPU_LINE: Final = re.compile(r"(?:x86 |PowerPC |s390 |  )(\S+)\s*(.*)")
_MACHINE_LINE: Final = re.compile(r"(\S+) +(.*)")
_PROPERTY_LINE: Final = re.compile(r"  ([^=]+)=<(.*?)>(?: +- (.*))?")


def qemu_argv(target: str, version: str) -> list[str]:
    """The command that runs ``qemu-system-<target>`` of QEMU ``version``."""
    return list(qemu_command(target, version))


def _help(target: str, version: str, *args: str) -> str:
    done = subprocess.run(
        [*qemu_argv(target, version), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{target} {version} {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def parse_machine_list(text: str) -> list[dict[str, object]]:
    """``-machine help`` to entries; alias lines fold into the type they name."""
    lines = text.splitlines()
    if not lines or lines[0] != "Supported machines are:":
        raise ValueError(f"unexpected -machine help header: {lines[:1]}")
    aliases: dict[str, str] = {}
    machines: list[dict[str, object]] = []
    for line in lines[1:]:
        match = _MACHINE_LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"unexpected -machine help line: {line!r}")
        name, rest = match.groups()
        alias_of = re.fullmatch(r"(.*) \(alias of (\S+)\)", rest)
        if alias_of is not None:
            aliases[alias_of[2]] = name
            continue
        deprecated = rest.endswith(" (deprecated)")
        rest = rest.removesuffix(" (deprecated)")
        default = rest.endswith(" (default)")
        rest = rest.removesuffix(" (default)")
        machines.append(
            {"name": name, "description": rest, "default": default, "deprecated": deprecated}
        )
    for machine in machines:
        machine["alias"] = aliases.pop(str(machine["name"]), None)
    if aliases:
        raise ValueError(f"aliases of unlisted machine types: {aliases}")
    return machines


def parse_properties(text: str, type_name: str) -> list[list[str | None]]:
    """``-machine TYPE,help`` or ``-device TYPE,help`` to [name, type, description] rows."""
    lines = text.splitlines()
    if not lines or lines[0] != f"{type_name} options:":
        raise ValueError(f"unexpected help header for {type_name}: {lines[:1]}")
    rows: list[list[str | None]] = []
    for line in lines[1:]:
        match = _PROPERTY_LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"unexpected property line for {type_name}: {line!r}")
        rows.append([match[1], match[2], match[3]])
    return rows


def parse_cpu_help(
    text: str, *, aliases_are_classes: bool, names_case_folded: bool
) -> dict[str, object]:
    """``-cpu help`` to descriptions, aliases and flags (the feature lists are skipped)."""
    # ppc64 and s390x 7.2 print no header line.
    lines = text.splitlines()
    if lines[:1] == ["Available CPUs:"]:
        lines = lines[1:]
    descriptions: dict[str, str] = {}
    aliases: dict[str, str] = {}
    versioned: list[str] = []
    deprecated: list[str] = []
    for line in lines:
        if not line:
            break
        match = _CPU_LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"unexpected -cpu help line: {line!r}")
        name, rest = match[1], match[2].strip()
        if name in descriptions:
            raise ValueError(f"CPU model listed twice: {name}")
        descriptions[name] = rest
        if rest == "(deprecated)":
            deprecated.append(name)
        if rest == "(alias configured by machine type)":
            versioned.append(name)
        alias = re.fullmatch(r"\(alias (?:of|for) (\S+)\)", rest)
        if alias is not None:
            aliases[name] = alias[1]
    missing = {a: t for a, t in aliases.items() if t not in descriptions}
    if missing:
        raise ValueError(f"aliases of unlisted CPU models: {missing}")
    return {
        "descriptions": descriptions,
        "aliases": aliases,
        "aliases_are_classes": aliases_are_classes,
        "names_case_folded": names_case_folded,
        "machine_versioned": sorted(versioned),
        "deprecated": sorted(deprecated),
    }


def capture(target: str, version: str) -> dict[str, object]:
    """Everything the catalogue serves for one target and release."""
    qemu = _help(target, version, "--version").splitlines()[0]
    machine_help = _help(target, version, "-machine", "help")
    machines = parse_machine_list(machine_help)
    names = [str(m["name"]) for m in machines]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        texts = list(pool.map(lambda n: _help(target, version, "-machine", f"{n},help"), names))
    sets: dict[str, list[list[str | None]]] = {}
    keys: dict[str, str] = {}  # the rows as JSON -> the set's key
    for machine, text in zip(machines, texts, strict=True):
        rows = parse_properties(text, f"{machine['name']}-machine")
        rebuilt = format_machine_properties(
            f"{machine['name']}-machine", tuple((str(n), str(t), d) for n, t, d in rows)
        )
        if rebuilt != text:
            raise ValueError(f"{target} {version} {machine['name']}: property help not rebuilt")
        # The set is named after the first type (in -machine help order) that has it.
        machine["properties"] = keys.setdefault(json.dumps(rows), str(machine["name"]))
        sets.setdefault(str(machine["properties"]), rows)
    entries = tuple(
        MachineTypeEntry(
            name=str(m["name"]),
            description=str(m["description"]),
            alias=None if m["alias"] is None else str(m["alias"]),
            is_default=bool(m["default"]),
            deprecated=bool(m["deprecated"]),
            property_set=str(m["properties"]),
        )
        for m in machines
    )
    if format_machine_list(entries) != machine_help:
        raise ValueError(f"{target} {version}: -machine help not rebuilt")
    instance_sets, methods = _instance_properties(target, version, machines, sets)
    # Two types may share an alias (10.0: powernv10 and powernv10-rainier are
    # both "powernv"); the header of -machine ALIAS,help names the one QEMU picks.
    selects: dict[str, str] = {}
    for alias in sorted({str(m["alias"]) for m in machines if m["alias"] is not None}):
        header = _help(target, version, "-machine", f"{alias},help").split("\n", 1)[0]
        selects[alias] = header.removesuffix("-machine options:")
    device = CPU_DEVICE_TYPES[target]
    device_rows = parse_properties(_help(target, version, "-device", f"{device},help"), device)
    accel_lines = _help(target, version, "-accel", "help").splitlines()
    if accel_lines[:1] != ["Accelerators supported in QEMU binary:"]:
        raise ValueError(f"unexpected -accel help: {accel_lines[:1]}")
    return {
        "qemu": qemu,
        "machines": machines,
        "machine_aliases": selects,
        "machine_property_sets": sets,
        # Keyed like the class sets; see _capture_qom for what "read_only" means.
        "machine_instance_property_sets": instance_sets,
        "machine_instance_capture": methods,
        # x86 registers each alias as a class of its own (target/i386/cpu.c,
        # x86_register_cpudef_types): -cpu Broadwell-IBRS hot-plugs
        # Broadwell-IBRS-x86_64-cpu (query-hotpluggable-cpus, 7.2 and 10.0).
        # ppc64 instantiates the alias target's class.
        "cpu": parse_cpu_help(
            _help(target, version, "-cpu", "help"),
            aliases_are_classes=target == "x86_64",
            # target/ppc/cpu_init.c, ppc_cpu_class_by_name, lower-cases the name
            # before the alias lookup (7.2 and 10.0: "-cpu POWER9" starts).
            names_case_folded=target == "ppc64",
        ),
        "cpu_device": {"type": device, "properties": {str(r[0]): r[1] for r in device_rows}},
        "accelerators": [line for line in accel_lines[1:] if line],
    }


def _instance_properties(
    target: str,
    version: str,
    machines: list[dict[str, object]],
    class_sets: dict[str, list[list[str | None]]],
) -> tuple[dict[str, dict[str, object]], dict[str, list[str]]]:
    """Each machine's instance property set (as ``machine["instance_properties"]``).

    Returns the sets, named after the first type that has each, and the
    types grouped by how their list was obtained.
    """

    def one(machine: dict[str, object]) -> InstanceProperties:
        rows = class_sets[str(machine["properties"])]
        class_names = frozenset(str(row[0]) for row in rows)
        return capture_instance_properties(
            qemu_argv(target, version), str(machine["name"]), class_names
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(one, machines))
    sets: dict[str, dict[str, object]] = {}
    keys: dict[str, str] = {}
    methods: dict[str, list[str]] = {}
    for machine, props in zip(machines, found, strict=True):
        value: dict[str, object] = {"settable": props.settable, "read_only": list(props.read_only)}
        key = keys.setdefault(json.dumps(value, sort_keys=True), str(machine["name"]))
        sets.setdefault(key, value)
        machine["instance_properties"] = key
        methods.setdefault(props.method, []).append(str(machine["name"]))
    return sets, methods


def write(data: dict[str, object], path: Path) -> None:
    """Write compact, key-sorted JSON, one value per line so that diffs stay readable."""
    text = json.dumps(data, indent=0, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Capture the requested targets and releases into ``--out``."""
    parser = argparse.ArgumentParser(prog="python3 -m tools.capture_catalogue")
    parser.add_argument("--target", action="append", choices=TARGETS)
    parser.add_argument("--version", action="append", choices=VERSIONS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for version in args.version or VERSIONS:
        for target in args.target or TARGETS:
            data = capture(target, version)
            path = args.out / f"{target}-{version}.json"
            write(data, path)
            print(f"{path}: {data['qemu']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
