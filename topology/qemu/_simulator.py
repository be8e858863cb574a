"""The stand-in: a QEMU command line in, QEMU's answers out, with no process."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from topology._errors import HelpRequested, ParameterError, QemuAbortError, TopologyError
from topology._model.qom import CONTAINERS, resolve_qom_path
from topology._model.start import PendingStart, begin_vm
from topology._model.vm import DeviceNotFound, VirtualMachine
from topology._parse.command_line import (
    CommandLine,
    UnsupportedOptionError,
    program_name,
    read_command_line,
    taken_arguments,
    taken_options,
    without_flags,
)
from topology._parse.device import as_text_error
from topology._parse.first_pass import plan_start
from topology._parse.glib_hash import replayed_hash_table_order
from topology._parse.keyval import parse_keyval
from topology._parse.memory_backend import read_object
from topology._registry import hooks
from topology._versions import QemuVersion, qemu_version
from topology._views.qmp import query_cpus_fast, query_hotpluggable_cpus
from topology.plugin import QmpCommand
from topology.qemu import _discovery
from topology.qemu._hmp import HmpCommands, info_cpus, info_hotpluggable_cpus, run_hmp_line
from topology.qemu._memory_replies import (
    info_numa,
    memdev_entry,
    query_memdev,
    query_memory_size_summary,
)
from topology.qemu._preconfig import (
    AFTER_INIT,
    BEFORE_CREATION,
    BEFORE_INIT,
    allowed_in_preconfig,
    pending_hotpluggable_cpus,
)
from topology.qemu._qmp_args import check_arguments, device_add_props
from topology.qemu._run_state import RunState
from topology.qemu._set_numa_node import numa_option_from_qmp

__all__ = [
    "NOT_MODELLED",
    "QemuCrashError",
    "QemuNotRunningError",
    "QemuSimulator",
    "QemuStartError",
]

#: The error class of the stand-in's reply to a command QEMU has but the stand-in
#: does not model (or arguments of it that it does not model). No QEMU sends it.
NOT_MODELLED = "CputopoNotModelled"


class QemuStartError(TopologyError):
    """QEMU would not start (or would print help and exit): what it prints and its status.

    Attributes:
        stderr: everything QEMU prints on stderr, each line with QEMU's prefix.
        stdout: what it prints on stdout (the text of ``-smp help``), usually empty.
        exit_code: its exit status: 1 for a refusal, 0 after help, negative for
            a signal (-6 abort, -8 SIGFPE) where QEMU crashes.
        cause: the :class:`topology.TopologyError` behind it.
    """

    def __init__(
        self, cause: TopologyError, *, stderr: str, stdout: str = "", exit_code: int
    ) -> None:
        super().__init__(cause.message, what=cause.what, where=cause.where, value=cause.value)
        self.hint = cause.hint
        self.warnings = cause.warnings
        self.stderr = stderr
        self.stdout = stdout
        self.exit_code = exit_code
        self.cause = cause


class QemuCrashError(TopologyError):
    """QEMU would die on this command instead of answering it (``crash_signal`` says how).

    Attributes:
        stderr_lines: what QEMU prints on stderr as it dies (a failed
            assertion's two lines), also at the end of the simulator's
            ``stderr_lines``; empty where the stand-in does not know it, and
            ``message`` then says, in cputopo's words, what QEMU does.
        stdout_lines: what QEMU prints on stdout as it dies (GLib's ``Bail
            out!`` line, in the middle of the QMP stream of ``-qmp stdio``).
        exit_status: where QEMU exits instead of dying by a signal (an error
            in ``x-exit-preconfig``), its status; ``crash_signal`` is then None.
        cause: the :class:`topology.TopologyError` behind it
            (:class:`topology.QemuAbortError` for a failed assertion).
    """

    def __init__(
        self, cause: TopologyError, *, what: str | None, exit_status: int | None = None
    ) -> None:
        super().__init__(cause.message, what=what, crash_signal=cause.crash_signal)
        self.stderr_lines: tuple[str, ...] = ()
        self.stdout_lines: tuple[str, ...] = ()
        self.exit_status = exit_status
        if isinstance(cause, QemuAbortError):
            self.stderr_lines, self.stdout_lines = cause.stderr_lines, cause.stdout_lines
        self.cause = cause


class QemuNotRunningError(TopologyError):
    """The stand-in has quit (after ``quit`` or a crash); it answers nothing more."""


def _render(program: str, error: TopologyError) -> list[str]:
    lines = _render_warnings(program, error.warnings)
    lines.append(f"{program}: {error.message}")
    if error.hint is not None:
        lines.extend(error.hint.split("\n"))
    return lines


def _render_warnings(program: str, warnings: Sequence[Any]) -> list[str]:
    lines = []
    for warning in warnings:
        lines.append(f"{program}: {warning}")
        if warning.hint is not None:
            lines.extend(warning.hint.split("\n"))
    return lines


class QemuSimulator:
    """A QEMU stand-in for CPU topology: start it with a command line, talk QMP to it.

    ``argv`` is a QEMU command line with the binary first; ``version`` the QEMU
    release to answer as (``"7.2"``, or ``"7.2.22"`` to also set the micro
    version ``query-version`` reports). A command line QEMU refuses raises
    :class:`QemuStartError` with QEMU's stderr and exit status.

    QMP works as in QEMU except that commands before ``qmp_capabilities`` are
    answered too (QEMU refuses them) unless ``strict_negotiation`` is set.

    >>> sim = QemuSimulator(
    ...     ["qemu-system-x86_64", "-machine", "q35", "-smp", "1,maxcpus=2"], version="7.2"
    ... )
    >>> sim.qmp("qmp_capabilities")
    {'return': {}}
    >>> [cpu["props"] for cpu in sim.qmp("query-hotpluggable-cpus")["return"]]
    [{'socket-id': 0, 'core-id': 1, 'thread-id': 0}, {'socket-id': 0, 'core-id': 0, 'thread-id': 0}]
    >>> sim.qmp("device_add", {"driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 1,
    ...                        "thread-id": 0, "id": "cpu1"})
    {'return': {}}
    >>> sim.qmp("device_del", {"id": "cpu1"})["error"]["desc"]
    'acpi: device unplug request for not supported device type: qemu64-x86_64-cpu'
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        version: str,
        package: str = "",
        strict_negotiation: bool = False,
    ) -> None:
        self.argv: tuple[str, ...] = tuple(argv)
        parts = version.split(".")
        self.version: QemuVersion = qemu_version(".".join(parts[:2]))
        self._micro = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        self._package = package
        self._strict = strict_negotiation
        self._negotiated = False
        self._running = True
        self._events: list[dict[str, object]] = []
        self.program = program_name(self.argv)
        # --preconfig: QEMU waits for x-exit-preconfig before it builds the machine.
        self._pending: PendingStart | None = None
        self._vm: VirtualMachine
        preconfig = bool(taken_options(self.argv, ("preconfig",)))
        try:
            if preconfig:
                self._pending = _begin(self.argv, self.version)
            else:
                self._vm = _start(self.argv, self.version)
        except UnsupportedOptionError:
            raise  # not QEMU's answer: the stand-in does not model that option
        except HelpRequested as help_text:
            raise QemuStartError(
                help_text, stderr="", stdout=help_text.message, exit_code=0
            ) from None
        except TopologyError as error:
            stdout = ""
            if isinstance(error, QemuAbortError):
                stderr_lines = [*_render_warnings(self.program, error.warnings)]
                stderr_lines += error.stderr_lines
                stdout = "".join(f"{line}\n" for line in error.stdout_lines)
            elif error.crash_signal is not None and "cputopo:" in error.message:
                stderr_lines = _render_warnings(self.program, error.warnings)
            else:
                stderr_lines = _render(self.program, error)
            exit_code = -error.crash_signal if error.crash_signal is not None else 1
            raise QemuStartError(
                error,
                stderr="".join(f"{line}\n" for line in stderr_lines),
                stdout=stdout,
                exit_code=exit_code,
            ) from None
        printed = self.vm.warnings if self._pending is None else self._pending.warnings
        self.stderr_lines: tuple[str, ...] = tuple(_render_warnings(self.program, printed))
        self._printed_at_start = len(printed)
        self.exit_code: int | None = None
        self._target = self.program.removeprefix("qemu-system-")
        self._paused = bool(taken_arguments(self.argv, "S"))
        running = not self._paused and self._pending is None
        self._run_state = RunState("running" if running else "prelaunch")
        # The children /machine/peripheral and /machine/peripheral-anon had, added
        # and removed in turn: the order qom-list gives depends on that history.
        self._container_history: list[tuple[str, bool]] = []
        if self._pending is None:
            self._record_devices()

    def _record_devices(self) -> None:
        self._container_history = [
            (state.qom_path, True)
            for _, state in sorted(self.vm.snapshot().items(), key=lambda item: item[1].created)
        ]

    @property
    def vm(self) -> VirtualMachine:
        """The VM QEMU built from the command line (and the QMP commands since).

        With ``--preconfig`` QEMU builds it at ``x-exit-preconfig``; before, this
        raises :class:`QemuNotRunningError`.
        """
        if self._pending is not None:
            raise QemuNotRunningError(
                "cputopo: QEMU builds the machine at x-exit-preconfig, not sent yet", what="vm"
            )
        return self._vm

    @property
    def stderr(self) -> str:
        """What QEMU printed on stderr so far (its warnings), each line with its prefix."""
        return "".join(f"{line}\n" for line in self.stderr_lines)

    @property
    def running(self) -> bool:
        """False once ``quit`` was sent or QEMU would have crashed."""
        return self._running

    def events(self) -> list[dict[str, object]]:
        """The QMP events sent since the last call, oldest first, without timestamps."""
        self._take_model_events()
        events, self._events = self._events, []
        return events

    def _emit(self, events: Sequence[dict[str, object]]) -> None:
        """Queue events after those the model sent so far."""
        self._take_model_events()
        self._events.extend(events)

    def _take_model_events(self) -> None:
        if self._pending is not None:
            return  # no machine, no model events yet
        events = self.vm.take_events()
        self._track_containers(events)
        self._events.extend(events)

    def _track_containers(self, events: Sequence[dict[str, object]]) -> None:
        for event in events:
            data = event.get("data")
            if event.get("event") == "DEVICE_DELETED" and isinstance(data, dict):
                path = data.get("path")
                if isinstance(path, str) and any(
                    path == f"{container}/{path.rsplit('/', 1)[-1]}"
                    for container in _DEVICE_CONTAINERS
                ):
                    self._container_history.append((path, False))

    def qmp(self, command: str, arguments: Mapping[str, object] | None = None) -> dict[str, Any]:
        """Run one QMP command: QEMU's reply, ``{"return": ...}`` or ``{"error": {...}}``.

        Raises :class:`QemuCrashError` where QEMU would die instead of answering
        (the stand-in then stops), and :class:`QemuNotRunningError` after that or
        after ``quit``.
        """
        if not self._running:
            raise QemuNotRunningError("QEMU has exited: no more QMP commands", what=command)
        arguments = dict(arguments or {})
        if command == "qmp_capabilities":
            if self._negotiated:
                return _error(
                    "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored",
                )
            try:
                check_arguments(arguments, {"enable": (list, False)})
            except TopologyError as error:
                return _error(error.qmp_class, error.message)
            self._negotiated = True
            return {"return": {}}
        if self._strict and not self._negotiated:
            return _error(
                "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"
            )
        if self._pending is not None:
            refused = self._preconfig_refusal(command)
            if refused is not None:
                return refused
        handlers = self._handlers() if self._pending is None else self._preconfig_handlers()
        handler = handlers.get(command)
        if handler is None:
            if _discovery.has_command(self._target, self.version, command):
                return _error(
                    NOT_MODELLED,
                    f"cputopo: QEMU {self.version} has the command {command}; "
                    "the stand-in does not model it",
                )
            return _error("CommandNotFound", f"The command {command} has not been found")
        try:
            return {"return": handler(arguments)}
        except QemuCrashError:
            raise  # QEMU exits here, with no reply
        except UnsupportedOptionError as unmodelled:
            # Not QEMU's answer: the stand-in says so in a reply no QEMU sends.
            return _error(NOT_MODELLED, unmodelled.message)
        except TopologyError as error:
            if error.crash_signal is not None:
                self._running = False
                self.exit_code = -error.crash_signal
                crash = QemuCrashError(error, what=command)
                self.stderr_lines += crash.stderr_lines
                raise crash from None
            return _error(error.qmp_class, error.message)
        finally:
            self._take_model_events()
            # What QEMU printed while running it (a plugged CPU's warnings): in a
            # monitor command QEMU 7.2 and 10.0 name no program, 11.1 does
            # (observed; 10.1-11.0 were not run and answer as 10.0).
            if self._pending is None:
                self._print_from_monitor(self.vm.take_warnings())

    # -- commands ------------------------------------------------------------------

    def commands(self) -> frozenset[str]:
        """The QMP commands the stand-in answers for this VM (the plugin's included)."""
        return frozenset({"qmp_capabilities", *self._handlers()})

    def _common_handlers(self) -> dict[str, Callable[[dict[str, object]], object]]:
        """The commands answered alike before and after ``x-exit-preconfig``."""
        return {
            "query-version": self._query_version,
            "query-status": self._no_arguments(lambda: self._run_state.query_status(self.version)),
            "query-name": self._no_arguments(self._query_name),
            "query-commands": self._no_arguments(
                lambda: _discovery.captured(self._target, self.version, "query-commands")
            ),
            "query-memdev": self._no_arguments(self._query_memdev),
            "qom-list": self._qom_list,
            "set-numa-node": self._set_numa_node,
            "x-exit-preconfig": self._no_arguments(self._exit_preconfig),
            "quit": self._quit,
        }

    def _handlers(self) -> dict[str, Callable[[dict[str, object]], object]]:
        handlers: dict[str, Callable[[dict[str, object]], object]] = {
            **self._common_handlers(),
            "cont": self._no_arguments(lambda: self._change_state(self._run_state.cont())),
            "stop": self._no_arguments(lambda: self._change_state(self._run_state.stop())),
            "system_reset": self._no_arguments(self._system_reset),
            "system_powerdown": self._no_arguments(self._system_powerdown),
            "query-target": self._no_arguments(lambda: {"arch": self._target}),
            "query-kvm": self._no_arguments(self._query_kvm),
            "query-machines": self._query_machines,
            "query-cpu-definitions": self._no_arguments(self._query_cpu_definitions),
            "query-memory-size-summary": self._no_arguments(
                lambda: query_memory_size_summary(
                    self._target, self.version, self.vm.memory.ram_size
                )
            ),
            "human-monitor-command": self._human_monitor_command,
            "qom-list-types": self._qom_list_types,
            "query-hotpluggable-cpus": self._no_arguments(lambda: query_hotpluggable_cpus(self.vm)),
            "query-cpus-fast": self._no_arguments(lambda: query_cpus_fast(self.vm)),
            "device_add": self._device_add,
            "device_del": self._device_del,
        }
        for name, command in self._plugin_commands().items():
            handlers[name] = self._plugin_command(command)
        # Generic parts first; they ask the plugin for the objects it owns.
        handlers["qom-set"] = self._qom_set
        handlers["qom-get"] = self._qom_get
        handlers["query-acpi-ospm-status"] = self._query_acpi_ospm_status
        return handlers

    def _preconfig_refusal(self, command: str) -> dict[str, Any] | None:
        """QEMU's refusal of a command it has but not before the machine is built."""
        allowed = allowed_in_preconfig(self._target, self.version)
        if allowed is None:
            if command == "quit":
                return None  # every release allows it, and a tool must be able to stop
            return _error(
                NOT_MODELLED,
                f"cputopo: which commands qemu-system-{self._target} {self.version} "
                "answers before x-exit-preconfig was not captured",
            )
        if command in allowed or not _discovery.has_command(self._target, self.version, command):
            return None
        return _error("GenericError", AFTER_INIT.format(command))

    def _preconfig_handlers(self) -> dict[str, Callable[[dict[str, object]], object]]:
        """What the stand-in answers before ``x-exit-preconfig``."""
        pending = self._pending
        assert pending is not None
        return {
            **self._common_handlers(),
            "query-hotpluggable-cpus": self._no_arguments(
                lambda: pending_hotpluggable_cpus(pending)
            ),
            "qom-get": self._preconfig_qom_get,
        }

    def _preconfig_qom_get(self, arguments: dict[str, object]) -> object:
        """Before the machine is built only ``/machine``'s ``type`` is answered."""
        check_arguments(arguments, {"path": (str, True), "property": (str, True)})
        pending = self._pending
        assert pending is not None
        if arguments["path"] == "/machine" and arguments["property"] == "type":
            return f"{pending.machine.name}-machine"
        raise UnsupportedOptionError(
            f"cputopo: qom-get {arguments['path']} {arguments['property']} before "
            "x-exit-preconfig is not modelled",
            what=str(arguments["path"]),
        )

    def _set_numa_node(self, arguments: dict[str, object]) -> object:
        option = numa_option_from_qmp(arguments, self.version)
        if self._pending is None:
            raise TopologyError(BEFORE_CREATION, what="set-numa-node")
        found = self._pending.add_numa(option)
        self._print_from_monitor(found)
        return {}

    def _exit_preconfig(self) -> object:
        """Build the machine; QEMU exits with status 1 on an error here."""
        pending = self._pending
        if pending is None:
            raise TopologyError(BEFORE_INIT, what="x-exit-preconfig")
        printed = len(pending.warnings)
        try:
            vm = pending.finish()
        except UnsupportedOptionError:
            raise
        except TopologyError as error:
            self._print_from_monitor(error.warnings[printed:])
            named = self.version.at_least("11.1")
            last = f"{self.program}: {error.message}" if named else error.message
            self.stderr_lines += (last, *(error.hint or "").splitlines())
            self._running = False
            self.exit_code = 1
            raise QemuCrashError(error, what="x-exit-preconfig", exit_status=1) from None
        self._print_from_monitor(vm.warnings[printed:])
        self._vm = vm
        self._pending = None
        self._record_devices()
        if not self._paused:
            self._change_state(self._run_state.cont())
        return {}

    def _print_from_monitor(self, warnings: Sequence[Any]) -> None:
        """Warnings QEMU prints while a monitor command runs: with the program's
        name from 11.1 only (observed; 10.1-11.0 were not run and answer as 10.0)."""
        named = self.version.at_least("11.1")
        for warning in warnings:
            shown = f"{self.program}: {warning}" if named else str(warning)
            self.stderr_lines += (shown, *(warning.hint or "").splitlines())

    def _plugin_commands(self) -> Mapping[str, QmpCommand]:
        extra = hooks(self.vm.machine.arch).qmp_commands
        return {} if extra is None else extra(self.vm.board)

    def _qom_links(self) -> Mapping[str, str]:
        links = hooks(self.vm.machine.arch).qom_links
        return {} if links is None else links(self.vm.board)

    def _qom_target(self, command: str, arguments: dict[str, object]) -> tuple[str, int | None]:
        """The canonical path of the object ``arguments["path"]`` names, and the slot
        of the CPU it is (None: no CPU).

        The path is resolved as QEMU resolves it, through links. CPUs are found
        by their id too (QEMU's partial path of ``/machine/peripheral/ID``).
        Paths the stand-in cannot answer for are refused as not modelled: other
        partial paths, paths under ``/machine/unattached/`` that are no CPU
        (QEMU's other devices) and paths under a CPU (its threads and children).
        """
        path = arguments["path"]
        assert isinstance(path, str)
        canonical = resolve_qom_path(path, self._qom_links())
        for index, state in self.vm.snapshot().items():
            if path == state.device_id or canonical == state.qom_path:
                return state.qom_path, index
        if (
            canonical is None
            or canonical.startswith("/machine/unattached/")
            or any(
                canonical.startswith(f"{state.qom_path}/") for state in self.vm.snapshot().values()
            )
        ):
            raise UnsupportedOptionError(
                f"cputopo: {command} {path}: the stand-in models no such object", what=path
            )
        return canonical, None

    def _qom_set(self, arguments: dict[str, object]) -> object:
        """``qom-set``: the plugin answers for its own objects (the x86 ACPI switch).

        The path is resolved as QEMU resolves it, through links
        (``/machine/acpi-device``). Generic part: the arguments (``path``,
        ``property``, ``value``), a CPU's path (its type has no such property
        the stand-in models), a path that names nothing (``DeviceNotFound``).
        Paths of other QEMU objects (``/machine/unattached/device[N]`` that is
        no CPU) are not modelled.
        """
        check_arguments(
            arguments, {"path": (str, True), "property": (str, True), "value": (None, True)}
        )
        owned = self._plugin_qom("qom-set", arguments)
        if owned is not NotImplemented:
            return owned
        _, cpu = self._qom_target("qom-set", arguments)
        if cpu is not None:
            driver = self.vm.slots[cpu].type
            prop = arguments["property"]
            raise ParameterError(f"Property '{driver}.{prop}' not found", what="property")
        raise DeviceNotFound(f"Device '{arguments['path']}' not found", what="path")

    def _qom_get(self, arguments: dict[str, object]) -> object:
        """``qom-get``: a link property (the path it points to), ``/machine``'s ``type``,
        and what the plugin answers for its own objects (the x86 ACPI switch).

        The path is resolved through links as QEMU does. Other properties of
        the objects the stand-in knows are not modelled
        (:class:`UnsupportedOptionError`); a path that names nothing is QEMU's
        ``DeviceNotFound``.
        """
        check_arguments(arguments, {"path": (str, True), "property": (str, True)})
        owned = self._plugin_qom("qom-get", arguments)
        if owned is not NotImplemented:
            return owned
        path, cpu = self._qom_target("qom-get", arguments)
        prop = arguments["property"]
        link = self._qom_links().get(f"{path.rstrip('/')}/{prop}")
        if link is not None:
            return link
        if path == "/machine" and prop == "type":
            # TYPE_MACHINE_SUFFIX: every machine type's QOM name ends in -machine.
            return f"{self.vm.machine.name}-machine"
        if cpu is not None or path in CONTAINERS:
            raise UnsupportedOptionError(
                f"cputopo: qom-get {path} {prop}: the stand-in models no such property",
                what=str(prop),
            )
        raise DeviceNotFound(f"Device '{arguments['path']}' not found", what="path")

    def _plugin_qom(self, command: str, arguments: dict[str, object]) -> object:
        """The plugin's answer for an object it owns, given its canonical path; else
        NotImplemented."""
        plugin = self._plugin_commands().get(command)
        path = arguments["path"]
        assert isinstance(path, str)
        canonical = resolve_qom_path(path, self._qom_links())
        if plugin is None or canonical is None:
            return NotImplemented
        return plugin(self.vm, {**arguments, "path": canonical})

    def _query_acpi_ospm_status(self, arguments: dict[str, object]) -> object:
        """``query-acpi-ospm-status``: the plugin's ACPI device, or none (QEMU's error)."""
        plugin = self._plugin_commands().get("query-acpi-ospm-status")
        if plugin is not None:
            return plugin(self.vm, arguments)
        check_arguments(arguments, {})
        raise TopologyError("command is not supported, missing ACPI device", what="acpi")

    def _no_arguments(self, answer: Callable[[], object]) -> Callable[[dict[str, object]], object]:
        def run(arguments: dict[str, object]) -> object:
            check_arguments(arguments, {})
            return answer()

        return run

    def _plugin_command(
        self, command: Callable[[VirtualMachine, Mapping[str, object]], object]
    ) -> Callable[[dict[str, object]], object]:
        def run(arguments: dict[str, object]) -> object:
            return command(self.vm, arguments)

        return run

    # -- run state, discovery, memory, HMP -------------------------------------------

    def _change_state(self, change: tuple[RunState, list[dict[str, object]]]) -> object:
        self._run_state, events = change
        self._emit(events)
        return {}

    def _system_reset(self) -> object:
        """Pending unplugs a reset completes go first (their DEVICE_DELETED events),
        then RESET; the board's reset checks print their warnings again."""
        self.vm.reset()
        # QEMU resets in its main loop, not in the monitor: its warnings name the
        # program in every release (observed on 7.2, pseries capabilities).
        for warning in self.vm.take_warnings():
            self.stderr_lines += (f"{self.program}: {warning}", *(warning.hint or "").splitlines())
        return self._change_state(self._run_state.reset())

    def _system_powerdown(self) -> object:
        self._emit([{"event": "POWERDOWN"}])
        return {}

    def _query_name(self) -> object:
        """``-name NAME`` or ``-name guest=NAME,...`` (the last one given); ``{}`` without."""
        names = [value for value in taken_arguments(self.argv, "name") if value is not None]
        if not names:
            return {}
        tree, _ = parse_keyval(names[-1], option="-name", implied_key="guest")
        guest = tree.get("guest")
        return {} if guest is None else {"name": guest}

    def _query_kvm(self) -> object:
        captured = _discovery.captured(self._target, self.version, "query-kvm")
        enabled = self.vm.machine.options.get("accel", "tcg") == "kvm"
        return {"enabled": enabled, "present": captured["present"]}

    def _query_machines(self, arguments: dict[str, object]) -> object:
        # compat-props came with QEMU 9.1; what it adds is not captured.
        accepted = {"compat-props": (bool, False)} if self.version.at_least("9.1") else {}
        check_arguments(arguments, accepted)
        if arguments.get("compat-props"):
            raise UnsupportedOptionError(
                "cputopo: query-machines compat-props=true is not modelled", what="compat-props"
            )
        return _discovery.captured(self._target, self.version, "query-machines")

    def _query_cpu_definitions(self) -> object:
        if self.vm.machine.options.get("accel", "tcg") != "tcg":
            # Which features a model lacks then depends on the host's CPU.
            raise UnsupportedOptionError(
                "cputopo: query-cpu-definitions is modelled under TCG only",
                what="query-cpu-definitions",
            )
        return _discovery.cpu_definitions(self._target, self.version, self.vm.machine.name)

    def _query_memdev(self) -> object:
        entries = []
        for text in read_command_line(without_flags(self.argv, ("preconfig",))).values("object"):
            backend = read_object(text, spelled="-object", version=self.version)
            entries.append(memdev_entry(backend.id, backend.size, text))
        children = [entry["id"] for entry in entries] + self._monitor_objects()
        # The default RAM backend is created with the board (after --preconfig),
        # when there is RAM (-machine none has none without -m).
        if self._pending is None and self.vm.memory.ram_size and not self._ram_has_backend():
            machines = _discovery.captured(self._target, self.version, "query-machines")
            for machine in machines:
                if machine["name"] == self.vm.machine.name and "default-ram-id" in machine:
                    ram_id = machine["default-ram-id"]
                    entries.append(memdev_entry(ram_id, self.vm.memory.ram_size, None))
                    children.append(ram_id)
        return query_memdev(entries, children)

    def _monitor_objects(self) -> list[str]:
        """The monitors' objects under ``/objects``, created after the ``-object``
        backends and before the default RAM one, in command-line order.

        QEMU 11.1 makes each monitor a child of ``/objects``: ``-mon``'s ``id``,
        else ``compat_monitorN`` from one counter (``-qmp``, ``-monitor`` and
        ``-mon`` without an id), observed; 10.0 does not, and 10.1-11.0 were not
        run and answer as 10.0.
        """
        if not self.version.at_least("11.1"):
            return []
        names: list[str] = []
        counter = 0
        for option, value in taken_options(self.argv, ("qmp", "qmp-pretty", "monitor", "mon")):
            monitor_id = None
            if option == "mon" and value is not None:
                monitor_id = parse_keyval(value, option="-mon", implied_key="chardev")[0].get("id")
            elif value == "none":
                continue
            if isinstance(monitor_id, str):
                names.append(monitor_id)
            else:
                names.append(f"compat_monitor{counter}")
                counter += 1
        return names

    def _ram_has_backend(self) -> bool:
        """Whether the RAM comes from a backend the command line names (NUMA nodes'
        ``memdev``, ``-machine memory-backend``): QEMU then creates no default one."""
        numa = self.vm.numa
        if numa is not None and any(node.memdev is not None for node in numa.nodes):
            return True
        return "memory-backend" in self.vm.machine.options

    def _human_monitor_command(self, arguments: dict[str, object]) -> object:
        check_arguments(arguments, {"command-line": (str, True), "cpu-index": (int, False)})
        cpus = query_cpus_fast(self.vm)
        current = cpus[0]["cpu-index"] if cpus else None
        if "cpu-index" in arguments:
            if not any(cpu["cpu-index"] == arguments["cpu-index"] for cpu in cpus):
                raise ParameterError("Parameter 'cpu-index' expects a CPU number", what="cpu-index")
            current = arguments["cpu-index"]
        names = _discovery.hmp_names(self._target, self.version)
        if names is None:
            raise UnsupportedOptionError(
                f"cputopo: no HMP command list of qemu-system-{self._target} {self.version} "
                "was captured",
                what="human-monitor-command",
            )
        line = arguments["command-line"]
        assert isinstance(line, str)
        hmp = HmpCommands(
            commands={
                "stop": lambda: self._hmp_run("stop"),
                "cont": lambda: self._hmp_run("cont"),
                "c": lambda: self._hmp_run("cont"),
                "system_reset": lambda: self._hmp_run("system_reset"),
                "system_powerdown": lambda: self._hmp_run("system_powerdown"),
            },
            info={
                "cpus": lambda: info_cpus(cpus, current, self._target),
                "hotpluggable-cpus": self._info_hotpluggable_cpus,
                "numa": lambda: info_numa(self.vm.memory.node_memory, cpus),
                "status": self._run_state.info_status,
            },
            known_commands=names[0],
            known_info=names[1],
            help_text=_discovery.captured(self._target, self.version, "hmp-help"),
            info_text=_discovery.captured(self._target, self.version, "hmp-info"),
        )
        return run_hmp_line(line, hmp)

    def _hmp_run(self, command: str) -> str:
        self._handlers()[command]({})
        return ""

    def _info_hotpluggable_cpus(self) -> str:
        try:
            slots = query_hotpluggable_cpus(self.vm)
        except TopologyError as error:
            return f"Error: {error.message}\n"
        return info_hotpluggable_cpus(slots)

    def _qom_list(self, arguments: dict[str, object]) -> object:
        """``qom-list`` of the containers that hold CPU devices (``/machine/peripheral``,
        ``/machine/peripheral-anon``): the class's ``type`` first, then the children
        in the reverse of GLib's hash order (QEMU prepends each to its list)."""
        check_arguments(arguments, {"path": (str, True)})
        path = arguments["path"]
        assert isinstance(path, str)
        container = path.rstrip("/") if path != "/" else path
        if container not in _DEVICE_CONTAINERS:
            parent, _, name = container.rpartition("/")
            snapshot = self.vm.snapshot() if self._pending is None else {}
            known = {state.qom_path for state in snapshot.values()}
            if parent in _DEVICE_CONTAINERS and container not in known and "[" not in name:
                # Every child of these containers is a CPU the model knows.
                raise DeviceNotFound(f"Device '{path}' not found", what="path")
            raise UnsupportedOptionError(
                f"cputopo: qom-list {path}: the stand-in lists only "
                + " and ".join(_DEVICE_CONTAINERS),
                what=path,
            )
        history = [
            (child.rsplit("/", 1)[-1], added)
            for child, added in self._container_history
            if child.rsplit("/", 1)[0] == container
        ]
        types = {
            state.qom_path.rsplit("/", 1)[-1]: state.driver
            for state in (self.vm.snapshot() if self._pending is None else {}).values()
            if state.qom_path.rsplit("/", 1)[0] == container
        }
        children = [
            {"name": name, "type": f"child<{types[name]}>"}
            for name in reversed(replayed_hash_table_order(history))
        ]
        return [{"name": "type", "type": "string"}, *children]

    def _qom_list_types(self, arguments: dict[str, object]) -> object:
        """``qom-list-types``: the binary's captured list, filtered as QEMU filters it
        (see :mod:`topology.qemu._qom_types`), on the machine types it was seen on."""
        # Imported here: a session that never asks does not pay for it at start.
        from topology.qemu._qom_types import qom_types

        check_arguments(arguments, {"implements": (str, False), "abstract": (bool, False)})
        types = qom_types(self._target, self.version)
        if self.vm.machine.name not in types.machines:
            raise UnsupportedOptionError(
                f"cputopo: qom-list-types: no reply of qemu-system-{self._target} "
                f"{self.version} was captured on machine type {self.vm.machine.name}",
                what="qom-list-types",
            )
        implements = arguments.get("implements")
        assert implements is None or isinstance(implements, str)
        return types.list_types(implements, arguments.get("abstract") is True)

    def _query_version(self, arguments: dict[str, object]) -> object:
        check_arguments(arguments, {})
        return {
            "qemu": {
                "micro": self._micro,
                "minor": self.version.minor,
                "major": self.version.major,
            },
            "package": self._package,
        }

    def _device_add(self, arguments: dict[str, object]) -> object:
        # Up to 9.1 device_add went through QemuOpts (text values); 9.2 takes JSON as is.
        through_qemu_opts = not self.version.at_least("9.2")
        driver, device_id, props = device_add_props(arguments, through_qemu_opts=through_qemu_opts)
        try:
            slot = self.vm.plug(driver, props, id=device_id)
        except TopologyError as error:
            raise as_text_error(error) if through_qemu_opts else error from None
        state = self.vm.state(slot.index)
        if state is not None:
            self._container_history.append((state.qom_path, True))
        return {}

    def _device_del(self, arguments: dict[str, object]) -> object:
        check_arguments(arguments, {"id": (str, True)})
        device = arguments["id"]
        assert isinstance(device, str)
        self.vm.request_unplug(device)
        return {}

    def _quit(self, arguments: dict[str, object]) -> object:
        check_arguments(arguments, {})
        self._running = False
        self.exit_code = 0
        self._emit([{"event": "SHUTDOWN", "data": {"guest": False, "reason": "host-qmp-quit"}}])
        return {}


#: Started VMs by (argv, version), untouched: a start is a pure function of the
#: command line, and test suites start the same few command lines many times.
_STARTED: OrderedDict[tuple[tuple[str, ...], QemuVersion], VirtualMachine] = OrderedDict()
_STARTED_MAX = 512


def _begin(argv: tuple[str, ...], version: QemuVersion) -> PendingStart:
    """A start stopped by ``--preconfig`` (each ``-preconfig``/``--preconfig`` flag
    taken out of the line the model reads)."""
    return _begin_line(read_command_line(without_flags(argv, ("preconfig",))), version)


def _begin_line(line: CommandLine, version: QemuVersion) -> PendingStart:
    """Steps 2 to 5 for ``line``, with QEMU's look-up of device types by name."""
    from topology.qemu._qom_types import device_lookup  # loads its data when first asked

    lookup = device_lookup(line.target, version)
    return begin_vm(line, plan_start(line, version), version, device_lookup=lookup)


def _start(argv: tuple[str, ...], version: QemuVersion) -> VirtualMachine:
    """A fresh VM started from ``argv`` (a copy of the remembered one after the first time)."""
    key = (argv, version)
    template = _STARTED.get(key)
    if template is None:
        template = _begin_line(read_command_line(argv), version).finish()
        _STARTED[key] = template
        if len(_STARTED) > _STARTED_MAX:
            _STARTED.popitem(last=False)
    else:
        _STARTED.move_to_end(key)
    return template.copy()


#: Where QEMU puts the devices ``-device`` and ``device_add`` create.
_DEVICE_CONTAINERS: Final = ("/machine/peripheral", "/machine/peripheral-anon")


def _error(error_class: str, description: str) -> dict[str, Any]:
    return {"error": {"class": error_class, "desc": description}}
