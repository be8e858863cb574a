"""The loongarch64 ``virt`` machine types by QEMU release, and the board's checks at start.

Everything here is public cputopo API (:mod:`topology`, :mod:`topology.plugin`):
the plugin is registered only through the ``topology.arch`` entry point, as a
plugin from another package would be.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from arch.loongarch import _hotplug
from arch.loongarch._cpus import check_cpu_features, cpu_model, cpu_type
from arch.loongarch._releases import virt_release
from arch.loongarch._slots import check_cpu_ids, possible_slots
from topology import BoardError, MachineType, QemuVersion, QemuWarning
from topology.plugin import BoardContext, CpuSlot, versioned_machine_type

__all__ = ["PLUGIN", "LoongArchPlugin"]

#: ``ACPI_MAX_RAM_SLOTS``: the memory hot-plug slots the board's ACPI tables describe.
_MAX_RAM_SLOTS: Final = 256
_DEFAULT_CPU: Final = "la464"


class LoongArchPlugin:
    """QEMU's loongarch64 ``virt`` machine type (QEMU 7.2 and 10.0 to 11.1)."""

    name = "loongarch"
    targets = ("loongarch64",)
    capabilities: frozenset[str] = frozenset()

    @functools.cache  # noqa: B019 - one small tuple per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        release = virt_release(version)
        fields: dict[str, Any] = {
            "aliases": release.aliases,
            "max_cpus": release.max_cpus,
            "default_cpu": _DEFAULT_CPU,
            "hotpluggable_cpus": release.hotplug,
            "numa": release.numa,
            # virt_class_init: numa_mem_supported and both auto_enable_numa_* are
            # set, for every virt type (``-numa node,mem=`` warns, but is taken).
            "numa_mem": release.numa,
            "auto_numa_with_memhp": release.numa,
            "auto_numa_with_memdev": release.numa,
            "default_ram_size": release.default_ram_size,
        }
        if release.aliases:
            newest = f"{version.major}.{version.minor}"
            return (
                versioned_machine_type(
                    release.machine_name, release=newest, version=version, **fields
                ),
            )
        return (MachineType(name=release.machine_name, **fields),)

    def default_machine(self, version: QemuVersion) -> str | None:
        # is_default on the only virt type of each release.
        return virt_release(version).machine_name

    def check_board(self, board: BoardContext) -> list[QemuWarning]:
        """``virt_init``'s checks in its order: the RAM size (7.2), the CPU ids,
        the first CPU's ``-cpu`` globals, the memory hot-plug slots and
        alignment; then the warning of a start without a kernel."""
        release = virt_release(board.version)
        topology, memory = board.cpu_topology, board.memory
        model, features = cpu_model(board.machine_type, board.options, release)
        if memory is not None and release.min_ram_size and memory.ram_size < release.min_ram_size:
            raise BoardError(
                "ram_size must be greater than 1G.", what="memory", value=memory.ram_size
            )
        if release.hotplug:
            check_cpu_ids(topology)
        check_cpu_features(model, features, release)
        if memory is not None and memory.ram_size < memory.max_ram_size:
            if memory.slots > _MAX_RAM_SLOTS:
                raise BoardError(
                    f"unsupported amount of memory slots: {memory.slots}",
                    what="slots",
                    value=memory.slots,
                )
            if memory.max_ram_size % release.page_size:
                raise BoardError(
                    f"maximum memory size must by aligned to multiple of {release.page_size} bytes",
                    what="maxmem",
                    value=memory.max_ram_size,
                )
        if release.warns_without_kernel:
            # loongarch_load_kernel; cputopo models no -kernel, so every start warns.
            return [QemuWarning(message="No kernel provided, booting from flash drive.")]
        return []

    def possible_slots(self, board: BoardContext) -> list[CpuSlot]:
        release = virt_release(board.version)
        # QEMU looks the -cpu model up before it builds the board.
        model, _features = cpu_model(board.machine_type, board.options, release)
        return possible_slots(board.cpu_topology, cpu_type(model), with_ids=release.hotplug)

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        # virt_get_default_cpu_node_id: the socket, round robin over the nodes.
        assert slot.props.socket_id is not None
        return slot.props.socket_id % nodes

    def boot_qom_path(self, board: BoardContext, slot: CpuSlot, position: int) -> str:
        return _hotplug.boot_qom_path(board, slot, position)

    select_slot = staticmethod(_hotplug.select_slot)
    request_unplug = staticmethod(_hotplug.request_unplug)
    cpu_status = staticmethod(_hotplug.cpu_status)
    legacy_cpu_add = staticmethod(_hotplug.legacy_cpu_add)


PLUGIN: Final = LoongArchPlugin()
