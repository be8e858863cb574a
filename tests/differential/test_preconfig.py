"""Differential tests: ``--preconfig``, ``set-numa-node``, ``x-exit-preconfig``: stand-in vs QEMU.

QEMU started with ``--preconfig`` reads the command line, then waits over QMP
for ``x-exit-preconfig`` before it builds the machine; ``set-numa-node`` adds
``-numa`` options meanwhile (QEMU's numa-test ``/numa/pc/dynamic/cpu``). Each
case runs the same command line and commands on real QEMU 7.2, 10.0 and 11.1
and on :class:`topology.qemu.QemuSimulator`: every reply, event and stderr line
and the exit status must be equal. An error in ``x-exit-preconfig`` makes QEMU
exit with status 1 and no reply; the stand-in raises
:class:`topology.qemu.QemuCrashError` with ``exit_status`` 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.test_hotplug import EXAMPLES
from tests.differential.test_standin_commands import _without_host_values
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, QEMU_VERSIONS, Command, qemu_command
from topology.qemu import QemuCrashError, QemuSimulator
from topology.testing._qemu_process import run_qemu as run_argv

pytestmark = pytest.mark.qemu

#: BASE_ARGS without -S: the VM runs after x-exit-preconfig (RESUME).
_RUNNING_ARGS = tuple(arg for arg in BASE_ARGS if arg != "-S")


def _compare(
    target: str, args: list[str], commands: list[Command], version: str, *, paused: bool = True
) -> None:
    require_qemu(target, version)
    base = BASE_ARGS if paused else _RUNNING_ARGS
    run = run_argv((*qemu_command(target, version), *base, "--preconfig", *args), commands)
    sim = QemuSimulator([f"qemu-system-{target}", *base, "--preconfig", *args], version=version)
    sim.qmp("qmp_capabilities")
    replies: list[dict[str, Any]] = []
    exit_status = None
    for command, arguments in commands:
        try:
            replies.append(sim.qmp(command, arguments))
        except QemuCrashError as crash:
            exit_status = crash.exit_status
            break
    else:
        sim.qmp("quit")
        exit_status = 0
    context = (version, args, commands)
    assert _without_host_values(replies) == _without_host_values(list(run.replies)), context
    events = [{k: v for k, v in event.items() if k != "timestamp"} for event in run.events]
    assert sim.events() == events, context
    assert sim.stderr_lines == run.stderr_lines, context
    assert exit_status == run.exit_code, context


def _node(**members: object) -> Command:
    return ("set-numa-node", {"type": "node", **members})


#: (target, command line, commands): QEMU's numa-test cases, the phase's refusals,
#: a refused x-exit-preconfig, pseries cores mapped by CPU index.
CASES: list[tuple[str, list[str], list[Command]]] = [
    (
        # numa-test /numa/pc/dynamic/cpu, with queries before and after.
        "x86_64",
        ["-machine", "smp.cpus=2,smp.sockets=2", "-object", "memory-backend-ram,id=ram,size=128M"],
        [
            ("query-status", None),
            ("query-hotpluggable-cpus", None),
            _node(nodeid=0, memdev="ram"),
            _node(nodeid=1),
            ("set-numa-node", {"type": "cpu", "node-id": 0, "socket-id": 1}),
            ("query-hotpluggable-cpus", None),
            ("set-numa-node", {"type": "cpu", "node-id": 1, "socket-id": 0}),
            ("query-memdev", None),
            ("x-exit-preconfig", None),
            ("query-hotpluggable-cpus", None),
            ("query-cpus-fast", None),
            ("query-status", None),
            ("set-numa-node", {"type": "node", "nodeid": 3}),
            ("x-exit-preconfig", None),
        ],
    ),
    (
        "x86_64",
        ["-smp", "2,sockets=2,maxcpus=4", "-name", "pre"],
        [
            ("query-cpus-fast", None),
            ("device_add", {"driver": "qemu64-x86_64-cpu", "id": "c1"}),
            ("cont", None),
            ("human-monitor-command", {"command-line": "info numa"}),
            ("query-memory-size-summary", None),
            ("query-name", None),
            ("qom-list", {"path": "/machine/peripheral"}),
            ("qom-get", {"path": "/machine", "property": "type"}),
            ("nosuch", None),
            ("x-exit-preconfig", {"x": 1}),
            _node(nodeid=0, cputopo=1),
            _node(nodeid="0"),
            _node(nodeid=70000),
            _node(nodeid=-1),
            _node(nodeid=1.5),
            _node(mem="1G"),
            _node(mem=64 << 20),
            _node(cpus=5),
            _node(cpus=[0, "a"]),
            ("set-numa-node", {"type": "foo"}),
            ("set-numa-node", {}),
            ("set-numa-node", {"type": "dist", "src": 0, "dst": 1}),
            ("set-numa-node", {"type": "dist", "src": 0, "dst": 1, "val": 300}),
            ("set-numa-node", {"type": "cpu", "node-id": "0"}),
            ("set-numa-node", {"type": "cpu", "node-id": 0}),
            _node(nodeid=0, cpus=[0, 9]),
            ("query-hotpluggable-cpus", None),
            _node(nodeid=0),
            ("set-numa-node", {"type": "cpu", "node-id": 0, "socket-id": 1, "die-id": 0}),
            ("set-numa-node", {"type": "cpu", "node-id": 0, "cluster-id": 0}),
            ("query-hotpluggable-cpus", None),
            ("x-exit-preconfig", None),
        ],
    ),
    (
        # Node 1 without node 0: refused when the machine is built.
        "x86_64",
        ["-smp", "2,sockets=2"],
        [_node(nodeid=1), ("query-status", None), ("x-exit-preconfig", None)],
    ),
    (
        "ppc64",
        ["-smp", "4,threads=2,maxcpus=8"],
        [
            ("query-hotpluggable-cpus", None),
            _node(nodeid=0),
            _node(nodeid=1, cpus=[2, 3, 5]),
            ("set-numa-node", {"type": "dist", "src": 0, "dst": 1, "val": 40}),
            ("query-hotpluggable-cpus", None),
            ("x-exit-preconfig", None),
            ("query-hotpluggable-cpus", None),
        ],
    ),
    (
        "aarch64",
        ["-M", "virt", "-smp", "2"],
        [
            _node(nodeid=0),
            _node(nodeid=1),
            ("set-numa-node", {"type": "cpu", "node-id": 1, "thread-id": 0}),
            ("set-numa-node", {"type": "cpu", "node-id": 0, "thread-id": 1}),
            ("x-exit-preconfig", None),
            ("query-hotpluggable-cpus", None),
        ],
    ),
]


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(
    ("target", "args", "commands"), CASES, ids=[f"{t} {' '.join(a)}" for t, a, _ in CASES]
)
def test_preconfig_session_answers_as_qemu(
    version: str, target: str, args: list[str], commands: list[Command]
) -> None:
    _compare(target, args, commands, version)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_x_exit_preconfig_without_s_runs_the_vm(version: str) -> None:
    commands: list[Command] = [
        ("query-status", None),
        _node(nodeid=0),
        ("x-exit-preconfig", None),
        ("query-status", None),
        ("cont", None),
    ]
    _compare("x86_64", ["-smp", "2"], commands, version, paused=False)


_GENERATED = settings(
    max_examples=max(EXAMPLES // 16, 4),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_SMALL = st.integers(0, 3)
_JUNK = st.sampled_from([-1, 70000, "1", 1.5, None, True])


@st.composite
def _set_numa_node(draw: st.DrawFn, target: str) -> Command:
    """A set-numa-node QEMU may accept or refuse: mostly sound members, some junk."""
    kind = draw(st.sampled_from(["node", "node", "cpu", "cpu", "dist", "junk"]))
    if kind == "node":
        members: dict[str, object] = {}
        if draw(st.booleans()):
            members["nodeid"] = draw(_SMALL | _JUNK)
        if draw(st.integers(0, 3)) == 0:
            members["cpus"] = draw(st.lists(st.integers(0, 9), max_size=3))
        if target == "x86_64" and draw(st.integers(0, 3)) == 0:
            members["memdev"] = draw(st.sampled_from(["m0", "m1", "nosuch"]))
        return _node(**members)
    if kind == "cpu":
        props = ["socket-id", "core-id", "thread-id"] if target == "x86_64" else ["core-id"]
        members = {"type": "cpu"}
        if draw(st.integers(0, 5)) > 0:
            members["node-id"] = draw(_SMALL)
        for name in draw(st.lists(st.sampled_from(props), unique=True, max_size=2)):
            members[name] = draw(st.integers(0, 4) if target == "x86_64" else st.integers(0, 8))
        return ("set-numa-node", members)
    if kind == "dist":
        return (
            "set-numa-node",
            {
                "type": "dist",
                "src": draw(_SMALL),
                "dst": draw(_SMALL),
                "val": draw(st.integers(5, 40)),
            },
        )
    junk: list[dict[str, object]] = [{"type": "x"}, {"type": "node", "y": 1}, {}]
    return ("set-numa-node", draw(st.sampled_from(junk)))


@st.composite
def _session(draw: st.DrawFn, target: str) -> tuple[list[str], list[Command]]:
    if target == "x86_64":
        sockets, cores, threads = (
            draw(st.integers(1, 3)),
            draw(st.integers(1, 2)),
            draw(st.integers(1, 2)),
        )
        cpus = sockets * cores * threads
        shape = f"sockets={sockets},cores={cores},threads={threads},maxcpus={cpus}"
        args = [
            "-smp", f"{draw(st.integers(1, cpus))},{shape}",
            "-m", "128M",
            "-object", "memory-backend-ram,id=m0,size=64M",
            "-object", "memory-backend-ram,id=m1,size=64M",
        ]  # fmt: skip
    else:
        threads, cores = draw(st.sampled_from([1, 2, 4])), draw(st.integers(1, 3))
        args = ["-smp", f"{threads},threads={threads},maxcpus={threads * cores}"]
    commands = draw(st.lists(_set_numa_node(target), max_size=6))
    commands += [("query-hotpluggable-cpus", None), ("x-exit-preconfig", None)]
    commands += [("query-hotpluggable-cpus", None), ("query-status", None)]
    return args, commands


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("target", ["x86_64", "ppc64"])
def test_generated_preconfig_sessions_answer_as_qemu(target: str, version: str) -> None:
    require_qemu(target, version)

    @_GENERATED
    @given(case=_session(target))
    def check(case: tuple[list[str], list[Command]]) -> None:
        args, commands = case
        _compare(target, args, commands, version)

    check()


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_the_process_writes_what_qemu_writes(version: str) -> None:
    # Byte for byte on stdout (timestamps aside) and on stderr, with the exit
    # status: the stand-in as a process, fed the same stdin as QEMU.
    require_qemu("x86_64", version)
    commands = [
        {"execute": "qmp_capabilities"},
        {"execute": "query-status"},
        {"execute": "set-numa-node", "arguments": {"type": "node", "nodeid": 1}},
        {"execute": "query-hotpluggable-cpus"},
        {"execute": "x-exit-preconfig"},
        {"execute": "quit"},
    ]
    stdin = "".join(json.dumps(command) + "\n" for command in commands).encode()
    args = (*BASE_ARGS, "--preconfig", "-smp", "2,sockets=2")
    real = subprocess.run(
        [*qemu_command("x86_64", version), *args], input=stdin, capture_output=True, timeout=30
    )
    ours = subprocess.run(
        [sys.executable, "-m", "topology", "qemu-system-x86_64", "--qemu-version", version, *args],
        input=stdin,
        capture_output=True,
        timeout=30,
    )
    assert _untimed(ours.stdout) == _untimed(real.stdout)
    assert ours.stderr == real.stderr
    assert ours.returncode == real.returncode == 1


def _untimed(stdout: bytes) -> list[str]:
    lines = []
    for line in stdout.decode().splitlines():
        message = json.loads(line)
        if "QMP" in message:
            continue  # the greeting names the package and capabilities
        message.pop("timestamp", None)
        lines.append(json.dumps(message))  # keeps QEMU's member order
    return lines
