"""ARM virt machine types by QEMU release, and the GIC limit the board checks at start.

Sources: ``qemu-system-aarch64 -machine help`` of QEMU 7.2; ``hw/arm/virt.c``
(``virt_machine_class_init``, ``machvirt_init``, ``virt_redist_capacity``); the
shared notes §6.
"""

from __future__ import annotations

import functools
from typing import Final

from arch.arm import _hotplug, _identity
from arch.arm._acpi import acpi_size_warning
from arch.arm._cpus import DEFAULT_CPU, check_cpu_model
from arch.arm._gic import check_gic_limits, check_gic_properties, gic_version
from arch.arm._options import check_properties
from topology import BoardError, MachineType, QemuVersion, QemuWarning
from topology.plugin import (
    BoardContext,
    CpuSlot,
    release_key,
    releases_between,
    versioned_machine_type,
)

__all__ = ["PLUGIN", "ArmPlugin"]

_MAX_RAM_SLOTS: Final = 256


class ArmPlugin:
    """QEMU's ``virt-*`` machine types."""

    name = "arm"
    targets = ("aarch64",)
    capabilities = frozenset({"check_driver", "check_machine_options", "cpu_identity"})

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        newest = f"{version.major}.{version.minor}"
        return tuple(
            versioned_machine_type(
                f"virt-{release}",
                release=release,
                version=version,
                aliases=("virt",) if release == newest else (),
                levels={"clusters"},
                # virt_machine_class_init: 512 since virt-3.0, 255 before.
                max_cpus=512 if release_key(release) >= (3, 0) else 255,
                default_cpu=DEFAULT_CPU,
                # query-machines leaves default-cpu-type out in QEMU 11.1 (and in
                # libvirt's record of 10.2); the CPU made without -cpu is unchanged.
                default_cpu_listed=not version.at_least("10.2"),
                hotpluggable_cpus=False,
                numa=True,
                # cpu_cluster_has_numa_boundary, set for every virt type from QEMU 8.1.
                numa_cluster_boundary=version.at_least("8.1"),
                # Observed on QEMU 7.2: virt-4.1 / 4.2 and virt-5.0 / 5.1 differ.
                auto_numa_with_memhp=release_key(release) >= (4, 2),
                auto_numa_with_memdev=release_key(release) >= (5, 1),
            )
            for release in releases_between("2.6", version)
        )

    def default_machine(self, version: QemuVersion) -> str | None:
        return None

    def check_machine_options(self, board: BoardContext) -> None:
        # gic-version and highmem-redists, when QEMU sets them (after smp: the
        # core reports smp's errors first, then these, then the -cpu model).
        check_gic_properties(board.options, board.machine_type.name, board.version)

    def check_board(self, board: BoardContext) -> list[QemuWarning]:
        machine_type, options, version = board.machine_type, board.options, board.version
        topology, memory = board.cpu_topology, board.memory
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
        # When the machine is done, its ACPI tables are built (see ._acpi).
        too_large = acpi_size_warning(board, board.numa)
        found = [] if too_large is None else [too_large]
        if options.get("ras") == "on" and options.get("acpi", "on") != "off":
            # Without firmware virt makes no GED device, and the ACPI set-up then
            # fails an assertion for ras (observed on 7.2 and 10.0, after the size
            # warning; QEMU 11.1.3 dies of SIGSEGV instead, before the warning).
            newest = version.at_least("11.1")
            if newest:
                found = []
            error = BoardError(
                f"cputopo: QEMU {version} crashes here: with ras=on but no firmware, virt "
                "has no ACPI GED device, which virt_acpi_setup asserts it has",
                what="ras",
                crash_signal=11 if newest else 6,
            )
            error.warnings = tuple(found)
            raise error
        return found

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        # virt_get_default_cpu_node_id (QEMU 7.1+, every virt type): the socket.
        assert slot.props.socket_id is not None
        return slot.props.socket_id % nodes

    # Slots and hot-plug: see ._hotplug.
    def possible_slots(self, board: BoardContext) -> list[CpuSlot]:
        return _hotplug.possible_slots(
            board.machine_type, board.cpu_topology, board.options, board.version
        )

    def boot_qom_path(self, board: BoardContext, slot: CpuSlot, position: int) -> str:
        return _hotplug.boot_qom_path(board, slot, position)

    select_slot = staticmethod(_hotplug.select_slot)
    check_driver = staticmethod(_hotplug.check_driver)
    request_unplug = staticmethod(_hotplug.request_unplug)
    cpu_status = staticmethod(_hotplug.cpu_status)
    legacy_cpu_add = staticmethod(_hotplug.legacy_cpu_add)
    # What the guest knows each CPU by (for topology.abi): see ._identity.
    cpu_identity = staticmethod(_identity.cpu_identity)


PLUGIN: Final = ArmPlugin()
