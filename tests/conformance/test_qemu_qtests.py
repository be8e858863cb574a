"""QEMU's own qtests for CPUs and NUMA, replayed on the stand-in and on real QEMU.

QEMU checks its CPU topology and NUMA code with qtests; this module takes their
command lines, commands and asserted values (the facts, not their code) and
asserts the same on :class:`topology.qemu.QemuSimulator` and on real QEMU, for
every release in ``QEMU_VERSIONS``. Real QEMU is the proof that each check is
right: a check real QEMU fails is a wrong check, not a gap of the stand-in.
Where the stand-in misses an expectation, its case is an ``xfail(strict=True)``
that names the gap, so closing it turns the case red until the mark goes.

The cases, by source (QEMU's ``tests/qtest/``, test path in brackets):

* ``numa-test.c``: ``/numa/mon/cpus/explicit``, ``/numa/mon/cpus/default``,
  ``/numa/mon/cpus/partial`` (HMP ``info numa``), ``/numa/qmp/cpus/query-cpus``
  (``query-cpus-fast``), each on x86_64, ppc64 and aarch64 as QEMU builds the
  test for them; ``/numa/pc/cpu/explicit``, ``/numa/pc/dynamic/cpu``
  (``--preconfig``, ``set-numa-node``, ``x-exit-preconfig``), ``/numa/pc/hmat/build``,
  ``/numa/pc/hmat/off``, ``/numa/pc/hmat/erange`` (x86_64);
  ``/numa/spapr/cpu/explicit`` (ppc64); ``/numa/aarch64/cpu/explicit`` (aarch64);
  ``/numa/loongarch64/cpu/explicit`` (loongarch64, from 10.0: QEMU 7.2's
  LoongArch virt has no NUMA). The i386 runs of the pc cases are left out:
  the stand-in models qemu-system-x86_64.
* ``cpu-plug-test.c``: ``cpu-plug/<machine>/device-add/<sockets>x<cores>x<threads>&maxcpus=<n>``:
  ``device_add`` of every CPU ``query-hotpluggable-cpus`` lists as not present,
  for the ``pc-*`` types (i440fx and q35) of x86_64, ``pseries-*`` from 2.7 on,
  and ``s390-ccw-virtio-*``. The machine types are those the release's
  ``query-machines`` lists, and by default, as in QEMU's quick mode, only
  those of the release's own version; ``CPUTOPO_QTEST_SLOW=1`` runs every one,
  as QEMU's ``-m slow`` does. Under TCG the pseries types get ``cap-htm=off``
  (the qtest's ``-accel qtest`` needs no such option).
* ``device-plug-test.c``: ``/device-plug/spapr-cpu-unplug-request``: a pseries
  core's ``device_del`` while paused, then ``system_reset`` finishes it
  (``DEVICE_DELETED``).
* ``qmp-cmd-test.c``: ``qmp/query-cpus-fast`` and ``qmp/query-hotpluggable-cpus``
  on ``-machine none``: the first answers, the second fails with ``GenericError``.

The qtests start QEMU with ``-accel qtest``; here QEMU runs under TCG with
``BASE_ARGS`` (paused), or without ``-S`` where the qtest waits for ``RESUME``
after ``x-exit-preconfig``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Any, Literal

import pytest

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, QEMU_VERSIONS, Command, qemu_command, run_qemu
from topology.qemu import QemuCrashError, QemuSimulator, QemuStartError
from topology.testing._qemu_process import run_qemu as run_argv

pytestmark = [pytest.mark.qemu, pytest.mark.conformance]

Backend = Literal["stand-in", "qemu"]
BACKENDS: tuple[Backend, ...] = ("stand-in", "qemu")

#: BASE_ARGS without -S: the guest runs after x-exit-preconfig (RESUME).
_RUNNING_ARGS = tuple(arg for arg in BASE_ARGS if arg != "-S")

#: QEMU's quick mode leaves out the machine types of older releases.
_SLOW = os.environ.get("CPUTOPO_QTEST_SLOW") == "1"


@dataclasses.dataclass(frozen=True)
class Session:
    """What one run answered: replies in command order, events, how it ended."""

    replies: tuple[dict[str, Any], ...]
    events: tuple[dict[str, Any], ...]
    exit_code: int | None
    stderr_lines: tuple[str, ...]

    def reply(self, index: int) -> dict[str, Any]:
        """The reply to command ``index``; fails the test when there is none."""
        assert index < len(self.replies), (
            f"no reply to command {index}: {len(self.replies)} replies, exit {self.exit_code}, "
            f"stderr {self.stderr_lines}"
        )
        return self.replies[index]

    def result(self, index: int) -> Any:
        """The ``return`` of command ``index``; fails the test on an error."""
        reply = self.reply(index)
        assert "return" in reply, reply
        return reply["return"]

    def failed(self, index: int) -> bool:
        """Whether command ``index`` was answered with an error."""
        return "error" in self.reply(index)

    def event_names(self) -> list[str]:
        """The names of the events, in order."""
        return [str(event.get("event")) for event in self.events]


def drive(
    backend: Backend,
    target: str,
    version: str,
    args: Sequence[str],
    commands: Sequence[Command],
    *,
    running: bool = False,
) -> Session:
    """Start ``backend`` as ``qemu-system-<target> BASE_ARGS args``, run ``commands``, quit.

    ``running`` leaves out ``-S``. Real QEMU is skipped (or failed, when
    required) with ``require_qemu``'s reason when it is missing here.
    """
    base = _RUNNING_ARGS if running else BASE_ARGS
    if backend == "qemu":
        require_qemu(target, version)
        if running:
            run = run_argv((*qemu_command(target, version), *base, *args), commands)
        else:
            run = run_qemu(target, args, commands, version=version)
        events = tuple({k: v for k, v in e.items() if k != "timestamp"} for e in run.events)
        return Session(tuple(run.replies), events, run.exit_code, run.stderr_lines)
    try:
        sim = QemuSimulator([f"qemu-system-{target}", *base, *args], version=version)
    except QemuStartError as refused:
        return Session((), (), refused.exit_code, tuple(refused.stderr.splitlines()))
    sim.qmp("qmp_capabilities")
    replies: list[dict[str, Any]] = []
    exit_code: int | None = 0
    for command, arguments in commands:
        try:
            replies.append(sim.qmp(command, arguments))
        except QemuCrashError as crash:
            exit_code = (
                crash.exit_status if crash.crash_signal is None else -int(crash.crash_signal)
            )
            break
    else:
        sim.qmp("quit")
    return Session(tuple(replies), tuple(sim.events()), exit_code, sim.stderr_lines)


def _runs(
    gaps: dict[str, str] | None = None,
    versions: Sequence[str] = QEMU_VERSIONS,
    raises: type[BaseException] | None = None,
) -> list[Any]:
    """(version, backend) parameters.

    ``gaps`` maps a release to the stand-in's gap there: that stand-in case is
    a strict xfail (raising ``raises``, when given).
    """
    params = []
    for version in versions:
        for backend in BACKENDS:
            reason = (gaps or {}).get(version) if backend == "stand-in" else None
            marks = [pytest.mark.xfail(strict=True, reason=reason, raises=raises)] if reason else []
            params.append(pytest.param(version, backend, id=f"{version}-{backend}", marks=marks))
    return params


def _hmp(line: str) -> Command:
    return ("human-monitor-command", {"command-line": line})


def _numa(**arguments: object) -> Command:
    return ("set-numa-node", dict(arguments))


# numa-test.c adds one memory backend, "ram", to every command line (512M on
# ppc64) and -machine virt on aarch64.
_NUMA_BASE: dict[str, tuple[str, ...]] = {
    "x86_64": ("-object", "memory-backend-ram,id=ram,size=128M"),
    "ppc64": ("-object", "memory-backend-ram,id=ram,size=512M"),
    "aarch64": ("-object", "memory-backend-ram,id=ram,size=128M", "-machine", "virt"),
    "loongarch64": ("-object", "memory-backend-ram,id=ram,size=128M"),
}
_GENERIC_TARGETS = ("x86_64", "ppc64", "aarch64")


def _numa_args(target: str, line: str) -> list[str]:
    return [*_NUMA_BASE[target], *line.split()]


def _info_numa(target: str, version: str, backend: Backend, line: str) -> str:
    session = drive(backend, target, version, _numa_args(target, line), [_hmp("info numa")])
    text = session.result(0)
    assert isinstance(text, str)
    return text


# --- numa-test.c: /numa/mon/cpus/* and /numa/qmp/cpus/query-cpus -----------------


@pytest.mark.parametrize("target", _GENERIC_TARGETS)
@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_mon_cpus_explicit(target: str, version: str, backend: Backend) -> None:
    # numa-test.c /numa/mon/cpus/explicit
    text = _info_numa(
        target,
        version,
        backend,
        "-machine smp.cpus=8 -numa node,nodeid=0,memdev=ram,cpus=0-3 -numa node,nodeid=1,cpus=4-7",
    )
    assert "node 0 cpus: 0 1 2 3" in text, text
    assert "node 1 cpus: 4 5 6 7" in text, text


@pytest.mark.parametrize("target", _GENERIC_TARGETS)
@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_mon_cpus_default(target: str, version: str, backend: Backend) -> None:
    # numa-test.c /numa/mon/cpus/default: CPUs not mapped spread over the nodes.
    text = _info_numa(
        target,
        version,
        backend,
        "-machine smp.cpus=8,smp.sockets=8 -numa node,memdev=ram -numa node",
    )
    assert "node 0 cpus: 0 2 4 6" in text, text
    assert "node 1 cpus: 1 3 5 7" in text, text


@pytest.mark.parametrize("target", _GENERIC_TARGETS)
@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_mon_cpus_partial(target: str, version: str, backend: Backend) -> None:
    # numa-test.c /numa/mon/cpus/partial: CPUs not mapped go to node 0.
    text = _info_numa(
        target,
        version,
        backend,
        "-machine smp.cpus=8 -numa node,nodeid=0,memdev=ram,cpus=0-1 -numa node,nodeid=1,cpus=4-5",
    )
    assert "node 0 cpus: 0 1 2 3 6 7" in text, text
    assert "node 1 cpus: 4 5" in text, text


def _cpus_fast(target: str, version: str, backend: Backend, line: str) -> list[dict[str, Any]]:
    session = drive(backend, target, version, _numa_args(target, line), [("query-cpus-fast", None)])
    cpus = session.result(0)
    assert isinstance(cpus, list) and cpus, cpus
    return cpus


@pytest.mark.parametrize("target", _GENERIC_TARGETS)
@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_qmp_cpus_query_cpus(target: str, version: str, backend: Backend) -> None:
    # numa-test.c /numa/qmp/cpus/query-cpus
    cpus = _cpus_fast(
        target,
        version,
        backend,
        "-machine smp.cpus=8 -numa node,memdev=ram,cpus=0-3 -numa node,cpus=4-7",
    )
    assert len(cpus) == 8
    for cpu in cpus:
        index, node = cpu["cpu-index"], cpu["props"]["node-id"]
        assert node == (0 if 0 <= index < 4 else 1), cpu


# --- numa-test.c: the target-specific -numa cpu cases ----------------------------


def _node_of(cpus: list[dict[str, Any]], rule: Callable[[dict[str, int]], int]) -> None:
    for cpu in cpus:
        props = cpu["props"]
        assert props["node-id"] == rule(props), cpu


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_pc_cpu_explicit(version: str, backend: Backend) -> None:
    # numa-test.c /numa/pc/cpu/explicit
    cpus = _cpus_fast(
        "x86_64",
        version,
        backend,
        "-cpu max -machine smp.cpus=8,smp.sockets=2,smp.cores=2,smp.threads=2 "
        "-numa node,nodeid=0,memdev=ram -numa node,nodeid=1 "
        "-numa cpu,node-id=1,socket-id=0 "
        "-numa cpu,node-id=0,socket-id=1,core-id=0 "
        "-numa cpu,node-id=0,socket-id=1,core-id=1,thread-id=0 "
        "-numa cpu,node-id=1,socket-id=1,core-id=1,thread-id=1",
    )

    def expected(props: dict[str, int]) -> int:
        socket, core, thread = props["socket-id"], props["core-id"], props["thread-id"]
        if socket == 0:
            return 1
        assert socket == 1 and core in (0, 1) and thread in (0, 1), props
        return 1 if (core, thread) == (1, 1) else 0

    assert len(cpus) == 8
    _node_of(cpus, expected)


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_spapr_cpu_explicit(version: str, backend: Backend) -> None:
    # numa-test.c /numa/spapr/cpu/explicit
    cpus = _cpus_fast(
        "ppc64",
        version,
        backend,
        "-machine smp.cpus=4,smp.cores=4 -numa node,nodeid=0,memdev=ram -numa node,nodeid=1 "
        "-numa cpu,node-id=0,core-id=0 -numa cpu,node-id=0,core-id=1 "
        "-numa cpu,node-id=0,core-id=2 -numa cpu,node-id=1,core-id=3",
    )

    def expected(props: dict[str, int]) -> int:
        assert 0 <= props["core-id"] <= 3, props
        return 1 if props["core-id"] == 3 else 0

    assert len(cpus) == 4
    _node_of(cpus, expected)


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_aarch64_cpu_explicit(version: str, backend: Backend) -> None:
    # numa-test.c /numa/aarch64/cpu/explicit
    cpus = _cpus_fast(
        "aarch64",
        version,
        backend,
        "-machine smp.cpus=2,smp.sockets=2,smp.clusters=1,smp.cores=1,smp.threads=1 "
        "-numa node,nodeid=0,memdev=ram -numa node,nodeid=1 "
        "-numa cpu,node-id=0,socket-id=1,cluster-id=0,core-id=0,thread-id=0 "
        "-numa cpu,node-id=1,socket-id=0,cluster-id=0,core-id=0,thread-id=0",
    )

    def expected(props: dict[str, int]) -> int:
        place = (props["socket-id"], props["cluster-id"], props["core-id"], props["thread-id"])
        assert place in ((0, 0, 0, 0), (1, 0, 0, 0)), props
        return 1 if place[0] == 0 else 0

    assert len(cpus) == 2
    _node_of(cpus, expected)


# QEMU 7.2's LoongArch virt has no NUMA ("NUMA is not supported by this
# machine-type"): the qtest came with it, after 7.2.
@pytest.mark.parametrize(
    ("version", "backend"), _runs(versions=[v for v in QEMU_VERSIONS if v != "7.2"])
)
def test_numa_loongarch64_cpu_explicit(version: str, backend: Backend) -> None:
    # numa-test.c /numa/loongarch64/cpu/explicit
    cpus = _cpus_fast(
        "loongarch64",
        version,
        backend,
        "-machine smp.cpus=2,smp.sockets=2,smp.cores=1,smp.threads=1 "
        "-numa node,nodeid=0,memdev=ram -numa node,nodeid=1 "
        "-numa cpu,node-id=0,socket-id=1,core-id=0,thread-id=0 "
        "-numa cpu,node-id=1,socket-id=0,core-id=0,thread-id=0",
    )

    def expected(props: dict[str, int]) -> int:
        place = (props["socket-id"], props["core-id"], props["thread-id"])
        assert place in ((0, 0, 0), (1, 0, 0)), props
        return 1 if place[0] == 0 else 0

    assert len(cpus) == 2
    _node_of(cpus, expected)


# --- numa-test.c: --preconfig cases (x86_64) ------------------------------------


def _preconfig(version: str, backend: Backend, line: str, commands: Sequence[Command]) -> Session:
    """``commands`` then ``x-exit-preconfig`` on a running (no -S) --preconfig QEMU."""
    args = _numa_args("x86_64", f"--preconfig {line}")
    return drive(
        backend, "x86_64", version, args, [*commands, ("x-exit-preconfig", None)], running=True
    )


def _leaves_preconfig(session: Session, index: int) -> None:
    """x-exit-preconfig (command ``index``) succeeded and the guest resumed."""
    assert not session.failed(index), session.reply(index)
    assert "RESUME" in session.event_names(), session.events


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_pc_dynamic_cpu(version: str, backend: Backend) -> None:
    # numa-test.c /numa/pc/dynamic/cpu: sockets mapped to nodes in reverse, over QMP.
    commands: list[Command] = [
        _numa(type="node", nodeid=0, memdev="ram"),
        _numa(type="node", nodeid=1),
        _numa(type="cpu", **{"node-id": 0, "socket-id": 1}),
        _numa(type="cpu", **{"node-id": 1, "socket-id": 0}),
    ]
    args = _numa_args("x86_64", "--preconfig -machine smp.cpus=2,smp.sockets=2")
    session = drive(
        backend,
        "x86_64",
        version,
        args,
        [*commands, ("x-exit-preconfig", None), ("query-hotpluggable-cpus", None)],
        running=True,
    )
    for index in range(len(commands)):
        assert not session.failed(index), session.reply(index)
    _leaves_preconfig(session, len(commands))
    cpus = session.result(len(commands) + 1)
    assert len(cpus) == 2
    for cpu in cpus:
        props = cpu["props"]
        assert props["socket-id"] in (0, 1), cpu
        assert props["node-id"] == 1 - props["socket-id"], cpu


_HMAT_LINE = (
    "-machine hmat=on -machine smp.cpus=2,smp.sockets=2 -m 128M,slots=2,maxmem=1G "
    "-object memory-backend-ram,size=64M,id=m0 -object memory-backend-ram,size=64M,id=m1 "
    "-numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1,initiator=0 "
    "-numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=0,socket-id=1"
)


def _lb(initiator: int, target: int, data_type: str, **value: int) -> Command:
    return _numa(
        type="hmat-lb",
        initiator=initiator,
        target=target,
        hierarchy="memory",
        **{"data-type": data_type},
        **value,
    )


def _cache(node: int, level: int, associativity: str, policy: str, line: int) -> Command:
    return _numa(
        type="hmat-cache",
        **{"node-id": node},
        size=10240,
        level=level,
        associativity=associativity,
        policy=policy,
        line=line,
    )


def _check_refusals(
    version: str, backend: Backend, line: str, steps: Sequence[tuple[Command, bool]]
) -> None:
    """Each step's command is refused (True) or accepted (False), then the guest runs."""
    session = _preconfig(version, backend, line, [command for command, _ in steps])
    for index, (command, refused) in enumerate(steps):
        assert session.failed(index) == refused, (index, command, session.reply(index))
    _leaves_preconfig(session, len(steps))


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_pc_hmat_build(version: str, backend: Backend) -> None:
    # numa-test.c /numa/pc/hmat/build
    steps: list[tuple[Command, bool]] = [
        (_lb(2, 0, "access-latency"), True),  # initiator past the last node
        (_lb(0, 2, "access-latency"), True),  # target past the last node
        (_lb(1, 0, "access-latency"), True),  # initiator without CPUs
        (_lb(0, 0, "write-latency", bandwidth=524288000), True),  # bandwidth for latency
        (_lb(0, 0, "read-bandwidth", latency=5), True),  # latency for bandwidth
        (_lb(0, 0, "access-bandwidth", bandwidth=1048575), True),  # not MiB-aligned
        (_lb(0, 0, "access-latency", latency=1), False),
        (_lb(0, 0, "access-latency", latency=5), True),  # given twice
        (_lb(0, 0, "access-bandwidth", bandwidth=68717379584), False),
        (_lb(0, 1, "access-latency", latency=65534), False),
        (_lb(0, 1, "access-bandwidth", bandwidth=34358689792), False),
        (_cache(2, 1, "direct", "write-back", 8), True),  # node past the last
        (_cache(0, 4, "direct", "write-back", 8), True),  # level too high
        (_cache(0, 0, "direct", "none", 0), True),  # level 0 needs associativity none
        (_cache(0, 0, "none", "write-back", 0), True),  # level 0 needs policy none
        (_cache(0, 0, "none", "none", 8), True),  # level 0 needs line 0
        (_cache(0, 1, "direct", "write-back", 8), False),
        (_cache(0, 1, "direct", "write-back", 8), True),  # given twice
        (_cache(0, 2, "direct", "write-back", 8), True),  # level 2 not smaller than 1
        (_cache(0, 0, "direct", "write-back", 8), True),  # level 0 not larger than 1
        (_cache(1, 1, "direct", "write-back", 8), False),
    ]
    _check_refusals(version, backend, f"-nodefaults {_HMAT_LINE}", steps)


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_pc_hmat_off(version: str, backend: Backend) -> None:
    # numa-test.c /numa/pc/hmat/off: HMAT options need -machine hmat=on.
    line = (
        "-nodefaults -machine smp.cpus=2,smp.sockets=2 -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,size=64M,id=m0,prealloc=y "
        "-object memory-backend-ram,size=64M,id=m1 -numa node,nodeid=0,memdev=m0"
    )
    steps: list[tuple[Command, bool]] = [
        (_numa(type="node", nodeid=1, memdev="m1", initiator=0), True),
        (_numa(type="node", nodeid=1, memdev="m1"), False),
        (_lb(0, 0, "access-latency", latency=1), True),
        (_cache(0, 1, "direct", "write-back", 8), True),
    ]
    _check_refusals(version, backend, line, steps)


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_numa_pc_hmat_erange(version: str, backend: Backend) -> None:
    # numa-test.c /numa/pc/hmat/erange: values the HMAT's compressed form cannot hold.
    steps: list[tuple[Command, bool]] = [
        (_lb(0, 0, "access-latency", latency=1), False),
        (_lb(0, 1, "access-latency", latency=65535), True),
        (_lb(0, 0, "access-bandwidth", bandwidth=0), False),
        (_cache(0, 1, "direct", "write-back", 8), True),  # bandwidth of node 1 missing
        (_lb(0, 1, "access-bandwidth", bandwidth=68718428160), True),
    ]
    _check_refusals(version, backend, f"-nodefaults {_HMAT_LINE}", steps)


# --- cpu-plug-test.c -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PlugFamily:
    """One family of cpu-plug-test's cases: which machine types, and how it plugs."""

    target: str
    select: Callable[[str], bool]
    machine_options: str
    cpu_model: str
    device: str
    sockets: int
    cores: int
    threads: int


def _pseries_from_2_7(name: str) -> bool:
    if not name.startswith("pseries-"):
        return False
    major, _, minor = name.removeprefix("pseries-").partition(".")
    return not (major == "2" and minor.isdigit() and int(minor) < 7)


_PLUG_FAMILIES: dict[str, PlugFamily] = {
    "pc": PlugFamily(
        target="x86_64",
        select=lambda name: name.startswith("pc-"),
        machine_options="",
        cpu_model="Haswell",
        device="Haswell-x86_64-cpu",
        sockets=1,
        cores=3,
        threads=2,
    ),
    "pseries": PlugFamily(
        target="ppc64",
        select=_pseries_from_2_7,
        # The qtest runs under -accel qtest; under TCG the older pseries types
        # refuse to start with their default cap-htm=on ("No Transactional
        # Memory support in TCG"), so HTM is off, as QEMU's hint says.
        machine_options=",cap-htm=off",
        cpu_model="power8_v2.0",
        device="power8_v2.0-spapr-cpu-core",
        sockets=2,
        cores=3,
        threads=1,
    ),
    "s390x": PlugFamily(
        target="s390x",
        select=lambda name: name.startswith("s390-ccw-virtio-"),
        machine_options="",
        cpu_model="qemu",
        device="qemu-s390x-cpu",
        sockets=1,
        cores=3,
        threads=1,
    ),
}


def _plug_machines(family: PlugFamily, version: str, backend: Backend) -> list[str]:
    """The machine types of the family the release lists; in quick mode its own version's."""
    # The qtest lists them on -machine none; query-machines lists the same on
    # any machine type, and the stand-in does not model "none" (see
    # test_qmp_cmd_cpu_queries), so the default machine type answers here.
    listing = drive(backend, family.target, version, [], [("query-machines", None)])
    names = sorted(str(m["name"]) for m in listing.result(0) if family.select(str(m["name"])))
    if not _SLOW:
        names = [name for name in names if name.endswith(f"-{version}")]
    assert names, f"QEMU {version} lists no machine type for this family"
    return names


@pytest.mark.parametrize("family", sorted(_PLUG_FAMILIES))
@pytest.mark.parametrize(("version", "backend"), _runs())
def test_cpu_plug_device_add(family: str, version: str, backend: Backend) -> None:
    # cpu-plug-test.c cpu-plug/<machine>/device-add/...: every CPU not present plugs.
    spec = _PLUG_FAMILIES[family]
    maxcpus = spec.sockets * spec.cores * spec.threads
    for machine in _plug_machines(spec, version, backend):
        args = [
            "-machine", machine + spec.machine_options,
            "-cpu", spec.cpu_model,
            "-smp", f"1,sockets={spec.sockets},cores={spec.cores},threads={spec.threads},"
            f"maxcpus={maxcpus}",
        ]  # fmt: skip
        query: Command = ("query-hotpluggable-cpus", None)
        slots = drive(backend, spec.target, version, args, [query]).result(0)
        absent = [slot["props"] for slot in slots if "qom-path" not in slot]
        assert absent, (machine, slots)
        plugs: list[Command] = [("device_add", {"driver": spec.device, **p}) for p in absent]
        session = drive(backend, spec.target, version, args, [query, *plugs])
        for index, props in enumerate(absent, start=1):
            assert "return" in session.reply(index), (machine, props, session.reply(index))
        # The qtest's device_add helper takes an event before the reply as a
        # failure; the only event here must be quit's SHUTDOWN.
        assert session.exit_code == 0, (machine, session.stderr_lines)
        assert set(session.event_names()) <= {"SHUTDOWN"}, (machine, session.events)


# --- device-plug-test.c: /device-plug/spapr-cpu-unplug-request -------------------


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_device_plug_spapr_cpu_unplug_request(version: str, backend: Backend) -> None:
    # device-plug-test.c /device-plug/spapr-cpu-unplug-request: the guest does not
    # run, so the unplug is only requested; system_reset completes it.
    args = [
        "-cpu", "power9_v2.0", "-smp", "1,maxcpus=2",
        "-device", "power9_v2.0-spapr-cpu-core,core-id=1,id=dev0",
    ]  # fmt: skip
    session = drive(
        backend,
        "ppc64",
        version,
        args,
        [("device_del", {"id": "dev0"}), ("system_reset", None)],
    )
    assert "return" in session.reply(0), session.reply(0)
    assert "return" in session.reply(1), session.reply(1)
    deleted = [
        event
        for event in session.events
        if event.get("event") == "DEVICE_DELETED" and event.get("data", {}).get("device") == "dev0"
    ]
    assert deleted, session.events


# --- qmp-cmd-test.c: the CPU queries on -machine none -----------------------------


@pytest.mark.parametrize(("version", "backend"), _runs())
def test_qmp_cmd_cpu_queries(version: str, backend: Backend) -> None:
    # qmp-cmd-test.c qmp/query-cpus-fast (answers) and qmp/query-hotpluggable-cpus
    # (GenericError: the machine cannot hot-plug CPUs) with -nodefaults -machine none.
    session = drive(
        backend,
        "x86_64",
        version,
        ["-machine", "none"],
        [("query-cpus-fast", None), ("query-hotpluggable-cpus", None)],
    )
    assert isinstance(session.result(0), list), session.reply(0)
    error = session.reply(1).get("error")
    assert error is not None and error["class"] == "GenericError", session.reply(1)
