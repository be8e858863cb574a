"""Run a real QEMU once, talk QMP to it over stdio, and record what happened.

Used by the differential tests as the reference for what QEMU does with a
given command line.  QEMU is started paused (``-S``) with TCG and no devices,
so a run costs a fraction of a second and no guest ever executes.

Two QEMU releases can serve as the reference (``version``):

* ``"7.2"``: the host's ``qemu-system-<arch>`` (Debian bookworm's packages);
* ``"10.0"``: Debian trixie's packages in a trixie root (``.ci/setup-qemu-root
  trixie`` builds it), run as ``chroot ROOT /usr/bin/qemu-system-<arch> ...``.
  ROOT is ``$CPUTOPO_QEMU10_ROOT``, by default ``/opt/cputopo-qemu10``.  Nothing
  is mounted in it: QEMU started this way needs neither ``/proc`` nor ``/sys``, and
  the root's ``/dev`` holds the few device nodes debootstrap makes.  ``chroot``
  needs root.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence

Command = tuple[str, Mapping[str, object] | None]

#: The QEMU releases :func:`run_qemu` can run.
QEMU_VERSIONS: tuple[str, ...] = ("7.2", "10.0")
DEFAULT_QEMU10_ROOT = "/opt/cputopo-qemu10"

BASE_ARGS: tuple[str, ...] = (
    "-accel",
    "tcg",
    "-S",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-qmp",
    "stdio",
)


@dataclasses.dataclass(frozen=True)
class QemuRun:
    """The outcome of one QEMU run."""

    argv: tuple[str, ...]
    exit_code: int
    """Exit status; negative means killed by that signal (e.g. -8 is SIGFPE)."""
    stderr_lines: tuple[str, ...]
    replies: tuple[dict[str, object], ...]
    """One reply per command that got one, in order (the greeting, the
    qmp_capabilities and quit replies are not included)."""
    events: tuple[dict[str, object], ...]
    stdout_other: tuple[str, ...] = ()
    """Lines on stdout that are not QMP JSON, e.g. the text of ``-smp help``."""
    greeted: bool = False
    """Whether the QMP greeting arrived (False when QEMU refused the options)."""
    timed_out: bool = False
    """True if the run hit its timeout and was killed (exit_code is then -9)."""


@dataclasses.dataclass(frozen=True)
class QemuJob:
    """Arguments for one :func:`run_qemu` call, for :func:`run_many`."""

    arch: str
    args: Sequence[str]
    commands: Sequence[Command] = ()
    timeout: float = 30.0
    version: str = "7.2"


def qemu10_root() -> str:
    """The trixie root that holds QEMU 10.0 (``$CPUTOPO_QEMU10_ROOT`` or the default)."""
    return os.environ.get("CPUTOPO_QEMU10_ROOT") or DEFAULT_QEMU10_ROOT


def _check_version(version: str) -> None:
    if version not in QEMU_VERSIONS:
        raise ValueError(f"unknown QEMU version {version!r}; known: {', '.join(QEMU_VERSIONS)}")


def qemu_binary(arch: str, version: str = "7.2") -> str | None:
    """Path of ``qemu-system-<arch>`` of QEMU ``version``, or None if it is not installed.

    For ``"10.0"`` this is the path on the host, inside the trixie root.
    """
    _check_version(version)
    if version == "7.2":
        return shutil.which(f"qemu-system-{arch}")
    path = os.path.join(qemu10_root(), "usr", "bin", f"qemu-system-{arch}")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def qemu_unavailable_reason(arch: str, version: str = "7.2") -> str | None:
    """Why QEMU ``version`` for ``arch`` cannot be run here, or None when it can."""
    _check_version(version)
    if version == "7.2":
        if qemu_binary(arch, version) is None:
            return (
                f"qemu-system-{arch} is not installed (Debian: qemu-system-x86, "
                "qemu-system-ppc, qemu-system-misc, qemu-system-arm)"
            )
        return None
    root = qemu10_root()
    if qemu_binary(arch, version) is None:
        return (
            f"QEMU 10.0 qemu-system-{arch} is not installed in {root} "
            "(run .ci/setup-qemu-root trixie as root; CPUTOPO_QEMU10_ROOT moves it)"
        )
    if os.geteuid() != 0:
        return f"QEMU 10.0 runs by chroot into {root}, which needs root"
    if shutil.which("chroot") is None:
        return "chroot is not installed (Debian: coreutils)"
    return None


def qemu_available(arch: str, version: str = "7.2") -> bool:
    """Whether :func:`run_qemu` can run QEMU ``version`` for ``arch`` here."""
    return qemu_unavailable_reason(arch, version) is None


def qemu_command(arch: str, version: str = "7.2") -> tuple[str, ...]:
    """The start of the command line that runs ``qemu-system-<arch>`` of QEMU ``version``.

    Raises FileNotFoundError (with the reason) when it cannot be run here.
    """
    reason = qemu_unavailable_reason(arch, version)
    if reason is not None:
        raise FileNotFoundError(reason)
    if version == "7.2":
        binary = qemu_binary(arch, version)
        assert binary is not None
        return (binary,)
    chroot = shutil.which("chroot")
    assert chroot is not None
    return (chroot, qemu10_root(), f"/usr/bin/qemu-system-{arch}")


class _QmpReader:
    """Splits QEMU's stdout into QMP messages, with an overall deadline."""

    def __init__(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._fd, selectors.EVENT_READ)
        self._buf = b""
        self._deadline = deadline
        self.eof = False
        self.timed_out = False
        self.events: list[dict[str, object]] = []
        self.other: list[str] = []

    def close(self) -> None:
        self._sel.close()

    def next_message(self) -> dict[str, object] | None:
        """The next JSON object, or None at end of output or timeout."""
        while True:
            line, sep, rest = self._buf.partition(b"\n")
            if sep:
                self._buf = rest
                msg = self._parse(line)
                if msg is not None:
                    return msg
                continue
            if self.eof or self.timed_out:
                if self._buf:
                    line, self._buf = self._buf, b""
                    msg = self._parse(line)
                    if msg is not None:
                        return msg
                return None
            self._fill()

    def next_reply(self) -> dict[str, object] | None:
        """The next message that is not an event (events are kept aside)."""
        while (msg := self.next_message()) is not None:
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg
        return None

    def drain(self) -> None:
        """Read to end of output, keeping events and stray lines."""
        while self.next_reply() is not None:
            pass

    def _parse(self, raw: bytes) -> dict[str, object] | None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return obj
        if text:
            self.other.append(text)
        return None

    def _fill(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            return
        if not self._sel.select(remaining):
            self.timed_out = True
            return
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        if chunk:
            self._buf += chunk
        else:
            self.eof = True


def _send(proc: subprocess.Popen[bytes], message: Mapping[str, object]) -> bool:
    """Write one QMP command; False if QEMU is no longer reading."""
    assert proc.stdin is not None
    try:
        proc.stdin.write(json.dumps(message).encode() + b"\n")
        proc.stdin.flush()
    except (BrokenPipeError, ValueError):
        return False
    return True


def run_qemu(
    arch: str,
    args: Sequence[str],
    commands: Sequence[Command] = (),
    timeout: float = 30.0,
    version: str = "7.2",
    program: Sequence[str] | None = None,
) -> QemuRun:
    """Start QEMU ``version`` for ``arch`` with ``args``, run ``commands`` over QMP, quit.

    ``program``, when given, is run instead of QEMU (the start of its command
    line, e.g. the stand-in ``python3 -m topology qemu-system-x86_64``), so that
    both can be driven exactly alike.

    Each command is ``(name, arguments or None)`` and is sent only after the
    previous reply arrived.  If QEMU refuses to start, the result has no
    replies and QEMU's own exit code; ``greeted`` tells the two kinds of
    refusal apart: option errors (``-smp`` parsing and checks) come before
    the QMP greeting, board errors (e.g. the x86 APIC ID limit) after it.
    The whole run is bounded by ``timeout`` seconds; past that QEMU is killed
    and ``timed_out`` is set.  ``argv`` in the result is the whole command
    line, ``chroot ROOT`` included for QEMU 10.0.  Raises FileNotFoundError
    when QEMU ``version`` cannot be run here (see :func:`qemu_available`).
    """
    start = tuple(program) if program is not None else qemu_command(arch, version)
    argv = (*start, *BASE_ARGS, *args)
    deadline = time.monotonic() + timeout
    replies: list[dict[str, object]] = []
    # stderr goes to a file so that a chatty QEMU can never block on a full
    # pipe while we wait on stdout.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        reader = _QmpReader(proc, deadline)
        try:
            greeting = reader.next_message()
            greeted = greeting is not None and "QMP" in greeting
            if greeted:
                _talk(proc, reader, commands, replies)
            reader.drain()
            exit_code = _wait(proc, deadline)
        finally:
            reader.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(BrokenPipeError):
                        pipe.close()
        err.seek(0)
        stderr_text = err.read().decode("utf-8", "replace")
    timed_out = reader.timed_out or exit_code is None
    return QemuRun(
        argv=argv,
        exit_code=-9 if exit_code is None else exit_code,
        stderr_lines=tuple(stderr_text.splitlines()),
        replies=tuple(replies),
        events=tuple(reader.events),
        stdout_other=tuple(reader.other),
        greeted=greeted,
        timed_out=timed_out,
    )


def _talk(
    proc: subprocess.Popen[bytes],
    reader: _QmpReader,
    commands: Sequence[Command],
    replies: list[dict[str, object]],
) -> None:
    """Negotiate capabilities, run the commands, then ask QEMU to quit."""
    if not _send(proc, {"execute": "qmp_capabilities"}) or not reader.next_reply():
        return
    for index, (name, arguments) in enumerate(commands):
        message: dict[str, object] = {"execute": name, "id": index}
        if arguments is not None:
            message["arguments"] = dict(arguments)
        if not _send(proc, message):
            return
        reply = reader.next_reply()
        if reply is None:
            return
        reply.pop("id", None)
        replies.append(reply)
    # Only quit after the last reply is fully read: quitting while a large
    # reply is still in the pipe can lose its tail.
    if _send(proc, {"execute": "quit"}):
        reader.next_reply()
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()


def _wait(proc: subprocess.Popen[bytes], deadline: float) -> int | None:
    """Exit code, or None if QEMU had to be killed at the deadline."""
    try:
        return proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def run_many(jobs: Iterable[QemuJob], max_workers: int = 2) -> list[QemuRun]:
    """Run the jobs in a thread pool; results come back in job order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [
            pool.submit(run_qemu, job.arch, job.args, job.commands, job.timeout, job.version)
            for job in jobs
        ]
        return [future.result() for future in futures]
