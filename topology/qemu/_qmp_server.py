"""The process stand-in's monitors: QMP on stdio and on UNIX sockets, one simulator behind.

What QEMU 7.2, 10.0 and 11.1 were seen doing, and the stand-in does:

* a socket chardev serves one connection at a time: a second client's
  ``connect`` succeeds (the listen backlog) but it gets nothing, not even the
  greeting, until the first one disconnects; then it is greeted as a new
  session that must negotiate again;
* every connection gets the greeting at once; events go to every monitor past
  negotiation (one timestamp for all), before the reply of the command that
  caused them;
* ``quit`` on any monitor: ``SHUTDOWN`` to every negotiated monitor, the reply
  to the one that asked, then exit 0; the other connections see end of file;
  SIGTERM, SIGINT and SIGHUP alike (``host-signal``);
* a server socket's path is unlinked before ``bind`` (a stale file is
  replaced) and again on a clean exit (``quit``, a signal), but not when the
  start is refused later (exit 1 leaves the file); ``wait=on`` prints
  ``info: QEMU waiting for connection on: disconnected:unix:PATH,server=on``
  and blocks until the first client connects, before anything else is checked;
* a client socket (``server=off``) connects at start (``Failed to connect to
  'PATH': ...`` if it cannot) and is one session; at its end of file the
  monitor is gone, QEMU keeps running;
* end of input on stdio does not stop QEMU either.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final, NoReturn

from topology._parse.command_line import UnsupportedOptionError
from topology.qemu._monitor_options import Chardev, MonitorOptionError, chardev_problem
from topology.qemu._qmp_session import QmpSession, greeting
from topology.qemu._simulator import QemuCrashError, QemuSimulator

__all__ = ["Endpoint", "QmpServer", "die", "open_chardevs", "write_fd"]

#: The signals QEMU turns into a clean shutdown (``os-posix.c`` termsig_handler).
TERMINATING: Final = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)


class Endpoint:
    """An opened chardev: stdio, a listening socket, or a connected one."""

    def __init__(
        self,
        kind: str,
        *,
        listener: socket.socket | None = None,
        connection: socket.socket | None = None,
        unlink_path: str | None = None,
    ) -> None:
        self.kind = kind  # "stdio", "server" or "client"
        self.listener = listener
        #: The connection to serve first: a client socket, or the one ``wait=on`` took.
        self.connection = connection
        self.unlink_path = unlink_path


def open_chardevs(chardevs: Sequence[Chardev], program: str) -> dict[str, Endpoint]:
    """Create the chardevs in command-line order, as QEMU's early back ends do.

    Raises :class:`MonitorOptionError` with QEMU's message for the first one
    that fails; the socket files made before it stay, as QEMU leaves them.
    """
    opened: dict[str, Endpoint] = {}
    stdio_used = False
    for chardev in chardevs:
        problem = chardev_problem(chardev, program)
        if problem is not None:
            raise problem
        assert chardev.id is not None
        if chardev.backend == "stdio":
            if stdio_used:
                raise MonitorOptionError(
                    [f"{program}: {chardev.where}: cannot use stdio by multiple character devices"]
                )
            stdio_used = True
            opened[chardev.id] = Endpoint("stdio")
        else:
            opened[chardev.id] = _open_socket(chardev, program)
    return opened


def _open_socket(chardev: Chardev, program: str) -> Endpoint:
    where = chardev.where
    path = chardev.path
    if not path:
        return _inherited_socket(chardev, program)
    if not chardev.server:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            client.connect(path)
        except OSError as error:
            client.close()
            raise MonitorOptionError(
                [f"{program}: {where}: Failed to connect to '{path}': {_strerror(error)}"]
            ) from None
        return Endpoint("client", connection=client)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # QEMU replaces what is at the path (a stale socket from an earlier run).
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        listener.bind(path)
        listener.listen(1)  # QEMU's backlog: one more client may wait in connect
    except OSError as error:
        listener.close()
        if error.errno is None:  # Python's own refusal, e.g. a path too long for sun_path
            raise UnsupportedOptionError(f"cputopo: {where}: {error}") from None
        raise MonitorOptionError(
            [f"{program}: {where}: Failed to bind socket to {path}: {_strerror(error)}"]
        ) from None
    endpoint = Endpoint("server", listener=listener, unlink_path=path)
    _wait_for_client(chardev, endpoint, program, f"disconnected:unix:{path},server=on")
    return endpoint


def _inherited_socket(chardev: Chardev, program: str) -> Endpoint:
    """``fd=N``: a socket the parent passed (libvirt: a listening one, with server=on)."""
    where = chardev.where
    fd_text = chardev.parameters.get("fd", "")
    fd = int(fd_text)
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise OSError
        inherited = socket.socket(fileno=fd)
    except OSError:
        raise MonitorOptionError(
            [f"{program}: {where}: File descriptor '{fd_text}' is not a socket"]
        ) from None
    if not chardev.server:
        return Endpoint("client", connection=inherited)
    endpoint = Endpoint("server", listener=inherited)
    _wait_for_client(chardev, endpoint, program, f"disconnected:fd:{fd_text},server=on")
    return endpoint


def _wait_for_client(chardev: Chardev, endpoint: Endpoint, program: str, address: str) -> None:
    if chardev.wait is False:
        return
    # wait=on (the default for a server): QEMU blocks here, before the machine.
    write_fd(2, f"{program}: {chardev.where}: info: QEMU waiting for connection on: {address}\n")
    assert endpoint.listener is not None
    endpoint.connection, _ = endpoint.listener.accept()


class QmpServer:
    """Serves every QMP monitor with one simulator; ends the process (``quit``, a signal)."""

    def __init__(
        self,
        simulator: QemuSimulator,
        endpoints: Sequence[Endpoint],
        *,
        program: str,
        version: str,
        package: str,
        unlink_paths: Sequence[str],
    ) -> None:
        self._simulator = simulator
        self._endpoints = list(endpoints)
        self._program = program
        self._greeting = greeting(version, package)
        self._unlink_paths = list(unlink_paths)
        self._sessions: list[QmpSession] = []
        self._lock = threading.Lock()  # one command, one message at a time

    def serve(self) -> NoReturn:
        """Start a thread per monitor and wait here for the terminating signals."""
        # Blocked before the threads start, so that only sigwaitinfo below sees them.
        signal.pthread_sigmask(signal.SIG_BLOCK, TERMINATING)
        for endpoint in self._endpoints:
            if endpoint.kind == "stdio":
                session = self._open_session(lambda data: write_fd(1, data))
                self._start(self._read_stdin, session)
            elif endpoint.kind == "client":
                assert endpoint.connection is not None
                self._start(self._serve_connection, endpoint.connection)
            else:
                self._start(self._serve_listener, endpoint)
        while True:
            info = signal.sigwaitinfo(TERMINATING)
            self._terminate(info.si_signo, info.si_pid)

    @staticmethod
    def _start(target: Callable[..., None], argument: object) -> None:
        threading.Thread(target=target, args=(argument,), daemon=True).start()

    def _open_session(self, write: Callable[[bytes], None]) -> QmpSession:
        with self._lock:
            session = QmpSession(self._simulator, write)
            self._sessions.append(session)
            session.send(self._greeting)
            return session

    def _read_stdin(self, session: QmpSession) -> None:
        while True:
            try:
                chunk = os.read(0, 65536)
            except OSError:
                return
            if not chunk:
                return  # QEMU keeps running after end of input; so does the stand-in
            self._handle(session, chunk)

    def _serve_listener(self, endpoint: Endpoint) -> None:
        assert endpoint.listener is not None
        connection = endpoint.connection
        while True:
            if connection is None:
                try:
                    connection, _ = endpoint.listener.accept()
                except OSError:
                    return
            self._serve_connection(connection)
            connection = None  # the next client waiting in the backlog, if any

    def _serve_connection(self, connection: socket.socket) -> None:
        def send(data: bytes) -> None:
            # A peer that went away is noticed by the reader as end of file.
            with contextlib.suppress(OSError):
                connection.sendall(data)

        session = self._open_session(send)
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            self._handle(session, chunk)
        with self._lock:
            self._sessions.remove(session)
        connection.close()

    def _handle(self, session: QmpSession, chunk: bytes) -> None:
        for request in session.requests(chunk):
            with self._lock:
                printed = len(self._simulator.stderr_lines)
                try:
                    reply = session.answer(request)
                except QemuCrashError as crash:
                    self._crash(crash, self._simulator.stderr_lines[printed:])
                # What QEMU prints while it runs the command (the warnings of a
                # vCPU it realizes for device_add) goes to stderr as it happens.
                new_lines = self._simulator.stderr_lines[printed:]
                write_fd(2, "".join(f"{line}\n" for line in new_lines))
                self._flush_events()
                session.send(reply)
                if not self._simulator.running:
                    self._exit_cleanly()

    def _crash(self, crash: QemuCrashError, printed: Sequence[str]) -> NoReturn:
        self._flush_events()
        if crash.exit_status is not None:
            # QEMU exits (an error in x-exit-preconfig): its message is printed
            # like any other, and no reply comes.
            write_fd(2, "".join(f"{line}\n" for line in printed))
            os._exit(crash.exit_status)
        # QEMU's last words (GLib's on both streams; stdout is -qmp stdio's
        # stream too), or the stand-in's account of what QEMU does.
        write_fd(1, "".join(f"{line}\n" for line in crash.stdout_lines))
        last = crash.stderr_lines or (crash.message,)
        write_fd(2, "".join(f"{line}\n" for line in last))
        die(crash.crash_signal or signal.SIGABRT)

    def _flush_events(self) -> None:
        for event in self._simulator.events():
            self._broadcast(event)

    def _broadcast(self, event: Mapping[str, object]) -> None:
        """Send ``event`` to every monitor past negotiation, with one timestamp."""
        now = time.time()
        seconds = int(now)
        stamped = {
            "timestamp": {"seconds": seconds, "microseconds": int((now - seconds) * 1_000_000)},
            **event,
        }
        for session in self._sessions:
            if session.negotiated:
                session.send(stamped)

    def _terminate(self, signal_number: int, sender: int) -> NoReturn:
        with self._lock:
            self._broadcast(
                {"event": "SHUTDOWN", "data": {"guest": False, "reason": "host-signal"}}
            )
            if sender == 0:
                write_fd(2, f"{self._program}: terminating on signal {signal_number}\n")
            else:
                name = _process_name(sender)
                write_fd(
                    2,
                    f"{self._program}: terminating on signal {signal_number} "
                    f"from pid {sender} ({name})\n",
                )
            self._exit_cleanly()

    def _exit_cleanly(self) -> NoReturn:
        # QEMU's chardevs are finalized on a clean exit: the socket files go.
        for path in self._unlink_paths:
            with contextlib.suppress(OSError):
                os.unlink(path)
        os._exit(0)


def write_fd(fd: int, data: str | bytes) -> None:
    """Write all of ``data`` to ``fd``; a reader that went away is no error."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    with contextlib.suppress(BrokenPipeError, OSError):
        while raw:
            written = os.write(fd, raw)
            raw = raw[written:]


def die(signal_number: int) -> NoReturn:
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


def _strerror(error: OSError) -> str:
    return os.strerror(error.errno) if error.errno is not None else str(error)


def _process_name(pid: int) -> str:
    """What QEMU prints for the sender of a signal: its ``argv[0]`` from /proc."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().split(b"\0", 1)[0].decode("utf-8", "replace")
    except OSError:
        return "<unknown process>"
