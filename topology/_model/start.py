"""QEMU's start order, once: from the machine type to the first reset.

QEMU 7.2 to 11.x (``system/vl.c`` qemu_init), as observed on 7.2 and 10.0
with two faults on one command line:

1. the first pass over the options (:mod:`topology._parse.first_pass`);
2. ``-accel`` together with ``-machine accel=``; the machine type;
3. the machine's properties (``smp`` among them), in QDict order;
4. the accelerator; the memory backends are created; the ``-cpu`` model;
5. ``-m``, ``-numa`` and the board;
6. ``-device`` CPUs, in command-line order;
7. the first machine reset: the board's ``check_reset`` (pseries capabilities).

:func:`start_vm` runs steps 2 to 7 for a command line (the stand-in and
:func:`topology.abi.build_vm`); :func:`start_machine` runs steps 5 to 7 for a
machine already chosen (:meth:`topology.VirtualMachine.start`, which has no
``-device`` and no reset, and the model-file replay). Warnings are gathered by
one :class:`~topology._warnings.WarningCollector`, so that an error carries
what QEMU printed before it.

``--preconfig`` stops QEMU in step 5, once the ``-numa`` options are read and
before the board is built (``set_numa_options`` runs for each option before,
``numa_complete_configuration`` after): :func:`begin_vm` returns a
:class:`PendingStart` there, which QMP's ``set-numa-node`` adds to and
``x-exit-preconfig`` finishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from topology._errors import DeviceTypeError, ParameterError, TopologyError
from topology._model.numa import NumaBuilder, NumaInput, numa_command_line
from topology._model.slots import CpuSlot
from topology._model.vm import (
    MAX_MODELLED_CPUS,
    DeviceLookup,
    GuestPolicy,
    VirtualMachine,
    with_node,
)
from topology._parse.command_line import CommandLine, UnsupportedOptionError
from topology._parse.device import DeviceOption, cli_error
from topology._parse.first_pass import StartPlan
from topology._parse.memory import MemoryConfig, parse_memory
from topology._parse.memory_backend import check_created
from topology._parse.numa import NumaOption
from topology._parse.qdict import qdict_order
from topology._registry import hooks
from topology._resolve import catalogue_checks as catalogue
from topology._resolve.machine import Machine, check_cpu_model, find_machine
from topology._resolve.topology import CpuTopology
from topology._versions import QemuVersion
from topology._warnings import QemuWarning, WarningCollector

__all__ = ["PendingStart", "begin_vm", "start_machine", "start_vm"]

#: Machine properties the core reads itself rather than handing to the board.
_CORE_PROPERTIES = ("type", "smp", "accel")


def start_machine(
    machine: Machine,
    smp: str,
    *,
    numa: Iterable[NumaInput] = (),
    memory: int | str | MemoryConfig | None = None,
    memory_backends: Mapping[str, int] | None = None,
    guest: GuestPolicy = GuestPolicy.MANUAL_ONLINE,
    devices: Sequence[DeviceOption] = (),
    reset: bool = False,
    topology: CpuTopology | None = None,
) -> VirtualMachine:
    """Steps 5 to 7 for a chosen machine: ``-m``, ``-numa`` and the board, the
    ``-device`` CPUs, and (with ``reset``) the checks of the first reset.

    ``topology`` is ``smp`` already resolved in step 3 (the stand-in's way);
    without it, ``smp`` is resolved here, after the ``-m`` and ``-numa`` syntax.
    The arguments are :meth:`topology.VirtualMachine.start`'s.
    """
    pending = PendingStart(
        machine,
        smp,
        numa=numa,
        memory=memory,
        memory_backends=memory_backends,
        guest=guest,
        devices=devices,
        reset=reset,
        topology=topology,
    )
    return pending.finish()


class PendingStart:
    """A start stopped where ``--preconfig`` stops QEMU: after each ``-numa`` option
    was read (step 5 up to ``set_numa_options``), before the board is built.

    QEMU's ``set-numa-node`` adds options here (:meth:`add_numa`);
    :meth:`finish` completes the NUMA configuration, builds the board and runs
    steps 6 and 7, as ``x-exit-preconfig`` does. The constructor raises what QEMU
    reports before it waits; warnings printed so far are in :attr:`warnings`.
    """

    def __init__(
        self,
        machine: Machine,
        smp: str,
        *,
        numa: Iterable[NumaInput] = (),
        memory: int | str | MemoryConfig | None = None,
        memory_backends: Mapping[str, int] | None = None,
        guest: GuestPolicy = GuestPolicy.MANUAL_ONLINE,
        devices: Sequence[DeviceOption] = (),
        reset: bool = False,
        topology: CpuTopology | None = None,
        device_lookup: DeviceLookup | None = None,
    ) -> None:
        version = machine.qemu_version
        options = (numa,) if isinstance(numa, str) else tuple(numa)
        # The command-line pass (-m assumed to come first), then -smp, then -m's values.
        if isinstance(memory, str):
            config = parse_memory(memory, qemu_version=version)
        elif isinstance(memory, int):
            config = MemoryConfig.of_bytes(memory)
        else:
            config = memory or MemoryConfig()
        printed = WarningCollector(config.warnings)
        with printed.guard():
            printed.extend(numa_command_line(options, qemu_version=version))
        with printed.guard():
            if topology is None:
                topology = machine._resolve_generic(smp)
                printed.extend(topology.warnings)
                check_cpu_model(machine)  # the stand-in looked it up already, in its order
            else:
                printed.extend(topology.warnings)
            if not machine.type.cpu_slots and "cpu" in machine.options:
                # QEMU's empty machine creates the one CPU -cpu names, outside
                # any slot (x86 then fails to realize it: no APIC ID).
                raise UnsupportedOptionError(
                    "cputopo: -cpu: the stand-in does not model a CPU on machine type "
                    + machine.name,
                    what="cpu",
                )
            if topology.max_cpus > MAX_MODELLED_CPUS:
                raise TopologyError(
                    f"cputopo models at most {MAX_MODELLED_CPUS} possible CPUs, not "
                    f"{topology.max_cpus}",
                    what="maxcpus",
                    value=topology.max_cpus,
                )
            ram = config.layout(ram_default=machine.type.default_ram_size, qemu_version=version)
            printed.extend(ram.warnings)
            slots = machine.arch.possible_slots(machine.board(topology))
            numa_state = NumaBuilder(machine, topology, slots, ram, dict(memory_backends or {}))
            for option in options:
                numa_state.add(option)
        printed.extend(numa_state.take_warnings())
        self.machine = machine
        self.smp = smp
        self.topology = topology
        self.slots: Sequence[CpuSlot] = slots
        self._ram = ram
        self._numa = numa_state
        self._explicit = memory is not None or bool(options)
        self._guest = guest
        self._devices = devices
        self._reset = reset
        self._printed = printed
        self._device_lookup = device_lookup

    @property
    def warnings(self) -> tuple[QemuWarning, ...]:
        """What QEMU printed so far."""
        return tuple(self._printed.warnings)

    def slot_nodes(self) -> dict[int, int]:
        """The node of each slot an option placed so far, by slot index."""
        return self._numa.assigned()

    def add_numa(self, option: NumaOption) -> tuple[QemuWarning, ...]:
        """One more option, from QMP's ``set-numa-node``: what QEMU printed for it.

        As in QEMU, an option refused halfway keeps what it changed before.
        """
        self._numa.add(option, named=False)
        found = tuple(self._numa.take_warnings())
        self._printed.extend(found)
        return found

    def finish(self) -> VirtualMachine:
        """The NUMA completion, the board, the ``-device`` CPUs and the first reset."""
        printed = self._printed
        machine, topology, slots = self.machine, self.topology, self.slots
        with printed.guard():
            numa_config = self._numa.configuration()
        printed.extend(self._numa.take_warnings())
        ram = attrs.evolve(self._ram, node_memory=numa_config.node_memory)
        with printed.guard():
            checked = machine._check_board(
                topology,
                ram if self._explicit else None,
                numa_config if numa_config.nodes else None,
            )
        printed.extend(checked.warnings[len(topology.warnings) :])
        if numa_config.nodes:
            slots = [
                with_node(slot, node)
                for slot, node in zip(slots, numa_config.slot_nodes, strict=True)
            ]
        elif leftover := self._numa.assigned():
            # A set-numa-node refused halfway can leave CPUs mapped to a node that
            # never came; with no node at all QEMU keeps those ids (observed on 10.0).
            slots = [
                with_node(slot, leftover[slot.index]) if slot.index in leftover else slot
                for slot in slots
            ]
        vm = VirtualMachine(
            machine,
            checked,
            slots,
            guest=self._guest,
            numa=numa_config if numa_config.nodes else None,
            memory=ram,
            warnings=printed.warnings,
            device_lookup=self._device_lookup,
        )
        vm.smp = self.smp
        plugin = machine.arch
        boot_slots = [slot for slot in vm.slots if slot.first_cpu_index < topology.cpus]
        for position, slot in enumerate(boot_slots):
            vm._fill_boot(slot.index, plugin.boot_qom_path(vm.board, slot, position))
        # Step 6: CPUs from -device, in order.
        for device in self._devices:
            try:
                with printed.guard():
                    vm.plug(device.driver, device.props, id=device.id, cold=True)
            except DeviceTypeError as error:
                raise cli_error(error, device) from None
            except UnsupportedOptionError:
                raise
            except TopologyError as error:
                if not machine.type.cpu_slots:
                    # Created before the machine is done, where no hotplug
                    # handler is asked for (x86 then fails to realize it).
                    raise UnsupportedOptionError(
                        f"cputopo: -device {device.driver}: the stand-in does not model a CPU "
                        f"on machine type {machine.name}",
                        what=device.driver,
                    ) from None
                raise cli_error(error, device) from None
            # Printed as the CPU is realized, after the boot CPUs', naming the option
            # (x86 TCG features; observed on 7.2 and 10.0).
            printed.extend(
                attrs.evolve(warning, where=device.where) for warning in vm.take_warnings()
            )
        # Step 7: the board's checks at the first machine reset (a plugin's check_reset).
        check_reset = hooks(plugin).check_reset
        if self._reset and check_reset is not None:
            with printed.guard():
                printed.extend(check_reset(vm.board))
        vm.warnings = printed.warnings
        return vm


def start_vm(line: CommandLine, plan: StartPlan, version: QemuVersion) -> VirtualMachine:
    """Steps 2 to 7: the machine, its properties, the accelerator, the CPU model, the VM."""
    return begin_vm(line, plan, version).finish()


def begin_vm(
    line: CommandLine,
    plan: StartPlan,
    version: QemuVersion,
    *,
    device_lookup: DeviceLookup | None = None,
) -> PendingStart:
    """Steps 2 to 5 up to the ``-numa`` options: where ``--preconfig`` stops QEMU.

    ``device_lookup`` is QEMU's look-up of a device type by name, for the
    ``-device`` CPUs and later ``device_add`` (see :class:`VirtualMachine`).
    """
    target = line.target
    tree = dict(plan.machine_tree)
    legacy_accel = tree.get("accel")
    if plan.accels and legacy_accel is not None:
        raise TopologyError(
            'The -accel and "-machine accel=" options are incompatible', what="accel"
        )
    type_name = tree.get("type")
    if type_name is not None and not isinstance(type_name, str):
        raise ParameterError("Parameters 'type.*' are unexpected", what="type")
    board: dict[str, str] = {}
    for name, value in tree.items():
        if name in _CORE_PROPERTIES:
            continue
        if not isinstance(value, str):
            # Nested properties (e.g. smp-cache.*) are not modelled.
            raise UnsupportedOptionError(
                f"cputopo: -machine {name}.*: the stand-in does not model this property",
                what=name,
            )
        # QEMU reads "_" in a machine property's name as "-" (observed on 7.2
        # and 10.0: dump_guest_core=on starts, foo_bar=1 says 'foo-bar' not found).
        board[name.replace("_", "-")] = value
    # QEMU tries the accelerators in order and keeps the first that works; a
    # name it does not know is fatal only if it is reached.
    candidates = list(plan.accels)
    if not candidates and isinstance(legacy_accel, str):
        candidates = [(name, "") for name in legacy_accel.split(":")]
    accel: str | None = None
    for name, where in candidates:
        if not catalogue.is_accelerator(target, name, version):
            prefix = f"{where}: " if where else ""
            raise ParameterError(f"{prefix}invalid accelerator {name}", what="accel", value=name)
        accel = name
        break
    options = dict(board)
    options["accel"] = accel or "tcg"
    if plan.cpu is not None:
        # As given: the plugin resolves aliases for its release (-cpu power9 is
        # power9_v2.0 in 7.2, power9_v2.2 in 10.0), and topology.abi.upgrade
        # needs the alias to replay the command line under another release.
        options["cpu"] = plan.cpu
    # Its options are checked here, in QEMU's order among the other options.
    chosen = find_machine(target, type_name, qemu_version=version, options=options)
    # Step 3: the machine's properties, in QDict order; smp is one of them.
    topology: CpuTopology | None = None
    earlier: dict[str, str] = {key: options[key] for key in ("accel", "cpu") if key in options}
    for name in qdict_order([*board, "smp"]):
        if name == "smp":
            topology = chosen._resolve_generic(plan.smp)
            continue
        read_only = catalogue.is_read_only_machine_property(target, chosen.name, name, version)
        if read_only or not catalogue.has_machine_property(target, chosen.name, name, version):
            if topology is None:
                # A bad value of a property set before this one is reported
                # first (7.2: gic-version=foo before highmem-redists, which virt
                # does not have yet); the plugin checks the values.
                check_values = hooks(chosen.arch).check_machine_options
                if check_values is not None:
                    check_values(attrs.evolve(chosen, options=earlier).board())
            # QEMU 7.2 and 10.0: -machine pseries,vfio-no-msix-emulation=on
            reason = "is not writable" if read_only else "not found"
            raise ParameterError(
                f"Property '{chosen.name}-machine.{name}' {reason}",
                what=name,
                where=chosen.name,
            )
        earlier[name] = board[name]
    assert topology is not None
    # The memory backends are created next (a zero size is refused before an
    # unknown -cpu model), then the -cpu model is looked up; QEMU has printed
    # the machine's warnings (deprecation, -smp) by then (observed on 7.2 and 10.0).
    with WarningCollector(topology.warnings).guard():
        sizes = check_created(list(plan.backends))
        if plan.cpu is not None:
            model = plan.cpu.split(",", 1)[0]
            if not catalogue.is_cpu_model(target, model, version, options["accel"]):
                raise ParameterError(f"unable to find CPU model '{model}'", what="cpu", value=model)
    return PendingStart(
        chosen,
        plan.smp,
        numa=plan.numa,
        memory=plan.memory,
        memory_backends=sizes,
        devices=plan.devices,
        reset=True,
        topology=topology,
        device_lookup=device_lookup,
    )
