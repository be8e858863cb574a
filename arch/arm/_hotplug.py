"""ARM virt CPU slots; the board has no CPU hot-plug.

Slots (``virt_possible_cpu_arch_ids``, QEMU 7.1+, every virt type): one per
possible CPU, in index order, with socket, cluster, core and thread ids from
the index and the MPIDR affinity as arch id (see ``_mpidr``). Boot CPUs are
``/machine/unattached/device[N]`` with N = cpu-index, without gaps (observed on
7.2 and 10.0 with up to 20 CPUs).

device_add of an ARM CPU type: ``Parameter 'driver' expects a pluggable device
type`` (ARM CPU classes are not user-creatable); of a type that does not exist:
``'<driver>' is not a valid device model name``. device_del of a CPU: QEMU 7.2
aborts (``qdev_unplug: assertion failed: (hotplug_ctrl)``), 10.0 answers
``Device '<type>' can not be hotplugged on this machine``. All observed on both
(and the device_del answers on 11.1 too).
"""

from __future__ import annotations

from collections.abc import Mapping

from arch.arm._cpus import cpu_models, cpu_type
from arch.arm._gic import gic_version
from arch.arm._mpidr import affinity_group_size, mp_affinity
from arch.arm._options import check_properties
from topology import BoardError, CpuTopology, DeviceTypeError, MachineType, QemuVersion
from topology.plugin import (
    UINT32_MASK,
    BoardContext,
    CpuSlot,
    SlotProps,
    UnplugResult,
    VmView,
    no_hotplug_handler,
)

__all__ = [
    "boot_qom_path",
    "cpu_status",
    "group_size",
    "legacy_cpu_add",
    "possible_slots",
    "request_unplug",
    "select_slot",
]

# virt_machine_2_6_options sets disallow_affinity_adjustment; 2.6 is the oldest virt type.
_UNADJUSTED = frozenset({"virt-2.6"})


def group_size(
    machine_type: MachineType, max_cpus: int, options: Mapping[str, str], version: QemuVersion
) -> int:
    """CPUs per MPIDR Aff1 group on this machine (see ``_mpidr``)."""
    if options.get("accel", "tcg") == "kvm":
        return 16  # KVM sets MPIDR itself: Aff0 = vcpu id mod 16 (reset_mpidr)
    try:
        gic = gic_version(options, max_cpus, version)
    except BoardError:
        return 16  # QEMU refuses to start (check_board raises it, after the NUMA checks)
    return affinity_group_size(gic, adjusted=machine_type.name not in _UNADJUSTED)


def possible_slots(
    machine_type: MachineType,
    topology: CpuTopology,
    options: Mapping[str, str],
    version: QemuVersion,
) -> list[CpuSlot]:
    check_properties(machine_type, options, version)
    device_type = cpu_type(machine_type.cpu_model(options)[0])
    group = group_size(machine_type, topology.max_cpus, options, version)
    threads, cores, clusters = topology.threads, topology.cores, topology.clusters
    # QEMU's counts are unsigned ints: the products wrap modulo 2^32 (with
    # clusters = cores = 2^32 - 1, clusters * cores is 1; observed on 7.2 and 10.0).
    per_socket = clusters * cores * threads & UINT32_MASK
    per_cluster = cores * threads & UINT32_MASK
    if 0 in (per_socket, per_cluster):
        raise BoardError(
            "cputopo: the counts multiply to 0 modulo 2^32, so QEMU divides by zero "
            "while listing the possible CPUs and crashes (SIGFPE)",
            what="smp",
            crash_signal=8,
        )
    return [
        CpuSlot(
            index=index,
            type=device_type,
            vcpus_count=1,
            arch_id=mp_affinity(index, group),
            first_cpu_index=index,
            props=SlotProps(
                socket_id=index // per_socket,
                cluster_id=index // per_cluster % clusters,
                core_id=index // threads % cores,
                thread_id=index % threads,
            ),
        )
        for index in range(topology.max_cpus)
    ]


def boot_qom_path(board: BoardContext, slot: CpuSlot, position: int) -> str:
    return f"/machine/unattached/device[{position}]"


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    check_driver(vm.board, driver)
    raise AssertionError("check_driver refuses every driver")


def check_driver(board: BoardContext, driver: str) -> None:
    models = cpu_models(board.version)
    if not (driver.endswith("-arm-cpu") and driver[: -len("-arm-cpu")] in models):
        raise DeviceTypeError(
            f"'{driver}' is not a valid device model name", what="driver", value=driver
        )
    raise DeviceTypeError(
        "Parameter 'driver' expects a pluggable device type", what="driver", value=driver
    )


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    # virt gives CPUs no hotplug handler: QEMU's generic answer (abort before 10.0).
    raise no_hotplug_handler(vm.slots[slot_index].type, vm.machine.qemu_version)


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    return {}


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """ARM virt never had ``cpu-add``."""
    raise BoardError("Not supported", what="cpu-add")
