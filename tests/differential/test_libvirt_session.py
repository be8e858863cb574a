"""A session the way libvirt's QEMU driver runs one, through ``qemu.qmp`` on a socket,
against the process stand-in and real QEMU 7.2, 10.0 and 11.1.

libvirt starts QEMU with its monitor on a UNIX socket (``-chardev
socket,id=charmonitor,path=...,server=on,wait=off -mon
chardev=charmonitor,id=monitor,mode=control``), negotiates capabilities, asks
what it needs before the guest runs (``query-status``, ``query-cpus-fast``,
``query-hotpluggable-cpus``, ``qom-list /machine/peripheral`` for device
aliases, and the probing queries of its capability cache: ``query-version``,
``query-commands``, ``query-target``, ``query-kvm``, ``query-machines``,
``query-cpu-definitions``), resumes the guest, then hot-plugs a vCPU as
``virsh setvcpus --live`` does (``device_add`` with the slot's properties and
an id ``vcpuN``, then the same queries again) and unplugs one where the target
can. Both must give the same transcript: every reply and every event, in
order, host thread ids and timestamps aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest
from qemu.qmp import EventListener, ExecuteError, QMPClient

from tests.differential.test_monitors import Process, _programs
from tests.differential.test_standin_commands import _without_host_values
from tests.support.qemu_runner import QEMU_VERSIONS

pytestmark = pytest.mark.qemu

SOCKET = "/tmp/cputopo-libvirt-session.sock"
MONITOR = [
    "-chardev",
    f"socket,id=charmonitor,path={SOCKET},server=on,wait=off",
    "-mon",
    "chardev=charmonitor,id=monitor,mode=control",
]

#: (target, command line, the commands after negotiation up to ``cont``).
CASES = [
    ("x86_64", ["-machine", "q35", "-smp", "2,sockets=2,cores=2,maxcpus=4", "-m", "512M"]),
    ("ppc64", ["-machine", "pseries", "-smp", "1,maxcpus=4", "-m", "512M"]),
    ("aarch64", ["-machine", "virt", "-cpu", "max", "-smp", "2", "-m", "512M"]),
]

_PROBES = [
    "query-version",
    "query-commands",
    "query-target",
    "query-kvm",
    "query-machines",
    "query-cpu-definitions",
]
_STATE = ["query-status", "query-cpus-fast", "query-hotpluggable-cpus"]
_ALIASES = ("qom-list", {"path": "/machine/peripheral"})


async def _drive(path: str) -> list[Any]:
    client = QMPClient("cputopo-test")
    deadline = time.monotonic() + 20
    while True:
        try:
            await client.connect(path)
            break
        except Exception:  # the server may not listen yet
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
    listener = EventListener()
    client.register_listener(listener)
    transcript: list[Any] = []

    async def run(command: str, arguments: dict[str, Any] | None = None) -> Any:
        try:
            reply: Any = await client.execute(command, arguments)
        except ExecuteError as error:
            reply = {"error": {"class": error.error_class, "desc": error.error.error.desc}}
        await asyncio.sleep(0.05)  # events QEMU sends right after the reply
        events = [{"event": e["event"], "data": e.get("data")} for e in listener.clear()]
        transcript.append((command, arguments, _without_host_values(reply), events))
        return reply

    for command in [*_STATE, *_PROBES]:
        await run(command)
    await run(*_ALIASES)
    await run("cont")
    await run("query-status")
    slots = await run("query-hotpluggable-cpus")
    free = [slot for slot in slots if "qom-path" not in slot] if isinstance(slots, list) else []
    if free:
        # libvirt plugs the first free slot of its vCPU order: QEMU lists slots
        # newest first, so the last one without a device.
        slot = free[-1]
        await run("device_add", {"driver": slot["type"], **slot["props"], "id": "vcpu1"})
        for command in _STATE:
            await run(command)
        await run(*_ALIASES)
        await run("device_del", {"id": "vcpu1"})
        await run("query-hotpluggable-cpus")
        await run(*_ALIASES)
    await run("human-monitor-command", {"command-line": "info hotpluggable-cpus"})
    # Not one of libvirt's start queries: here for the monitor object -mon's id
    # names among the memory backends (QEMU 11.1).
    await run("query-memdev")
    await run("quit")
    # QEMU closed the socket as it exited: disconnect reports it again.
    with contextlib.suppress(EOFError):
        await client.disconnect()
    return transcript


def _session(program: list[str], root: str, args: list[str]) -> tuple[list[Any], int, str]:
    process = Process(program, root, [*MONITOR, *args])
    try:
        transcript = asyncio.run(_drive(process.host(SOCKET)))
        _, err = process.proc.communicate(timeout=20)
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.communicate()
    return transcript, process.proc.returncode, err.decode()


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(("target", "args"), CASES, ids=[target for target, _ in CASES])
def test_a_libvirt_like_session_has_qemus_transcript(
    version: str, target: str, args: list[str]
) -> None:
    real, stand_in, root = _programs(version, target)
    expected = _session(real, root, args)
    got = _session(stand_in, "", args)
    for ours, theirs in zip(got[0], expected[0], strict=True):
        assert ours == theirs
    assert got[1:] == expected[1:]


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_monitors_of_every_kind_keep_qemus_transcript(version: str) -> None:
    # From 11.1 each monitor is an object under /objects beside the memory
    # backends (-mon's id, else compat_monitorN), which moves query-memdev's order.
    real, stand_in, root = _programs(version, "x86_64")
    args = [
        *["-machine", "q35", "-smp", "2,maxcpus=4", "-m", "128M"],
        *["-object", "memory-backend-ram,id=J0,size=64M"],
        *["-object", "memory-backend-ram,id=z9,size=64M"],
        *["-qmp", "unix:/tmp/cputopo-libvirt-extra-1.sock,server=on,wait=off"],
        *["-chardev", "socket,id=c2,path=/tmp/cputopo-libvirt-extra-2.sock,server=on,wait=off"],
        *["-mon", "chardev=c2,mode=control"],
    ]
    expected = _session(real, root, args)
    got = _session(stand_in, "", args)
    for ours, theirs in zip(got[0], expected[0], strict=True):
        assert ours == theirs
    assert got[1:] == expected[1:]
