"""The stand-in's monitors on their own: inherited fds, wait=on, client sockets.

Compared with real QEMU in ``tests/differential/test_monitors.py``; these are
the parts that need no QEMU (libvirt's ``fd=`` form, a client socket the test
listens on) or that QEMU behaves alike for and are quick to check here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile

from tests.unit.test_stdio import BASE, ROOT, stand_in


def _read_message(connection: socket.socket) -> dict[str, object]:
    connection.settimeout(30)
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(1)
        assert chunk, f"end of file after {data!r}"
        data += chunk
    message = json.loads(data)
    assert isinstance(message, dict)
    return message


def _start(args: list[str], pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*stand_in("x86_64", "--qemu-version", "10.0"), *BASE, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
        env={**os.environ, "PYTHONPATH": ROOT},
    )


def test_an_inherited_listening_socket_is_served_as_libvirt_passes_it() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "monitor.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)
        fd = listener.fileno()
        proc = _start(
            [
                "-chardev",
                f"socket,id=charmonitor,fd={fd},server=on,wait=off",
                "-mon",
                "chardev=charmonitor,id=monitor,mode=control",
            ],
            pass_fds=(fd,),
        )
        listener.close()
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        assert "QMP" in _read_message(client)
        client.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n')
        assert _read_message(client) == {"return": {}}
        assert _read_message(client)["event"] == "SHUTDOWN"
        assert _read_message(client) == {"return": {}}
        assert proc.wait(timeout=30) == 0
        assert os.path.exists(path)  # not the stand-in's to remove: libvirt made it


def test_wait_on_blocks_until_a_client_connects_and_says_so() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "monitor.sock")
        proc = _start(["-qmp", f"unix:{path},server=on"])
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert line == (
            f"qemu-system-x86_64: -qmp unix:{path},server=on: info: QEMU waiting for "
            f"connection on: disconnected:unix:{path},server=on\n"
        )
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(path)
        assert "QMP" in _read_message(client)
        proc.terminate()
        assert proc.wait(timeout=30) == 0
        assert not os.path.exists(path)


def test_a_client_socket_connects_to_the_tools_server() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "tool.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        proc = _start(["-chardev", f"socket,id=m,path={path}", "-mon", "chardev=m,mode=control"])
        connection, _ = server.accept()
        assert "QMP" in _read_message(connection)
        connection.sendall(b'{"execute": "query-version"}\n')
        assert _read_message(connection)["error"] == {
            "class": "CommandNotFound",
            "desc": "Expecting capabilities negotiation with 'qmp_capabilities'",
        }
        connection.sendall(b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n')
        assert _read_message(connection) == {"return": {}}
        assert _read_message(connection)["event"] == "SHUTDOWN"
        assert proc.wait(timeout=30) == 0
        server.close()


def test_a_refused_start_leaves_the_socket_file_as_qemu_does() -> None:
    # QEMU binds before it checks -smp and exits 1 without removing the file.
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "monitor.sock")
        proc = _start(["-qmp", f"unix:{path},server=on,wait=off", "-smp", "cpus=4,maxcpus=2"])
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 1 and b"maxcpus must be equal" in err
        assert os.path.exists(path)
