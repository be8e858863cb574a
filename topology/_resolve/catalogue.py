"""The names QEMU knows, per target binary and release, captured from the real binaries.

What is served: the machine types ``-machine help`` lists (aliases, the default,
the deprecated ones), each machine type's properties (those of its class as
``-machine TYPE,help`` lists them: name and QAPI type text such as
``<OnOffAuto>``; and those QEMU adds per instance, which that help leaves out but
``-machine`` sets too: pseries ``vsmt``, ``nvdimm`` on pc and virt), the CPU models ``-cpu help``
lists with their aliases, the properties of the CPU device type that CPU
hot-plug uses (``-device TYPE,help``) and the accelerators (``-accel help``).

The data files under ``topology/_resolve/data/`` (one per target and release,
``<target>-<release>.json``) are written by ``python3 -m tools.capture_catalogue``
from QEMU 7.2.22 (the host's binaries), QEMU 10.0.13 (the trixie root) and
QEMU 11.1.3 (the sid root); the
instance properties come from QEMU started paused with each machine type
(``machine_instance_capture`` in each file says how each type's list was read).

Machine types, their properties, the CPU device and the accelerators of a
release that was not captured come from the nearest captured release at or
below it: 8.0 ... 9.2 get 7.2's and 10.1 ... 11.0 get 10.0's.  That is an
approximation: machine types and properties added or removed in those
releases are not seen (``pc-q35-9.0`` is not in 7.2's list, for example).
:func:`captured_version` says which release answers.

CPU models are per release wherever QEMU's own reply is on record: libvirt
keeps real QEMU's answers for many releases (``tests/qemucapabilitiesdata``
in its repository), and ``topology/_resolve/data/releases/<target>-<X.Y>.json``
holds the model names of each such release that was not captured (written by
``python3 -m tools.libvirt_caps derive`` from the transcriptions under
``tests/data/libvirt_caps/``).  A release with neither a capture nor a record
gets the nearest list at or below it; :func:`cpu_models_release` says which.
The records carry names (and the ppc64 aliases) but not the x86 alias table
nor the deprecated marks, which come from the captured release below.

Every lookup returns None for a target that was not captured, so a caller can
fall back to accepting the name.

>>> resolve_cpu_model("ppc64", "7.2", "POWER9")
'power9_v2.0'
>>> resolve_cpu_model("ppc64", "10.0", "power9")
'power9_v2.2'
>>> machine_properties("x86_64", "q35", "7.2")["smp"]
'SMPConfiguration'
"""

from __future__ import annotations

import functools
import json
import os
import types
from collections.abc import Mapping
from typing import Final

import attrs

from topology._versions import QemuVersion, qemu_version

__all__ = [
    "CAPTURED_VERSIONS",
    "TARGETS",
    "MachineTypeEntry",
    "accelerators",
    "captured_version",
    "cpu_device_properties",
    "cpu_device_type",
    "cpu_models",
    "cpu_models_release",
    "default_machine_type",
    "deprecated_cpu_models",
    "format_machine_list",
    "format_machine_properties",
    "machine_properties",
    "machine_property_help",
    "machine_read_only_properties",
    "machine_types",
    "machine_versioned_cpu_models",
    "resolve_cpu_model",
    "resolve_machine_type",
]

# The data files are read from the package's directory with os, not
# importlib.resources, which imports pathlib, zipfile, tempfile and more: a
# good share of a stand-in process's start.
_DATA_DIR: Final = os.path.join(os.path.dirname(__file__), "data")
#: The ``qemu-system-<target>`` binaries captured (one data file per target and release).
TARGETS: Final = tuple(
    sorted({name.rsplit("-", 1)[0] for name in os.listdir(_DATA_DIR) if name.endswith(".json")})
)
#: The releases captured, oldest first.
CAPTURED_VERSIONS: Final = (QemuVersion(7, 2), QemuVersion(10, 0), QemuVersion(11, 1))
_RELEASES_DIR: Final = "releases"
# (target, release) of every per-release CPU list recorded from QEMU's replies.
_RECORDED_CPU: Final = frozenset(
    (target, QemuVersion(*(int(part) for part in release.split("."))))
    for target, _, release in (
        name.removesuffix(".json").rpartition("-")
        for name in os.listdir(os.path.join(_DATA_DIR, _RELEASES_DIR))
        if name.endswith(".json")
    )
)

Version = str | QemuVersion


@attrs.frozen(kw_only=True)
class MachineTypeEntry:
    """One line of ``-machine help``: a machine type as QEMU lists it."""

    name: str
    description: str
    alias: str | None
    """The short name listed as an alias of this type (``pc``, ``q35``), if any.

    Two types can list the same alias (QEMU 10.0: ``powernv`` for ``powernv10``
    and ``powernv10-rainier``); :func:`resolve_machine_type` says which one it selects.
    """
    is_default: bool
    deprecated: bool
    property_set: str
    """Key of this type's property set in the data (types share sets)."""


@attrs.frozen(kw_only=True)
class _CpuData:
    names: tuple[str, ...]
    listed: frozenset[str] = attrs.field(
        init=False, default=attrs.Factory(lambda self: frozenset(self.names), takes_self=True)
    )
    aliases: Mapping[str, str]
    aliases_are_classes: bool
    # The target lower-cases a -cpu name before looking it up.
    names_case_folded: bool
    machine_versioned: frozenset[str]
    deprecated: frozenset[str]


@attrs.frozen(kw_only=True)
class _TargetData:
    qemu: str
    machines: tuple[MachineTypeEntry, ...]
    machine_by_name: Mapping[str, MachineTypeEntry]
    property_sets: Mapping[str, tuple[tuple[str, str, str | None], ...]]
    instance_property_sets: Mapping[str, Mapping[str, str]]
    read_only_property_sets: Mapping[str, frozenset[str]]
    instance_set_of: Mapping[str, str]
    """Full machine type name to its key in the two instance maps."""
    cpu: _CpuData
    cpu_device_type: str
    cpu_device_properties: Mapping[str, str]
    accelerators: tuple[str, ...]


def captured_version(version: Version) -> QemuVersion:
    """The captured release that answers for QEMU ``version``: the nearest at or below it.

    >>> str(captured_version("9.2")), str(captured_version("10.2"))
    ('7.2', '10.0')
    """
    wanted = qemu_version(version)
    return max(v for v in CAPTURED_VERSIONS if v <= wanted)


@functools.cache
def _load(target: str, captured: QemuVersion) -> _TargetData | None:
    if target not in TARGETS:
        return None
    try:
        with open(os.path.join(_DATA_DIR, f"{target}-{captured}.json"), encoding="utf-8") as file:
            raw = json.load(file)
    except FileNotFoundError:
        return None
    machines = tuple(
        MachineTypeEntry(
            name=m["name"],
            description=m["description"],
            alias=m["alias"],
            is_default=m["default"],
            deprecated=m["deprecated"],
            property_set=m["properties"],
        )
        for m in raw["machines"]
    )
    by_name = {entry.name: entry for entry in machines}
    for alias, name in raw["machine_aliases"].items():
        by_name[alias] = by_name[name]
    cpu = raw["cpu"]
    return _TargetData(
        qemu=raw["qemu"],
        machines=machines,
        machine_by_name=types.MappingProxyType(by_name),
        property_sets=types.MappingProxyType(
            {
                key: tuple((name, type_, desc) for name, type_, desc in rows)
                for key, rows in raw["machine_property_sets"].items()
            }
        ),
        instance_property_sets=types.MappingProxyType(
            {
                key: types.MappingProxyType(value["settable"])
                for key, value in raw["machine_instance_property_sets"].items()
            }
        ),
        read_only_property_sets=types.MappingProxyType(
            {
                key: frozenset(value["read_only"])
                for key, value in raw["machine_instance_property_sets"].items()
            }
        ),
        instance_set_of=types.MappingProxyType(
            {m["name"]: m["instance_properties"] for m in raw["machines"]}
        ),
        cpu=_CpuData(
            names=tuple(cpu["descriptions"]),
            aliases=types.MappingProxyType(cpu["aliases"]),
            aliases_are_classes=cpu["aliases_are_classes"],
            names_case_folded=cpu["names_case_folded"],
            machine_versioned=frozenset(cpu["machine_versioned"]),
            deprecated=frozenset(cpu["deprecated"]),
        ),
        cpu_device_type=raw["cpu_device"]["type"],
        cpu_device_properties=types.MappingProxyType(raw["cpu_device"]["properties"]),
        accelerators=tuple(raw["accelerators"]),
    )


def _data(target: str, version: Version) -> _TargetData | None:
    return _load(target, captured_version(version))


def cpu_models_release(target: str, version: Version) -> QemuVersion | None:
    """The release whose CPU model list answers for QEMU ``version``; None for an unknown target.

    A captured release or one whose reply is on record, the nearest at or below
    ``version``.

    >>> str(cpu_models_release("x86_64", "9.2")), str(cpu_models_release("ppc64", "9.2"))
    ('9.2', '7.2')
    """
    wanted = qemu_version(version)
    if target not in TARGETS:
        return None
    known = {*CAPTURED_VERSIONS, *(v for t, v in _RECORDED_CPU if t == target)}
    return max(v for v in known if v <= wanted)


@functools.cache
def _load_recorded_cpu(target: str, release: QemuVersion) -> _CpuData:
    path = os.path.join(_DATA_DIR, _RELEASES_DIR, f"{target}-{release}.json")
    with open(path, encoding="utf-8") as file:
        raw = json.load(file)
    below = _load(target, captured_version(release))
    assert below is not None  # every recorded target is captured
    return _CpuData(
        names=tuple(raw["names"]),
        aliases=types.MappingProxyType(raw["aliases"]),
        aliases_are_classes=below.cpu.aliases_are_classes,
        names_case_folded=below.cpu.names_case_folded,
        machine_versioned=frozenset(raw["machine_versioned"]),
        deprecated=frozenset(raw["deprecated"]),
    )


def _cpu(target: str, version: Version) -> _CpuData | None:
    release = cpu_models_release(target, version)
    if release is None:
        return None
    if (target, release) in _RECORDED_CPU:
        return _load_recorded_cpu(target, release)
    data = _load(target, release)
    return None if data is None else data.cpu


def machine_types(target: str, version: Version) -> tuple[MachineTypeEntry, ...] | None:
    """The machine types ``qemu-system-<target> -machine help`` lists, in its order.

    >>> [m.name for m in machine_types("s390x", "10.0") if m.is_default]
    ['s390-ccw-virtio-10.0']
    """
    data = _data(target, version)
    return None if data is None else data.machines


def resolve_machine_type(target: str, version: Version, name: str) -> str | None:
    """The full machine type that ``-machine name`` selects (aliases resolved), or None.

    >>> resolve_machine_type("x86_64", "7.2", "q35")
    'pc-q35-7.2'
    """
    data = _data(target, version)
    entry = None if data is None else data.machine_by_name.get(name)
    return None if entry is None else entry.name


def default_machine_type(target: str, version: Version) -> str | None:
    """The machine type QEMU starts without ``-machine``; None if it has none (aarch64).

    >>> default_machine_type("ppc64", "10.0")
    'pseries-10.0'
    """
    data = _data(target, version)
    if data is None:
        return None
    return next((m.name for m in data.machines if m.is_default), None)


def machine_properties(
    target: str, machine_type: str, version: Version
) -> Mapping[str, str] | None:
    """Property name to type text for every property ``-machine machine_type,...`` sets.

    Aliases are accepted.  None when the target is not captured or the machine
    type is unknown.  These are the machine's own properties: those of its
    class (``-machine TYPE,help``, with QAPI type text) and those QEMU adds
    per instance (QOM type text such as ``uint32``).  ``type`` and the
    accelerator options that ``-machine`` also takes (``accel``,
    ``kernel-irqchip``, ...) are not among them.

    >>> machine_properties("s390x", "s390-ccw-virtio-7.2", "7.2")["loadparm"]
    'loadparm'
    >>> machine_properties("ppc64", "pseries-7.2", "7.2")["vsmt"]
    'uint32'
    """
    rows = _property_rows(target, machine_type, version)
    data = _data(target, version)
    if rows is None or data is None:
        return None
    merged = {n: t for n, t, _ in rows}
    merged.update(data.instance_property_sets[_instance_key(data, machine_type)])
    return types.MappingProxyType(merged)


def machine_read_only_properties(
    target: str, machine_type: str, version: Version
) -> frozenset[str] | None:
    """Names ``-machine machine_type,NAME=...`` finds but cannot set (aliases accepted).

    QEMU refuses them with ``Property 'TYPE-machine.NAME' is not writable``
    rather than ``not found``: the containers ``peripheral``,
    ``peripheral-anon`` and ``unattached``, and on pseries
    ``vfio-no-msix-emulation``.  None when the target is not captured or the
    machine type is unknown.

    >>> sorted(machine_read_only_properties("ppc64", "pseries", "10.0"))[-1]
    'vfio-no-msix-emulation'
    """
    data = _data(target, version)
    if data is None or data.machine_by_name.get(machine_type) is None:
        return None
    return data.read_only_property_sets[_instance_key(data, machine_type)]


def _instance_key(data: _TargetData, machine_type: str) -> str:
    return data.instance_set_of[data.machine_by_name[machine_type].name]


def _property_rows(
    target: str, machine_type: str, version: Version
) -> tuple[tuple[str, str, str | None], ...] | None:
    data = _data(target, version)
    entry = None if data is None else data.machine_by_name.get(machine_type)
    if data is None or entry is None:
        return None
    return data.property_sets[entry.property_set]


def machine_property_help(target: str, machine_type: str, version: Version) -> str | None:
    """What ``-machine machine_type,help`` prints on stdout, or None if unknown."""
    resolved = resolve_machine_type(target, version, machine_type)
    rows = _property_rows(target, machine_type, version)
    if resolved is None or rows is None:
        return None
    return format_machine_properties(f"{resolved}-machine", rows)


def format_machine_properties(type_name: str, rows: tuple[tuple[str, str, str | None], ...]) -> str:
    """The text of ``-machine TYPE,help``, rebuilt from (name, type, description) rows.

    Layout as QEMU prints it (qom/object_interfaces.c, object_property_help):
    ``  name=<type>``, padded to 24 columns when there is a description, then ``- description``.

    >>> print(format_machine_properties("x-machine", (("acpi", "OnOffAuto", "Enable ACPI"),)))
    x-machine options:
      acpi=<OnOffAuto>       - Enable ACPI
    """
    lines = [f"{type_name} options:"]
    for name, type_, description in rows:
        line = f"  {name}=<{type_}>"
        if description is not None:
            line = f"{line:<24} - {description}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def format_machine_list(machines: tuple[MachineTypeEntry, ...]) -> str:
    """The text of ``-machine help``, rebuilt from the entries (system/vl.c, machine_help_func).

    >>> entry = MachineTypeEntry(name="virt-7.2", description="QEMU 7.2 ARM Virtual Machine",
    ...     alias="virt", is_default=False, deprecated=False, property_set="virt-7.2")
    >>> print(format_machine_list((entry,)), end="")
    Supported machines are:
    virt                 QEMU 7.2 ARM Virtual Machine (alias of virt-7.2)
    virt-7.2             QEMU 7.2 ARM Virtual Machine
    """
    lines = ["Supported machines are:"]
    for m in machines:
        if m.alias is not None:
            lines.append(f"{m.alias:<20} {m.description} (alias of {m.name})")
        suffix = (" (default)" if m.is_default else "") + (" (deprecated)" if m.deprecated else "")
        lines.append(f"{m.name:<20} {m.description}{suffix}")
    return "\n".join(lines) + "\n"


def cpu_models(target: str, version: Version) -> Mapping[str, str | None] | None:
    """Every name ``-cpu help`` lists, mapped to the model it is an alias of (None if none).

    x86 names whose version the machine type picks ("alias configured by
    machine type") map to None; :func:`machine_versioned_cpu_models` lists them.

    Per release (:func:`cpu_models_release`): QEMU 9.2 lists ``GraniteRapids``,
    7.2 does not.

    >>> models = cpu_models("x86_64", "7.2")
    >>> models["Broadwell-IBRS"], models["Broadwell"], models["Broadwell-v1"]
    ('Broadwell-v3', None, None)
    >>> "GraniteRapids" in models, "GraniteRapids" in cpu_models("x86_64", "9.2")
    (False, True)
    """
    cpu = _cpu(target, version)
    if cpu is None:
        return None
    return types.MappingProxyType({name: cpu.aliases.get(name) for name in cpu.names})


def machine_versioned_cpu_models(target: str, version: Version) -> frozenset[str] | None:
    """x86 model names whose versioned definition (``-v1``, ``-v2`` ...) the machine type picks.

    >>> "Skylake-Client" in machine_versioned_cpu_models("x86_64", "10.0")
    True
    """
    cpu = _cpu(target, version)
    return None if cpu is None else cpu.machine_versioned


def deprecated_cpu_models(target: str, version: Version) -> frozenset[str] | None:
    """CPU models ``-cpu help`` marks ``(deprecated)``.

    >>> sorted(deprecated_cpu_models("aarch64", "10.0"))[:2]
    ['pxa250', 'pxa255']
    """
    cpu = _cpu(target, version)
    return None if cpu is None else cpu.deprecated


def resolve_cpu_model(target: str, version: Version, name: str) -> str | None:
    """The model whose QOM class ``-cpu name`` instantiates, or None if QEMU does not know it.

    ppc64 follows its aliases (``power9`` is ``power9_v2.0`` in 7.2 and
    ``power9_v2.2`` in 10.0) after lower-casing the name.  x86 registers every
    alias as a class of its own, so the name itself comes back: the hot-plug
    type of ``-cpu Broadwell-IBRS`` is ``Broadwell-IBRS-x86_64-cpu`` (QEMU 7.2
    and 10.0, ``query-hotpluggable-cpus``).  A ppc64 PVR given in hex is not
    resolved (None).

    >>> resolve_cpu_model("x86_64", "7.2", "Broadwell-IBRS")
    'Broadwell-IBRS'
    >>> resolve_cpu_model("s390x", "7.2", "z99") is None
    True
    """
    cpu = _cpu(target, version)
    if cpu is None:
        return None
    if cpu.names_case_folded:
        name = name.lower()
    if name not in cpu.listed:
        return None
    if cpu.aliases_are_classes:
        return name
    seen = {name}
    while name in cpu.aliases:
        name = cpu.aliases[name]
        if name in seen:  # a loop in the data is a capture bug; refuse the name
            return None
        seen.add(name)
    return name


def cpu_device_type(target: str, version: Version) -> str | None:
    """The CPU device type whose properties :func:`cpu_device_properties` gives."""
    data = _data(target, version)
    return None if data is None else data.cpu_device_type


def cpu_device_properties(target: str, version: Version) -> Mapping[str, str] | None:
    """Property name to QAPI type text of the target's hot-plug CPU device type.

    x86 ``qemu64-x86_64-cpu`` (feature flags are properties, so ``-cpu
    qemu64,x2apic=on`` sets one), ppc64 ``power9_v2.0-spapr-cpu-core``, s390x
    ``qemu-s390x-cpu``, aarch64 ``cortex-a57-arm-cpu``.

    >>> cpu_device_properties("ppc64", "7.2")["core-id"]
    'int'
    """
    data = _data(target, version)
    return None if data is None else data.cpu_device_properties


def accelerators(target: str, version: Version) -> tuple[str, ...] | None:
    """The accelerators ``-accel help`` lists (compiled in, not necessarily usable here).

    >>> accelerators("x86_64", "10.0")
    ('tcg', 'kvm')
    """
    data = _data(target, version)
    return None if data is None else data.accelerators
