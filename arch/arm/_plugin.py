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

__all__ = ["PLUGIN", "ArmPlugin"]

_GICV2_MAX_CPUS: Final = 8
_MAX_RAM_SLOTS: Final = 256
# Redistributor regions: the low one holds 0xF60000 bytes, the high one 64 MiB.
_LOW_REDIST_BYTES: Final = 0x00F60000
_HIGH_REDIST_BYTES: Final = 64 * 1024 * 1024
_REDIST_FRAME: Final = {"3": 0x20000, "4": 0x40000}


def _gic_limit(options: Mapping[str, str], version: QemuVersion) -> int:
    gic = options.get("gic-version", "2" if not version.at_least("10.0") else "max")
    if gic in ("max", "host"):
        gic = "3"
    if gic == "2":
        return _GICV2_MAX_CPUS
    frame = _REDIST_FRAME.get(gic, _REDIST_FRAME["3"])
    limit = _LOW_REDIST_BYTES // frame
    if options.get("highmem-redists", "on") == "on" and options.get("highmem", "on") == "on":
        limit += _HIGH_REDIST_BYTES // frame
    return limit


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
                default_cpu="cortex-a15",
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
        tcg = options.get("accel", "tcg") == "tcg"
        if tcg and options.get("gic-version") == "4" and options.get("virtualization") != "on":
            # Observed on QEMU 10.0; the check predates it, since when is not established.
            raise BoardError(
                "tcg does not support GICv4 emulation, is virtualization=on?",
                what="gic-version",
            )
        limit = _gic_limit(options, version)
        if topology.max_cpus > limit:
            raise BoardError(
                f"Number of SMP CPUs requested ({topology.max_cpus}) exceeds max CPUs "
                f"supported by machine 'mach-virt' ({limit})",
                what="maxcpus",
                value=topology.max_cpus,
            )
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
