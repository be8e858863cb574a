"""The stand-in: a QEMU command line in, QEMU's answers out, with no process."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from topology._errors import HelpRequested, ParameterError, QemuAbortError, TopologyError
from topology._model.qom import CONTAINERS, resolve_qom_path
from topology._model.start import start_vm
from topology._model.vm import DeviceNotFound, VirtualMachine
from topology._parse.command_line import UnsupportedOptionError, program_name, read_command_line
from topology._parse.device import as_text_error
from topology._parse.first_pass import plan_start
from topology._registry import hooks
from topology._versions import QemuVersion, qemu_version
from topology._views.qmp import query_cpus_fast, query_hotpluggable_cpus
from topology.plugin import QmpCommand
from topology.qemu._qmp_args import check_arguments, device_add_props

__all__ = ["QemuCrashError", "QemuNotRunningError", "QemuSimulator", "QemuStartError"]


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
        cause: the :class:`topology.TopologyError` behind it
            (:class:`topology.QemuAbortError` for a failed assertion).
    """

    def __init__(self, cause: TopologyError, *, what: str | None) -> None:
        super().__init__(cause.message, what=what, crash_signal=cause.crash_signal)
        self.stderr_lines: tuple[str, ...] = ()
        self.stdout_lines: tuple[str, ...] = ()
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
        try:
            self.vm: VirtualMachine = _start(self.argv, self.version)
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
        self.stderr_lines: tuple[str, ...] = tuple(_render_warnings(self.program, self.vm.warnings))
        self.exit_code: int | None = None

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
        self._events.extend(self.vm.take_events())
        events, self._events = self._events, []
        return events

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
        handler = self._handlers().get(command)
        if handler is None:
            return _error("CommandNotFound", f"The command {command} has not been found")
        try:
            return {"return": handler(arguments)}
        except UnsupportedOptionError:
            raise  # not QEMU's answer: the stand-in does not model it
        except TopologyError as error:
            if error.crash_signal is not None:
                self._running = False
                self.exit_code = -error.crash_signal
                crash = QemuCrashError(error, what=command)
                self.stderr_lines += crash.stderr_lines
                raise crash from None
            return _error(error.qmp_class, error.message)
        finally:
            # What QEMU printed while running it (a plugged CPU's warnings): in a
            # monitor command QEMU 7.2 and 10.0 name no program, 11.1 does
            # (observed; 10.1-11.0 were not run and answer as 10.0).
            named = self.vm.machine.qemu_version.at_least("11.1")
            for warning in self.vm.take_warnings():
                shown = f"{self.program}: {warning}" if named else str(warning)
                self.stderr_lines += (shown, *(warning.hint or "").splitlines())

    # -- commands ------------------------------------------------------------------

    def commands(self) -> frozenset[str]:
        """The QMP commands the stand-in answers for this VM (the plugin's included)."""
        return frozenset({"qmp_capabilities", *self._handlers()})

    def _handlers(self) -> dict[str, Callable[[dict[str, object]], object]]:
        handlers: dict[str, Callable[[dict[str, object]], object]] = {
            "query-version": self._query_version,
            "query-hotpluggable-cpus": self._no_arguments(lambda: query_hotpluggable_cpus(self.vm)),
            "query-cpus-fast": self._no_arguments(lambda: query_cpus_fast(self.vm)),
            "device_add": self._device_add,
            "device_del": self._device_del,
            "quit": self._quit,
        }
        for name, command in self._plugin_commands().items():
            handlers[name] = self._plugin_command(command)
        # Generic parts first; they ask the plugin for the objects it owns.
        handlers["qom-set"] = self._qom_set
        handlers["qom-get"] = self._qom_get
        handlers["query-acpi-ospm-status"] = self._query_acpi_ospm_status
        return handlers

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
            self.vm.plug(driver, props, id=device_id)
        except TopologyError as error:
            raise as_text_error(error) if through_qemu_opts else error from None
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
        self._events.extend(self.vm.take_events())
        self._events.append(
            {"event": "SHUTDOWN", "data": {"guest": False, "reason": "host-qmp-quit"}}
        )
        return {}


#: Started VMs by (argv, version), untouched: a start is a pure function of the
#: command line, and test suites start the same few command lines many times.
_STARTED: OrderedDict[tuple[tuple[str, ...], QemuVersion], VirtualMachine] = OrderedDict()
_STARTED_MAX = 512


def _start(argv: tuple[str, ...], version: QemuVersion) -> VirtualMachine:
    """A fresh VM started from ``argv`` (a copy of the remembered one after the first time)."""
    key = (argv, version)
    template = _STARTED.get(key)
    if template is None:
        line = read_command_line(argv)
        template = start_vm(line, plan_start(line, version), version)
        _STARTED[key] = template
        if len(_STARTED) > _STARTED_MAX:
            _STARTED.popitem(last=False)
    else:
        _STARTED.move_to_end(key)
    return template.copy()


def _error(error_class: str, description: str) -> dict[str, Any]:
    return {"error": {"class": error_class, "desc": description}}
