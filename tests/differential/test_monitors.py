"""The stand-in's monitors and option queries against real QEMU 7.2, 10.0 and 11.1.

Both get the same command line and are driven alike over raw UNIX sockets
(and stdio): who is greeted when, which session gets which event, what
``quit`` and SIGTERM do to the other connections, what happens to the socket
files; the refusals of bad monitor options (stderr and exit status); and the
texts of ``--version`` and ``-machine help`` byte for byte for every target.
The stand-in on its own is in ``tests/unit/test_monitors.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, qemu_command, qemu_root
from tests.unit.test_stdio import BASE, ROOT, stand_in
from topology._resolve import catalogue

TARGETS = ("x86_64", "ppc64", "s390x", "aarch64")
QUIET = 0.6  # seconds a client waits to be sure nothing comes


class Process:
    """Real QEMU or the stand-in, started with ``args``; paths are relative to its root."""

    def __init__(self, program: list[str], root: str, args: list[str]) -> None:
        self.root = root
        self.proc = subprocess.Popen(
            [*program, *BASE, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": ROOT},
        )

    def host(self, path: str) -> str:
        return self.root + path

    def connect(self, path: str) -> socket.socket:
        deadline = time.monotonic() + 20
        while True:
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect(self.host(path))
                return client
            except OSError:
                client.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def _read(client: socket.socket, timeout: float = 10) -> str:
    """One message, ``<quiet>`` if none comes, ``<closed>`` when the peer closed.

    End of file and a reset are one answer: which of the two a client sees
    when QEMU exits is a race in the kernel, for QEMU as for the stand-in.
    """
    client.settimeout(timeout)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = client.recv(1)
            if not chunk:
                return _normal(data.decode()) + "<closed>"
            data += chunk
    except TimeoutError:
        return _normal(data.decode()) + "<quiet>"
    except ConnectionResetError:
        return _normal(data.decode()) + "<closed>"
    return _normal(data.decode())


def _normal(text: str) -> str:
    text = re.sub(r'"seconds": \d+, "microseconds": \d+', '"seconds": S, "microseconds": U', text)
    return re.sub(r"from pid \d+ \([^)]*\)", "from pid P (NAME)", text)


def _programs(version: str, target: str = "x86_64") -> tuple[list[str], list[str], str]:
    """Real QEMU's command, the stand-in's (same greeting), and QEMU's root ('' for 7.2)."""
    require_qemu(target, version)
    real = list(qemu_command(target, version))
    text = subprocess.run([*real, "--version"], capture_output=True, text=True, check=True)
    first = text.stdout.splitlines()[0].removeprefix("QEMU emulator version ")
    full, _, package = first.partition(" (")
    own = ["--qemu-version", full, "--qemu-package", package.removesuffix(")")]
    return real, stand_in(target, *own), qemu_root(version) or ""


def _session_transcript(process: Process, ending: str) -> list[str]:
    """Two socket chardevs and stdio; one client waits its turn; quit or SIGTERM."""
    log: list[str] = []
    path_a, path_b = "/tmp/cputopo-mon-a.sock", "/tmp/cputopo-mon-b.sock"
    stdin, stdout = process.proc.stdin, process.proc.stdout
    assert stdin is not None and stdout is not None
    log.append("stdio " + _normal(stdout.readline().decode()))
    first = process.connect(path_a)
    log.append("A1 " + _read(first))
    waiting = process.connect(path_a)
    log.append("A2 " + _read(waiting, QUIET))
    other = process.connect(path_b)
    log.append("B " + _read(other))
    log.append("socket file " + str(os.path.exists(process.host(path_a))))
    first.sendall(b'{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}\n')
    log.append("A1 " + _read(first))
    first.sendall(b'{"exec-oob": "query-version", "id": 1}\n')
    log.append("A1 " + _read(first))
    first.close()
    log.append("A2 " + _read(waiting))  # greeted now, a session of its own
    waiting.sendall(b'{"execute": "query-version", "id": 2}\n')
    log.append("A2 " + _read(waiting))
    waiting.sendall(b'{"execute": "qmp_capabilities"}\n{"exec-oob": "x", "id": 3}\n')
    log.append("A2 " + _read(waiting))
    log.append("A2 " + _read(waiting))
    stdin.write(b'{"execute": "qmp_capabilities"}\n')
    stdin.flush()
    log.append("stdio " + _normal(stdout.readline().decode()))
    if ending == "quit":
        waiting.sendall(b'{"execute": "quit", "id": 4}\n')
    else:
        process.proc.send_signal(signal.SIGTERM)
    log += ["A2 " + _read(waiting) for _ in range(3)]
    log += ["B " + _read(other) for _ in range(1)]
    out, err = process.proc.communicate(timeout=20)
    log.append("stdio " + _normal(out.decode()))
    log.append(f"exit {process.proc.returncode} stderr {_normal(err.decode())!r}")
    log.append("socket file after " + str(os.path.exists(process.host(path_a))))
    return log


def _monitor_args() -> list[str]:
    return [
        "-chardev",
        "socket,id=mon-a,path=/tmp/cputopo-mon-a.sock,server=on,wait=off",
        "-mon",
        "chardev=mon-a,mode=control",
        "-qmp",
        "unix:/tmp/cputopo-mon-b.sock,server,nowait",
        "-qmp",
        "stdio",
    ]


@pytest.mark.parametrize("ending", ["quit", "sigterm"])
@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_socket_sessions_match_qemu(version: str, ending: str) -> None:
    real, ours, root = _programs(version)
    transcripts = []
    for program, where in ((real, root), (ours, "")):
        # A stale file at the path: QEMU replaces it.
        with open(where + "/tmp/cputopo-mon-a.sock", "w") as stale:
            stale.write("stale")
        process = Process(program, where, _monitor_args())
        try:
            transcripts.append(_session_transcript(process, ending))
        finally:
            if process.proc.poll() is None:
                process.proc.kill()
                process.proc.wait()
    assert transcripts[1] == transcripts[0]


#: Bad monitor options, and good ones QEMU starts with (compared: stderr, status).
REFUSALS = [
    "-mon chardev=nosuch,mode=control",
    "-mon mode=control",
    "-mon nosuch",
    "-chardev nosuch,id=x",
    "-chardev socket,id=m1",
    "-chardev socket,path=/tmp/o1.sock,server=on,wait=off",
    "-chardev socket,id=m1,path=/tmp/o1.sock,server=on,wait=off "
    "-chardev socket,id=m1,path=/tmp/o2.sock,server=on,wait=off",
    "-qmp unix:/tmp/cputopo-nonexistent.sock,server=off",
    "-qmp unix:/tmp/cputopo-nonexistent.sock",
    "-qmp none",
    "-qmp bogus",
    "-qmp unix:",
    "-qmp stdio -qmp stdio",
    "-monitor stdio -qmp stdio",
    "-chardev socket,id=m1,path=/tmp/o1.sock,server=on,wait=off -mon chardev=m1,mode=bogus",
    "-chardev socket,id=m1,path=/tmp/o1.sock,server=on,wait=off "
    "-mon chardev=m1,mode=control -mon chardev=m1,mode=control",
    "-qmp unix:/tmp/o1.sock,server=on,wait=off,bogus=1",
    "-chardev socket,id=m1,path=/tmp/o1.sock,server=on,wait=off,bogus=1",
    "-mon chardev=m1,mode=control,bogus=1",
    "-mon chardev=m1,mode=readline,bogus",
    "-chardev socket,id=m1,fd=99,server=on,wait=off -mon chardev=m1,mode=control",
    "-chardev socket,id=m1,fd=abc,server=on,wait=off -mon chardev=m1,mode=control",
    "-chardev socket,id=m1,path=/nonexistentdir/x.sock,server=on,wait=off "
    "-mon chardev=m1,mode=control",
    "-chardev socket,id=m1,path=/tmp/o1.sock,wait=off -mon chardev=m1,mode=control",
    "-chardev socket,id=m1,path=/tmp/o1.sock,server=maybe,wait=off",
    "-chardev socket,id=1m,path=/tmp/o1.sock,server=on,wait=off",
    "-smp cpus=4,maxcpus=2 -mon chardev=nosuch,mode=control",
    "-smp cpus=4,maxcpus=2 -chardev nosuch,id=x",
    "-mon chardev=nosuch,mode=control -chardev socket,path=/tmp/x",
    "-foo -version",
    "-version -foo",
]


def _refusal(program: list[str], args: list[str]) -> tuple[int, str, str]:
    result = subprocess.run(
        [*program, *BASE, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    return result.returncode, result.stderr.decode(), result.stdout.decode()


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_bad_monitor_options_are_refused_as_qemu_refuses_them(version: str) -> None:
    real, ours, _root = _programs(version)
    for case in REFUSALS:
        args = shlex.split(case)
        assert _refusal(ours, args) == _refusal(real, args), case


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_version_and_machine_help_texts_are_qemus(target: str, version: str) -> None:
    real, ours, _root = _programs(version, target)
    default = catalogue.default_machine_type(target, version)
    queries = [["--version"], ["-version", "-M", "help"], ["-machine", "help"], ["-M", "?"]]
    if default is not None:
        queries += [["-M", f"{default},help"], ["-machine", f"type={default},help"]]
    for query in queries:
        assert _refusal(ours, query) == _refusal(real, query), query


#: Options whose order decides which query answers (or which refusal wins).
_ORDERED = ["-M help", "-smp help", "-version", "-M q35,help", "-smp foo", "-M nosuch"]


@settings(max_examples=12, deadline=None)
@given(st.lists(st.sampled_from(_ORDERED), min_size=1, max_size=3))
def test_the_first_query_in_the_line_answers(words: list[str]) -> None:
    # Generated orders of queries and bad options; the newest release only, to
    # keep the run short (every release's texts are compared above).
    real, ours, _root = _programs(QEMU_VERSIONS[-1])
    args = shlex.split(" ".join(words))
    assert _refusal(ours, args) == _refusal(real, args), words
