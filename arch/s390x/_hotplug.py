"""s390x CPU slots and QEMU's checks when a CPU is plugged (it is never unplugged).

Slots: ``s390_possible_cpu_arch_ids`` (core-id = CPU address = cpu_index);
checks: ``s390x_cpu_pre_plug``/``s390_cpu_realize`` and
``s390_machine_device_unplug_request`` (QEMU 7.2 observed; notes §4.1, §4.3, §10).
A ``device_add`` wrong in several ways gets QEMU's first error, in this order
(observed on 7.2, 10.0 and 11.1): the driver (no such model: ``host`` without
KVM), the id (core), the properties, the model's features TCG lacks, a model
other than the boot CPUs', then the core-id (out of range, taken).
"""

from __future__ import annotations

from collections.abc import Mapping

from arch.s390x._facility import (
    has_topology,
    placement_of,
    plug_placement,
    read_dedicated,
    read_entitlement,
)
from arch.s390x._models import known_model, tcg_refusal
from topology import (
    BoardError,
    CpuTopology,
    DeviceTypeError,
    MachineType,
    ParameterError,
    QemuVersion,
)
from topology.plugin import (
    INT32,
    BoardContext,
    CpuSlot,
    SlotProps,
    UnplugResult,
    VmView,
    qdict_order,
    read_int_prop,
    release_key,
)

__all__ = [
    "boot_qom_path",
    "cpu_status",
    "legacy_cpu_add",
    "possible_slots",
    "read_props",
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


def boot_qom_path(board: BoardContext, slot: CpuSlot, position: int) -> str:
    return f"/machine/unattached/device[{position}]"


def check_driver(board: BoardContext, driver: str) -> None:
    model = driver.removesuffix("-s390x-cpu")
    tcg = board.accelerator != "kvm"
    known = known_model(model, board.version) or (model == "host" and not tcg)
    if not driver.endswith("-s390x-cpu") or not known:
        raise DeviceTypeError(
            f"'{driver}' is not a valid device model name", what="driver", value=driver
        )


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    machine = vm.machine
    tcg = machine.options.get("accel", "tcg") != "kvm"
    check_driver(vm.board, driver)
    model = driver.removesuffix("-s390x-cpu")
    read = read_props(props, driver, machine.qemu_version)
    # Realized: a model with features TCG lacks is refused first, then one that
    # is not the boot CPUs' (observed on 7.2, 10.0 and 11.1: z14 next to qemu).
    refused = tcg_refusal(model, machine.type.name, machine.qemu_version) if tcg else None
    if refused is not None:
        # Over QMP only the message (the warnings some 2.x types print before
        # it go to stderr; not modelled for a plug).
        raise BoardError(refused.message, what="driver", value=driver)
    _check_same_model(vm, driver)
    core_id = read.get("core-id", 0)
    assert isinstance(core_id, int)
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
    # Realized; s390_cpu_plug places it when the topology facility is on
    # (under TCG the placement properties are kept on the object, unused).
    if has_topology(vm.machine):
        plug_placement(vm, core_id, read)
    return core_id


def _check_same_model(vm: VmView, driver: str) -> None:
    """Every CPU must have the boot CPUs' model (``s390_realize_cpu_model``).

    Under TCG ``qemu`` and ``max`` are the same model on s390-ccw-virtio-7.2
    and newer, different ones on 7.1 and older (the ``qemu`` model is frozen
    per machine version); any other named model differs. Checked after the
    properties are set, before the core-id checks (observed on 7.2 and 10.0).
    """
    machine = vm.machine
    boot = machine.type.cpu_model(machine.options)[0]
    added = driver.removesuffix("-s390x-cpu")
    release = machine.type.name.removeprefix("s390-ccw-virtio-")
    same_family = {"qemu", "max"} if release_key(release) >= (7, 2) else set()
    if added != boot and not {added, boot} <= same_family:
        raise BoardError("Mixed CPU models are not supported on s390x.", what="driver")


def read_props(props: Mapping[str, object], driver: str, version: QemuVersion) -> dict[str, object]:
    """The CPU properties as QEMU sets them, one by one in QDict order (:func:`qdict_order`).

    ``s390x_cpu_properties``: ``core-id`` uint32; from 8.2 ``socket-id``,
    ``book-id``, ``drawer-id`` int32 (-1 = not set), ``dedicated`` bool,
    ``entitlement`` enum. The texts were observed on QEMU 7.2 and 10.0.
    """
    placement = version.at_least("8.2")
    read: dict[str, object] = {}
    for name in qdict_order(list(props)):
        value = props[name]
        if name == "core-id":
            read[name] = _read_uint32(name, value, version)
        elif placement and name in ("socket-id", "book-id", "drawer-id"):
            read[name] = read_int_prop(props, name, -1, INT32)
        elif placement and name == "dedicated":
            read[name] = read_dedicated(name, value)
        elif placement and name == "entitlement":
            read[name] = read_entitlement(name, value)
        else:
            raise ParameterError(f"Property '{driver}.{name}' not found", what=name, where=driver)
    return read


def _read_uint32(name: str, value: object, version: QemuVersion) -> int:
    # QEMU reads an unsigned property as uint64 (negative numbers wrap), then
    # checks its range; the type error's wording changed between 7.2 and 10.0.
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**64:
        expected = "uint64" if version.at_least("10.0") else "integer"
        raise ParameterError(f"Parameter '{name}' expects {expected}", what=name, value=value)
    if not 0 <= value < 2**32:
        raise ParameterError(f"Parameter '{name}' expects uint32_t", what=name, value=value)
    return value


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    raise BoardError("CPU hot unplug not supported on this machine", what="id")


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    # Only the IPL CPU runs at start; the others, and every added CPU, are stopped.
    status: dict[str, object] = {"cpu-state": "operating" if cpu_index == 0 else "stopped"}
    placement = placement_of(vm, cpu_index) if has_topology(vm.machine) else None
    if placement is not None:
        # s390_query_cpu_fast adds these only when the facility is on.
        status["dedicated"] = placement.dedicated
        status["entitlement"] = placement.entitlement
    return status


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """``cpu-add id`` (QEMU 2.x-5.1, ``s390_hot_add_cpu``): ``id`` is the core-id."""
    return vm.slots[0].type, {"core-id": cpu_id}
