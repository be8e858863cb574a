"""``device_add`` and ``device_del`` of a CPU on the ``virt`` board.

QEMU 10.0 on (``hw/loongarch/virt.c`` ``virt_cpu_pre_plug``,
``virt_cpu_unplug_request``; every text observed on 10.0 and 11.1):

1. the driver is looked up: a loongarch CPU type of this release (any of
   them: the board does not compare it with the boot CPUs' model, and the
   slot keeps showing the machine's type in ``query-hotpluggable-cpus``);
2. the properties are set, in QDict order: an unknown one, a value of the wrong
   type or an integer outside int32 is refused; ``socket-id``, ``core-id`` and
   ``thread-id`` default to 0;
3. the ids are checked, thread first, then core, then socket:
   ``Invalid thread-id 4 specified, must be in range 1:3`` (QEMU prints the
   values as unsigned, so -1 is 4294967295, and "1:" although 0 is valid);
4. the slot is found by physical id; a taken one is refused with
   ``cpu(id-1=S:C:T) with arch-id A exists`` (-1: the new CPU has no index yet);
5. the generic ``node-id`` check (the core's).

``device_del`` of the CPU with index 0 is refused (``hot-unplug of boot
cpu(id0=0:0:0) not supported``); any other CPU, a boot CPU included, gets
``{}`` and an ACPI GED request the paused guest never answers.

QEMU 7.2: a loongarch CPU type cannot be created by the user (``Parameter
'driver' expects a pluggable device type``), and ``device_del`` of a boot CPU
aborts QEMU (``qdev_unplug: assertion failed: (hotplug_ctrl)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from arch.loongarch._cpus import ABSTRACT_CPU_TYPE, TOPOLOGY_PROPS, model_of_type
from arch.loongarch._releases import virt_release
from arch.loongarch._slots import arch_id
from topology import BoardError, DeviceTypeError, ParameterError
from topology.plugin import (
    INT32,
    UINT32_MASK,
    BoardContext,
    CpuSlot,
    UnplugResult,
    VmView,
    qdict_order,
    read_int_prop,
)

__all__ = [
    "boot_qom_path",
    "cpu_status",
    "legacy_cpu_add",
    "request_unplug",
    "select_slot",
]

#: The order QEMU checks the ids in, with the -smp count each is bounded by.
_ID_CHECKS: Final = (("thread-id", "threads"), ("core-id", "cores"), ("socket-id", "sockets"))


def boot_qom_path(board: BoardContext, slot: CpuSlot, position: int) -> str:
    # The board creates its CPUs before any other unattached device (observed
    # with up to 20 CPUs on 7.2, 10.0 and 11.1).
    return f"/machine/unattached/device[{position}]"


def _driver_model(vm: VmView, driver: str) -> str:
    """The CPU model ``driver`` names; QEMU's refusal of any other driver."""
    release = virt_release(vm.machine.qemu_version)
    if driver == ABSTRACT_CPU_TYPE:
        raise DeviceTypeError(
            "Parameter 'driver' expects a non-abstract device type", what="driver", value=driver
        )
    model = model_of_type(driver, release)
    if model is None:
        raise DeviceTypeError(
            f"'{driver}' is not a valid device model name", what="driver", value=driver
        )
    if not release.hotplug:
        raise DeviceTypeError(
            "Parameter 'driver' expects a pluggable device type", what="driver", value=driver
        )
    return model


def _set_properties(
    vm: VmView, driver: str, model: str, props: Mapping[str, object]
) -> dict[str, int]:
    """Set ``props`` on the new CPU as QEMU does; the ids it ends up with."""
    booleans = (*virt_release(vm.machine.qemu_version).flags(model), "start-powered-off")
    for name in qdict_order(list(props)):
        value = props[name]
        if name in TOPOLOGY_PROPS:
            read_int_prop(props, name, 0, INT32)
        elif name in booleans:
            if not isinstance(value, bool):
                message = f"Invalid parameter type for '{name}', expected: boolean"
                raise ParameterError(message, what=name, value=value)
        else:
            raise ParameterError(f"Property '{driver}.{name}' not found", what=name, where=driver)
    return {name: read_int_prop(props, name, 0, INT32) for name, _count in _ID_CHECKS}


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    model = _driver_model(vm, driver)
    ids = _set_properties(vm, driver, model, props)
    topology = vm.topology
    for name, count_name in _ID_CHECKS:
        count = getattr(topology, count_name)
        if not 0 <= ids[name] < count:
            raise BoardError(
                f"Invalid {name} {ids[name] & UINT32_MASK} specified, must be in range "
                f"1:{(count - 1) & UINT32_MASK}",
                what=name,
                value=ids[name],
            )
    socket_id, core_id, thread_id = ids["socket-id"], ids["core-id"], ids["thread-id"]
    wanted = arch_id(topology, socket_id, core_id, thread_id)
    index = next((slot.index for slot in vm.slots if slot.arch_id == wanted), None)
    if index is None:
        # Only where the id fields are 0 wide (counts past 2^31, see ._slots):
        # QEMU looks at the CPU of a slot it did not find.
        raise BoardError(
            f"cputopo: QEMU {vm.machine.qemu_version} finds no slot with physical id {wanted} "
            "and crashes (SIGSEGV)",
            what="thread-id",
            value=wanted,
            crash_signal=11,
        )
    if vm.state(index) is not None:
        raise BoardError(
            f"cpu(id-1={socket_id}:{core_id}:{thread_id}) with arch-id {wanted} exists",
            what="socket-id",
            value=(socket_id, core_id, thread_id),
        )
    return index


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    version = vm.machine.qemu_version
    slot = vm.slots[slot_index]
    if not virt_release(version).hotplug:
        raise BoardError(
            f"cputopo: QEMU {version} aborts on device_del of a CPU of this machine "
            "(qdev_unplug: assertion failed: (hotplug_ctrl))",
            what="id",
            crash_signal=6,
        )
    if slot.first_cpu_index == 0:
        props = slot.props
        raise BoardError(
            f"hot-unplug of boot cpu(id0={props.socket_id}:{props.core_id}:{props.thread_id}) "
            "not supported",
            what="id",
        )
    return UnplugResult.PENDING


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    return {}


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """The loongarch ``virt`` board came after ``cpu-add`` was removed (QEMU 5.2)."""
    raise BoardError("Not supported", what="cpu-add")
