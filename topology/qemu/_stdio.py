"""The stand-in as a process: ``cputopo qemu-system-<target> ... -qmp stdio``.

A tool that spawns QEMU for its tests can spawn this instead and talk QMP on
its stdin and stdout. What it does, as QEMU 7.2 and 10.0 were seen doing
(``-qmp stdio``, paused with ``-S``):

* a refused start prints QEMU's stderr and exits 1 (0 after ``-smp help``,
  which goes to stdout); where QEMU would crash, at start or on a command, the
  process prints what QEMU prints as it dies (a failed assertion: GLib's lines
  on stderr and its ``Bail out!`` line on stdout, after the QMP messages sent
  so far) and kills itself with that signal, so the parent sees the same
  status (-6 in ``subprocess``);
* a good start prints QEMU's warnings on stderr, then the greeting;
* input is read as a stream: a command may span lines, several may share one
  (see :mod:`topology.qemu._qmp_json`); each answer is one line ending in
  ``\\r\\n``, with the request's ``id`` echoed; bad input gets QEMU's error
  reply (``JSON parse error, ...``, from 11.1 ``2:3: JSON parse error, ...``,
  ``QMP input must be a JSON object``,
  ``QMP input lacks member 'execute'``, ...);
* until ``qmp_capabilities`` only that command is answered; events go out
  only after it, with a ``timestamp``, *before* the reply of the command
  that caused them (pseries ``device_del``: the ``DEVICE_DELETED`` events,
  then ``{"return": {}}``; ``quit``: ``SHUTDOWN``, then the reply, then exit 0);
* end of input does not stop QEMU: it keeps running (paused) until it is
  sent ``quit`` or a signal. On SIGTERM, SIGINT or SIGHUP it sends a
  ``SHUTDOWN`` event (``host-signal``, if negotiated), prints ``terminating
  on signal 15 from pid 123 (name)`` and exits 0, as QEMU does.

Options of the stand-in's own, right after the binary name:
``--qemu-version V`` (``7.2``, ``10.0``, or ``7.2.22`` to also set the micro
version the greeting reports; default ``$CPUTOPO_QEMU_VERSION``, else the
newest release modelled) and ``--qemu-package TEXT`` (the greeting's
``package``, empty by default). The only monitor it offers is ``-qmp stdio``;
any other ``-qmp``, ``-monitor``, ``-mon`` or ``-chardev`` is refused with
exit status 2, as is an option the stand-in does not model. A QMP command on
an object or property it does not model (``qom-get`` of a CPU's ``apic-id``)
ends it with status 2 too, with its reason on stderr and no reply.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, NoReturn

from topology._errors import OptionSyntaxError, TopologyError
from topology._parse.command_line import _TAKES_ARGUMENT, UnsupportedOptionError
from topology._parse.qdict import qdict_order
from topology._versions import SUPPORTED_QEMU_VERSIONS
from topology.qemu._qmp_json import JsonError, JsonValue, QmpJsonStream, qmp_json
from topology.qemu._simulator import QemuCrashError, QemuSimulator, QemuStartError

__all__ = ["main"]

#: The signals QEMU turns into a clean shutdown (``os-posix.c`` termsig_handler).
_TERMINATING: Final = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
#: Options that open a monitor or a character device for one.
_MONITOR_OPTIONS: Final = ("qmp", "qmp-pretty", "monitor", "mon", "chardev")


class _UsageError(Exception):
    """The stand-in cannot run this command line (exit status 2)."""


def main(argv: Sequence[str]) -> int:
    """Run the stand-in for ``argv`` (``qemu-system-<target>`` first); its exit status.

    After a good start this serves QMP on stdin/stdout and ends the process
    itself (``quit`` or a signal); it returns only when the start is refused.
    """
    try:
        version, package, qemu_argv = _own_options(argv)
        _check_monitors(qemu_argv)
    except _UsageError as error:
        return _usage_error(str(error))
    program = os.path.basename(qemu_argv[0])
    try:
        simulator = QemuSimulator(
            qemu_argv, version=version, package=package, strict_negotiation=True
        )
    except QemuStartError as refused:
        _write(1, refused.stdout)
        _write(2, refused.stderr)
        if refused.exit_code < 0 and refused.message.startswith("cputopo:"):
            _write(2, refused.message + "\n")  # why the stand-in stops where QEMU crashes
        return _exit_status(refused.exit_code)
    except OptionSyntaxError as error:
        _write(2, f"{program}: {error.message}\n")  # QEMU's own refusal: -foo: invalid option
        return 1
    except TopologyError as error:
        return _usage_error(error.message)
    _write(2, simulator.stderr)
    _Monitor(simulator, program, version, package).serve()


def _usage_error(message: str) -> int:
    _write(2, message + "\n" if message.startswith("cputopo:") else f"cputopo: {message}\n")
    return 2


def _own_options(argv: Sequence[str]) -> tuple[str, str, list[str]]:
    """Split off ``--qemu-version``/``--qemu-package``, given right after the binary."""
    if not argv:
        raise _UsageError("no QEMU command line: give qemu-system-<target> and its options")
    version = os.environ.get("CPUTOPO_QEMU_VERSION") or str(SUPPORTED_QEMU_VERSIONS[-1])
    package = ""
    rest = list(argv[1:])
    while rest and rest[0].split("=", 1)[0] in ("--qemu-version", "--qemu-package"):
        word = rest.pop(0)
        name, equals, value = word.partition("=")
        if not equals:
            if not rest:
                raise _UsageError(f"{name} needs a value")
            value = rest.pop(0)
        if name == "--qemu-version":
            version = value
        else:
            package = value
    return version, package, [argv[0], *rest]


def _check_monitors(qemu_argv: Sequence[str]) -> None:
    """Exactly one monitor, ``-qmp stdio``: the only one the stand-in can serve."""
    takes = _TAKES_ARGUMENT
    monitors: list[tuple[str, str]] = []
    position = 1
    while position < len(qemu_argv):
        word = qemu_argv[position]
        name = word[2:] if word.startswith("--") else word[1:]
        if not word.startswith("-") or name not in takes:
            break  # QemuSimulator reports it, as QEMU would
        if name in _MONITOR_OPTIONS and position + 1 < len(qemu_argv):
            monitors.append((word, qemu_argv[position + 1]))
        position += 2 if takes[name] else 1
    if len(monitors) != 1 or monitors[0][0].lstrip("-") != "qmp" or monitors[0][1] != "stdio":
        given = ", ".join(f"{word} {value}" for word, value in monitors) or "none"
        raise _UsageError(
            "the stand-in speaks QMP on stdin/stdout only: give exactly one -qmp stdio "
            f"(monitors given: {given})"
        )


def _write(fd: int, text: str) -> None:
    data = text.encode("utf-8", "replace")
    with contextlib.suppress(BrokenPipeError, OSError):
        while data:
            written = os.write(fd, data)
            data = data[written:]


def _exit_status(exit_code: int) -> int:
    """``exit_code`` as the process's status; a negative one is a death by that signal."""
    if exit_code >= 0:
        return exit_code
    _die(-exit_code)


def _die(signal_number: int) -> NoReturn:
    """End the process by ``signal_number`` (no core file), as a crashing QEMU does."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    # Only the main thread may set a handler (ValueError elsewhere, e.g. in the
    # thread that answers QMP); Python leaves these signals at their default.
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal_number, signal.SIG_DFL)
    with contextlib.suppress(ValueError, OSError):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal_number])
        # To this thread: delivered before raise_signal returns.
        signal.raise_signal(signal_number)
    os._exit(128 + signal_number)


class _Monitor:
    """One QMP monitor on stdin/stdout, in front of a :class:`QemuSimulator`."""

    def __init__(self, simulator: QemuSimulator, program: str, version: str, package: str) -> None:
        self._simulator = simulator
        self._program = program
        self._greeting_version = _version_numbers(version)
        self._package = package
        self._negotiated = False
        self._oob = False
        self._lock = threading.Lock()  # one message at a time on stdout

    def serve(self) -> NoReturn:
        """Greet, answer stdin in a thread, and wait here for the terminating signals."""
        # Blocked before the reader starts, so that only sigwaitinfo below sees them.
        signal.pthread_sigmask(signal.SIG_BLOCK, _TERMINATING)
        self._send(
            {
                "QMP": {
                    "version": {"qemu": self._greeting_version, "package": self._package},
                    "capabilities": ["oob"],
                }
            }
        )
        threading.Thread(target=self._read_stdin, name="qmp-stdin", daemon=True).start()
        while True:
            info = signal.sigwaitinfo(_TERMINATING)
            self._terminate(info.si_signo, info.si_pid)

    def _read_stdin(self) -> None:
        stream = QmpJsonStream(self._simulator.version)
        while True:
            try:
                chunk = os.read(0, 65536)
            except OSError:
                return
            if not chunk:
                return  # QEMU keeps running after end of input; so does the stand-in
            for request in stream.feed(chunk):
                self._handle(request)

    def _terminate(self, signal_number: int, sender: int) -> NoReturn:
        with self._lock:
            if self._negotiated:
                self._send_event(
                    {"event": "SHUTDOWN", "data": {"guest": False, "reason": "host-signal"}}
                )
            if sender == 0:
                _write(2, f"{self._program}: terminating on signal {signal_number}\n")
            else:
                name = _process_name(sender)
                _write(
                    2,
                    f"{self._program}: terminating on signal {signal_number} "
                    f"from pid {sender} ({name})\n",
                )
            os._exit(0)

    def _handle(self, request: JsonValue | JsonError) -> None:
        with self._lock:
            has_id = isinstance(request, dict) and "id" in request
            request_id = request.get("id") if isinstance(request, dict) else None
            if isinstance(request, JsonError):
                reply = _error("GenericError", request.message)
            else:
                reply = self._dispatch(request)
            if has_id:
                reply["id"] = request_id
            self._send(reply)
            if not self._simulator.running:
                os._exit(0)

    def _dispatch(self, request: JsonValue) -> dict[str, Any]:
        """``qmp_dispatch``: check the request's members, then run the command."""
        if not isinstance(request, dict):
            return _error("GenericError", "QMP input must be a JSON object")
        exec_key: str | None = None
        for key in qdict_order(list(request)):
            value = request[key]
            if key == "execute" or (key == "exec-oob" and self._oob):
                if not isinstance(value, str):
                    return _error("GenericError", f"QMP input member '{key}' must be a string")
                if exec_key is not None:
                    return _error(
                        "GenericError", f"QMP input member '{key}' clashes with '{exec_key}'"
                    )
                exec_key = key
            elif key == "arguments":
                if not isinstance(value, dict):
                    return _error("GenericError", "QMP input member 'arguments' must be an object")
            elif key != "id":
                return _error("GenericError", f"QMP input member '{key}' is unexpected")
        if exec_key is None:
            return _error("GenericError", "QMP input lacks member 'execute'")
        command = request[exec_key]
        assert isinstance(command, str)
        arguments = request.get("arguments", {})
        assert isinstance(arguments, dict)
        if exec_key == "exec-oob":
            # None of the commands the stand-in answers allows out-of-band use.
            if command in self._simulator.commands():
                return _error("GenericError", f"The command {command} does not support OOB")
            return _error("CommandNotFound", f"The command {command} has not been found")
        return self._run(command, arguments)

    def _run(self, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        enable_oob = False
        if command == "qmp_capabilities" and not self._negotiated:
            refused = _check_capabilities(arguments)
            if refused is not None:
                return refused
            enable_oob = "oob" in arguments.get("enable", [])
        printed = len(self._simulator.stderr_lines)
        try:
            reply = self._simulator.qmp(command, arguments)
        except QemuCrashError as crash:
            self._flush_events()
            # QEMU's last words (GLib's on both streams), or the stand-in's
            # account of what QEMU does.
            _write(1, "".join(f"{line}\n" for line in crash.stdout_lines))
            last = crash.stderr_lines or (crash.message,)
            _write(2, "".join(f"{line}\n" for line in last))
            _die(crash.crash_signal or signal.SIGABRT)
        except UnsupportedOptionError as unmodelled:
            # Not QEMU's answer: the stand-in cannot go on as QEMU would.
            self._flush_events()
            _write(2, f"{unmodelled.message}\n")
            os._exit(2)
        # What QEMU prints while it runs the command (the warnings of a vCPU it
        # realizes for device_add) goes to stderr as it happens.
        _write(2, "".join(f"{line}\n" for line in self._simulator.stderr_lines[printed:]))
        if command == "qmp_capabilities" and "return" in reply and not self._negotiated:
            self._negotiated = True
            self._oob = enable_oob
        self._flush_events()
        return reply

    def _flush_events(self) -> None:
        events = self._simulator.events()
        if self._negotiated:  # QEMU sends events only to monitors past negotiation
            for event in events:
                self._send_event(event)

    def _send_event(self, event: Mapping[str, object]) -> None:
        now = time.time()
        seconds = int(now)
        stamped = {
            "timestamp": {"seconds": seconds, "microseconds": int((now - seconds) * 1_000_000)},
            **event,
        }
        self._send(stamped)

    def _send(self, message: Mapping[str, object]) -> None:
        _write(1, qmp_json(dict(message)) + "\r\n")


def _check_capabilities(arguments: Mapping[str, object]) -> dict[str, Any] | None:
    """QEMU's checks of ``qmp_capabilities``'s ``enable`` (QMPCapability has one member)."""
    enable = arguments.get("enable")
    if not isinstance(enable, list):
        return None  # the simulator reports it
    for index, capability in enumerate(enable):
        if not isinstance(capability, str):
            return _error(
                "GenericError", f"Invalid parameter type for 'enable[{index}]', expected: string"
            )
        if capability != "oob":
            # QEMU 7.2 and 10.0 name the parameter 'null' here.
            return _error("GenericError", f"Parameter 'null' does not accept value '{capability}'")
    return None


def _version_numbers(version: str) -> dict[str, int]:
    parts = version.split(".")
    numbers = [int(part) if part.isdigit() else 0 for part in parts[:3]] + [0, 0, 0]
    return {"major": numbers[0], "minor": numbers[1], "micro": numbers[2]}


def _process_name(pid: int) -> str:
    """What QEMU prints for the sender of a signal: its ``argv[0]`` from /proc."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().split(b"\0", 1)[0].decode("utf-8", "replace")
    except OSError:
        return "<unknown process>"


def _error(error_class: str, description: str) -> dict[str, Any]:
    return {"error": {"class": error_class, "desc": description}}
