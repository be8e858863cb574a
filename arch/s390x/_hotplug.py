"""s390x CPU slots and QEMU's checks when a CPU is plugged (it is never unplugged).

Slots: ``s390_possible_cpu_arch_ids`` (core-id = CPU address = cpu_index);
checks: ``s390x_cpu_pre_plug``/``s390_cpu_realize`` and
``s390_machine_device_unplug_request`` (QEMU 7.2 observed; notes §4.1, §4.3, §10).
"""

from __future__ import annotations

from collections.abc import Mapping

from topology import BoardError, CpuTopology, DeviceTypeError, MachineType, QemuVersion
from topology._hotplug_props import UINT32, read_int_prop, reject_unknown_props
from topology._slots import CpuSlot, SlotProps
from topology._vm import UnplugResult, VmView

__all__ = [
    "boot_qom_path",
    "cpu_status",
    "legacy_cpu_add",
    "possible_slots",
    "request_unplug",
    "select_slot",
]


def possible_slots(
    machine_type: MachineType,
    topology: CpuTopology,
    options: Mapping[str, str],
    version: QemuVersion,
) -> list[CpuSlot]:
    model = machine_type.cpu_model(options)[0]
    with_placement = version.at_least("8.2")
    cores, sockets, books = topology.cores, topology.sockets, topology.books
    slots = []
    for index in range(topology.max_cpus):
        props = SlotProps(core_id=index)
        if with_placement:
            # Computed from core-id alone, ignoring threads (observed on QEMU 10).
            props = SlotProps(
                core_id=index,
                socket_id=index // cores % sockets,
                book_id=index // (cores * sockets) % books,
                drawer_id=index // (cores * sockets * books) % topology.drawers,
            )
        slots.append(
            CpuSlot(
                index=index,
                type=f"{model}-s390x-cpu",
                vcpus_count=1,
                arch_id=index,
                first_cpu_index=index,
                props=props,
            )
        )
    return slots


def boot_qom_path(machine_type: MachineType, slot: CpuSlot, position: int) -> str:
    return f"/machine/unattached/device[{position}]"


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    if not driver.endswith("-s390x-cpu"):
        raise DeviceTypeError(
            f"'{driver}' is not a valid device model name", what="driver", value=driver
        )
    known = {"core-id"}
    if vm.machine.qemu_version.at_least("8.2"):
        known |= {"socket-id", "book-id", "drawer-id", "dedicated", "entitlement"}
    reject_unknown_props(props, known, driver)
    core_id = read_int_prop(props, "core-id", 0, UINT32)
    last = len(vm.slots) - 1
    if core_id > last:
        raise BoardError(
            f"Unable to add CPU with core-id: {core_id}, maximum core-id: {last}",
            what="core-id",
            value=core_id,
        )
    if vm.state(core_id) is not None:
        raise BoardError(
            f"Unable to add CPU with core-id: {core_id}, it already exists",
            what="core-id",
            value=core_id,
        )
    return core_id


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    raise BoardError("CPU hot unplug not supported on this machine", what="id")


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    # Only the IPL CPU runs at start; the others, and every added CPU, are stopped.
    return {"cpu-state": "operating" if cpu_index == 0 else "stopped"}


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """``cpu-add id`` (QEMU 2.x-5.1, ``s390_hot_add_cpu``): ``id`` is the core-id."""
    return vm.slots[0].type, {"core-id": cpu_id}
