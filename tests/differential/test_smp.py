"""Differential test: ``-smp`` resolution against real QEMU 7.2, on generated configurations.

Each example draws an architecture, a machine type of QEMU 7.2 (old and new,
so both fill-in policies), a ``-smp`` string (mostly small valid counts, with
zeros, huge, negative and C-literal values and syntax noise mixed in) and, on
aarch64, a GIC version. It then starts real QEMU with that command line and
compares with ``topology.machine(...).resolve(...)``:

* a refusal: QEMU exits 1 and its last error line is ``qemu-system-<arch>: `` plus
  ``str(error)`` (and the hint line after it, when the error has one); QEMU's
  SIGFPE crash (exit -8) must be predicted as a refusal too;
* a start: the CPU slots QEMU lists (``query-hotpluggable-cpus``, or
  ``query-cpus-fast`` where hot-plug is off) have the count, the present CPUs and
  the topology ids that the resolved topology implies, by QEMU's id formulas;
* either way, QEMU's warnings are the model's, in order.

``CPUTOPO_QEMU_EXAMPLES`` sets the number of examples (default 320).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import topology
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QemuRun, run_qemu
from topology import QemuWarning

pytestmark = pytest.mark.qemu

VERSION = "7.2"
EXAMPLES = int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320"))

# Machine types of QEMU 7.2 drawn from: the newest, the last prefer-sockets one
# (6.1), the first prefer-cores one (6.2), and a few older ones.
MACHINES: dict[str, list[str]] = {
    "x86_64": [
        "pc-q35-7.2",
        "pc-i440fx-7.2",
        "pc-q35-6.1",
        "pc-q35-6.2",
        "pc-i440fx-2.6",
        "pc-i440fx-1.4",
        "pc-q35-2.7",
        "microvm",
        "isapc",
    ],
    "ppc64": [
        "pseries-7.2",
        "pseries-6.1",
        "pseries-6.2",
        "pseries-2.7",
        "pseries-4.1",
        "pseries-4.0",
        "pseries-2.5",
    ],
    "s390x": ["s390-ccw-virtio-7.2", "s390-ccw-virtio-7.1", "s390-ccw-virtio-6.1"],
    "aarch64": ["virt-7.2", "virt-6.1", "virt-6.2", "virt-2.12"],
}

# TCG warns about CPU features it cannot provide (x86 CPUID bits of models such
# as EPYC, pseries spectre/meltdown capabilities at every start); those lines
# depend on the CPU model, not on the topology, and the model does not predict them.
_IGNORED_WARNINGS = ("TCG doesn't support requested feature",)

_SMALL = st.integers(1, 6).map(str)
_ODD = st.sampled_from(
    ["0", "-1", "0x2", "010", "4294967296", "4294967298", " 2", "x", "", "65536", "2147483648"]
)
_VALUE = st.one_of(_SMALL, _SMALL, _SMALL, _SMALL, _SMALL, _ODD)
_MEMBER = st.sampled_from(
    ["sockets", "sockets", "dies", "clusters", "cores", "cores", "threads", "threads", "maxcpus"]
)


@st.composite
def smp_strings(draw: st.DrawFn, members: st.SearchStrategy[str] = _MEMBER) -> str:
    """-smp strings: optional cpus first, then some members, sometimes noise."""
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(st.one_of(st.integers(1, 24).map(str), _ODD)))
    for member in draw(st.lists(members, max_size=4)):
        if member == "maxcpus":
            parts.append(f"maxcpus={draw(st.one_of(st.integers(1, 48).map(str), _ODD))}")
        else:
            parts.append(f"{member}={draw(_VALUE)}")
    text = ",".join(parts)
    noise = draw(st.integers(0, 24))
    if noise == 0:
        text += draw(st.sampled_from([",", ",foo=1", ",books=2", ",,", ",cpus.a=1"]))
    elif noise == 1:
        text = draw(st.sampled_from([",", "=", "sockets", "4,8"])) + text
    return text


@st.composite
def configurations(
    draw: st.DrawFn,
    machines: dict[str, list[str]] = MACHINES,
    members: st.SearchStrategy[str] = _MEMBER,
) -> tuple[str, str, dict[str, str], str]:
    """An architecture, one of its machine types, board options and a -smp string."""
    arch = draw(st.sampled_from(sorted(machines)))
    machine_name = draw(st.sampled_from(machines[arch]))
    options: dict[str, str] = {}
    if arch == "aarch64" and draw(st.booleans()):
        options["gic-version"] = draw(st.sampled_from(["2", "3", "max"]))
    return arch, machine_name, options, draw(smp_strings(members))


def _qemu_warnings(run: QemuRun) -> list[str]:
    prefix = "qemu-system-"
    found = []
    for line in run.stderr_lines:
        if prefix in line and ": warning: " in line:
            message = line.split(": warning: ", 1)[1]
            if not message.startswith(_IGNORED_WARNINGS):
                found.append(message)
    return found


def _model_warnings(warnings: Sequence[QemuWarning]) -> list[str]:
    """The model's warnings, but those _IGNORED_WARNINGS leaves out of QEMU's."""
    return [w.message for w in warnings if not w.message.startswith(_IGNORED_WARNINGS)]


def _qemu_error(run: QemuRun, arch: str) -> tuple[str, str | None]:
    """QEMU's error line (without its prefix) and the line after it, if any."""
    prefix = f"qemu-system-{arch}: "
    lines = list(run.stderr_lines)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line.startswith(prefix) and not line.startswith(prefix + "warning: "):
            after = lines[index + 1] if index + 1 < len(lines) else None
            return line[len(prefix) :], after
    raise AssertionError(f"no error line in {lines!r}")


def _u32(*factors: int) -> int:
    """A product as QEMU's unsigned ints compute it (counts such as -1 wrap)."""
    product = 1
    for factor in factors:
        product = product * factor % 2**32
    return product


def _expected_slots(
    arch: str, topo: topology.CpuTopology, version: str = VERSION
) -> Counter[tuple[Any, ...]]:
    """The slots QEMU lists for a topology, by its id formulas (notes §2.3, §3.1, §4.1, §6, §10)."""
    slots: Counter[tuple[Any, ...]] = Counter()
    if arch == "ppc64":
        for slot in range(topo.max_cpus // topo.threads):
            props = {"core-id": slot * topo.threads, "node-id": 0}
            present = slot < topo.cpus // topo.threads
            slots[(tuple(sorted(props.items())), present, topo.threads)] += 1
        return slots
    for index in range(topo.max_cpus):
        if arch == "x86_64":
            props = {
                "socket-id": index // _u32(topo.dies, topo.modules, topo.cores, topo.threads),
                "core-id": index // topo.threads % topo.cores,
                "thread-id": index % topo.threads,
            }
            if topo.dies > 1:
                props["die-id"] = index // _u32(topo.modules, topo.cores, topo.threads) % topo.dies
            if topo.modules > 1:
                props["module-id"] = index // _u32(topo.cores, topo.threads) % topo.modules
        elif arch == "s390x":
            props = {"core-id": index}
            if version != "7.2":
                # QEMU 10 derives these from core-id, ignoring threads.
                props["socket-id"] = index // topo.cores % topo.sockets
                props["book-id"] = index // _u32(topo.cores, topo.sockets) % topo.books
                props["drawer-id"] = (
                    index // _u32(topo.cores, topo.sockets, topo.books) % topo.drawers
                )
        else:  # aarch64 virt, QEMU 7.1+
            props = {
                "socket-id": index // _u32(topo.clusters, topo.cores, topo.threads),
                "cluster-id": index // _u32(topo.cores, topo.threads) % topo.clusters,
                "core-id": index // topo.threads % topo.cores,
                "thread-id": index % topo.threads,
            }
        slots[(tuple(sorted(props.items())), index < topo.cpus, 1)] += 1
    return slots


def _qemu_slots(run: QemuRun, hotplug: bool) -> Counter[tuple[Any, ...]]:
    reply = run.replies[0]
    assert "return" in reply, reply
    entries: list[dict[str, Any]] = reply["return"]  # type: ignore[assignment]
    slots: Counter[tuple[Any, ...]] = Counter()
    for entry in entries:
        props = tuple(sorted(entry["props"].items()))
        if hotplug:
            slots[(props, "qom-path" in entry, entry["vcpus-count"])] += 1
        else:
            slots[(props, True, 1)] += 1
    return slots


def _compare(
    arch: str, machine_name: str, options: dict[str, str], smp: str, version: str = VERSION
) -> bool:
    """Start QEMU ``version`` with ``-machine machine_name,options -smp smp`` and
    assert that the model answers the same; False when QEMU gave no answer."""
    require_qemu(arch, version)
    board = {k: v for k, v in options.items() if k != "cpu"}
    machine_option = ",".join([machine_name, *(f"{k}={v}" for k, v in board.items())])
    cpu_args = ["-cpu", options["cpu"]] if "cpu" in options else []
    model = topology.machine(arch, machine_name, qemu_version=version, **options)
    hotplug = model.type.hotpluggable_cpus
    query = "query-hotpluggable-cpus" if hotplug else "query-cpus-fast"
    run = run_qemu(
        arch,
        ["-machine", machine_option, *cpu_args, "-smp", smp],
        [(query, None)],
        timeout=10,
        version=version,
    )
    # With counts that wrap (sockets=-1 is 4294967295 sockets), some boards loop
    # over every socket while building firmware tables and never finish starting.
    # There is then no answer from QEMU to compare with.
    if run.timed_out:
        return False
    context = f"qemu-system-{arch} -machine {machine_option} -smp {smp!r}: {run.stderr_lines}"
    try:
        topo = model.resolve(smp)
    except topology.TopologyError as error:
        if run.exit_code == -8:  # SIGFPE: QEMU divided by zero
            assert "divides by zero" in str(error), context
            return True
        # The model says when QEMU crashes instead of exiting (QEMU 9.0-10.0 abort
        # when a boot CPU needs x2APIC).
        signal = error.crash_signal
        assert run.exit_code == (-signal if signal else 1), context
        message, after = _qemu_error(run, arch)
        assert message == str(error), context
        if error.hint is not None:
            assert after == error.hint, context
        assert _qemu_warnings(run) == _model_warnings(error.warnings), context
        return True
    assert run.exit_code == 0 and run.replies, context
    assert _qemu_warnings(run) == _model_warnings(topo.warnings), context
    if machine_name in ("microvm", "isapc"):
        # microvm and isapc list only present CPUs: compare their count.
        assert len(run.replies[0]["return"]) == topo.cpus, context  # type: ignore[arg-type]
        return True
    # The independent oracle uses the id formulas; x86 counts that wrap past 32
    # bits go through C's shift rules instead, which only the model replays.
    wraps = arch == "x86_64" and max(topo.dies, topo.modules, topo.cores, topo.threads) >= 2**31
    if not wraps:
        expected = _expected_slots(arch, topo, version)
        if not hotplug:
            expected = Counter({k: v for k, v in expected.items() if k[1]})
        assert _qemu_slots(run, hotplug) == expected, context
    # And the model's own monitor view of the slots, exactly as QEMU answers.
    vm = topology.VirtualMachine.start(model, smp)
    if hotplug:
        assert topology.query_hotpluggable_cpus(vm) == run.replies[0]["return"], context
    else:
        ours = [
            {k: v for k, v in cpu.items() if k != "thread-id"}
            for cpu in topology.query_cpus_fast(vm)
        ]
        theirs: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
        assert ours == [{k: v for k, v in cpu.items() if k != "thread-id"} for cpu in theirs], (
            context
        )
    return True


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(configurations())
def test_generated_configurations_match_qemu(
    configuration: tuple[str, str, dict[str, str], str],
) -> None:
    assume(_compare(*configuration))


# Hand-picked cases, each observed on QEMU 7.2.22 while writing these tests
# (tests/support/qemu_runner.py shows how QEMU is started).
@pytest.mark.parametrize(
    ("arch", "machine_name", "smp"),
    [
        ("x86_64", "pc-q35-7.2", "4,sockets=2,cores=4"),  # threads (0) in the message
        ("x86_64", "pc-q35-7.2", "165,sockets=5,cores=33"),  # APIC IDs past 254
        ("x86_64", "pc-q35-7.2", "cores=3,threads=3,sockets=16"),  # just fits
        ("x86_64", "pc-q35-7.2", "8,sockets=65536,threads=65536"),  # SIGFPE in QEMU
        ("x86_64", "pc-q35-7.2", "sockets=65536,cores=65536"),  # wraps to 0 CPUs
        ("x86_64", "pc-q35-7.2", "4,foo=1,bar=2"),
        ("x86_64", "q35", "289"),
        ("x86_64", "pc-i440fx-1.4", "4,sockets=0,threads=2,maxcpus=8"),
        ("x86_64", "isapc", "1,maxcpus=2"),
        ("ppc64", "pseries", "4,threads=2"),
        ("ppc64", "pseries-7.2", "4,dies=2,clusters=2"),
        ("s390x", "s390-ccw-virtio-7.1", "4,threads=2"),
        ("s390x", "s390-ccw-virtio-7.2", "4,threads=2"),
        ("aarch64", "virt-7.2", "9"),
        ("aarch64", "virt-6.1", "8,clusters=2"),
        # clusters * cores wraps to 1 in QEMU's unsigned ints: CPU 1 is in socket 1.
        ("aarch64", "virt-7.2", "clusters=-1,sockets=1,cores=-1,sockets=2"),
    ],
)
def test_known_cases_match_qemu(arch: str, machine_name: str, smp: str) -> None:
    assert _compare(arch, machine_name, {}, smp)


_KEY_NAMES = st.sampled_from(
    ["foo", "bar", "aa", "zz", "b", "a", "c", "x1", "id", "sock", "help2", "m-n", "q_r"]
)


@pytest.mark.parametrize(
    ("version", "machine_name"),
    [("7.2", "pc-q35-7.2"), ("10.0", "pc-q35-10.0"), ("11.1", "pc-q35-11.1")],
)
@settings(max_examples=60, deadline=None, database=None)
@given(
    unknown=st.lists(_KEY_NAMES, min_size=1, max_size=6, unique=True),
    known=st.lists(st.sampled_from(["sockets", "cores", "threads", "maxcpus"]), unique=True),
    shuffle=st.randoms(use_true_random=False),
)
def test_reported_unknown_member_matches_qemu(
    version: str, machine_name: str, unknown: list[str], known: list[str], shuffle: Any
) -> None:
    # QEMU names one unknown member, chosen by its hash tables' order (and GLib's:
    # bookworm's for 7.2, trixie's for 10.0).
    keys = unknown + known
    shuffle.shuffle(keys)
    smp = ",".join(["4", *(f"{key}=1" for key in keys)])
    assert _compare("x86_64", machine_name, {}, smp, version)
