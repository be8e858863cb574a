"""What the strategies of :mod:`topology.strategies` draw: plain frozen values.

These hold no Hypothesis objects, so a drawn value can be printed, compared,
pickled and replayed without Hypothesis; only the strategies need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

from topology._errors import TopologyError
from topology._model.slots import SlotProps
from topology._model.vm import GuestPolicy, UnplugResult, VirtualMachine
from topology._parse.smp import SmpConfig
from topology._resolve.machine import Machine
from topology._resolve.topology import CpuTopology
from topology._warnings import QemuWarning

__all__ = [
    "QEMU_STARTUP_ARGS",
    "HotplugStep",
    "Operation",
    "PresentCpu",
    "SmpCase",
    "VmSpec",
    "clone_vm",
    "present_cpus",
    "qemu_argv",
]

#: What every generated command line ends with: a paused VM with no devices,
#: no configuration files and no display, answering QMP on stdio.
QEMU_STARTUP_ARGS: Final = (
    "-S",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-qmp",
    "stdio",
)

Operation = Literal["plug", "request_unplug", "complete_unplug", "online", "offline"]


def _machine_repr(machine: Machine) -> str:
    options = "".join(f",{key}={value}" for key, value in machine.options.items())
    return f"<{machine.arch.targets[0]} {machine.name}{options} QEMU {machine.qemu_version}>"


class _PlainRepr:
    """Hypothesis prints falsifying examples with its own pretty-printer, which
    spells out every attrs field (a whole MachineType); it honours this hook."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def qemu_argv(
    machine: Machine,
    smp: str,
    *,
    memory: str | None = None,
    memory_backends: tuple[tuple[str, int], ...] = (),
    numa: tuple[str, ...] = (),
) -> list[str]:
    """The QEMU command line (binary first) that starts ``machine`` with these options.

    Board options go to ``-machine``, ``cpu`` to ``-cpu``, ``accel`` to ``-accel``
    (TCG unless it says otherwise).

    >>> import topology
    >>> qemu_argv(topology.machine("s390x", "s390-ccw-virtio-9.2", qemu_version="9.2"), "2")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['qemu-system-s390x', '-machine', 's390-ccw-virtio-9.2', '-accel', 'tcg', '-smp', '2',
     '-S', '-nodefaults', '-no-user-config', '-display', 'none', '-qmp', 'stdio']
    """
    options = machine.options
    board = [f"{key}={value}" for key, value in options.items() if key not in ("cpu", "accel")]
    argv = [f"qemu-system-{machine.arch.targets[0]}", "-machine", ",".join([machine.name, *board])]
    argv += ["-accel", options.get("accel", "tcg")]
    if "cpu" in options:
        argv += ["-cpu", options["cpu"]]
    argv += ["-smp", smp]
    if memory is not None:
        argv += ["-m", memory]
    for backend, size in memory_backends:
        argv += ["-object", f"memory-backend-ram,id={backend},size={size}"]
    for option in numa:
        argv += ["-numa", option]
    return [*argv, *QEMU_STARTUP_ARGS]


@attrs.frozen(kw_only=True)
class SmpCase(_PlainRepr):
    """One ``-smp`` option for one machine, with what QEMU does with it.

    Exactly one of ``topology`` (QEMU starts) and ``error_type``/``message``
    (QEMU refuses) is set; the model (:meth:`Machine.resolve`) decided which.

    Attributes:
        machine: the machine (architecture, machine type, QEMU version, options).
        smp: the ``-smp`` text.
        config: what QEMU's parser read from it, or None when the parser refuses it.
        topology: the resolved topology when QEMU accepts it.
        error_type: the :class:`TopologyError` subclass the model raises when QEMU refuses.
        message: QEMU's error text (without the ``qemu-system-<arch>: `` prefix).
        hint: the line QEMU prints after the error, if any.
        warnings: what QEMU warns about, before the error or while starting.
    """

    machine: Machine = attrs.field(repr=_machine_repr)
    smp: str
    config: SmpConfig | None = attrs.field(default=None, repr=False)
    topology: CpuTopology | None = None
    error_type: type[TopologyError] | None = None
    message: str | None = None
    hint: str | None = attrs.field(default=None, repr=False)
    warnings: tuple[QemuWarning, ...] = attrs.field(default=(), repr=False)

    @property
    def valid(self) -> bool:
        """Whether QEMU starts with this ``-smp``."""
        return self.topology is not None

    def argv(self) -> list[str]:
        """A QEMU command line with this machine and ``-smp`` (see :func:`qemu_command_lines`)."""
        return qemu_argv(self.machine, self.smp)


@attrs.frozen(kw_only=True)
class VmSpec(_PlainRepr):
    """Everything a VM with CPUs and NUMA is started from, as on QEMU's command line.

    Attributes:
        machine: the machine (architecture, machine type, QEMU version, options).
        smp: the ``-smp`` text.
        memory: the ``-m`` text, or None for the machine's default RAM.
        memory_backends: ``(id, size in bytes)`` of each ``-object memory-backend-ram``.
        numa: the ``-numa`` options, in command-line order.
        guest: what the guest does with CPUs QEMU adds.

    >>> import topology
    >>> spec = VmSpec(machine=topology.machine("aarch64", "virt-9.0", qemu_version="9.0"), smp="2")
    >>> [slot.props.core_id for slot in spec.start().present()]
    [0, 1]
    """

    machine: Machine = attrs.field(repr=_machine_repr)
    smp: str
    memory: str | None = None
    memory_backends: tuple[tuple[str, int], ...] = ()
    numa: tuple[str, ...] = ()
    guest: GuestPolicy = GuestPolicy.MANUAL_ONLINE

    def start(self) -> VirtualMachine:
        """A new :class:`VirtualMachine` started from this spec."""
        return VirtualMachine.start(
            self.machine,
            self.smp,
            numa=self.numa,
            memory=self.memory,
            memory_backends=dict(self.memory_backends),
            guest=self.guest,
        )

    def argv(self) -> list[str]:
        """The QEMU command line (binary first) of this VM."""
        return qemu_argv(
            self.machine,
            self.smp,
            memory=self.memory,
            memory_backends=self.memory_backends,
            numa=self.numa,
        )


@attrs.frozen(kw_only=True)
class PresentCpu:
    """One present vCPU as a management tool sees it.

    Attributes:
        cpu_index: QEMU's ``cpu_index`` (holes are normal after unplugs).
        props: the topology properties of its slot (``node_id`` set with NUMA).
        device_id: the ``id`` it was plugged with, or None (boot CPUs, anonymous plugs).
        online: whether the guest uses it.
    """

    cpu_index: int
    props: SlotProps
    device_id: str | None = None
    online: bool = True


def present_cpus(vm: VirtualMachine) -> list[PresentCpu]:
    """Every present vCPU of ``vm``, by ``cpu_index``.

    >>> import topology
    >>> s390x = topology.machine("s390x", qemu_version="9.0")
    >>> vm = topology.VirtualMachine.start(s390x, "1,maxcpus=2")
    >>> [(cpu.cpu_index, cpu.props.core_id) for cpu in present_cpus(vm)]
    [(0, 0)]
    """
    found = []
    for slot in vm.present():
        state = vm.state(slot.index)
        assert state is not None
        for cpu_index in slot.cpu_indexes:
            found.append(
                PresentCpu(
                    cpu_index=cpu_index,
                    props=slot.props,
                    device_id=state.device_id,
                    online=state.online,
                )
            )
    return found


def clone_vm(vm: VirtualMachine) -> VirtualMachine:
    """An independent copy of ``vm`` (:meth:`VirtualMachine.copy`)."""
    return vm.copy()


def _frozen_props(
    props: Mapping[str, object] | tuple[tuple[str, object], ...],
) -> tuple[tuple[str, object], ...]:
    return tuple(props.items()) if isinstance(props, Mapping) else tuple(props)


@attrs.frozen(kw_only=True, repr=False)
class HotplugStep(_PlainRepr):
    """One hot-plug operation and what the model says it does.

    The operation (``operation`` and its arguments):

    * ``plug``: ``device_add driver=DRIVER,id=DEVICE_ID,PROPS``;
    * ``request_unplug``: ``device_del id=DEVICE`` (an id or a QOM path);
    * ``complete_unplug``: the guest ejects DEVICE, whose unplug was requested;
    * ``online`` / ``offline``: the guest brings vCPU ``cpu_index`` online or offline.

    Its expected outcome: ``error_type``/``message`` when it must fail (and then
    changes nothing), else ``result`` (the :class:`UnplugResult` of a request, the
    slot index of a plug); then ``present``, the ``cpu_index`` of every present
    vCPU after the step, and ``deleted``, the devices QEMU announces as deleted
    (``DEVICE_DELETED`` events: an id, or a QOM path for devices without one).
    ``crash_signal`` is set when QEMU would not refuse the step but die on it
    (see :attr:`topology.TopologyError.crash_signal`).
    """

    operation: Operation
    driver: str | None = None
    props: tuple[tuple[str, object], ...] = attrs.field(default=(), converter=_frozen_props)
    device_id: str | None = None
    device: str | None = None
    cpu_index: int | None = None
    error_type: type[TopologyError] | None = None
    message: str | None = None
    result: UnplugResult | int | None = None
    present: tuple[int, ...] = ()
    deleted: tuple[str, ...] = ()
    crash_signal: int | None = None

    def __repr__(self) -> str:
        fields = [
            f"{field.name}={value!r}"
            for field in attrs.fields(HotplugStep)
            if (value := getattr(self, field.name)) != field.default
        ]
        return f"HotplugStep({', '.join(fields)})"

    @property
    def ok(self) -> bool:
        """Whether the operation succeeds."""
        return self.error_type is None

    def apply(self, vm: VirtualMachine) -> UnplugResult | int | None:
        """Run the operation on ``vm``; raises the model's error when it is refused."""
        if self.operation == "plug":
            assert self.driver is not None
            return vm.plug(self.driver, dict(self.props), id=self.device_id).index
        if self.operation == "request_unplug":
            assert self.device is not None
            return vm.request_unplug(self.device)
        if self.operation == "complete_unplug":
            assert self.device is not None
            vm.complete_unplug(self.device)
            return None
        assert self.cpu_index is not None
        vm.set_online(self.cpu_index, self.operation == "online")
        return None

    def expect(self, vm: VirtualMachine) -> HotplugStep:
        """This operation with its outcome on ``vm``, which it changes unless refused."""
        vm.take_events()
        try:
            result = self.apply(vm)
        except TopologyError as error:
            return attrs.evolve(
                self,
                error_type=type(error),
                message=str(error),
                crash_signal=error.crash_signal,
                result=None,
                present=tuple(vm.present_cpu_indexes()),
                deleted=(),
            )
        deleted = tuple(
            str(data.get("device", data.get("path")))
            for event in vm.take_events()
            if event["event"] == "DEVICE_DELETED" and isinstance(data := event.get("data"), dict)
        )
        return attrs.evolve(
            self,
            error_type=None,
            message=None,
            result=result,
            present=tuple(vm.present_cpu_indexes()),
            deleted=deleted,
        )
