"""Architecture plugins: the interface the core asks, and where plugins are found.

A plugin is any object with the attributes and methods of :class:`ArchPlugin`,
published in the entry-point group ``topology.arch``::

    [project.entry-points."topology.arch"]
    riscv = "my_package.riscv:PLUGIN"

The built-in plugins (``arch.x86``, ``arch.spapr``, ``arch.s390x``, ``arch.arm``)
register the same way, and are also listed here so that a bare source checkout
works before the package is installed.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from ._errors import PluginError, UnknownArchError

if TYPE_CHECKING:
    from ._machine import MachineType
    from ._memory import RamLayout
    from ._slots import CpuSlot
    from ._topology import CpuTopology, QemuWarning
    from ._versions import QemuVersion
    from ._vm import UnplugResult, VmView

__all__ = ["ENTRY_POINT_GROUP", "ArchPlugin", "arch_names", "get_arch"]

ENTRY_POINT_GROUP: Final = "topology.arch"

_BUILTIN: Final = {
    "x86": "arch.x86:PLUGIN",
    "spapr": "arch.spapr:PLUGIN",
    "s390x": "arch.s390x:PLUGIN",
    "arm": "arch.arm:PLUGIN",
}


@runtime_checkable
class ArchPlugin(Protocol):
    """What an architecture tells the core.

    Attributes:
        name: the plugin's name (``"x86"``).
        targets: QEMU target names this plugin serves, as in
            ``qemu-system-<target>`` (``("x86_64",)``); the first is the main one.
    """

    name: str
    targets: tuple[str, ...]

    def machine_types(self, version: QemuVersion) -> Sequence[MachineType]:
        """Every machine type QEMU ``version`` offers for this architecture, newest first."""
        ...

    def default_machine(self, version: QemuVersion) -> str | None:
        """The machine QEMU picks without ``-machine``, or None when it insists on one."""
        ...

    def check_board(
        self,
        machine_type: MachineType,
        topology: CpuTopology,
        options: Mapping[str, str],
        version: QemuVersion,
        memory: RamLayout | None = None,
    ) -> list[QemuWarning]:
        """The board's own checks on a resolved topology, after the generic ones.

        ``options`` holds the ``-machine`` and ``-cpu`` settings that matter
        (``cpu``, ``accel``, ``gic-version``, ...). ``memory`` is the guest's RAM
        (with each NUMA node's share) when ``-m`` or ``-numa`` was given; None
        stands for the machine's default RAM, which every board accepts. These
        checks run when QEMU builds the board, after every ``-numa`` check.
        Raise :class:`BoardError` with QEMU's text to refuse; return QEMU's
        warnings otherwise.
        """
        ...

    def possible_slots(
        self,
        machine_type: MachineType,
        topology: CpuTopology,
        options: Mapping[str, str],
        version: QemuVersion,
    ) -> Sequence[CpuSlot]:
        """Every possible CPU slot, in QEMU's slot order (without NUMA node ids)."""
        ...

    def default_node(
        self,
        slot: CpuSlot,
        topology: CpuTopology,
        nodes: int,
        machine_type: MachineType,
        version: QemuVersion,
    ) -> int:
        """The NUMA node QEMU puts ``slot`` in when no ``-numa`` option maps a CPU.

        ``nodes`` is the number of NUMA nodes (at least 1). Only asked for
        machine types whose ``numa`` is true.
        """
        ...

    def boot_qom_path(self, machine_type: MachineType, slot: CpuSlot, position: int) -> str:
        """QOM path of the CPU (or core) created at start in ``slot``, the
        ``position``-th one created."""
        ...

    def select_slot(self, vm: VmView, driver: str, props: Mapping[str, object]) -> int:
        """The slot ``device_add driver,props`` fills; QEMU's error if it refuses.

        Runs QEMU's board checks in QEMU's order; the generic ``node-id`` check
        and the duplicate-id check are the core's.
        """
        ...

    def request_unplug(self, vm: VmView, slot_index: int) -> UnplugResult:
        """What ``device_del`` of the CPU in ``slot_index`` does; QEMU's error if refused."""
        ...

    def cpu_status(self, vm: VmView, cpu_index: int) -> Mapping[str, object]:
        """Members ``query-cpus-fast`` adds for this target (s390x: ``cpu-state``)."""
        ...

    def legacy_cpu_add(self, vm: VmView, cpu_id: int) -> tuple[str, Mapping[str, object]]:
        """The ``device_add`` (driver, props) that the removed ``cpu-add id=N`` amounted to.

        Raise QEMU's old error where ``cpu-add`` refused (``Not supported`` on
        boards that never had it).
        """
        ...


#: Optional plugin members, asked for with ``getattr`` so that older plugins keep working:
#:
#: ``qmp_commands(version) -> Mapping[str, Callable[[VmView, Mapping[str, object]], object]]``
#:     QMP commands the target adds (s390x ``set-cpu-topology``); each returns the
#:     reply's ``return`` value or raises QEMU's error, and may ``vm.emit`` events.
#: ``deleted_devices(vm, slot_index) -> Sequence[Mapping[str, object]]``
#:     the ``DEVICE_DELETED`` event data QEMU sends, in order, when the CPU device in
#:     ``slot_index`` goes away (child devices first); without it, one event for the device.
#: ``unplug_rejected(vm, slot_index) -> Sequence[tuple[str, Mapping[str, object]]]``
#:     the QMP events (name, data) QEMU sends when the guest refuses a pending unplug of
#:     the CPU in ``slot_index``; without it, none.
#: ``check_machine_options(machine_type, options, version) -> None``
#:     QEMU's errors for ``-machine`` property values, raised when QEMU sets the
#:     properties: after the command-line pass over ``-m``/``-numa``/``-smp`` syntax and
#:     before any ``-smp`` value is read.
#: ``cpu_identity(vm, slot_index) -> Mapping[str, object]``
#:     what the guest knows the CPU (or core) in ``slot_index`` by, name to value
#:     (x86 ``apic-id``; pseries ``vcpu-ids``, ``drc-index``; s390x ``cpu-address``;
#:     arm ``mpidr``): :func:`topology.abi.compare` reports a slot whose identity
#:     changes. Values must compare with ``==`` and be JSON-able (tuples allowed).
#:     Without it, the slot's ``arch_id`` is its identity.
#: ``plug_props(vm, slot_index) -> Mapping[str, object]``
#:     ``device_add`` props, beyond the slot's own, that recreate the CPU in ``slot_index``
#:     as it is now (s390x entitlement and dedication); used by
#:     :func:`topology.abi.migration_plan` and saved models. Without it, none.
#: ``boot_qom_path_in(machine, slot, position) -> str``
#:     ``boot_qom_path`` for boards where ``-machine`` options move the path (pseries:
#:     the XIVE controller is created before the cores); asked first when present.
#: ``check_reset(machine_type, options, version) -> list[QemuWarning]``
#:     the board's checks at the first machine reset, after every ``-device`` was
#:     created (pseries capabilities under TCG); raise :class:`BoardError` to refuse.
#: ``plug_warnings(vm, slot_index) -> Sequence[QemuWarning]``
#:     the warnings QEMU prints on stderr when it realizes the CPU just plugged into
#:     ``slot_index`` (``-device`` or ``device_add``; x86 under TCG: the CPUID features
#:     TCG lacks); :meth:`VirtualMachine.take_warnings` hands them on. Without it, none.
OPTIONAL_MEMBERS: Final = (
    "qmp_commands",
    "deleted_devices",
    "unplug_rejected",
    "check_machine_options",
    "boot_qom_path_in",
    "cpu_identity",
    "plug_props",
    "check_reset",
    "plug_warnings",
)


def _load(name: str, target: str) -> ArchPlugin:
    module_name, _, attribute = target.partition(":")
    try:
        plugin = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:
        raise PluginError(
            f"architecture plugin '{name}' ({target}) failed to load: {error}",
            what=name,
            where=target,
        ) from error
    missing = [
        member
        for member in (
            "name",
            "targets",
            "machine_types",
            "default_machine",
            "check_board",
            "possible_slots",
            "default_node",
            "boot_qom_path",
            "select_slot",
            "request_unplug",
            "cpu_status",
            "legacy_cpu_add",
        )
        if not hasattr(plugin, member)
    ]
    if missing:
        raise PluginError(
            f"architecture plugin '{name}' ({target}) lacks {', '.join(missing)}",
            what=name,
            where=target,
        )
    return plugin  # type: ignore[no-any-return]


@functools.cache
def _registry() -> dict[str, str]:
    found = dict(_BUILTIN)
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found and found[entry.name] != entry.value:
            warnings.warn(
                f"architecture plugin '{entry.name}' is registered twice "
                f"({found[entry.name]} and {entry.value}); using {found[entry.name]}",
                stacklevel=2,
            )
            continue
        found[entry.name] = entry.value
    return found


@functools.cache
def _plugin(name: str) -> ArchPlugin:
    return _load(name, _registry()[name])


def arch_names() -> list[str]:
    """Every name :func:`get_arch` accepts: plugin names and QEMU target names.

    >>> "x86_64" in arch_names() and "ppc64" in arch_names()
    True
    """
    names: set[str] = set()
    for name in _registry():
        names.add(name)
        names.update(_plugin(name).targets)
    return sorted(names)


def get_arch(name: str) -> ArchPlugin:
    """The plugin for an architecture, by plugin name (``spapr``) or QEMU target (``ppc64``).

    >>> get_arch("ppc64").name
    'spapr'
    >>> get_arch("x86-64")
    Traceback (most recent call last):
    ...
    topology.UnknownArchError: unknown architecture 'x86-64'; did you mean 'x86_64'?
    """
    registry = _registry()
    if name in registry:
        return _plugin(name)
    for plugin_name in registry:
        plugin = _plugin(plugin_name)
        if name in plugin.targets:
            return plugin
    candidates = arch_names()
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(candidates)}"
    raise UnknownArchError(f"unknown architecture '{name}'{hint}", what=name)
