"""What a guest depends on, and :func:`compare`: the differences between two VM models.

A running guest has read its CPUs' identities, the topology and the firmware
tables; a migration carries its RAM and device state, matched by size and by
instance id. Each difference is an :class:`AbiChange` with a severity:

* ``breaks-running``: migration fails, or the running guest sees something
  change under it (a CPU's APIC ID, a missing CPU, another CPU model);
* ``fresh-boot``: the running guest is unaffected (it keeps the tables it read
  at boot), but the next boot on the destination sees the change (NUMA
  distances, which node a CPU is in);
* ``harmless``: nothing the guest sees (QOM paths, the QEMU release itself).

Slots are matched by index: the index is the CPU's ``cpu_index``, which is
also the instance id of its migrated state (``cpu_exec_realizefn`` registers
the CPU's vmstate, common and per target, under it) and the x86 ACPI processor UID.
Where the two sides' slots hold other numbers of vCPUs (pseries threads 1 on
one side, 2 on the other), the vCPUs themselves are paired by ``cpu_index``.
CPU models are compared as each release resolves their aliases; a CPU whose
guest-visible identity changes with the release (a pseries model name that
means another PVR) shows as a ``cpu-identity`` change.
What the guest knows a CPU by comes from the architecture plugin
(``cpu_identity``, see :class:`topology.plugin.OptionalHooks`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import attrs

from topology._model.vm import VirtualMachine
from topology._registry import hooks
from topology._resolve.catalogue import resolve_cpu_model
from topology._resolve.topology import LEVELS

__all__ = ["AbiChange", "Severity", "compare", "compatible"]


class Severity(enum.Enum):
    """How much a change matters to the guest."""

    BREAKS_RUNNING = "breaks-running"  # migration fails or the running guest sees it
    FRESH_BOOT = "fresh-boot"  # only the next boot sees it
    HARMLESS = "harmless"  # the guest never sees it


@attrs.frozen(kw_only=True)
class AbiChange:
    """One difference between a source and a destination VM.

    Attributes:
        what: the kind of change (``machine-type``, ``cpu-identity``, ``cpu-node``...).
        where: the slot (``slot 3``), node (``node 1``), level or option it is
            about, or None when it is about the whole VM.
        old: the source's value (None when the source has none).
        new: the destination's value (None when the destination has none).
        severity: how much it matters (:class:`Severity`).
        why: one sentence on what the guest sees.

    >>> import topology
    >>> from topology.abi import compare
    >>> q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
    >>> a = topology.VirtualMachine.start(q35, "4,sockets=2")
    >>> b = topology.VirtualMachine.start(q35, "4,sockets=4")
    >>> print(compare(a, b)[0])
    breaks-running topology [sockets]: 2 -> 4: a running guest has read the topology ...
    """

    what: str
    where: str | None = None
    old: object = None
    new: object = None
    severity: Severity
    why: str

    def __str__(self) -> str:
        place = f" [{self.where}]" if self.where else ""
        change = f"{_show(self.old)} -> {_show(self.new)}"
        return f"{self.severity.value} {self.what}{place}: {change}: {self.why}"

    def as_json(self) -> dict[str, object]:
        """The change as JSON-able data (tuples become lists)."""
        return {
            "what": self.what,
            "where": self.where,
            "old": _jsonable(self.old),
            "new": _jsonable(self.new),
            "severity": self.severity.value,
            "why": self.why,
        }


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)


def _jsonable(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def compatible(changes: list[AbiChange]) -> bool:
    """Whether the guest sees none of ``changes`` (all are harmless)."""
    return all(change.severity is Severity.HARMLESS for change in changes)


_BREAKS: Final = Severity.BREAKS_RUNNING
_BOOT: Final = Severity.FRESH_BOOT
_HARMLESS: Final = Severity.HARMLESS

_WHY_MACHINE: Final = (
    "the machine type fixes the board's devices and their migration format; QEMU "
    "migrates only between equal machine types"
)
_WHY_VERSION: Final = (
    "a QEMU release keeps each machine type's guest ABI; what it does not keep shows "
    "in the other changes"
)
_WHY_PREFER: Final = (
    "an -smp that leaves sockets or cores out resolves to another topology at the next start"
)
_WHY_ACCEL: Final = "the guest's CPU is implemented by another accelerator with other features"
_WHY_CPU: Final = (
    "the guest sees another CPU model (CPUID, PVR or facilities), and migration checks it"
)
_WHY_OPTION: Final = "a board option changed; its effect on the guest is not modelled"
_WHY_TOPOLOGY: Final = (
    "a running guest has read the topology (CPUID leaves, device tree, STSI), and "
    "migrated CPU state assumes it"
)
_WHY_MAXCPUS: Final = (
    "the possible CPUs size migrated state (x86 ACPI CPU hot-plug registers, pseries "
    "DRCs) and the firmware's CPU tables"
)
_WHY_TYPE: Final = "device_add needs this type, and the type is the CPU model"
_WHY_VCPUS: Final = "the hot-plug granularity: how many vCPUs one device adds or removes"
_WHY_CPU_TYPE: Final = (
    "this CPU was plugged as another model than on the other side: the guest sees "
    "another CPU (its features, PVR or facilities)"
)
_WHY_MISSING: Final = "the destination lacks a CPU the guest runs on: migration fails"
_WHY_EXTRA: Final = "the destination has a CPU the source lacks: migration fails"
_WHY_IDENTITY: Final = "the guest knows this CPU by these ids; on the destination they differ"
_WHY_SLOT_IDENTITY: Final = (
    "the guest's firmware tables list this empty slot with these ids; a later "
    "hot-plug into it would give the guest a CPU it does not expect"
)
_WHY_CPU_INDEX: Final = "migration matches each CPU's state by its cpu_index"
_WHY_PROPS: Final = (
    "management tools pass these props back to device_add; the guest does not see them"
)
_WHY_QOM: Final = (
    "QOM paths name devices for management (device_del); the guest and the "
    "migration stream do not use them"
)
_WHY_NODES: Final = "the guest's memory is split into another number of NUMA nodes"
_WHY_NODE_MEMORY: Final = "the node's RAM has another size: migration fails"
_WHY_CPU_NODE: Final = (
    "the firmware tables (ACPI SRAT, device-tree associativity) put this CPU in "
    "another node at the next boot"
)
_WHY_DISTANCE: Final = "the next boot's ACPI SLIT / device tree gives another distance"
_WHY_RAM: Final = "the guest's RAM has another size: migration fails"
_WHY_MAXMEM: Final = "memory hot-plug has another range or number of slots"


def compare(source: VirtualMachine, destination: VirtualMachine) -> list[AbiChange]:
    """Every difference between ``source`` and ``destination`` that a guest could notice.

    Pure: reads both models and changes neither. An empty list means the
    destination is the same guest; :func:`compatible` tells whether only
    harmless changes were found.

    >>> import topology
    >>> m61 = topology.machine("x86_64", "pc-q35-6.1", qemu_version="7.2")
    >>> m62 = topology.machine("x86_64", "pc-q35-6.2", qemu_version="7.2")
    >>> a = topology.VirtualMachine.start(m61, "8")
    >>> b = topology.VirtualMachine.start(m62, "8")
    >>> sorted({change.what for change in compare(a, b)})
    ['cpu-identity', 'machine-type', 'prefer-sockets', 'slot-props', 'topology']
    >>> compare(a, a)
    []
    """
    changes: list[AbiChange] = []
    src_target = source.machine.arch.targets[0]
    dst_target = destination.machine.arch.targets[0]
    if src_target != dst_target:
        why = "another architecture is another guest"
        return [AbiChange(what="arch", old=src_target, new=dst_target, severity=_BREAKS, why=why)]
    _machine_changes(source, destination, changes)
    _topology_changes(source, destination, changes)
    _slot_changes(source, destination, changes)
    _numa_changes(source, destination, changes)
    _memory_changes(source, destination, changes)
    return changes


def _add(
    changes: list[AbiChange],
    what: str,
    old: object,
    new: object,
    severity: Severity,
    why: str,
    where: str | None = None,
) -> None:
    if old != new:
        changes.append(
            AbiChange(what=what, where=where, old=old, new=new, severity=severity, why=why)
        )


def _machine_changes(src: VirtualMachine, dst: VirtualMachine, changes: list[AbiChange]) -> None:
    a, b = src.machine, dst.machine
    _add(changes, "machine-type", a.name, b.name, _BREAKS, _WHY_MACHINE)
    _add(changes, "qemu-version", str(a.qemu_version), str(b.qemu_version), _HARMLESS, _WHY_VERSION)
    _add(
        changes, "prefer-sockets", a.type.prefer_sockets, b.type.prefer_sockets, _BOOT, _WHY_PREFER
    )
    _add(
        changes,
        "accel",
        a.options.get("accel", "tcg"),
        b.options.get("accel", "tcg"),
        _BREAKS,
        _WHY_ACCEL,
    )
    _add(changes, "cpu-model", _cpu(src), _cpu(dst), _BREAKS, _WHY_CPU)
    for key in sorted((set(a.options) | set(b.options)) - {"cpu", "accel"}):
        _add(
            changes,
            "machine-option",
            a.options.get(key),
            b.options.get(key),
            _BREAKS,
            _WHY_OPTION,
            key,
        )


def _cpu(vm: VirtualMachine) -> str:
    """The CPU model the VM runs, its alias resolved as that release resolves it
    (``-cpu power9`` is ``power9_v2.0`` on QEMU 7.2 and ``power9_v2.2`` on 10.0)."""
    model, features = vm.machine.type.cpu_model(vm.machine.options)
    target = vm.machine.arch.targets[0]
    resolved = resolve_cpu_model(target, str(vm.machine.qemu_version), model)
    return ",".join([resolved or model, *features])


def _topology_changes(src: VirtualMachine, dst: VirtualMachine, changes: list[AbiChange]) -> None:
    for level in LEVELS:
        old, new = getattr(src.topology, level), getattr(dst.topology, level)
        _add(changes, "topology", old, new, _BREAKS, _WHY_TOPOLOGY, level)
    _add(changes, "maxcpus", src.topology.max_cpus, dst.topology.max_cpus, _BREAKS, _WHY_MAXCPUS)
    src_types = sorted({slot.type for slot in src.slots})
    dst_types = sorted({slot.type for slot in dst.slots})
    _add(changes, "cpu-type", _one(src_types), _one(dst_types), _BREAKS, _WHY_TYPE)
    src_counts = sorted({slot.vcpus_count for slot in src.slots})
    dst_counts = sorted({slot.vcpus_count for slot in dst.slots})
    _add(changes, "vcpus-count", _one(src_counts), _one(dst_counts), _BREAKS, _WHY_VCPUS)


def _one(values: list[str] | list[int]) -> object:
    return values[0] if len(values) == 1 else tuple(values)


def identity(vm: VirtualMachine, slot_index: int) -> dict[str, object]:
    """What the guest knows the CPU in ``slot_index`` by: the plugin's ``cpu_identity``
    (or the slot's arch id), with the generic ``cpu-index`` first."""
    slot = vm.slots[slot_index]
    ask = hooks(vm.machine.arch).cpu_identity
    found: dict[str, object] = {"cpu-index": slot.first_cpu_index}
    found.update(ask(vm, slot_index) if ask is not None else {"arch-id": slot.arch_id})
    return found


def _granularity(vm: VirtualMachine) -> set[int]:
    return {slot.vcpus_count for slot in vm.slots}


def _slot_changes(src: VirtualMachine, dst: VirtualMachine, changes: list[AbiChange]) -> None:
    if _granularity(src) != _granularity(dst):
        # Slots hold other numbers of vCPUs (pseries threads 1 -> 2): slot N is
        # not the same CPUs on both sides, so the vCPUs are paired instead.
        _vcpu_changes(src, dst, changes)
        return
    for index in range(max(len(src.slots), len(dst.slots))):
        where = f"slot {index}"
        src_state = src.state(index) if index < len(src.slots) else None
        dst_state = dst.state(index) if index < len(dst.slots) else None
        if index >= len(src.slots) or index >= len(dst.slots):
            if src_state is not None:
                _add(changes, "cpu-present", True, None, _BREAKS, _WHY_MISSING, where)
            if dst_state is not None:
                _add(changes, "cpu-present", None, True, _BREAKS, _WHY_EXTRA, where)
            continue
        present = src_state is not None
        if present and dst_state is None:
            _add(changes, "cpu-present", True, False, _BREAKS, _WHY_MISSING, where)
        elif not present and dst_state is not None:
            _add(changes, "cpu-present", False, True, _BREAKS, _WHY_EXTRA, where)
        old_id, new_id = identity(src, index), identity(dst, index)
        if old_id != new_id:
            keys = [k for k in {**old_id, **new_id} if old_id.get(k) != new_id.get(k)]
            what, why = (
                ("cpu-identity", _WHY_IDENTITY)
                if present
                else ("slot-identity", _WHY_SLOT_IDENTITY)
            )
            if keys == ["cpu-index"]:
                why = _WHY_CPU_INDEX
            _add(
                changes,
                what,
                {k: old_id.get(k) for k in keys},
                {k: new_id.get(k) for k in keys},
                _BREAKS,
                why,
                where,
            )
        old_props = _props(src, index)
        new_props = _props(dst, index)
        _add(changes, "slot-props", old_props, new_props, _HARMLESS, _WHY_PROPS, where)
        if src_state is not None and dst_state is not None:
            # A CPU hot-plugged as another model than the boot CPUs (s390x max
            # next to qemu) is another CPU to the guest; a change of every
            # slot's type is the VM's cpu-type change, reported once.
            old_type = src_state.driver or src.slots[index].type
            new_type = dst_state.driver or dst.slots[index].type
            if old_type != src.slots[index].type or new_type != dst.slots[index].type:
                _add(changes, "cpu-type", old_type, new_type, _BREAKS, _WHY_CPU_TYPE, where)
            _add(
                changes,
                "qom-path",
                src_state.qom_path,
                dst_state.qom_path,
                _HARMLESS,
                _WHY_QOM,
                where,
            )


def _vcpu_slot(vm: VirtualMachine, cpu: int) -> int | None:
    """The slot that holds (or would hold) vCPU ``cpu``, or None past maxcpus."""
    for slot in vm.slots:
        if cpu in slot.cpu_indexes:
            return slot.index
    return None


def vcpu_identity(vm: VirtualMachine, cpu: int) -> dict[str, object]:
    """What the guest knows vCPU ``cpu`` by: its slot's :func:`identity`, with each
    per-vCPU tuple (pseries ``vcpu-ids``) narrowed to this vCPU's entry."""
    index = _vcpu_slot(vm, cpu)
    assert index is not None
    slot = vm.slots[index]
    position = cpu - slot.first_cpu_index
    found: dict[str, object] = {}
    for key, value in identity(vm, index).items():
        if key == "cpu-index":
            found[key] = cpu
        elif isinstance(value, tuple) and len(value) == slot.vcpus_count:
            found[key.removesuffix("s")] = value[position]
        else:
            found[key] = value
    return found


def _vcpu_changes(src: VirtualMachine, dst: VirtualMachine, changes: list[AbiChange]) -> None:
    """Presence and identity of each vCPU, paired by cpu_index (what migration pairs)."""
    for cpu in range(max(src.topology.max_cpus, dst.topology.max_cpus)):
        where = f"cpu {cpu}"
        src_index, dst_index = _vcpu_slot(src, cpu), _vcpu_slot(dst, cpu)
        present = src_index is not None and src.state(src_index) is not None
        there = dst_index is not None and dst.state(dst_index) is not None
        if present != there:
            old: bool | None = present if src_index is not None else None
            new: bool | None = there if dst_index is not None else None
            why = _WHY_MISSING if present else _WHY_EXTRA
            _add(changes, "cpu-present", old, new, _BREAKS, why, where)
        if src_index is None or dst_index is None:
            continue
        old_id, new_id = vcpu_identity(src, cpu), vcpu_identity(dst, cpu)
        keys = [k for k in {**old_id, **new_id} if old_id.get(k) != new_id.get(k)]
        if keys:
            what, why = (
                ("cpu-identity", _WHY_IDENTITY)
                if present
                else ("slot-identity", _WHY_SLOT_IDENTITY)
            )
            _add(
                changes,
                what,
                {k: old_id.get(k) for k in keys},
                {k: new_id.get(k) for k in keys},
                _BREAKS,
                why,
                where,
            )


def _props(vm: VirtualMachine, index: int) -> dict[str, int]:
    props = vm.slots[index].props.as_qmp()
    props.pop("node-id", None)  # compared as the CPU's node
    return props


def _node_of(vm: VirtualMachine, index: int) -> int | None:
    if vm.numa is None or index >= len(vm.numa.slot_nodes):
        return None
    return vm.numa.slot_nodes[index]


def _numa_changes(src: VirtualMachine, dst: VirtualMachine, changes: list[AbiChange]) -> None:
    src_nodes = src.numa.nodes if src.numa is not None else ()
    dst_nodes = dst.numa.nodes if dst.numa is not None else ()
    _add(changes, "numa-nodes", len(src_nodes), len(dst_nodes), _BREAKS, _WHY_NODES)
    for node in range(min(len(src_nodes), len(dst_nodes))):
        old, new = src_nodes[node].memory, dst_nodes[node].memory
        _add(changes, "node-memory", old, new, _BREAKS, _WHY_NODE_MEMORY, f"node {node}")
    for index in range(min(len(src.slots), len(dst.slots))):
        old_node, new_node = _node_of(src, index), _node_of(dst, index)
        if src_nodes and dst_nodes:
            _add(changes, "cpu-node", old_node, new_node, _BOOT, _WHY_CPU_NODE, f"slot {index}")
    if src.numa is not None and dst.numa is not None and len(src_nodes) == len(dst_nodes):
        for a in range(len(src_nodes)):
            for b in range(len(src_nodes)):
                old_distance, new_distance = src.numa.distance(a, b), dst.numa.distance(a, b)
                where = f"node {a} -> node {b}"
                _add(
                    changes,
                    "numa-distance",
                    old_distance,
                    new_distance,
                    _BOOT,
                    _WHY_DISTANCE,
                    where,
                )


def _memory_changes(src: VirtualMachine, dst: VirtualMachine, changes: list[AbiChange]) -> None:
    a, b = src.memory, dst.memory
    _add(changes, "ram-size", a.ram_size, b.ram_size, _BREAKS, _WHY_RAM)
    # Without maxmem the maximum is the RAM size, compared above.
    old_max = a.max_ram_size if a.max_ram_size != a.ram_size else None
    new_max = b.max_ram_size if b.max_ram_size != b.ram_size else None
    _add(changes, "max-ram-size", old_max, new_max, _BREAKS, _WHY_MAXMEM)
    _add(changes, "memory-slots", a.slots, b.slots, _BREAKS, _WHY_MAXMEM)
