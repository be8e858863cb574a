"""ARM virt machine types by QEMU release, and the GIC limit the board checks at start.

Sources: ``qemu-system-aarch64 -machine help`` of QEMU 7.2; ``hw/arm/virt.c``
(``virt_machine_class_init``, ``machvirt_init``, ``virt_redist_capacity``); the
shared notes §6.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from topology import BoardError, CpuTopology, MachineType, QemuVersion, QemuWarning
from topology._memory import RamLayout
from topology._releases import (
    AGE_DEPRECATION_REASON,
    deprecated_by_age,
    release_key,
    releases_between,
)
from topology._slots import CpuSlot

from . import _hotplug, _identity
from ._cpus import DEFAULT_CPU, check_cpu_model
from ._gic import check_gic_limits, gic_version
from ._options import check_properties

__all__ = ["PLUGIN", "ArmPlugin"]

_MAX_RAM_SLOTS: Final = 256


class ArmPlugin:
    """QEMU's ``virt-*`` machine types."""

    name = "arm"
    targets = ("aarch64",)

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        newest = f"{version.major}.{version.minor}"
        return tuple(
            MachineType(
                name=f"virt-{release}",
                aliases=("virt",) if release == newest else (),
                levels={"clusters"},
                # virt_machine_class_init: 512 since virt-3.0, 255 before.
                max_cpus=512 if release_key(release) >= (3, 0) else 255,
                prefer_sockets=release_key(release) <= (6, 1),
                default_cpu=DEFAULT_CPU,
                hotpluggable_cpus=False,
                numa=True,
                # virt_machine_5_0_options keeps -numa node,mem= (numa_mem_supported).
                numa_mem=release_key(release) <= (5, 0),
                # cpu_cluster_has_numa_boundary, set for every virt type from QEMU 8.1.
                numa_cluster_boundary=version.at_least("8.1"),
                # Observed on QEMU 7.2: virt-4.1 / 4.2 and virt-5.0 / 5.1 differ.
                auto_numa_with_memhp=release_key(release) >= (4, 2),
                auto_numa_with_memdev=release_key(release) >= (5, 1),
                deprecation_reason=(
                    AGE_DEPRECATION_REASON if deprecated_by_age(release, version) else None
                ),
            )
            for release in releases_between("2.6", version)
        )

    def default_machine(self, version: QemuVersion) -> str | None:
        return None

    def check_board(
        self,
        machine_type: MachineType,
        topology: CpuTopology,
        options: Mapping[str, str],
        version: QemuVersion,
        memory: RamLayout | None = None,
    ) -> list[QemuWarning]:
        # machvirt_init's order: the CPU model, the GIC version, then the CPU limits.
        check_properties(machine_type, options, version)
        check_cpu_model(machine_type.cpu_model(options)[0], options, version)
        gic = gic_version(options, topology.max_cpus, version)
        check_gic_limits(gic, topology, options, version)
        if memory is not None and memory.slots > _MAX_RAM_SLOTS:
            # Observed on QEMU 7.2 and 10.0 (ACPI_MAX_RAM_SLOTS).
            raise BoardError(
                f"unsupported number of memory slots: {memory.slots}",
                what="slots",
                value=memory.slots,
            )
        return []

    def default_node(
        self,
        slot: CpuSlot,
        topology: CpuTopology,
        nodes: int,
        machine_type: MachineType,
        version: QemuVersion,
    ) -> int:
        # virt_get_default_cpu_node_id (QEMU 7.1+, every virt type): the socket.
        assert slot.props.socket_id is not None
        return slot.props.socket_id % nodes

    # Slots and hot-plug: see ._hotplug.
    possible_slots = staticmethod(_hotplug.possible_slots)
    boot_qom_path = staticmethod(_hotplug.boot_qom_path)
    select_slot = staticmethod(_hotplug.select_slot)
    request_unplug = staticmethod(_hotplug.request_unplug)
    cpu_status = staticmethod(_hotplug.cpu_status)
    legacy_cpu_add = staticmethod(_hotplug.legacy_cpu_add)
    # What the guest knows each CPU by (for topology.abi): see ._identity.
    cpu_identity = staticmethod(_identity.cpu_identity)


PLUGIN: Final = ArmPlugin()
