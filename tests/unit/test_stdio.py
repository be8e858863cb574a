"""``cputopo qemu-system-<target> ... -qmp stdio``: the stand-in as a process.

The process's behaviour was observed on QEMU 7.2.22 (Debian bookworm), 10.0.13
(Debian trixie) and 11.1.3 (Debian sid) with ``-accel tcg -S -nodefaults
-no-user-config -display none -qmp stdio``, input fed on stdin. The JSON
reader's tables are in ``tests/unit/test_qmp_json.py``, its properties in
``tests/property/test_stdio.py``; whole transcripts are compared with real QEMU
in ``tests/conformance/test_stdio.py`` and ``tests/conformance/test_qmp_json.py``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from topology.qemu._qmp_json import qmp_json

BASE = ["-accel", "tcg", "-S", "-nodefaults", "-no-user-config", "-display", "none"]
QMP = ["-qmp", "stdio"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def stand_in(target: str, *own: str) -> list[str]:
    return [sys.executable, "-m", "topology", f"qemu-system-{target}", *own]


def spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


# -- the writer -----------------------------------------------------------------


def test_writer_orders_members_as_qemu_prints_them() -> None:
    # QEMU 7.2: {"timestamp": ..., "event": "DEVICE_DELETED", "data": {"device": ..., "path": ...}}
    event = {"event": "DEVICE_DELETED", "data": {"path": "/p", "device": "hp0"}, "timestamp": {}}
    assert qmp_json(event) == (
        '{"timestamp": {}, "event": "DEVICE_DELETED", "data": {"device": "hp0", "path": "/p"}}'
    )


# -- the process, on its own ------------------------------------------------------


def talk(proc: subprocess.Popen[bytes], lines: list[str]) -> list[dict[str, object]]:
    """Send the lines, close stdin and read every message until the process ends."""
    out, _ = proc.communicate("".join(f"{line}\n" for line in lines).encode(), timeout=30)
    return [json.loads(line) for line in out.decode().splitlines()]


def test_greets_negotiates_strictly_and_quits() -> None:
    proc = spawn([*stand_in("s390x", "--qemu-version", "10.0.13"), *BASE, *QMP])
    messages = talk(
        proc,
        [
            '{"execute": "query-version", "id": "early"}',
            '{"execute": "qmp_capabilities"}',
            '{"execute": "query-version", "id": 1}',
            '{"execute": "quit"}',
        ],
    )
    assert proc.returncode == 0
    assert messages[0] == {
        "QMP": {
            "version": {"qemu": {"micro": 13, "minor": 0, "major": 10}, "package": ""},
            "capabilities": ["oob"],
        }
    }
    assert messages[1] == {
        "id": "early",
        "error": {
            "class": "CommandNotFound",
            "desc": "Expecting capabilities negotiation with 'qmp_capabilities'",
        },
    }
    assert messages[2] == {"return": {}}
    assert messages[3]["id"] == 1
    assert messages[4]["event"] == "SHUTDOWN" and set(messages[4]) == {"timestamp", "event", "data"}
    assert messages[5] == {"return": {}}


@pytest.mark.parametrize(
    ("version", "error"),
    [
        ("10.0.13", "JSON parse error, stray '@'"),
        ("11.1.3", "2:3: JSON parse error, stray '@'"),
    ],
)
def test_reads_input_as_its_release_does(version: str, error: str) -> None:
    # What QEMU 10.0.13 and 11.1.3 answered to the same two lines.
    proc = spawn([*stand_in("x86_64", "--qemu-version", version), *BASE, *QMP])
    messages = talk(proc, ['{"execute": "qmp_capabilities"}', "  @", '{"execute": "quit"}'])
    assert messages[2] == {"error": {"class": "GenericError", "desc": error}}


def test_end_of_input_keeps_it_running_until_a_signal() -> None:
    proc = spawn([*stand_in("x86_64", "--qemu-version", "7.2"), *BASE, *QMP])
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b'{"execute": "qmp_capabilities"}\n')
    proc.stdin.close()
    assert json.loads(proc.stdout.readline())["QMP"]
    assert json.loads(proc.stdout.readline()) == {"return": {}}
    time.sleep(0.3)
    assert proc.poll() is None  # QEMU does not stop at end of input either
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    event = json.loads(out)
    assert event["data"] == {"guest": False, "reason": "host-signal"}
    assert re.fullmatch(
        rf"qemu-system-x86_64: terminating on signal 15 from pid {os.getpid()} \(.+\)\n",
        err.decode(),
    )


def test_refused_start_prints_qemus_text_and_status() -> None:
    proc = spawn([*stand_in("x86_64", "--qemu-version", "7.2"), *BASE, *QMP, "-smp", "4,sockets=3"])
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (1, b"")
    assert err.decode() == (
        "qemu-system-x86_64: Invalid CPU topology: product of the hierarchy must match "
        "maxcpus: sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)\n"
    )


def test_warnings_of_a_hot_plugged_vcpu_go_to_stderr_as_it_is_added() -> None:
    # QEMU 7.2 under TCG prints the x2apic line for each vCPU it realizes: the boot
    # CPU's with the program name, the device_add one without (observed on 7.2.22).
    argv = [*stand_in("x86_64", "--qemu-version", "7.2"), *BASE, *QMP]
    proc = spawn([*argv, "-M", "q35", "-cpu", "qemu64,x2apic=on", "-smp", "1,maxcpus=2"])
    plug = {"driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 1, "thread-id": 0}
    commands = [
        {"execute": "qmp_capabilities"},
        {"execute": "device_add", "arguments": plug},
        {"execute": "quit"},
    ]
    text = "".join(json.dumps(command) + "\n" for command in commands).encode()
    _out, err = proc.communicate(text, timeout=30)
    line = "warning: TCG doesn't support requested feature: CPUID.01H:ECX.x2apic [bit 21]"
    assert err.decode().splitlines() == [f"qemu-system-x86_64: {line}", line]


def test_a_qemu_crash_is_a_death_by_the_same_signal() -> None:
    # QEMU 10.0 aborts for more than 255 x86 CPUs without x2apic (exit -6).
    argv = [*stand_in("x86_64", "--qemu-version", "10.0"), *BASE, *QMP, "-smp", "300"]
    proc = spawn([*argv, "-machine", "q35"])
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGABRT


def test_a_qemu_crash_in_a_command_is_a_death_by_the_same_signal() -> None:
    # QEMU 7.2 aborts on device_del of an ARM virt CPU (exit -6); the stand-in
    # answers QMP in a thread of its own, which dies the same way.
    argv = [*stand_in("aarch64", "--qemu-version", "7.2"), *BASE, *QMP, "-machine", "virt"]
    proc = spawn(argv)
    commands = [
        {"execute": "qmp_capabilities"},
        {"execute": "device_del", "arguments": {"id": "/machine/unattached/device[0]"}},
    ]
    text = "".join(json.dumps(command) + "\n" for command in commands).encode()
    _out, err = proc.communicate(text, timeout=30)
    assert proc.returncode == -signal.SIGABRT, err


@pytest.mark.parametrize(
    ("monitor", "why"),
    [
        (["-qmp", "tcp:127.0.0.1:4444,server=on,wait=off"], "stdio and UNIX sockets only"),
        (["-qmp", "stdio", "-qmp-pretty", "unix:/tmp/x.sock,server=on,wait=off"], "pretty"),
        (["-chardev", "pty,id=p", "-mon", "chardev=p,mode=control"], "pty back end"),
    ],
    ids=["tcp", "pretty", "pty"],
)
def test_monitors_the_stand_in_cannot_serve_are_refused_with_status_2(
    monitor: list[str], why: str
) -> None:
    proc = spawn([*stand_in("x86_64"), *BASE, *monitor])
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == b""
    # 11.1's -mon deprecation warning may come first, as QEMU prints it.
    last = err.decode().splitlines()[-1]
    assert last.startswith("cputopo: ") and why in last


def test_a_command_the_stand_in_does_not_model_gets_a_reply_no_qemu_sends() -> None:
    # Not QEMU's answer: the stand-in says why, in its own error class, and goes on.
    proc = spawn([*stand_in("x86_64", "--qemu-version", "7.2"), *BASE, *QMP, "-smp", "2"])
    commands = [
        {"execute": "qmp_capabilities"},
        {"execute": "qom-get", "arguments": {"path": "/machine/acpi-device", "property": "type"}},
        {
            "execute": "qom-get",
            "arguments": {"path": "/machine/unattached/device[0]", "property": "apic-id"},
        },
        {"execute": "quit"},
    ]
    text = "".join(json.dumps(command) + "\n" for command in commands).encode()
    out, err = proc.communicate(text, timeout=30)
    assert proc.returncode == 0, err
    replies = [json.loads(line) for line in out.decode().splitlines()][1:]
    assert replies[:3] == [
        {"return": {}},
        {"return": "PIIX4_PM"},
        {
            "error": {
                "class": "CputopoNotModelled",
                "desc": "cputopo: qom-get /machine/unattached/device[0] apic-id: "
                "the stand-in models no such property",
            }
        },
    ]
    assert replies[-1] == {"return": {}}


def test_tcg_running_out_of_vcpu_contexts_ends_as_qemu_ends() -> None:
    # Observed on QEMU 10.0.13: the second device_add gets no reply; QEMU prints
    # the failed assertion (GLib: on stderr and on stdout) and dies with SIGABRT.
    argv = [*stand_in("ppc64", "--qemu-version", "10.0"), *BASE, *QMP]
    proc = spawn([*argv, "-M", "pseries", "-smp", "1,maxcpus=2"])
    core = {"driver": "power10_v2.0-spapr-cpu-core", "core-id": 1, "id": "hp0"}
    commands = [
        {"execute": "qmp_capabilities"},
        {"execute": "device_add", "arguments": core},
        {"execute": "device_del", "arguments": {"id": "hp0"}},
        {"execute": "device_add", "arguments": core},
        {"execute": "quit"},
    ]
    text = "".join(json.dumps(command) + "\n" for command in commands).encode()
    out, err = proc.communicate(text, timeout=30)
    assert proc.returncode == -signal.SIGABRT
    *qmp, bail_out = out.decode().split("\r\n")
    messages = [json.loads(line) for line in qmp]
    assert [m for m in messages if "event" not in m][1:] == [{"return": {}}] * 3
    failed = "ERROR:tcg/tcg.c:1006:tcg_register_thread: assertion failed: (n < tcg_max_ctxs)"
    assert bail_out == f"Bail out! {failed}\n"  # GLib's, on stdout
    assert err.decode().splitlines()[-2:] == ["**", failed]
