"""Everything an architecture plugin needs, in one public module.

A plugin is any object with the members of :class:`ArchPlugin` (no subclassing),
published in the entry-point group ``topology.arch``::

    [project.entry-points."topology.arch"]
    loongarch = "my_package.loongarch:PLUGIN"

Like pytest, which exports every type a hook receives so that plugins never
import ``_pytest``, this module exports every type a hook receives or returns
and the QEMU helpers a faithful plugin needs. A plugin imports nothing else
from cputopo but the :mod:`topology` facade.

**One calling convention.** Every hook takes its context first, then the
operation's own arguments:

* the QEMU release (:class:`QemuVersion`), for the catalogue hooks
  (``machine_types``, ``default_machine``);
* a :class:`BoardContext`, for the hooks QEMU's board code runs while it builds
  the machine (``check_machine_options``, ``check_board``, ``possible_slots``,
  ``default_node``, ``boot_qom_path``, ``check_driver``, ``check_reset``,
  ``qmp_commands``, ``qom_links``);
* a :class:`VmView`, for the hooks a running VM asks (``select_slot``,
  ``request_unplug``, ``cpu_status``, ``legacy_cpu_add`` and the optional
  ones below).

**Optional hooks** are declared: a plugin lists the names of those it
implements in ``capabilities`` (see :class:`OptionalHooks` for their
signatures). Plugins are checked when they load, signatures included; a bad
one raises :class:`PluginError` naming the plugin and the hook.

**Per-plugin VM state** lives in :attr:`VmView.stash` under typed keys
(:class:`StashKey`), and must be immutable: a refused operation puts the
stash back as it was.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from topology._errors import (
    BoardError,
    DeviceTypeError,
    GlibAssertion,
    ParameterError,
    PluginError,
    QemuAbortError,
    TopologyError,
)
from topology._model.qom import no_hotplug_handler
from topology._model.slots import CpuSlot, SlotProps
from topology._model.stash import Stash, StashKey
from topology._model.vm import DeviceNotFound, PlugOrigin, SlotState, UnplugResult
from topology._parse.cint import UINT32_MASK, as_int32, parse_uint64
from topology._parse.command_line import UnsupportedOptionError
from topology._parse.memory import RamLayout
from topology._parse.qdict import qdict_order
from topology._parse.qom_props import (
    INT32,
    UINT32,
    parse_qemu_bool,
    read_int_prop,
    reject_unknown_props,
)
from topology._registry import ENTRY_POINT_GROUP
from topology._resolve.board import BoardContext
from topology._resolve.compat import versioned_machine_type
from topology._resolve.machine import MachineType
from topology._resolve.machine_releases import (
    AGE_DEPRECATION_REASON,
    deleted_by_age,
    deprecated_by_age,
    release_key,
    releases_between,
)
from topology._resolve.topology import CpuTopology
from topology._versions import QemuVersion, as_observed_in
from topology._warnings import QemuWarning

if TYPE_CHECKING:
    from topology._model.numa import NumaConfig
    from topology._resolve.machine import Machine

__all__ = [
    "AGE_DEPRECATION_REASON",
    "ENTRY_POINT_GROUP",
    "INT32",
    "OPTIONAL_HOOKS",
    "REQUIRED_HOOKS",
    "UINT32",
    "UINT32_MASK",
    "ArchPlugin",
    "BoardContext",
    "BoardError",
    "CpuSlot",
    "CpuTopology",
    "DeviceNotFound",
    "DeviceTypeError",
    "GlibAssertion",
    "MachineType",
    "OptionalHooks",
    "ParameterError",
    "PlugOrigin",
    "PluginError",
    "QemuAbortError",
    "QemuVersion",
    "QemuWarning",
    "QmpAsk",
    "QmpCommand",
    "RamLayout",
    "SlotProps",
    "SlotState",
    "Stash",
    "StashKey",
    "TopologyError",
    "UnplugResult",
    "UnsupportedOptionError",
    "VmView",
    "as_int32",
    "as_observed_in",
    "cpu_device_properties",
    "deleted_by_age",
    "deprecated_by_age",
    "no_hotplug_handler",
    "parse_qemu_bool",
    "parse_uint64",
    "qdict_order",
    "read_int_prop",
    "reject_unknown_props",
    "release_key",
    "releases_between",
    "versioned_machine_type",
]


class VmView(Protocol):
    """What a plugin may read of a running VM (and the two things it may do to it)."""

    @property
    def machine(self) -> Machine:
        """The machine type, release and options (:class:`topology.Machine`)."""
        ...

    @property
    def board(self) -> BoardContext:
        """The board as it was built (topology and memory included)."""
        ...

    @property
    def topology(self) -> CpuTopology:
        """The resolved topology."""
        ...

    @property
    def slots(self) -> Sequence[CpuSlot]:
        """Every possible CPU slot, in QEMU's order (with NUMA node ids)."""
        ...

    @property
    def numa(self) -> NumaConfig | None:
        """The guest NUMA layout, or None without NUMA nodes."""
        ...

    @property
    def stash(self) -> Stash:
        """Per-plugin state (see :class:`StashKey`)."""
        ...

    def state(self, slot_index: int) -> SlotState | None:
        """The CPU in ``slot_index``, or None when the slot is empty."""
        ...

    def present(self) -> list[CpuSlot]:
        """The slots that hold a CPU."""
        ...

    def emit(self, event: str, data: Mapping[str, object]) -> None:
        """Send the QMP event ``event`` with ``data`` (as QEMU does while a command runs)."""
        ...


#: Asks a running QEMU one QMP command (name, arguments) and gives its whole
#: reply (``{"return": ...}`` or ``{"error": ...}``).
QmpAsk = Callable[[str, Mapping[str, object]], Mapping[str, object]]

#: A QMP command a target adds: it returns the reply's ``return`` value or
#: raises QEMU's error, and may :meth:`VmView.emit` events.
QmpCommand = Callable[[VmView, Mapping[str, object]], object]


@runtime_checkable
class ArchPlugin(Protocol):
    """The hooks every architecture plugin has, and three attributes.

    The attributes are read-only for the core, so a plain class attribute
    (``targets = ("riscv64",)``, a ``tuple[str]``) satisfies them under mypy.
    """

    @property
    def name(self) -> str:
        """The plugin's name (``"x86"``)."""
        ...

    @property
    def targets(self) -> tuple[str, ...]:
        """QEMU target names this plugin serves, as in ``qemu-system-<target>``
        (``("x86_64",)``); the first is the main one."""
        ...

    @property
    def capabilities(self) -> frozenset[str]:
        """The names of the :class:`OptionalHooks` it implements."""
        ...

    def machine_types(self, version: QemuVersion) -> Sequence[MachineType]:
        """Every machine type QEMU ``version`` offers for this architecture, newest first."""
        ...

    def default_machine(self, version: QemuVersion) -> str | None:
        """The machine QEMU picks without ``-machine``, or None when it insists on one."""
        ...

    def check_board(self, board: BoardContext) -> Sequence[QemuWarning]:
        """The board's own checks on a resolved topology, after the generic ones.

        Runs when QEMU builds the board, after every ``-numa`` check. Raise
        :class:`BoardError` with QEMU's text to refuse; return QEMU's warnings.
        """
        ...

    def possible_slots(self, board: BoardContext) -> Sequence[CpuSlot]:
        """Every possible CPU slot, in QEMU's slot order (without NUMA node ids)."""
        ...

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        """The NUMA node QEMU puts ``slot`` in when no ``-numa`` option maps a CPU.

        ``nodes`` is the number of NUMA nodes (at least 1). Only asked for
        machine types whose ``numa`` is true.
        """
        ...

    def boot_qom_path(self, board: BoardContext, slot: CpuSlot, position: int) -> str:
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


class OptionalHooks(Protocol):
    """The hooks a plugin may implement, each declared in its ``capabilities``."""

    def check_machine_options(self, board: BoardContext) -> None:
        """QEMU's errors for ``-machine`` property values, raised when QEMU sets
        the properties: after the command-line pass and before any ``-smp``
        value is read (``board.topology`` is None)."""
        ...

    def check_driver(self, board: BoardContext, driver: str) -> None:
        """QEMU's look-up of a ``device_add`` driver: raise :class:`DeviceTypeError`
        with QEMU's text where ``driver`` names no device type QEMU could hot-plug
        on this target. The core asks it on the empty machine ``none``, which has
        no CPU slots; without this hook, every driver reaches that machine's
        refusal (``Device 'X' can not be hotplugged on this machine``)."""
        ...

    def check_reset(self, board: BoardContext) -> Sequence[QemuWarning]:
        """The board's checks at the first machine reset, after every ``-device``
        was created (pseries capabilities under TCG); raise :class:`BoardError`
        to refuse."""
        ...

    def qmp_commands(self, board: BoardContext) -> Mapping[str, QmpCommand]:
        """QMP commands the target adds (s390x ``set-cpu-topology``), by name."""
        ...

    def qom_links(self, board: BoardContext) -> Mapping[str, str]:
        """The board's QOM link properties: each property's path (``/machine/acpi-device``,
        the link ``acpi-device`` of ``/machine``) to the canonical path of the object
        it points to. ``qom-get`` and ``qom-set`` follow them as QEMU's path lookup
        does, and ``qom-get`` of the property itself reads the target's path."""
        ...

    def reset_unplugs(self, vm: VmView) -> Sequence[int]:
        """The slots whose pending unplug a machine reset completes, in the order
        QEMU removes them (pseries: every pending core, as a reset releases each
        DRC waiting for the guest); without this hook, none."""
        ...

    def deleted_devices(self, vm: VmView, slot_index: int) -> Sequence[Mapping[str, object]]:
        """The ``DEVICE_DELETED`` event data QEMU sends, in order, when the CPU
        device in ``slot_index`` goes away (child devices first); without this
        hook, one event for the device."""
        ...

    def unplug_rejected(
        self, vm: VmView, slot_index: int
    ) -> Sequence[tuple[str, Mapping[str, object]]]:
        """The QMP events (name, data) QEMU sends when the guest refuses a
        pending unplug of the CPU in ``slot_index``; without this hook, none."""
        ...

    def child_devices(self, vm: VmView, slot_index: int) -> Mapping[str, str]:
        """The devices QEMU creates inside the CPU device in ``slot_index``, each QOM
        path to its QOM type (pseries: a core's threads, ``<core>/thread[i]``, and
        their interrupt presenters). ``device_del`` of one gets QEMU's answer for
        a device no hotplug handler takes (:func:`no_hotplug_handler`)."""
        ...

    def cpu_identity(self, vm: VmView, slot_index: int) -> Mapping[str, object]:
        """What the guest knows the CPU (or core) in ``slot_index`` by, name to value
        (x86 ``apic-id``; pseries ``vcpu-ids``, ``drc-index``): :func:`topology.abi.compare`
        reports a slot whose identity changes. Values compare with ``==`` and are
        JSON-able (tuples allowed). Without this hook, the slot's ``arch_id``."""
        ...

    def plug_props(self, vm: VmView, slot_index: int) -> Mapping[str, object]:
        """``device_add`` props, beyond the slot's own, that recreate the CPU in
        ``slot_index`` as it is now (s390x entitlement); without this hook, none."""
        ...

    def sync_live(self, vm: VmView, ask: QmpAsk) -> None:
        """Read from a running QEMU the board state the plugin keeps in
        :attr:`VmView.stash` (x86: whether the guest switched ACPI CPU hot-plug
        to modern mode); :mod:`topology.qemu.live` calls it once, when it
        builds the model of that QEMU."""
        ...

    def plug_warnings(self, vm: VmView, slot_index: int) -> Sequence[QemuWarning]:
        """The warnings QEMU prints when it realizes the CPU just plugged into
        ``slot_index`` (x86 under TCG: the CPUID features TCG lacks)."""
        ...


def cpu_device_properties(target: str, version: QemuVersion) -> Mapping[str, str] | None:
    """The properties of the target's CPU device type in QEMU ``version``, from the catalogue.

    Property name to QAPI type text (``"bool"``, ``"uint32"``, ...), as QEMU
    lists them for the type whose device QEMU hot-plugs (x86
    ``qemu64-x86_64-cpu``, where each CPUID feature is a property); None
    where the catalogue has no data for the target.

    >>> from topology import qemu_version
    >>> cpu_device_properties("x86_64", qemu_version("10.0"))["x2apic"]
    'bool'
    """
    from topology._resolve import catalogue  # the catalogue loads lazily

    return catalogue.cpu_device_properties(target, version)


def _hook_names(protocol: type) -> tuple[str, ...]:
    return tuple(
        name
        for name, member in vars(protocol).items()
        if isinstance(member, types.FunctionType) and not name.startswith("_")
    )


#: The hooks of :class:`ArchPlugin`, in declaration order.
REQUIRED_HOOKS: Final = _hook_names(ArchPlugin)
#: The hooks of :class:`OptionalHooks`, in declaration order.
OPTIONAL_HOOKS: Final = _hook_names(OptionalHooks)

# Show the types defined elsewhere as topology.plugin.X (reprs, docs); the
# facade names them topology.X where it exports them too.
for _exported in (BoardContext, Stash, StashKey):
    _exported.__module__ = __name__
del _exported
