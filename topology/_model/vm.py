"""The VM model: a machine's possible CPU slots and what is plugged in them.

Slots come from the architecture plugin and never change for the life of the
VM. Which slots hold a CPU changes with hot-plug and unplug, one transaction
at a time: an operation checks everything first and changes the model only
when it succeeds, so a refused operation leaves the model exactly as it was.

The guest's side is modelled too: a vCPU that QEMU added is *offline* in the
guest until the guest brings it online (Linux needs an explicit online through
sysfs or a udev rule; Windows Server 2012 R2 and later online it at once).
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from topology._errors import DeviceTypeError, TcgContextsExhaustedError, TopologyError
from topology._model.numa import NumaConfig, NumaInput
from topology._model.qom import CONTAINERS, device_del_path, no_hotplug_handler, not_a_device
from topology._model.slots import CpuSlot, SlotProps
from topology._model.stash import Stash
from topology._parse.identifiers import is_identifier
from topology._parse.memory import MemoryConfig, RamLayout
from topology._registry import hooks
from topology._resolve.machine import Machine
from topology._resolve.topology import CpuTopology
from topology._versions import as_observed_in
from topology._warnings import QemuWarning

__all__ = [
    "DeviceNotFound",
    "GuestPolicy",
    "PlugOrigin",
    "SlotState",
    "UnplugResult",
    "VirtualMachine",
]


#: No supported machine allows more than 4096 CPUs (pseries in QEMU 8.x allows
#: 2^31 - 1 in its checks, far beyond what QEMU can start); the model refuses
#: rather than build billions of slots.
MAX_MODELLED_CPUS = 16384

#: Where the TCG context assertion is in each release's build, as QEMU prints it:
#: Debian's builds of 7.2.22, 10.0.13 and 11.1.3 (observed); a release not run
#: here is taken to print its nearest older observed release's location.
_TCG_REGISTER_THREAD_AT = {
    "7.2": "../../tcg/tcg.c:482",
    "10.0": "tcg/tcg.c:1006",
    "11.1": "tcg/tcg.c:1278",
}


#: Raises QEMU's error for a ``device_add`` driver that names no device type it
#: has (:class:`topology.DeviceTypeError`), or :class:`UnsupportedOptionError`
#: for a device type that is no CPU.
DeviceLookup = Callable[[str], None]


class DeviceNotFound(TopologyError, LookupError):
    """``device_del`` named no device (QMP error class ``DeviceNotFound``)."""

    qmp_class = "DeviceNotFound"


class PlugOrigin(enum.Enum):
    """How a CPU came to be in its slot."""

    COLD = "cold"  # created at start from -smp
    HOT = "hot"  # added with device_add


class GuestPolicy(enum.Enum):
    """What the guest does with a vCPU that QEMU hot-adds."""

    MANUAL_ONLINE = "manual"  # Linux without a udev rule: stays offline until onlined
    AUTO_ONLINE = "auto"  # Windows Server 2012 R2+, Linux with an online rule


class UnplugResult(enum.Enum):
    """What ``device_del`` did."""

    PENDING = "pending"  # asked the guest; the CPU stays until the guest ejects it
    REMOVED = "removed"  # gone at once (e.g. a pseries core the guest never took)


@attrs.frozen(kw_only=True)
class SlotState:
    """A filled slot: the CPU device in it and the guest's view of its vCPUs."""

    origin: PlugOrigin
    device_id: str | None
    qom_path: str
    driver: str = ""
    """The device type plugged (``device_add`` driver); the slot's type for boot CPUs."""
    unplug_pending: bool = False
    online: bool = True
    created: int = 0  # creation order, for query-cpus-fast


class VirtualMachine:
    """A machine's CPU slots and their states, changed only by whole operations.

    Build one with :meth:`start`; see ``docs/explanation/model.md`` for a hot-plug sequence.
    """

    def __init__(
        self,
        machine: Machine,
        topology: CpuTopology,
        slots: Sequence[CpuSlot],
        *,
        guest: GuestPolicy = GuestPolicy.MANUAL_ONLINE,
        numa: NumaConfig | None = None,
        memory: RamLayout | None = None,
        warnings: Sequence[QemuWarning] | None = None,
        device_lookup: DeviceLookup | None = None,
    ) -> None:
        self.machine = machine
        self.topology = topology
        self.slots: tuple[CpuSlot, ...] = tuple(slots)
        self.guest = guest
        #: The guest NUMA layout, or None when the machine has no NUMA nodes.
        self.numa = numa
        #: The guest's memory (the machine's default RAM unless ``-m`` said otherwise).
        self.memory = memory or RamLayout(
            ram_size=machine.type.default_ram_size, max_ram_size=machine.type.default_ram_size
        )
        #: Everything QEMU warned about while starting, in the order it printed it.
        self.warnings: tuple[QemuWarning, ...] = tuple(
            topology.warnings if warnings is None else warnings
        )
        self._states: dict[int, SlotState] = {}
        self._ids: dict[str, int] = {}
        self._created = 0
        self._anonymous = 0
        self._vcpus_created = 0
        #: The board as it was built, for the plugin's hooks.
        self.board = machine.board(topology, memory, numa)
        #: Per-plugin state under typed keys (e.g. x86 ACPI hot-plug mode).
        self.stash = Stash()
        self._events: list[dict[str, object]] = []
        #: QEMU's look-up of a ``device_add`` driver among all its types, where
        #: the caller has QEMU's type list (the stand-in); the plugin's checks follow.
        self._device_lookup = device_lookup
        self._stderr: list[QemuWarning] = []
        #: The ``-smp`` text the VM was started with (None when built directly):
        #: restarting it elsewhere re-reads this text under other rules.
        self.smp: str | None = None

    @classmethod
    def start(
        cls,
        machine: Machine,
        smp: str,
        *,
        numa: Iterable[NumaInput] = (),
        memory: int | str | MemoryConfig | None = None,
        memory_backends: Mapping[str, int] | None = None,
        guest: GuestPolicy = GuestPolicy.MANUAL_ONLINE,
    ) -> VirtualMachine:
        """Start ``machine`` with ``-smp smp``: every boot CPU present and online.

        ``numa`` are the ``-numa`` options in command-line order (texts or
        parsed options), ``memory`` the ``-m`` option (its text, a size in
        bytes, or a :class:`MemoryConfig`; None is the machine's default) and
        ``memory_backends`` the sizes of the ``-object memory-backend-*`` by id.
        QEMU's checks run in QEMU's order (see :mod:`topology._model.start`); the first
        that fails raises its error, with the warnings QEMU printed before it.
        With NUMA, every slot's props carry its ``node-id``.

        >>> import topology
        >>> q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
        >>> vm = VirtualMachine.start(
        ...     q35, "4,sockets=2", numa=["node,memdev=a", "node,memdev=b"],
        ...     memory="512M", memory_backends={"a": 256 * 2**20, "b": 256 * 2**20},
        ... )
        >>> [slot.props.node_id for slot in vm.slots]
        [0, 0, 1, 1]
        """
        from topology._model.start import start_machine  # the start order uses this module

        return start_machine(
            machine,
            smp,
            numa=numa,
            memory=memory,
            memory_backends=memory_backends,
            guest=guest,
        )

    # -- reading -----------------------------------------------------------------

    def state(self, slot_index: int) -> SlotState | None:
        """The state of a slot, or None when it is empty."""
        return self._states.get(slot_index)

    def present(self) -> list[CpuSlot]:
        """The filled slots, in slot order."""
        return [self.slots[index] for index in sorted(self._states)]

    def present_cpu_indexes(self) -> list[int]:
        """``cpu_index`` of every present vCPU, ascending; holes are normal."""
        return [cpu for slot in self.present() for cpu in slot.cpu_indexes]

    def find_device(self, name: str) -> int:
        """The slot of the CPU device with that id or QOM path."""
        if name in self._ids:
            return self._ids[name]
        for index, state in self._states.items():
            if state.qom_path == name:
                return index
        raise DeviceNotFound(f"Device '{name}' not found", what="id", value=name)

    def copy(self) -> VirtualMachine:
        """An independent copy: operations on one never show in the other.

        The slots, topology, machine and NUMA layout are immutable and shared;
        what operations change (slot states, ids, events, board state, whose
        values plugins keep immutable) is copied.
        """
        twin = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, dict | list | set | Stash):
                setattr(twin, name, value.copy())
        return twin

    def take_events(self) -> list[dict[str, object]]:
        """The QMP events emitted since the last call, oldest first, without timestamps.

        Each is ``{"event": NAME, "data": {...}}`` as QEMU sends it (``data`` is
        left out when QEMU sends none).
        """
        events, self._events = self._events, []
        return events

    def take_warnings(self) -> list[QemuWarning]:
        """The warnings operations printed on stderr since the last call, oldest first.

        A plugged CPU's come from the plugin's optional ``plug_warnings`` (x86
        under TCG: the CPUID features it lacks); a refused plug prints none.
        """
        warnings, self._stderr = self._stderr, []
        return warnings

    def emit_warning(self, warning: QemuWarning) -> None:
        """Record a warning QEMU prints on stderr while running an operation."""
        self._stderr.append(warning)

    def emit(self, event: str, data: Mapping[str, object] | None = None) -> None:
        """Record a QMP event (plugins call this from their operations)."""
        self._events.append(
            {"event": event} if data is None else {"event": event, "data": dict(data)}
        )

    def snapshot(self) -> dict[int, SlotState]:
        """A copy of every filled slot's state, for comparisons."""
        return dict(self._states)

    # -- operations ----------------------------------------------------------------

    def plug(
        self,
        driver: str,
        props: Mapping[str, object] | None = None,
        *,
        id: str | None = None,
        cold: bool = False,
    ) -> CpuSlot:
        """``device_add driver=DRIVER,id=ID,PROPS``: fill the slot the properties select.

        ``cold`` is for a CPU from a ``-device`` option, created before the
        machine is done: QEMU does not count it as hot-plugged (pseries then
        waits for the guest to release it on unplug) and the guest finds it online.
        Raises the TopologyError QEMU answers with; the slots are then unchanged
        (only the counter QEMU names anonymous devices with moves on, as in QEMU).
        """
        plugin = self.machine.arch
        if self._device_lookup is not None:
            self._device_lookup(driver)
        refusal: TopologyError | None = None
        # A plugin may record the new CPU in its stash while it checks it; its
        # values are immutable, so a shallow copy undoes that if the plug fails.
        stash_before = self.stash.copy()
        index = -1
        try:
            index = plugin.select_slot(self, driver, dict(props or {}))
            slot = self.slots[index]
            _check_node_id(slot, props or {})
        except DeviceTypeError:
            raise  # QEMU looks the driver up before anything else
        except TopologyError as error:
            if not self.machine.type.cpu_slots:
                # The empty machine has no hotplug handler; QEMU finds that out
                # before it names the device (observed on 11.1: a bad id comes after).
                raise
            refusal = error
        try:
            slot = self._plug_checked(driver, id, index, refusal, cold)
        except TopologyError:
            self.stash = stash_before
            raise
        plug_warnings = hooks(plugin).plug_warnings
        if plug_warnings is not None:
            self._stderr.extend(plug_warnings(self, index))
        return slot

    def _plug_checked(
        self,
        driver: str,
        id: str | None,
        index: int,
        refusal: TopologyError | None,
        cold: bool,
    ) -> CpuSlot:
        # QEMU creates the device and registers its id; the other checks follow.
        # QEMU 11.1 checks the id's form there too (10.0 took any string from
        # JSON device_add; 10.1-11.0 were not run here and answer as 10.0).
        if id is not None and self.machine.qemu_version.at_least("11.1") and not is_identifier(id):
            raise TopologyError(f"Invalid qdev ID '{id}'", what="id", value=id)
        if id is not None and id in self._ids:
            raise TopologyError(f"Duplicate device ID '{id}'", what="id", value=id)
        if refusal is not None:
            # QEMU names an anonymous device (peripheral-anon/device[N]) as soon
            # as it creates it, before the checks: a refused plug uses up N too.
            if id is None:
                self._anonymous += 1
            raise refusal
        slot = self.slots[index]
        if (
            self.machine.options.get("accel", "tcg") == "tcg"
            and self._vcpus_created + slot.vcpus_count > self.topology.max_cpus
        ):
            # TCG gives each vCPU ever created one of maxcpus contexts and never
            # frees them: QEMU aborts (tcg_register_thread assertion).
            raise TcgContextsExhaustedError(
                location=as_observed_in(_TCG_REGISTER_THREAD_AT, self.machine.qemu_version),
                vcpus_created=self._vcpus_created,
                vcpus_requested=slot.vcpus_count,
                max_cpus=self.topology.max_cpus,
                value=driver,
            )
        qom_path = self._hotplug_qom_path(id)
        self._fill(
            index,
            SlotState(
                origin=PlugOrigin.COLD if cold else PlugOrigin.HOT,
                device_id=id,
                qom_path=qom_path,
                driver=driver,
                online=cold or self.guest is GuestPolicy.AUTO_ONLINE,
            ),
        )
        if id is None:
            self._anonymous += 1
        return slot

    def cpu_add(self, cpu_id: int) -> CpuSlot:
        """The removed QMP ``cpu-add id=N`` (deprecated in 4.0, gone in 5.2), for old scripts.

        ``id`` was a CPU index on x86 and the core-id on s390x; other boards
        answered ``Not supported``. Today's equivalent ``device_add`` is run.
        """
        driver, props = self.machine.arch.legacy_cpu_add(self, cpu_id)
        return self.plug(driver, props)

    def request_unplug(self, device: str) -> UnplugResult:
        """``device_del id=DEVICE``: an id, or a QOM path (absolute, or relative to
        ``/machine/peripheral``), found as QEMU finds it (through links).

        A device inside a CPU device (a pseries thread) gets QEMU's answer for a
        device no hotplug handler takes: refused from QEMU 10.0 on, an abort
        (:class:`topology.QemuAbortError`) before.
        """
        index = self._device_del_target(device)
        state = self._states[index]
        # A repeated request is answered like the first (QEMU re-sends it).
        result = self.machine.arch.request_unplug(self, index)
        if result is UnplugResult.REMOVED:
            self._announce_deleted(index)
            self._empty(index)
        else:
            self._states[index] = attrs.evolve(state, unplug_pending=True)
        return result

    def complete_unplug(self, device: str) -> None:
        """The guest ejected the CPU: its slot becomes empty."""
        index = self.find_device(device)
        if not self._states[index].unplug_pending:
            raise TopologyError(
                f"no unplug request is pending for '{device}'", what="id", value=device
            )
        self._announce_deleted(index)
        self._empty(index)

    def reset(self) -> None:
        """A machine reset (``system_reset``): the pending unplugs a reset completes
        go (the plugin's optional ``reset_unplugs``), then the board's reset checks
        run again and print their warnings (pseries capabilities under TCG).

        The ``RESET`` event is the caller's: its reason says who asked.
        """
        plugin = hooks(self.machine.arch)
        released = [] if plugin.reset_unplugs is None else list(plugin.reset_unplugs(self))
        for index in released:
            self._announce_deleted(index)
            self._empty(index)
        if plugin.check_reset is not None:
            for warning in plugin.check_reset(self.board):
                self.emit_warning(warning)

    def reject_unplug(self, device: str) -> None:
        """The guest refuses to release ``device``: the CPU stays, its unplug no longer pending.

        QEMU's events for the refusal come from the plugin's optional
        ``unplug_rejected`` (pseries ``DEVICE_UNPLUG_GUEST_ERROR``, x86 ``ACPI_DEVICE_OST``);
        they are recorded only when the state change is made, so a refused call
        changes nothing. A later ``device_del`` asks again.

        >>> import topology
        >>> m = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2")
        >>> vm = VirtualMachine.start(m, "2,maxcpus=4")
        >>> vm.request_unplug("/machine/unattached/device[2]")
        <UnplugResult.PENDING: 'pending'>
        >>> vm.reject_unplug("/machine/unattached/device[2]")
        >>> vm.take_events()
        [{'event': 'DEVICE_UNPLUG_GUEST_ERROR', 'data': {'path': '/machine/unattached/device[2]'}}]
        """
        index = self.find_device(device)
        state = self._states[index]
        if not state.unplug_pending:
            raise TopologyError(
                f"no unplug request is pending for '{device}'", what="id", value=device
            )
        rejected = hooks(self.machine.arch).unplug_rejected
        events = list(rejected(self, index)) if rejected is not None else []
        self._states[index] = attrs.evolve(state, unplug_pending=False)
        for name, data in events:
            self.emit(name, data)

    def set_online(self, cpu_index: int, online: bool) -> None:
        """The guest brings one vCPU online or takes it offline (by ``cpu_index``)."""
        for index, state in self._states.items():
            if cpu_index in self.slots[index].cpu_indexes:
                self._states[index] = attrs.evolve(state, online=online)
                return
        raise TopologyError(
            f"no present vCPU has cpu_index {cpu_index}", what="cpu_index", value=cpu_index
        )

    # -- internals -----------------------------------------------------------------

    def _device_del_target(self, device: str) -> int:
        """The slot of the CPU ``device_del id=DEVICE`` unplugs; QEMU's error otherwise."""
        if device in self._ids:
            return self._ids[device]
        plugin = hooks(self.machine.arch)
        links = {} if plugin.qom_links is None else plugin.qom_links(self.board)
        path = device_del_path(device, links)
        for index, state in self._states.items():
            if state.qom_path == path:
                return index
        if plugin.child_devices is not None:
            for index in sorted(self._states):
                qom_type = plugin.child_devices(self, index).get(path)
                if qom_type is not None:
                    raise no_hotplug_handler(qom_type, self.machine.qemu_version)
        if path in CONTAINERS:
            raise not_a_device(device, self.machine.qemu_version)
        raise DeviceNotFound(f"Device '{device}' not found", what="id", value=device)

    def _hotplug_qom_path(self, device_id: str | None) -> str:
        if device_id is not None:
            return f"/machine/peripheral/{device_id}"
        return f"/machine/peripheral-anon/device[{self._anonymous}]"

    def _fill(self, index: int, state: SlotState) -> None:
        # Built directly: attrs.evolve costs more than the rest of a plug.
        self._states[index] = SlotState(
            origin=state.origin,
            device_id=state.device_id,
            qom_path=state.qom_path,
            driver=state.driver or self.slots[index].type,
            unplug_pending=state.unplug_pending,
            online=state.online,
            created=self._created,
        )
        self._created += 1
        self._vcpus_created += self.slots[index].vcpus_count
        if state.device_id is not None:
            self._ids[state.device_id] = index

    def _fill_boot(self, index: int, qom_path: str) -> None:
        """``_fill`` for a boot CPU, with one SlotState built instead of two: a
        start fills up to every slot, and each build costs."""
        slot = self.slots[index]
        self._states[index] = SlotState(
            origin=PlugOrigin.COLD,
            device_id=None,
            qom_path=qom_path,
            driver=slot.type,
            created=self._created,
        )
        self._created += 1
        self._vcpus_created += slot.vcpus_count

    def _announce_deleted(self, index: int) -> None:
        """QEMU's DEVICE_DELETED events for the CPU device leaving ``index``."""
        deleted = hooks(self.machine.arch).deleted_devices
        if deleted is not None:
            for child in deleted(self, index):
                self.emit("DEVICE_DELETED", child)
            return
        state = self._states[index]
        data: dict[str, object] = {"path": state.qom_path}
        if state.device_id is not None:
            data = {"device": state.device_id, **data}
        self.emit("DEVICE_DELETED", data)

    def _empty(self, index: int) -> None:
        state = self._states.pop(index)
        if state.device_id is not None:
            del self._ids[state.device_id]


def with_node(slot: CpuSlot, node: int) -> CpuSlot:
    """``slot`` in NUMA node ``node``."""
    # attrs.evolve is several times slower, which shows at thousands of slots.
    props = slot.props
    return CpuSlot(
        index=slot.index,
        type=slot.type,
        vcpus_count=slot.vcpus_count,
        arch_id=slot.arch_id,
        first_cpu_index=slot.first_cpu_index,
        props=SlotProps(
            node_id=node,
            drawer_id=props.drawer_id,
            book_id=props.book_id,
            socket_id=props.socket_id,
            die_id=props.die_id,
            cluster_id=props.cluster_id,
            module_id=props.module_id,
            core_id=props.core_id,
            thread_id=props.thread_id,
        ),
        core_device=slot.core_device,
        vcpu_type=slot.vcpu_type,
    )


def _check_node_id(slot: CpuSlot, props: Mapping[str, object]) -> None:
    """``numa_cpu_pre_plug``: a node-id given must be the slot's (0 without NUMA)."""
    node_id = props.get("node-id", -1)
    if node_id == -1:
        return  # left out: taken from the slot
    expected = slot.props.node_id if slot.props.node_id is not None else 0
    if node_id != expected:
        raise TopologyError(f"invalid node-id, must be {expected}", what="node-id", value=node_id)
