"""Run a real QEMU once, talk QMP to it over stdio, and record what happened.

The conformance kit's QEMU driver (moved here from the test suite's
``tests/support/qemu_runner.py``, which can import it): it knows nothing of QEMU
releases or where QEMU is installed; it runs the command line it is given,
which must ask for a paused VM answering QMP on stdio (``-S ... -qmp stdio``).
A run costs a fraction of a second: no guest ever executes.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence

import attrs

__all__ = ["Command", "QemuRun", "run_qemu"]

#: One QMP command: its name and its arguments (None: none).
Command = tuple[str, Mapping[str, object] | None]


@attrs.frozen(kw_only=True)
class QemuRun:
    """The outcome of one QEMU run.

    Attributes:
        argv: the whole command line that ran.
        exit_code: the exit status; negative when killed by that signal (-6: abort).
        stderr_lines: everything QEMU printed on stderr, line by line.
        replies: one reply per command that got one, in order (without the
            greeting and the replies to ``qmp_capabilities`` and ``quit``).
        events: the QMP events, in order, as QEMU sent them (with timestamps).
        stdout_other: lines on stdout that are not QMP JSON (``-smp help``'s text).
        greeted: whether the QMP greeting arrived (False when QEMU refused its
            options before opening the monitor).
        timed_out: whether the run hit its time limit and QEMU was killed
            (``exit_code`` is then -9).
    """

    argv: tuple[str, ...]
    exit_code: int
    stderr_lines: tuple[str, ...]
    replies: tuple[dict[str, object], ...]
    events: tuple[dict[str, object], ...]
    stdout_other: tuple[str, ...] = ()
    greeted: bool = False
    timed_out: bool = False


class _QmpReader:
    """Splits QEMU's stdout into QMP messages, with an overall deadline."""

    def __init__(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fd, selectors.EVENT_READ)
        self._buffer = b""
        self._deadline = deadline
        self.eof = False
        self.timed_out = False
        self.events: list[dict[str, object]] = []
        self.other: list[str] = []

    def close(self) -> None:
        self._selector.close()

    def next_message(self) -> dict[str, object] | None:
        """The next JSON object, or None at end of output or timeout."""
        while True:
            line, separator, rest = self._buffer.partition(b"\n")
            if separator:
                self._buffer = rest
                message = self._parse(line)
                if message is not None:
                    return message
                continue
            if self.eof or self.timed_out:
                if self._buffer:
                    line, self._buffer = self._buffer, b""
                    message = self._parse(line)
                    if message is not None:
                        return message
                return None
            self._fill()

    def next_reply(self) -> dict[str, object] | None:
        """The next message that is not an event (events are kept aside)."""
        while (message := self.next_message()) is not None:
            if "event" in message:
                self.events.append(message)
            else:
                return message
        return None

    def drain(self) -> None:
        """Read to the end of the output, keeping events and stray lines."""
        while self.next_reply() is not None:
            pass

    def _parse(self, raw: bytes) -> dict[str, object] | None:
        text = raw.decode("utf-8", "replace").rstrip("\r")
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if isinstance(message, dict):
            return message
        if text:
            self.other.append(text)
        return None

    def _fill(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0 or not self._selector.select(remaining):
            self.timed_out = True
            return
        try:
            chunk = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        if chunk:
            self._buffer += chunk
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
    argv: Sequence[str], commands: Sequence[Command] = (), *, timeout: float = 30.0
) -> QemuRun:
    """Start ``argv``, negotiate QMP, run ``commands`` one by one, then ``quit``.

    Each command is sent only once the previous reply arrived. A QEMU that
    refuses to start leaves no replies and its own exit status; ``greeted``
    tells option errors (before the QMP greeting) from board errors (after
    it). The whole run is bounded by ``timeout`` seconds, past which QEMU is
    killed. Raises :class:`FileNotFoundError` when ``argv[0]`` does not exist.
    """
    argv = tuple(argv)
    deadline = time.monotonic() + timeout
    replies: list[dict[str, object]] = []
    # stderr goes to a file, so that a chatty QEMU never blocks on a full pipe
    # while stdout is being read.
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
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
        stderr.seek(0)
        stderr_text = stderr.read().decode("utf-8", "replace")
    return QemuRun(
        argv=argv,
        exit_code=-9 if exit_code is None else exit_code,
        stderr_lines=tuple(stderr_text.splitlines()),
        replies=tuple(replies),
        events=tuple(reader.events),
        stdout_other=tuple(reader.other),
        greeted=greeted,
        timed_out=reader.timed_out or exit_code is None,
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
    # Quit only once the last reply is read: quitting while a large reply is
    # still in the pipe can lose its tail.
    if _send(proc, {"execute": "quit"}):
        reader.next_reply()
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()


def _wait(proc: subprocess.Popen[bytes], deadline: float) -> int | None:
    """The exit status, or None if QEMU had to be killed at the deadline."""
    try:
        return proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
