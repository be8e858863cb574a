"""ARM virt CPU slots; the board has no CPU hot-plug.

Slots: ``virt_possible_cpu_arch_ids`` (QEMU 7.1+: socket, cluster, core and
thread ids from the index; arch id = MPIDR affinity, Aff0 = index mod 16 with
GICv3 (8 with GICv2), Aff1 = index div that). Notes §6 and §10.
"""

from __future__ import annotations

from collections.abc import Mapping

from topology import BoardError, CpuTopology, DeviceTypeError, MachineType, QemuVersion
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
    per_cluster = 8 if options.get("gic-version", "2") == "2" else 16
    threads, cores, clusters = topology.threads, topology.cores, topology.clusters
    return [
        CpuSlot(
            index=index,
            type=f"{model}-arm-cpu",
            vcpus_count=1,
            arch_id=(index // per_cluster) << 8 | index % per_cluster,
            first_cpu_index=index,
            props=SlotProps(
                socket_id=index // (clusters * cores * threads),
                cluster_id=index // (cores * threads) % clusters,
                core_id=index // threads % cores,
                thread_id=index % threads,
            ),
        )
        for index in range(topology.max_cpus)
    ]


def boot_qom_path(machine_type: MachineType, slot: CpuSlot, position: int) -> str:
    return f"/machine/unattached/device[{position}]"


def select_slot(vm: VmView, driver: str, props: Mapping[str, object]) -> int:
    raise DeviceTypeError(
        "Parameter 'driver' expects a pluggable device type", what="driver", value=driver
    )


def request_unplug(vm: VmView, slot_index: int) -> UnplugResult:
    device = vm.slots[slot_index].type
    if vm.machine.qemu_version.at_least("10.0"):  # 8.0-9.2 not observed
        raise BoardError(f"Device '{device}' can not be hotplugged on this machine", what="id")
    # QEMU 7.2 aborts here (qdev_unplug: assertion failed: (hotplug_ctrl)).
    raise BoardError(
        f"cputopo: QEMU {vm.machine.qemu_version} aborts on device_del of a CPU of this machine",
        what="id",
    )


def cpu_status(vm: VmView, cpu_index: int) -> Mapping[str, object]:
    return {}


def legacy_cpu_add(vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
    """ARM virt never had ``cpu-add``."""
    raise BoardError("Not supported", what="cpu-add")
