"""x86 CPU slots and QEMU's checks when a CPU is plugged or unplugged.

Slots: ``x86_possible_cpu_arch_ids``; checks: ``x86_cpu_pre_plug`` and
``x86_cpu_unplug_request_cb`` (``hw/i386/x86.c`` up to 9.0, ``x86-common.c``
after), in QEMU's order and with its texts (QEMU 7.2 observed; notes §2.3-2.6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from arch.x86._apic import ApicLayout, c_semantics_ids
from topology import BoardError, CpuTopology, DeviceTypeError, MachineType, QemuVersion
from topology.plugin import (
    UINT32,
    BoardContext,
    CpuSlot,
    SlotProps,
    StashKey,
    UnplugResult,
    VmView,
    read_int_prop,
    reject_unknown_props,
)

__all__ = [
    "ACPI_LEGACY",
    "acpi_legacy",
    "boot_qom_path",
    "cpu_status",
    "has_legacy_switch",
    "legacy_cpu_add",
    "possible_slots",
    "request_unplug",
    "select_slot",
    "unplug_rejected",
]

#: Board-state key: the ACPI CPU hot-plug interface is still in legacy mode
#: (true until the guest's firmware or OS switches it; a paused VM never does).
#: Whether the guest left ACPI CPU hot-plug in legacy mode (cpu-hotplug-legacy).
ACPI_LEGACY: Final = StashKey[bool]("x86.acpi-cpu-hotplug-legacy")


def has_legacy_switch(version: QemuVersion) -> bool:
    """Whether the PC's ACPI device has ``cpu-hotplug-legacy`` in QEMU ``version``.

    QEMU 11.1 has no legacy interface (``Property 'ICH9-LPC.cpu-hotplug-legacy'
    not found``); 10.1-11.0 were not run here and answer as 10.0.
    """
    return not version.at_least("11.1")


def acpi_legacy(vm: VmView) -> bool:
    """Whether the PC's ACPI CPU hot-plug interface is still the legacy one.

    A PC starts legacy, where QEMU has the switch, until the guest's firmware
    (or a tool, by ``qom-set``) switches it.
    """
    return vm.stash.get(ACPI_LEGACY, has_legacy_switch(vm.machine.qemu_version))


_IDS = ("socket-id", "die-id", "module-id", "core-id", "thread-id")


def _modules(topology: CpuTopology, version: QemuVersion) -> int:
    return topology.modules if version.at_least("9.1") else 1


def layout(topology: CpuTopology, version: QemuVersion) -> ApicLayout:
    """The APIC ID layout QEMU ``version`` uses for ``topology``."""
    return ApicLayout.for_topology(
        dies=topology.dies,
        modules=_modules(topology, version),
        cores=topology.cores,
        threads=topology.threads,
    )


def cpu_type(machine_type: MachineType, options: Mapping[str, str]) -> str:
    model = machine_type.cpu_model(options)[0]
    return f"{model}-x86_64-cpu"


def possible_slots(
    machine_type: MachineType,
    topology: CpuTopology,
    options: Mapping[str, str],
    version: QemuVersion,
) -> list[CpuSlot]:
    apic = layout(topology, version)
    qom_type = cpu_type(machine_type, options)
    with_dies = topology.dies > 1
    with_modules = _modules(topology, version) > 1
    slots = []
    if apic.pkg_offset >= 32:
        return _wrapped_slots(apic, topology.max_cpus, qom_type, with_dies, with_modules)
    for index in range(topology.max_cpus):
        socket_id, die_id, module_id, core_id, thread_id = apic._ids(index)
        props = SlotProps(
            socket_id=socket_id,
            die_id=die_id if with_dies else None,
            module_id=module_id if with_modules else None,
            core_id=core_id,
            thread_id=thread_id,
        )
        slots.append(
            CpuSlot(
                index=index,
                type=qom_type,
                vcpus_count=1,
                arch_id=apic._pack(socket_id, die_id, module_id, core_id, thread_id),
                first_cpu_index=index,
                props=props,
            )
        )
    return slots


def _wrapped_slots(
    apic: ApicLayout, max_cpus: int, qom_type: str, with_dies: bool, with_modules: bool
) -> list[CpuSlot]:
    """Slots of a topology whose counts wrapped past 32 bits (see ``c_semantics_ids``)."""
    slots = []
    for index in range(max_cpus):
        apic_id, ids = c_semantics_ids(apic, index)
        props = SlotProps(
            socket_id=ids.socket_id,
            die_id=ids.die_id if with_dies else None,
            module_id=ids.module_id if with_modules else None,
            core_id=ids.core_id,
            thread_id=ids.thread_id,
        )
        slots.append(
            CpuSlot(
                index=index,
                type=qom_type,
                vcpus_count=1,
                arch_id=apic_id,
                first_cpu_index=index,
                props=props,
            )
        )
    return slots


def boot_qom_path(board: BoardContext, slot: CpuSlot, position: int) -> str:
    # Observed on QEMU 7.2: device[1] is created between the first and second CPU.
    return f"/machine/unattached/device[{0 if position == 0 else position + 1}]"


def _fail(message: str, what: str, value: object = None) -> BoardError:
    return BoardError(message, what=what, value=value)


def check_driver(board: BoardContext, driver: str) -> None:
    if not driver.endswith("-x86_64-cpu"):
        raise DeviceTypeError(
            f"'{driver}' is not a valid device model name", what="driver", value=driver
        )


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    version = vm.machine.qemu_version
    topology = vm.topology
    check_driver(vm.board, driver)
    expected = vm.slots[0].type
    known = {"socket-id", "die-id", "core-id", "thread-id", "node-id", "apic-id"}
    if version.at_least("9.1"):
        known.add("module-id")
    reject_unknown_props(props, known, driver)
    given = {name: read_int_prop(props, name, -1) for name in _IDS if name in known}
    apic_given = "apic-id" in props
    apic_id = read_int_prop(props, "apic-id", 0xFFFFFFFF, UINT32)
    if driver != expected:
        raise _fail(f"Invalid CPU type, expected cpu type: '{expected}'", "driver", driver)
    apic = layout(topology, version)
    modules = _modules(topology, version)
    if not apic_given:
        ids = dict(given)
        # die-id (and module-id) may be left out when there is only one.
        if ids["die-id"] < 0 and topology.dies == 1:
            ids["die-id"] = 0
        if "module-id" in ids and ids["module-id"] < 0 and modules == 1:
            ids["module-id"] = 0
        per_socket = topology.threads * topology.cores * modules * topology.dies
        limits = {
            "socket-id": (topology.max_cpus - 1) // per_socket,
            "die-id": topology.dies - 1,
            "module-id": modules - 1,
            "core-id": topology.cores - 1,
            "thread-id": topology.threads - 1,
        }
        for name in _IDS:
            if name not in ids:
                continue
            if ids[name] < 0:
                raise _fail(f"CPU {name} is not set", name)
            if ids[name] > limits[name]:
                raise _fail(
                    f"Invalid CPU {name}: {ids[name]} must be in range 0:{limits[name]}",
                    name,
                    ids[name],
                )
        apic_id = apic.apic_id(
            socket_id=ids["socket-id"],
            die_id=ids["die-id"],
            module_id=ids.get("module-id", 0),
            core_id=ids["core-id"],
            thread_id=ids["thread-id"],
        )
    index = _slot_by_apic_id(vm.slots, apic_id)
    if index is None:
        decoded = apic.decode(apic_id)
        module_part = f"module: {decoded.module_id}, " if version.at_least("9.1") else ""
        raise _fail(
            f"Invalid CPU [socket: {decoded.socket_id}, die: {decoded.die_id}, "
            f"{module_part}core: {decoded.core_id}, thread: {decoded.thread_id}] with APIC ID "
            f"{apic_id}, valid index range 0:{len(vm.slots) - 1}",
            "apic-id",
            apic_id,
        )
    if vm.state(index) is not None:
        raise _fail(f"CPU[{index}] with APIC ID {apic_id} exists", "apic-id", apic_id)
    decoded = apic.decode(apic_id)
    actual = {
        "socket-id": decoded.socket_id,
        "die-id": decoded.die_id,
        "module-id": decoded.module_id,
        "core-id": decoded.core_id,
        "thread-id": decoded.thread_id,
    }
    for name in _IDS:
        if name in given and given[name] != -1 and given[name] != actual[name]:
            raise _fail(
                f"property {name}: {given[name]} doesn't match set apic-id: 0x{apic_id:x} "
                f"({name}: {actual[name]})",
                name,
                given[name],
            )
    return index


def _slot_by_apic_id(slots: Sequence[CpuSlot], apic_id: int) -> int | None:
    # APIC IDs grow with the slot index, so QEMU (and we) can bisect.
    low, high = 0, len(slots)
    while low < high:
        middle = (low + high) // 2
        if slots[middle].arch_id < apic_id:
            low = middle + 1
        else:
            high = middle
    if low < len(slots) and slots[low].arch_id == apic_id:
        return low
    return None


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    if vm.machine.name == "microvm":
        # microvm's own hot-plug handler refuses every unplug (observed on 7.2 and 10.0).
        raise _fail("unplug not supported by microvm", "id")
    # acpi=off removes i440fx's PIIX4 PM (the ACPI device); q35's ICH9 keeps its
    # own, so q35 answers as with ACPI (observed on QEMU 7.2).
    no_acpi_device = not vm.machine.name.startswith("pc-q35-")
    acpi_off = vm.machine.options.get("acpi") == "off"
    # isapc has no ACPI device at all (observed on QEMU 7.2: even the boot CPU
    # gets this answer, not "Boot CPU is unpluggable").
    if (acpi_off and no_acpi_device) or vm.machine.name == "isapc":
        raise _fail("CPU hot unplug not supported without ACPI", "id")
    if slot_index == 0:
        raise _fail("Boot CPU is unpluggable", "id")
    if acpi_legacy(vm):
        raise _fail(
            "acpi: device unplug request for not supported device type: "
            f"{vm.slots[slot_index].type}",
            "id",
        )
    return UnplugResult.PENDING


#: ``_OST`` codes a Linux guest reports for an eject request it cannot honour
#: (``drivers/acpi/scan.c`` acpi_generic_hotplug_event, acpi_device_hotplug):
#: event 3 (eject request), first 0x84 (ejection in progress), then 0x82
#: (device busy: the CPU could not be taken offline).
OST_EJECT_REQUEST = 0x3
OST_EJECT_IN_PROGRESS = 0x84
OST_DEVICE_BUSY = 0x82


def unplug_rejected(vm: VmView, slot_index: int) -> Sequence[tuple[str, Mapping[str, object]]]:
    """The guest's ``_OST`` answers to an eject request it refuses, as QMP events.

    QEMU turns every ``_OST`` status write of the CPU hot-plug interface into an
    ``ACPI_DEVICE_OST`` event (``hw/acpi/cpu.c`` cpu_hotplug_wr, acpi_cpu_device_status:
    ``device`` only for a CPU with an id, ``slot`` is the possible-CPU index). The
    CPU interface sends no ``DEVICE_UNPLUG_GUEST_ERROR`` (only memory hot-plug does,
    ``hw/acpi/memory_hotplug.c``), in 7.2 to 10.2.
    """
    state = vm.state(slot_index)
    assert state is not None
    events: list[tuple[str, Mapping[str, object]]] = []
    for status in (OST_EJECT_IN_PROGRESS, OST_DEVICE_BUSY):
        info: dict[str, object] = {}
        if state.device_id is not None:
            info["device"] = state.device_id
        info |= {
            "slot": str(slot_index),
            "slot-type": "CPU",
            "source": OST_EJECT_REQUEST,
            "status": status,
        }
        events.append(("ACPI_DEVICE_OST", {"info": info}))
    return events


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    return {}


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """``cpu-add id`` (QEMU 1.5-5.1, ``pc_hot_add_cpu``): ``id`` is a CPU index."""
    if cpu_id < 0:
        raise BoardError(f"Invalid CPU id: {cpu_id}", what="id", value=cpu_id)
    apic = layout(vm.topology, vm.machine.qemu_version)
    apic_id = apic.apic_id_from_index(cpu_id)
    # The legacy ACPI CPU hot-plug interface addressed at most 256 APIC IDs.
    if apic_id >= 256:
        raise BoardError(
            f"Unable to add CPU: {cpu_id}, resulting APIC ID ({apic_id}) is too large",
            what="id",
            value=cpu_id,
        )
    return vm.slots[0].type, {"apic-id": apic_id}
