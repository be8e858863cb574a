"""pseries core slots and QEMU's checks when a core is plugged or unplugged.

Slots: ``spapr_possible_cpu_arch_ids`` (one per core, core-id = slot * threads);
checks: ``spapr_core_pre_plug`` and ``spapr_core_unplug_request`` (``hw/ppc/spapr.c``),
in QEMU's order and with its texts (QEMU 7.2 observed; notes §3.1, §3.5, §10).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from arch.spapr._irq import presenters
from arch.spapr._models import resolve_model
from topology import (
    BoardError,
    CpuTopology,
    DeviceTypeError,
    MachineType,
    QemuVersion,
)
from topology.plugin import (
    BoardContext,
    CpuSlot,
    PlugOrigin,
    SlotProps,
    UnplugResult,
    VmView,
    read_int_prop,
    reject_unknown_props,
)

__all__ = [
    "boot_qom_path",
    "cpu_status",
    "legacy_cpu_add",
    "possible_slots",
    "request_unplug",
    "select_slot",
    "unplug_rejected",
]


def core_type(machine_type: MachineType, options: Mapping[str, str], version: QemuVersion) -> str:
    """The core type ``device_add`` needs: the ``-cpu`` model with its alias resolved."""
    model = resolve_model(machine_type.cpu_model(options)[0], version)
    return f"{model}-spapr-cpu-core"


def possible_slots(
    machine_type: MachineType,
    topology: CpuTopology,
    options: Mapping[str, str],
    version: QemuVersion,
) -> list[CpuSlot]:
    threads = topology.threads
    qom_type = core_type(machine_type, options, version)
    # The core's threads are CPUs of the model the core is named after.
    thread_type = qom_type.removesuffix("-spapr-cpu-core") + "-powerpc64-cpu"
    return [
        CpuSlot(
            index=index,
            type=qom_type,
            vcpus_count=threads,
            arch_id=index * threads,
            first_cpu_index=index * threads,
            # node-id comes from the NUMA configuration (always on for pseries).
            props=SlotProps(core_id=index * threads),
            core_device=True,
            vcpu_type=thread_type,
        )
        for index in range(topology.max_cpus // threads)
    ]


def boot_qom_path(board: BoardContext, slot: CpuSlot, position: int) -> str:
    # Observed on QEMU 7.2 and 10.0: a machine with XIVE (ic-mode dual or xive,
    # on POWER9 or newer) creates its spapr-xive as device[0] and the cores follow;
    # a XICS-only machine starts its cores at device[0].
    xive = "xive-tctx" in presenters(board.machine_type, board.options)
    return f"/machine/unattached/device[{position + int(xive)}]"


def check_driver(board: BoardContext, driver: str) -> None:
    if driver.endswith("-powerpc64-cpu"):
        # A core's threads are devices, but not ones a user may create
        # (observed on 7.2, 10.0 and 11.1: power9_v2.0-powerpc64-cpu).
        raise DeviceTypeError(
            "Parameter 'driver' expects a pluggable device type", what="driver", value=driver
        )
    if not driver.endswith("-spapr-cpu-core"):
        raise DeviceTypeError(
            f"'{driver}' is not a valid device model name", what="driver", value=driver
        )


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    check_driver(vm.board, driver)
    expected = vm.slots[0].type
    reject_unknown_props(props, {"core-id", "nr-threads", "node-id"}, driver)
    core_id = read_int_prop(props, "core-id", 0)
    if core_id < 0:
        raise BoardError(f"Invalid core id {core_id}", what="core-id", value=core_id)
    threads = vm.topology.threads
    nr_threads = read_int_prop(props, "nr-threads", threads)
    if driver != expected:
        raise BoardError(f"CPU core type should be {expected}", what="driver", value=driver)
    if core_id % threads:
        raise BoardError(f"invalid core id {core_id}", what="core-id", value=core_id)
    if nr_threads != threads:
        raise BoardError(f"invalid nr-threads {nr_threads}, must be {threads}", what="nr-threads")
    index = core_id // threads
    if index >= len(vm.slots):
        raise BoardError(f"core id {core_id} out of range", what="core-id", value=core_id)
    if vm.state(index) is not None:
        raise BoardError(f"core {core_id} already populated", what="core-id", value=core_id)
    return index


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    # spapr_core_unplug_request refuses every core of a type without CPU
    # hot-plug (before 2.7) before it looks at the core (observed on QEMU 7.2:
    # pseries-2.2 -smp 2, device_del of device[0] and of device[1]).
    if not vm.machine.type.hotpluggable_cpus:
        raise BoardError("CPU hot unplug not supported on this machine", what="id")
    if slot_index == 0:
        raise BoardError("Boot CPU core may not be unplugged", what="id")
    state = vm.state(slot_index)
    # A core added while the guest never took its DRC is released at once; a
    # core the guest owns (every boot core) waits for the guest to release it.
    if state is not None and state.origin is PlugOrigin.HOT:
        return UnplugResult.REMOVED
    return UnplugResult.PENDING


def unplug_rejected(vm: VmView, slot_index: int) -> Sequence[tuple[str, Mapping[str, object]]]:
    """The guest unisolates a core whose unplug is pending (``drc_unisolate_logical``).

    QEMU drops the pending request, prints ``Device hotunplug rejected by the
    guest for device <id>`` (only when the core has an id) and sends
    ``DEVICE_UNPLUG_GUEST_ERROR`` with ``device`` (when it has an id) and ``path``
    (``hw/ppc/spapr_drc.c`` drc_unisolate_logical; the event exists since 6.2,
    ``qapi/qdev.json``).
    """
    state = vm.state(slot_index)
    assert state is not None
    data: dict[str, object] = {"path": state.qom_path}
    if state.device_id is not None:
        data = {"device": state.device_id, **data}
    return [("DEVICE_UNPLUG_GUEST_ERROR", data)]


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    return {}


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """pseries never had ``cpu-add``."""
    raise BoardError("Not supported", what="cpu-add")
