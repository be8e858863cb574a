"""QEMU's empty machine ``none``, the same board on every target.

``-machine none`` (QEMU's ``hw/core/null-machine.c``) starts with no CPU, no
RAM unless ``-m`` asks for it, and no CPU slots: ``query-hotpluggable-cpus``
fails as on any board without CPU hot-plug, ``query-cpus-fast`` is empty, and
``device_add`` of a CPU type is refused for want of a hotplug handler. Tools
use it to probe a binary (libvirt's capability probing, QEMU's qmp-cmd-test).
Observed on 7.2, 10.0 and 11.1, for x86_64, ppc64, s390x and aarch64.

Since the board is QEMU's and not the target's, the core supplies it; the
target's plugin is asked only what the target decides: which ``device_add``
drivers are device types at all (its optional ``check_driver``).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from topology._errors import BoardError
from topology._registry import hooks
from topology._resolve.machine import MachineType

if TYPE_CHECKING:
    from topology._model.slots import CpuSlot
    from topology._model.vm import UnplugResult
    from topology._resolve.board import BoardContext
    from topology._versions import QemuVersion
    from topology._warnings import QemuWarning
    from topology.plugin import ArchPlugin, VmView

__all__ = ["NULL_MACHINE", "NULL_MACHINE_TYPE", "NullBoard", "null_board"]

#: Its name on every target and release.
NULL_MACHINE: Final = "none"

#: At most one CPU, created only for ``-cpu``; no RAM by default (``-m 64M``
#: gives the ``ram`` backend); no NUMA (``-numa node: NUMA is not supported by
#: this machine-type``); ``-smp 2``: ``Invalid SMP CPUs 2. The max CPUs
#: supported by machine 'none' is 1``.
NULL_MACHINE_TYPE: Final = MachineType(
    name=NULL_MACHINE,
    max_cpus=1,
    default_cpu="",
    default_cpu_listed=False,
    hotpluggable_cpus=False,
    default_ram_size=0,
    cpu_slots=False,
)


class NullBoard:
    """The empty machine as an architecture plugin: no slots, no board checks.

    It stands in for ``target_plugin`` as the :class:`topology.Machine`'s
    ``arch``, with its name and targets, so that the core's start order and
    monitor views need no case of their own.
    """

    capabilities: frozenset[str] = frozenset()

    def __init__(self, target_plugin: ArchPlugin) -> None:
        self.target_plugin = target_plugin

    def __repr__(self) -> str:
        return f"NullBoard({self.target_plugin.name!r})"

    @property
    def name(self) -> str:
        """The target plugin's name."""
        return self.target_plugin.name

    @property
    def targets(self) -> tuple[str, ...]:
        """The target plugin's targets."""
        return self.target_plugin.targets

    def machine_types(self, version: QemuVersion) -> Sequence[MachineType]:
        """The one machine type."""
        return (NULL_MACHINE_TYPE,)

    def default_machine(self, version: QemuVersion) -> str | None:
        """Never QEMU's default."""
        return None

    def check_board(self, board: BoardContext) -> Sequence[QemuWarning]:
        """Nothing beyond the generic ``-smp`` rules."""
        return ()

    def possible_slots(self, board: BoardContext) -> Sequence[CpuSlot]:
        """None: QEMU's empty machine lists no possible CPUs."""
        return ()

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        """Never asked: the machine has neither slots nor NUMA."""
        raise AssertionError("the empty machine has no slots")

    def boot_qom_path(self, board: BoardContext, slot: CpuSlot, position: int) -> str:
        """Never asked: the machine has no slots."""
        raise AssertionError("the empty machine has no slots")

    def select_slot(self, vm: VmView, driver: str, props: Mapping[str, object]) -> int:
        """QEMU looks the driver up, then finds no hotplug handler for it."""
        check_driver = hooks(self.target_plugin).check_driver
        if check_driver is not None:
            check_driver(vm.board, driver)
        raise BoardError(
            f"Device '{driver}' can not be hotplugged on this machine",
            what="driver",
            value=driver,
        )

    def request_unplug(self, vm: VmView, slot_index: int) -> UnplugResult:
        """Never asked: no CPU is ever plugged."""
        raise AssertionError("the empty machine has no slots")

    def cpu_status(self, vm: VmView, cpu_index: int) -> Mapping[str, object]:
        """No members: the machine has no CPUs."""
        return {}

    def legacy_cpu_add(self, vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
        """``cpu-add`` is refused on boards that never had it."""
        raise BoardError("Not supported", what="cpu-add", value=cpu_id)


def null_board(target_plugin: ArchPlugin) -> NullBoard:
    """The empty machine of ``target_plugin``'s targets (one object per plugin,
    so that the core's per-plugin caches see it once)."""
    board: NullBoard = _null_board(cast(Hashable, target_plugin))
    return board


@functools.cache
def _null_board(target_plugin: Any) -> NullBoard:
    return NullBoard(target_plugin)
