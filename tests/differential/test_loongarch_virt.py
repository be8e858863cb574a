"""Differential test of the LoongArch ``virt`` plugin against real QEMU 7.2, 10.0 and 11.1.

The plugin (``arch.loongarch``) is found through the ``topology.arch`` entry
point only; these tests run what the other architectures' differential tests
run, on ``qemu-system-loongarch64``:

* generated command lines (a machine type name of that release, a ``-smp`` with
  the noise of ``test_smp.py``, sometimes ``-m`` with hot-plug slots or two
  NUMA nodes) started on QEMU and on the model (``VirtualMachine.start``): the
  same refusal (exit status, every stderr line), or the same start (its
  warnings, the topology QEMU's slots show, ``query-hotpluggable-cpus`` and
  ``query-cpus-fast``);
* generated ``device_add`` / ``device_del`` sequences (free and taken slots, ids
  out of range or of the wrong type, unknown and boolean properties, every
  loongarch CPU type, the abstract one and foreign ones, node-ids, duplicate
  ids, boot CPUs, unknown devices), compared reply by reply, then the queries;
* hand-picked command lines through the stand-in process (``python -m topology
  qemu-system-loongarch64``), whose whole transcript must be QEMU's.

QEMU 7.2 is the host's; 10.0 and 11.1 run in their Debian roots
(``tests/support/qemu_runner.py``): the trixie root needs ``qemu-system-misc``
(``.ci/setup-qemu-root trixie`` installs it), or ``CPUTOPO_QEMU10_ROOT`` naming a
root that has it.

``CPUTOPO_QEMU_EXAMPLES`` / 8 is the number of examples per test and release
(40 by default).
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import topology
from tests.differential.test_smp import smp_strings
from tests.support.plugins import require_entry_point
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QemuRun, run_qemu
from topology import TopologyError, VirtualMachine, query_cpus_fast, query_hotpluggable_cpus

pytestmark = pytest.mark.qemu

ROOT: Final = Path(__file__).resolve().parents[2]
VERSIONS: Final = ("7.2", "10.0", "11.1")
EXAMPLES: Final = max(4, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)
TARGET: Final = "loongarch64"
PREFIX: Final = "qemu-system-loongarch64: "
MiB: Final = 1024 * 1024
LA464: Final = "la464-loongarch-cpu"

_MEMBERS: Final = st.sampled_from(
    [
        *("sockets", "sockets", "cores", "cores", "threads", "threads", "maxcpus"),
        *("dies", "clusters", "modules", "books", "drawers"),
    ]
)
_MEMORY: Final = ("256M", "1G,slots=2,maxmem=2G", "1G,slots=257,maxmem=2G")


@pytest.fixture(autouse=True)
def _registered() -> None:
    require_entry_point("loongarch")


@dataclasses.dataclass(frozen=True)
class StartCase:
    """One command line: a machine type name, ``-smp``, maybe ``-m`` and NUMA."""

    machine: str
    smp: str
    memory: str | None = None
    numa: bool = False

    def qemu_args(self) -> list[str]:
        args = ["-machine", self.machine, "-smp", self.smp]
        if self.memory is not None:
            args += ["-m", self.memory]
        if self.numa:
            for node in (0, 1):
                args += ["-object", f"memory-backend-ram,id=m{node},size=128M"]
            args += ["-numa", "node,memdev=m0", "-numa", "node,memdev=m1"]
        return args

    def start(self, version: str) -> VirtualMachine:
        """The model's VM, or QEMU's refusal raised."""
        machine = topology.machine(TARGET, self.machine, qemu_version=version)
        return VirtualMachine.start(
            machine,
            self.smp,
            numa=["node,memdev=m0", "node,memdev=m1"] if self.numa else (),
            memory=self.memory,
            memory_backends={"m0": 128 * MiB, "m1": 128 * MiB} if self.numa else None,
        )


def _names(version: str) -> list[str]:
    types = topology.machine_types(TARGET, qemu_version=version)
    return sorted({name for t in types for name in (t.name, *t.aliases)})


def _numa(version: str) -> bool:
    return topology.machine_types(TARGET, qemu_version=version)[0].numa


@st.composite
def start_cases(draw: st.DrawFn, version: str) -> StartCase:
    memory = None
    numa = _numa(version) and draw(st.integers(0, 4)) == 0
    if numa:
        memory = "256M"
    elif draw(st.integers(0, 4)) == 0:
        memory = draw(st.sampled_from(_MEMORY))
    return StartCase(
        machine=draw(st.sampled_from(_names(version))),
        smp=draw(smp_strings(_MEMBERS)),
        memory=memory,
        numa=numa,
    )


def _stderr_lines(warnings: tuple[Any, ...], error: TopologyError | None) -> list[str]:
    lines = []
    for item in (*warnings, *([error] if error is not None else [])):
        lines.append(PREFIX + str(item))
        if item.hint is not None:
            lines += item.hint.splitlines()
    return lines


def _qemu_cpus(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """QEMU's query-cpus-fast reply without the host's thread ids."""
    return [{k: v for k, v in cpu.items() if k != "thread-id"} for cpu in reply["return"]]


def _model_cpus(vm: VirtualMachine) -> list[dict[str, Any]]:
    return [{k: v for k, v in cpu.items() if k != "thread-id"} for cpu in query_cpus_fast(vm)]


def _hotpluggable(vm: VirtualMachine) -> dict[str, Any]:
    try:
        return {"return": query_hotpluggable_cpus(vm)}
    except TopologyError as error:
        return {"error": {"class": "GenericError", "desc": str(error)}}


def _levels_of(entries: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(sockets, cores, threads) as QEMU's slots show them: the largest id + 1."""
    return tuple(
        max(entry["props"][name] for entry in entries) + 1
        for name in ("socket-id", "core-id", "thread-id")
    )


def compare_start(case: StartCase, version: str) -> bool:
    """Start ``case`` on QEMU ``version`` and on the model; assert they agree.

    False when QEMU gave no answer: with 2^31 sockets or more (``sockets=-1``)
    QEMU 10.0 and 11.1 warn, then never finish starting (they loop over the
    sockets while building the firmware tables); the model cannot say so.
    """
    require_qemu(TARGET, version)
    commands: list[tuple[str, dict[str, Any] | None]] = [
        ("query-hotpluggable-cpus", None),
        ("query-cpus-fast", None),
    ]
    run = run_qemu(TARGET, case.qemu_args(), commands, timeout=10, version=version)
    context = f"QEMU {version}: {shlex.join(case.qemu_args())}: {run.stderr_lines}"
    if run.timed_out:
        return False
    try:
        vm = case.start(version)
    except TopologyError as refusal:
        if refusal.crash_signal is not None:  # QEMU dies (SIGFPE filling in -smp)
            assert run.exit_code == -refusal.crash_signal, context
            return True
        assert run.exit_code == 1, context
        assert list(run.stderr_lines) == _stderr_lines(refusal.warnings, refusal), context
        return True
    assert run.exit_code == 0, context
    assert list(run.stderr_lines) == _stderr_lines(vm.warnings, None), context
    hotpluggable, cpus = run.replies
    assert hotpluggable == _hotpluggable(vm), context
    ours = _model_cpus(vm)
    assert _qemu_cpus(cpus) == ours, context
    # The resolved topology is the one QEMU's slots show (where it lists them).
    topo = vm.topology
    if "return" in hotpluggable:
        entries: list[dict[str, Any]] = hotpluggable["return"]  # type: ignore[assignment]
        assert len(entries) == topo.max_cpus, context
        if topo.sockets * topo.cores * topo.threads == topo.max_cpus:  # no count wrapped
            assert _levels_of(entries) == (topo.sockets, topo.cores, topo.threads), context
    assert len(cpus["return"]) == topo.cpus, context  # type: ignore[arg-type]
    return True


@pytest.mark.parametrize("version", VERSIONS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_command_lines_match_qemu(version: str, data: st.DataObject) -> None:
    assume(compare_start(data.draw(start_cases(version), label="case"), version))


# Hand-picked, each observed on the releases named (7.2.22, 10.0.13, 11.1.3).
KNOWN_STARTS: Final = [
    StartCase("virt", "5"),  # 7.2: 4 CPUs at most
    StartCase("virt", "1,maxcpus=257"),  # 256 from 10.0
    StartCase("virt", "1,sockets=3,cores=65,maxcpus=195"),  # 4 x 128 ids > 256
    StartCase("virt", "1,sockets=2,cores=65,maxcpus=130"),  # 2 x 128 fit
    StartCase("virt", "1,sockets=1,cores=4294967295,threads=4294967295"),  # 0-wide fields
    StartCase("virt", "2,dies=2"),
    StartCase("virt", "4,sockets=4", "1G,slots=257,maxmem=2G"),
    StartCase("virt", "2", "1G,slots=4,maxmem=2147484672"),  # 4 KiB, or 7.2's 16 KiB
    StartCase("virt", "2,sockets=2,cores=2,maxcpus=4", "256M", numa=True),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", KNOWN_STARTS, ids=str)
def test_known_command_lines_match_qemu(version: str, case: StartCase) -> None:
    assert compare_start(case, version)


# -- hot-plug sequences ----------------------------------------------------------------

SETUPS: Final = (
    StartCase("virt", "2,maxcpus=4"),
    StartCase("virt", "1,sockets=2,cores=2,maxcpus=4"),
    StartCase("virt", "1,sockets=2,cores=2,threads=2,maxcpus=8"),
    StartCase("virt", "2,sockets=2,cores=3,maxcpus=6"),
    StartCase("virt", "2,sockets=2,cores=2,maxcpus=4", "256M", numa=True),
)
_DRIVERS: Final = (
    "la132-loongarch-cpu",
    "max-loongarch-cpu",
    "loongarch-cpu",
    "no-such-cpu",
    "qemu64-x86_64-cpu",
)
_ODD_VALUES: Final = (-1, 2, 3, 2**31, -(2**31) - 1, "1", True)
_EXTRA_PROPS: Final = (
    ("cluster-id", 0),
    ("lsx", True),
    ("lsx", 1),
    ("ptw", False),
    ("start-powered-off", True),
)


@st.composite
def hotplug_commands(
    draw: st.DrawFn, setup: StartCase, version: str
) -> list[tuple[str, dict[str, Any]]]:
    """``device_add`` and ``device_del`` commands on ``setup`` (built from its slots)."""
    model = setup.start(version)
    boot_paths = [state.qom_path for state in model.snapshot().values()]
    commands: list[tuple[str, dict[str, Any]]] = []
    for step in range(draw(st.integers(1, 8), label="steps")):
        if draw(st.integers(0, 3)) == 0:
            names = [*(f"hp{n}" for n in range(step + 1)), "nope", *boot_paths]
            commands.append(("device_del", {"id": draw(st.sampled_from(names))}))
            continue
        slot = draw(st.sampled_from(model.slots))
        props: dict[str, Any] = dict(slot.props.as_qmp())
        if "node-id" in props and draw(st.booleans()):
            del props["node-id"]
        driver = LA464
        mutation = draw(st.integers(0, 9))
        if mutation == 0 and props:
            del props[draw(st.sampled_from(sorted(props)))]  # defaults to 0
        elif mutation == 1 and props:
            props[draw(st.sampled_from(sorted(props)))] = draw(st.sampled_from(_ODD_VALUES))
        elif mutation == 2:
            driver = draw(st.sampled_from(_DRIVERS))
        elif mutation == 3:
            props["node-id"] = draw(st.sampled_from([0, 1, 2]))
        elif mutation == 4:
            name, value = draw(st.sampled_from(_EXTRA_PROPS))
            props[name] = value
        arguments: dict[str, Any] = {"driver": driver, **props}
        if draw(st.booleans()):
            arguments["id"] = f"hp{draw(st.integers(0, step))}"
        commands.append(("device_add", arguments))
    return commands


def _model_reply(vm: VirtualMachine, command: str, arguments: dict[str, Any]) -> Any:
    """The model's reply, or the TopologyError of a command QEMU crashes on."""
    try:
        if command == "device_add":
            props = {k: v for k, v in arguments.items() if k not in ("driver", "id")}
            vm.plug(arguments["driver"], props, id=arguments.get("id"))
        else:
            vm.request_unplug(arguments["id"])
    except TopologyError as error:
        if error.crash_signal is not None:
            return error
        return {"error": {"class": error.qmp_class, "desc": str(error)}}
    return {"return": {}}


def compare_hotplug(
    setup: StartCase, commands: list[tuple[str, dict[str, Any]]], version: str
) -> None:
    """Run ``commands`` on QEMU ``version`` and on the model: the same replies, then
    the same slots and CPUs."""
    require_qemu(TARGET, version)
    queries: list[tuple[str, dict[str, Any] | None]] = [
        ("query-hotpluggable-cpus", None),
        ("query-cpus-fast", None),
    ]
    run: QemuRun = run_qemu(
        TARGET, setup.qemu_args(), [*commands, *queries], timeout=20, version=version
    )
    vm = setup.start(version)
    context = f"QEMU {version}: {shlex.join(setup.qemu_args())}: {commands}"
    for position, (command, arguments) in enumerate(commands):
        before = vm.snapshot()
        ours = _model_reply(vm, command, arguments)
        if isinstance(ours, TopologyError):
            # QEMU crashes here: no reply, killed by that signal.
            assert len(run.replies) == position, context
            assert run.exit_code == -(ours.crash_signal or 0), (context, run.stderr_lines)
            return
        assert run.replies[position] == ours, f"{context}: {command} {arguments}"
        if "error" in ours:
            assert vm.snapshot() == before, "a refused command changed the model"
    assert run.exit_code == 0, (context, run.stderr_lines)
    hotpluggable, cpus = run.replies[len(commands) :]
    assert hotpluggable == _hotpluggable(vm), context
    ours_cpus = _model_cpus(vm)
    assert _qemu_cpus(cpus) == ours_cpus, context


def _setups(version: str) -> list[StartCase]:
    """The set-ups QEMU ``version`` starts (7.2: 4 CPUs at most, no NUMA)."""
    found = []
    for setup in SETUPS:
        try:
            setup.start(version)
        except TopologyError:
            continue
        found.append(setup)
    return found


@pytest.mark.parametrize("version", VERSIONS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_hotplug_sequences_match_qemu(version: str, data: st.DataObject) -> None:
    setup = data.draw(st.sampled_from(_setups(version)), label="setup")
    compare_hotplug(setup, data.draw(hotplug_commands(setup, version), label="commands"), version)


# -- the stand-in process ---------------------------------------------------------------

#: The stand-in as a process, run from this checkout (it finds the plugin through
#: the entry point of the installed package, as any program would).
STANDIN: Final = (sys.executable, "-m", "topology", "qemu-system-loongarch64")

# Hand-picked sessions, each observed on 10.0.13 and 11.1.3 (7.2.22 refuses or
# aborts as the model says).
KNOWN_SESSIONS: Final = [
    (
        StartCase("virt", "1,sockets=2,cores=2,threads=2,maxcpus=8"),
        [
            ("device_add", {"driver": LA464, "socket-id": 1, "core-id": 1, "thread-id": 1,
                            "id": "x"}),
            ("device_add", {"driver": "max-loongarch-cpu", "socket-id": 1, "id": "y"}),
            ("device_add", {"driver": LA464, "socket-id": 1}),
            ("device_add", {"driver": LA464, "thread-id": -1, "core-id": 9}),
            ("device_del", {"id": "x"}),
            ("device_del", {"id": "/machine/unattached/device[0]"}),
        ],
    ),
    (
        StartCase("virt", "2,sockets=2,cores=2,maxcpus=4", "256M", numa=True),
        [
            ("device_add", {"driver": LA464, "socket-id": 1, "node-id": 0}),
            ("device_add", {"driver": LA464, "socket-id": 1, "core-id": 1, "id": "n1"}),
            ("device_del", {"id": "/machine/unattached/device[1]"}),
        ],
    ),
    (StartCase("virt", "2,maxcpus=4"), [("device_del", {"id": "/machine/unattached/device[1]"})]),
]  # fmt: skip


def _transcript(run: QemuRun) -> tuple[Any, ...]:
    replies = []
    for reply in run.replies:
        returned = reply.get("return")
        if isinstance(returned, list) and returned and "cpu-index" in returned[0]:
            reply = {"return": [{k: v for k, v in cpu.items() if k != "thread-id"}
                                for cpu in returned]}  # fmt: skip
        replies.append(reply)
    events = [{k: v for k, v in e.items() if k != "timestamp"} for e in run.events]
    return run.exit_code, run.stderr_lines, replies, events


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("setup", "commands"), KNOWN_SESSIONS, ids=str)
def test_the_standin_process_answers_as_qemu(
    version: str, setup: StartCase, commands: list[tuple[str, dict[str, Any]]]
) -> None:
    require_qemu(TARGET, version)
    session: list[tuple[str, dict[str, Any] | None]] = [
        ("query-hotpluggable-cpus", None),
        *commands,
        ("query-hotpluggable-cpus", None),
        ("query-cpus-fast", None),
    ]
    qemu = run_qemu(TARGET, setup.qemu_args(), session, timeout=20, version=version)
    standin = run_qemu(
        TARGET,
        setup.qemu_args(),
        session,
        timeout=60,
        program=(*STANDIN, "--qemu-version", version),
    )
    ours = _transcript(standin)
    theirs = _transcript(qemu)
    if qemu.exit_code < 0:
        # A crash: the same signal after the same replies; QEMU's own report of it
        # (an assertion's text) is not the stand-in's.
        assert (ours[0], ours[2]) == (theirs[0], theirs[2])
        return
    assert ours == theirs


@pytest.mark.parametrize("version", ["10.0", "11.1"])
def test_query_cpus_fast_names_each_cpus_own_type(version: str) -> None:
    # A max-loongarch-cpu plugged into an la464 machine: its own type in
    # query-cpus-fast (qom-type, from QEMU 10.1), the machine's for its slot in
    # query-hotpluggable-cpus.
    setup = StartCase("virt", "1,maxcpus=2")
    compare_hotplug(setup, [("device_add", {"driver": "max-loongarch-cpu", "core-id": 1})], version)
    vm = setup.start(version)
    vm.plug("max-loongarch-cpu", {"core-id": 1})
    types = [cpu.get("qom-type") for cpu in query_cpus_fast(vm)]
    assert types == ([None, None] if version == "10.0" else [LA464, "max-loongarch-cpu"])
    assert query_hotpluggable_cpus(vm)[0]["type"] == LA464
