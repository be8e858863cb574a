"""Starting a VM from a QEMU command line, in the order QEMU checks things.

QEMU 7.2 to 10.x (``system/vl.c`` qemu_init), as observed on 7.2 and 10.0
with two faults on one command line:

1. the first pass over the options, in command-line order: syntax of
   ``-machine``, ``-smp`` and ``-numa``, all of ``-m``, the schema of ``-object``,
   duplicate ``-object`` and ``-device`` ids;
2. ``-accel`` together with ``-machine accel=``; the machine type;
3. the machine's properties (``smp`` among them), in QDict order;
4. the accelerator; the memory backends are created; the ``-cpu`` model;
5. ``-m``, ``-numa`` and the board
   (:meth:`topology.VirtualMachine.start`);
6. ``-device`` CPUs, in command-line order;
7. the first machine reset: the board's ``check_reset`` (pseries capabilities).
"""

from __future__ import annotations

import attrs

from topology._errors import OptionSyntaxError, ParameterError, TopologyError
from topology._model.numa import numa_command_line
from topology._model.vm import VirtualMachine
from topology._parse.keyval import KeyvalTree, parse_keyval
from topology._parse.memory import parse_memory
from topology._parse.qdict import qdict_order
from topology._parse.smp import parse_smp
from topology._registry import hooks
from topology._resolve.machine import machine
from topology._versions import QemuVersion
from topology._warnings import QemuWarning
from topology.qemu import _catalogue_access as catalogue
from topology.qemu._argv import CommandLine, UnsupportedOptionError
from topology.qemu._devices import DeviceOption, cli_error, read_device
from topology.qemu._objects import MemoryBackend, check_created, read_object

__all__ = ["StartPlan", "plan_start", "start_vm"]

#: Machine properties the core reads itself rather than handing to the board.
_CORE_PROPERTIES = ("type", "smp", "accel")


@attrs.frozen(kw_only=True)
class StartPlan:
    """What the first pass found: the options QEMU goes on with."""

    machine_tree: KeyvalTree
    smp: str
    memory: str | None
    numa: tuple[str, ...]
    backends: tuple[MemoryBackend, ...]
    accels: tuple[tuple[str, str], ...]  # (accelerator, where) of each -accel, in order
    cpu: str | None
    devices: tuple[DeviceOption, ...]


def plan_start(line: CommandLine, version: QemuVersion) -> StartPlan:
    """Step 1: QEMU's first pass over the options (errors in command-line order)."""
    machine_tree: KeyvalTree = {}
    smp_members: list[str] = []
    memory: str | None = None
    numa: list[str] = []
    backends: list[MemoryBackend] = []
    accels: list[tuple[str, str]] = []
    cpu: str | None = None
    devices: list[DeviceOption] = []
    device_ids: set[str] = set()
    for option in line.options:
        value = option.value
        assert value is not None or option.name == "accel"
        text = value or ""
        if option.name == "machine":
            tree, wants_help = parse_keyval(text, option=option.spelled, implied_key="type")
            if wants_help:
                raise UnsupportedOptionError(
                    f"cputopo: {option.spelled} {text}: help texts are not modelled", what="help"
                )
            smp_tree = tree.pop("smp", None)
            machine_tree.update(tree)  # later options override earlier ones, key by key
            if isinstance(smp_tree, dict):
                smp_members.extend(f"{k}={v}" for k, v in smp_tree.items() if isinstance(v, str))
        elif option.name == "smp":
            tree, wants_help = parse_keyval(text, option=option.spelled, implied_key="cpus")
            if wants_help:
                parse_smp(text, qemu_version=version)  # raises HelpRequested with QEMU's text
            smp_members.extend(_smp_items(text))
        elif option.name == "m":
            parse_memory(text, qemu_version=version)
            memory = text
        elif option.name == "numa":
            numa.append(text)
            numa_command_line(numa, qemu_version=version)
        elif option.name == "object":
            backend = read_object(text, spelled=option.spelled, version=version)
            if any(earlier.id == backend.id for earlier in backends):
                # Found while reading the command line (observed on 7.2 and 10.0:
                # before -machine, -smp and -cpu errors that come later).
                raise OptionSyntaxError(
                    f"Duplicate ID '{backend.id}' for object",
                    option=option.spelled,
                    text=text,
                    what="id",
                )
            backends.append(backend)
        elif option.name == "accel":
            name = text.split(",", 1)[0]
            where = f"{option.spelled} {text}" if value is not None else option.spelled
            accels.append((name, where))
        elif option.name == "cpu":
            cpu = text
        elif option.name == "device":
            device = read_device(text, spelled=option.spelled)
            if device.id is not None:
                if device.id in device_ids:
                    raise OptionSyntaxError(
                        f"Duplicate ID '{device.id}' for device",
                        option=option.spelled,
                        text=text,
                        what="id",
                    )
                device_ids.add(device.id)
            devices.append(device)
    return StartPlan(
        machine_tree=machine_tree,
        smp=",".join(smp_members),
        memory=memory,
        numa=tuple(numa),
        backends=tuple(backends),
        accels=tuple(accels),
        cpu=cpu,
        devices=tuple(devices),
    )


def _smp_items(text: str) -> list[str]:
    """``-smp`` as ``key=value`` items (the implied ``cpus`` spelled out), to merge options."""
    if text == "":
        return []
    first, _, rest = text.partition(",")
    items = [first if "=" in first else f"cpus={first}"]
    return items + ([rest] if rest else [])


def start_vm(line: CommandLine, plan: StartPlan, version: QemuVersion) -> VirtualMachine:
    """Steps 2 to 6: the machine, its properties, the accelerator, the CPU model, the VM."""
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
    chosen = machine(target, type_name, qemu_version=version, **_as_kwargs(options))
    # Step 3: the machine's properties, in QDict order; smp is one of them.
    topology_warnings: tuple[QemuWarning, ...] = ()
    for name in qdict_order([*board, "smp"]):
        if name == "smp":
            topology_warnings = chosen._resolve_generic(plan.smp).warnings
        elif catalogue.is_read_only_machine_property(target, chosen.name, name, version):
            # QEMU 7.2 and 10.0: -machine pseries,vfio-no-msix-emulation=on
            raise ParameterError(
                f"Property '{chosen.name}-machine.{name}' is not writable",
                what=name,
                where=chosen.name,
            )
        elif not catalogue.has_machine_property(target, chosen.name, name, version):
            raise ParameterError(
                f"Property '{chosen.name}-machine.{name}' not found",
                what=name,
                where=chosen.name,
            )
    # The memory backends are created next (a zero size is refused before an
    # unknown -cpu model), then the -cpu model is looked up; QEMU has printed
    # the machine's warnings (deprecation, -smp) by then (observed on 7.2 and 10.0).
    try:
        sizes = check_created(list(plan.backends))
        if plan.cpu is not None:
            model = plan.cpu.split(",", 1)[0]
            if not catalogue.is_cpu_model(target, model, version, options["accel"]):
                raise ParameterError(f"unable to find CPU model '{model}'", what="cpu", value=model)
    except TopologyError as error:
        error.warnings = (*topology_warnings, *error.warnings)
        raise
    # Step 5: -m, -numa and the board.
    vm = VirtualMachine.start(
        chosen,
        plan.smp,
        numa=plan.numa,
        memory=plan.memory,
        memory_backends=sizes,
    )
    # Step 6: CPUs from -device, in order.
    for device in plan.devices:
        try:
            vm.plug(device.driver, device.props, id=device.id, cold=True)
        except TopologyError as error:
            error.warnings = (*vm.warnings, *error.warnings)
            raise cli_error(error, device) from None
        # Printed as the CPU is realized, after the boot CPUs', naming the option
        # (x86 TCG features; observed on 7.2 and 10.0).
        found = tuple(attrs.evolve(warning, where=device.where) for warning in vm.take_warnings())
        vm.warnings = (*vm.warnings, *found)
    # The board's checks at the first machine reset (a plugin's check_reset).
    check_reset = hooks(chosen.arch).check_reset
    if check_reset is not None:
        try:
            found = tuple(check_reset(vm.board))
        except TopologyError as error:
            error.warnings = (*vm.warnings, *error.warnings)
            raise
        vm.warnings = (*vm.warnings, *found)
    return vm


def _as_kwargs(options: dict[str, str]) -> dict[str, str]:
    # machine() reads underscores as dashes; QEMU's own names have dashes only.
    return {name.replace("-", "_"): value for name, value in options.items()}
