"""The NUMA model (``topology._model.numa`` through ``VirtualMachine.start``), without QEMU.

* **A table of cases** QEMU answered, each with the exact lines QEMU 7.2.22 or
  10.0.13 printed (TCG, ``-S -nodefaults -no-user-config -display none -qmp
  stdio``; lines about CPU features TCG lacks left out) and, when it started,
  every slot's ``node-id`` as ``query-hotpluggable-cpus`` (``query-cpus-fast`` on
  ARM virt) listed it, slot 0 first. Sources: ``/tmp/numa-machine-rules.md`` §3
  (the rules recorded from QEMU, cited by example number), the shared notes
  §3.8, §5.4-§5.7 and §10, and runs made for this module. The rows can be
  checked against QEMU again (``tests/differential/test_numa_model.py``).
* Single examples: findings, errors and their warnings, the graph, pickling.

The properties on generated configurations are in
``tests/property/test_numa_model.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import topology
from topology import (
    NumaConfig,
    NumaError,
    QemuWarning,
    TopologyError,
    VirtualMachine,
    query_cpus_fast,
    query_hotpluggable_cpus,
)

MiB = 2**20

# Lines about CPU features TCG cannot give (pseries capabilities, some x86
# models): they depend on the CPU model, not on NUMA.
_IGNORED = "warning: TCG doesn't support requested feature"


@dataclasses.dataclass(frozen=True)
class Case:
    """One QEMU command line, as the model and QEMU both take it."""

    arch: str
    machine: str
    smp: str
    numa: tuple[str, ...] = ()
    memory: str | None = None
    backends: tuple[tuple[str, int], ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # -machine settings (and "cpu")

    def qemu_args(self) -> list[str]:
        settings_ = [f"{k}={v}" for k, v in self.options if k != "cpu"]
        args = ["-machine", ",".join([self.machine, *settings_]), "-smp", self.smp]
        args += [arg for k, v in self.options if k == "cpu" for arg in ("-cpu", v)]
        if self.memory is not None:
            args += ["-m", self.memory]
        for name, size in self.backends:
            args += ["-object", f"memory-backend-ram,id={name},size={size}"]
        for option in self.numa:
            args += ["-numa", option]
        return args

    def __str__(self) -> str:
        return f"qemu-system-{self.arch} {' '.join(self.qemu_args())}"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What QEMU printed (its stderr lines) and, when it started, its CPU listing."""

    lines: tuple[str, ...]
    cpus: tuple[Any, ...] | None = None  # None: refused


def _lines(arch: str, warnings: tuple[QemuWarning, ...], error: TopologyError | None) -> list[str]:
    prefix = f"qemu-system-{arch}: "
    lines = []
    for warning in warnings:
        lines.append(prefix + str(warning))
        if warning.hint is not None:
            lines += warning.hint.splitlines()
    if error is not None:
        lines.append(prefix + str(error))
        if error.hint is not None:
            lines += error.hint.splitlines()
    return [line for line in lines if _IGNORED not in line]


def _listing(arch: str, vm_or_reply: Any) -> tuple[Any, ...]:
    """The CPU listing compared: query-hotpluggable-cpus, or query-cpus-fast on virt."""
    if arch == "aarch64":
        entries = vm_or_reply
        return tuple({k: v for k, v in cpu.items() if k != "thread-id"} for cpu in entries)
    return tuple(vm_or_reply)


def start_model(case: Case, version: str) -> VirtualMachine:
    options = {k.replace("-", "_"): v for k, v in case.options}
    machine = topology.machine(case.arch, case.machine, qemu_version=version, **options)
    return VirtualMachine.start(
        machine,
        case.smp,
        numa=case.numa,
        memory=case.memory,
        memory_backends=dict(case.backends),
    )


def model_outcome(case: Case, version: str) -> Outcome:
    try:
        vm = start_model(case, version)
    except TopologyError as error:
        return Outcome(tuple(_lines(case.arch, error.warnings, error)))
    lines = tuple(_lines(case.arch, vm.warnings, None))
    if case.arch == "aarch64":
        return Outcome(lines, _listing(case.arch, query_cpus_fast(vm)))
    return Outcome(lines, _listing(case.arch, query_hotpluggable_cpus(vm)))


def node_ids(outcome: Outcome) -> list[int | None] | None:
    """The node-id of every listed slot, slot 0 first (None where a slot has none)."""
    if outcome.cpus is None:
        return None
    entries = list(outcome.cpus)
    if not entries or "cpu-index" not in entries[0]:
        entries.reverse()  # query-hotpluggable-cpus lists the last slot first
    return [entry["props"].get("node-id") for entry in entries]


# -- the table --------------------------------------------------------------------

M2 = (("m0", 256 * MiB), ("m1", 256 * MiB))
M128_384 = (("m0", 128 * MiB), ("m1", 384 * MiB))
Q35 = "pc-q35-7.2"
VIRT = (("gic-version", "3"), ("cpu", "cortex-a57"))
X86 = "qemu-system-x86_64: "
PPC = "qemu-system-ppc64: "
ARM = "qemu-system-aarch64: "
PARTIAL = (
    "warning: All CPU(s) up to maxcpus should be described in NUMA config, ability to start "
    "up with partial NUMA mappings is obsoleted and will be removed in future"
)
AMD_HT_7_2 = (
    X86 + "warning: This family of AMD CPU doesn't support hyperthreading(2)",
    "Please configure -smp options properly or try enabling topoext feature.",
)


@dataclasses.dataclass(frozen=True)
class Row:
    """A case, the QEMU versions it was observed on, and what QEMU printed and listed."""

    case: Case
    lines: tuple[str, ...]
    nodes: tuple[int | None, ...] | None = None  # None: QEMU refused
    versions: tuple[str, ...] = ("7.2", "10.0")
    source: str = "observed"


def _x86(smp: str, *numa: str, memory: str = "512M", machine: str = Q35, **kw: Any) -> Case:
    return Case("x86_64", machine, smp, numa, memory, kw.pop("backends", M2), **kw)


def _ppc(smp: str, *numa: str, memory: str | None = "512M", **kw: Any) -> Case:
    backends = kw.pop("backends", M2 if numa else ())
    return Case("ppc64", kw.pop("machine", "pseries-7.2"), smp, numa, memory, backends, **kw)


def _virt(smp: str, *numa: str, memory: str = "512M", machine: str = "virt-7.2") -> Case:
    return Case("aarch64", machine, smp, numa, memory, M2 if numa else (), VIRT)


HMAT = (("hmat", "on"),)
HEX = "Using a multiplier suffix on hex numbers is deprecated: "
MEM_DEPRECATED = "Parameter -numa node,mem is deprecated, use -numa node,memdev instead"
LB_LATENCY = "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=10"
LB_BANDWIDTH = "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth"
CACHE = "hmat-cache,node-id=1,associativity=direct,policy=write-back,line=8"


ROWS: dict[str, Row] = {
    # Rules §3 example 1: the default mapping is socket mod nodes (2 cores a socket).
    "x86-default-socket-mod-nodes": Row(
        _x86("4,sockets=4,maxcpus=8", "node,memdev=m0", "node,memdev=m1"),
        (),
        (0, 0, 1, 1, 0, 0, 1, 1),
        source="rules §3.1",
    ),
    # Rules §3.2: one socket of 8 cores, all on node 0.
    "x86-one-socket": Row(
        _x86("4,maxcpus=8", "node,memdev=m0", "node,memdev=m1"),
        (),
        (0,) * 8,
        source="rules §3.2",
    ),
    # Rules §3.3: a partial mapping sends the rest to node 0, with two warnings
    # before the board's own (the AMD hyperthreading one).
    "x86-partial-mapping": Row(
        _x86(
            "4,sockets=2,cores=2,maxcpus=8",
            "node,memdev=m0",
            "node,memdev=m1",
            "cpu,node-id=1,socket-id=1",
        ),
        (
            X86 + "warning: CPU(s) not present in any NUMA nodes: "
            "CPU 0 [socket-id: 0, core-id: 0, thread-id: 0], "
            "CPU 1 [socket-id: 0, core-id: 0, thread-id: 1], "
            "CPU 2 [socket-id: 0, core-id: 1, thread-id: 0], "
            "CPU 3 [socket-id: 0, core-id: 1, thread-id: 1]",
            X86 + PARTIAL,
            *AMD_HT_7_2,
        ),
        (0, 0, 0, 0, 1, 1, 1, 1),
        versions=("7.2",),
        source="rules §3.3",
    ),
    # Rules §3.4: die-id maps a die of every socket; die-id shows in the warning.
    "x86-die-id": Row(
        _x86(
            "8,sockets=2,dies=2,maxcpus=8",
            "node,memdev=m0",
            "node,memdev=m1",
            "cpu,node-id=1,die-id=1",
        ),
        (
            X86 + "warning: CPU(s) not present in any NUMA nodes: "
            "CPU 0 [socket-id: 0, die-id: 0, core-id: 0, thread-id: 0], "
            "CPU 1 [socket-id: 0, die-id: 0, core-id: 1, thread-id: 0], "
            "CPU 4 [socket-id: 1, die-id: 0, core-id: 0, thread-id: 0], "
            "CPU 5 [socket-id: 1, die-id: 0, core-id: 1, thread-id: 0]",
            X86 + PARTIAL,
        ),
        (0, 0, 1, 1, 0, 0, 1, 1),
        source="rules §3.4",
    ),
    "x86-already-assigned-by-cpu": Row(
        _x86(
            "4,maxcpus=8",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1",
            "cpu,node-id=1,socket-id=0",
        ),
        (X86 + "-numa cpu,node-id=1,socket-id=0: CPU is already assigned to node-id: 0",),
        source="rules §3.5",
    ),
    "x86-already-assigned-by-cpus": Row(
        _x86("4,maxcpus=8", "node,memdev=m0,cpus=0-3", "node,memdev=m1,cpus=2"),
        (X86 + "-numa node,memdev=m1,cpus=2: CPU is already assigned to node-id: 0",),
        source="rules §3.6",
    ),
    "x86-cpu-index-too-big": Row(
        _x86("1", "node,memdev=m0,cpus=4", backends=(("m0", 512 * MiB),)),
        (X86 + "-numa node,memdev=m0,cpus=4: CPU index (4) should be smaller than maxcpus (1)",),
        source="rules §3.7",
    ),
    "x86-total-memory": Row(
        _x86("1", "node", backends=()),
        (X86 + "total memory for NUMA nodes (0x0) should equal RAM size (0x20000000)",),
        source="rules §3.12",
    ),
    "x86-mem-unsupported": Row(
        _x86("1", "node,mem=512M", backends=()),
        (
            X86 + "-numa node,mem=512M: Parameter -numa node,mem is not supported by this "
            "machine type",
            "Use -numa node,memdev instead",
        ),
        source="rules §3.12",
    ),
    "x86-mem-deprecated-5.0": Row(
        _x86(
            "4,cores=0,threads=2",
            "node,mem=128M,cpus=0",
            memory="128M",
            machine="pc-q35-5.0",
            backends=(),
        ),
        (
            X86 + "warning: Deprecated CPU topology (considered invalid): CPU topology "
            "parameters must be greater than zero",
            X86 + "-numa node,mem=128M,cpus=0: warning: Parameter -numa node,mem is deprecated, "
            "use -numa node,memdev instead",
            X86 + "warning: CPU(s) not present in any NUMA nodes: "
            "CPU 1 [socket-id: 0, core-id: 0, thread-id: 1], "
            "CPU 2 [socket-id: 1, core-id: 0, thread-id: 0], "
            "CPU 3 [socket-id: 1, core-id: 0, thread-id: 1]",
            X86 + PARTIAL,
            *AMD_HT_7_2,
        ),
        (0, 0, 0, 0),
        versions=("7.2",),
        source="run for this module",
    ),
    "x86-dist-missing": Row(
        _x86(
            "3",
            "node,memdev=m0",
            "node,memdev=m1",
            "node",
            "dist,src=0,dst=1,val=20",
        ),
        (
            X86 + "The distance between node 0 and 2 is missing, at least one distance value "
            "between each nodes should be provided.",
        ),
        source="rules §3.12",
    ),
    "x86-dist-asymmetric": Row(
        _x86(
            "3",
            "node,memdev=m0",
            "node,memdev=m1",
            "node",
            "dist,src=0,dst=1,val=20",
            "dist,src=1,dst=0,val=30",
            "dist,src=0,dst=2,val=20",
            "dist,src=1,dst=2,val=20",
        ),
        (
            X86 + "At least one asymmetrical pair of distances is given, please provide "
            "distances for both directions of all node pairs.",
        ),
        source="rules §3.12",
    ),
    "x86-node-id-missing-highest": Row(
        _x86("4,threads=2", "node,nodeid=3", memory="128M", backends=()),
        (X86 + "numa: Node ID missing: 2",),
        source="run for this module",
    ),
    "x86-nodeid-too-big-beats-board": Row(
        _x86("256", "node,nodeid=200", memory="128M", backends=()),
        (X86 + "-numa node,nodeid=200: Max number of NUMA nodes reached: 200",),
        source="run for this module",
    ),
    "x86-option-order": Row(
        _x86("1", "node,memdev=nope", "foo", backends=()),
        (X86 + "-numa node,memdev=nope: memdev=nope is ambiguous",),
        source="rules §0.C",
    ),
    "x86-flag-warning-then-smp-error": Row(
        _x86("4,cores=0", "node,nodeid=200,mem", memory="128M", backends=()),
        (
            X86 + "-numa node,nodeid=200,mem: warning: short-form boolean option 'mem' deprecated",
            "Please use mem=on instead",
            X86 + "Invalid CPU topology: CPU topology parameters must be greater than zero",
        ),
        versions=("10.0",),
        source="run for this module",
    ),
    "x86-auto-node-with-slots": Row(
        _x86("2,maxcpus=3", memory="512M,slots=2,maxmem=1G", backends=()),
        (),
        (0, 0, 0),
        source="shared notes §5.7",
    ),
    "x86-no-numa-no-node-id": Row(
        _x86("2,maxcpus=3", memory="512M", backends=()),
        (),
        (None, None, None),
        source="shared notes §10",
    ),
    "x86-hmat-initiator-not-itself": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0,initiator=1",
            "node,memdev=m1",
            options=(("hmat", "on"),),
        ),
        (
            X86 + "-numa node,memdev=m0,cpus=0,initiator=1: The initiator of CPU NUMA node 0 "
            "should be itself (got 1)",
        ),
        source="run for this module",
    ),
    "x86-hmat-initiator-missing-node": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1,initiator=5",
            options=(("hmat", "on"),),
        ),
        (X86 + "NUMA node 5 is missing, use '-numa node' option to declare it first",),
        source="run for this module",
    ),
    "x86-hmat-cpu-less-node-without-initiator": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0-1",
            "node,memdev=m1",
            options=(("hmat", "on"),),
        ),
        (),
        (0, 0),
        source="run for this module",
    ),
    "x86-memory-slots-after-cpus": Row(
        _x86("2,threads=2", memory="512M,slots=257,maxmem=1G", backends=()),
        (*AMD_HT_7_2, X86 + "unsupported amount of memory slots: 257"),
        versions=("7.2",),
        source="run for this module",
    ),
    # Rules §3.8: pseries default mapping, by socket.
    "pseries-default": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "4,sockets=4,maxcpus=8",
            ("node,memdev=m0", "node,memdev=m1"),
            "512M",
            M2,
        ),
        (),
        (0, 0, 1, 1, 0, 0, 1, 1),
        source="rules §3.8",
    ),
    # Rules §3.9: a partial mapping on pseries lists cores by core-id.
    "pseries-partial": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "4,maxcpus=8",
            ("node,memdev=m0,cpus=1", "node,memdev=m1"),
            "512M",
            M2,
        ),
        (
            PPC + "warning: CPU(s) not present in any NUMA nodes: CPU 0 [core-id: 0], "
            "CPU 2 [core-id: 2], CPU 3 [core-id: 3], CPU 4 [core-id: 4], CPU 5 [core-id: 5], "
            "CPU 6 [core-id: 6], CPU 7 [core-id: 7]",
            PPC + PARTIAL,
        ),
        (0,) * 8,
        source="rules §3.9",
    ),
    "pseries-socket-id": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "4,maxcpus=8",
            ("node,memdev=m0", "node,memdev=m1", "cpu,node-id=1,socket-id=0"),
            "512M",
            M2,
        ),
        (PPC + "-numa cpu,node-id=1,socket-id=0: socket-id is not supported",),
        source="rules §3.9",
    ),
    "pseries-node-alignment": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "2",
            ("node,memdev=m0", "node,memdev=m1"),
            "512M",
            (("m0", 128 * MiB), ("m1", 384 * MiB)),
        ),
        (PPC + "Node 0 memory size 0x8000000 is not aligned to 256 MiB",),
        source="rules §3.9",
    ),
    "pseries-tcg-threads-before-alignment": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "4,threads=2",
            ("node,memdev=m0", "node,memdev=m1"),
            "512M",
            (("m0", 128 * MiB), ("m1", 384 * MiB)),
        ),
        (PPC + "TCG cannot support more than 1 thread/core on a pseries machine",),
        versions=("7.2",),
        source="run for this module",
    ),
    "pseries-whole-core-threads": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "4,threads=2",
            ("node,memdev=m0,cpus=0", "node,memdev=m1,cpus=1"),
            "512M",
            M2,
        ),
        (PPC + "-numa node,memdev=m1,cpus=1: CPU is already assigned to node-id: 0",),
        versions=("10.0",),
        source="shared notes §3.8",
    ),
    "pseries-backend-twice": Row(
        Case(
            "ppc64",
            "pseries-7.2",
            "4",
            ("node,memdev=m0", "node,memdev=m0", "node", "dist,src=0,dst=1,val=20"),
            "256M",
            (("m0", 128 * MiB),),
        ),
        (PPC + "memory backend m0 can't be used multiple times.",),
        source="run for this module",
    ),
    "pseries-maxmem-alignment-prints-ram": Row(
        _ppc("4", memory="256M,maxmem=384M,slots=1"),
        (PPC + "Maximum memory size 0x10000000 is not aligned to 256 MiB",),
        source="run for this module",
    ),
    "pseries-auto-node": Row(
        _ppc("2,maxcpus=3", memory=None),
        (),
        (0, 0, 0),
        source="shared notes §3.8",
    ),
    # Rules §3.10 and notes §5.6: virt maps by socket; 10.0 warns for split clusters.
    "virt-default": Row(
        Case(
            "aarch64",
            "virt-7.2",
            "4,sockets=2",
            ("node,memdev=m0", "node,memdev=m1"),
            "512M",
            M2,
            VIRT,
        ),
        (),
        (0, 0, 1, 1),
        source="rules §3.10",
    ),
    "virt-partial-7.2": Row(
        Case(
            "aarch64",
            "virt-7.2",
            "4",
            ("node,memdev=m0,cpus=0-1", "node,memdev=m1,cpus=3"),
            "512M",
            M2,
            VIRT,
        ),
        (
            ARM + "warning: CPU(s) not present in any NUMA nodes: "
            "CPU 2 [socket-id: 0, cluster-id: 0, core-id: 2, thread-id: 0]",
            ARM + PARTIAL,
        ),
        (0, 0, 0, 1),
        versions=("7.2",),
        source="rules §3.10",
    ),
    "virt-cluster-boundary-10.0": Row(
        Case(
            "aarch64",
            "virt-7.2",
            "3,maxcpus=4",
            ("node,memdev=m0,cpus=0", "node,memdev=m1,cpus=2"),
            "512M",
            M2,
            VIRT,
        ),
        (
            ARM + "warning: CPU(s) not present in any NUMA nodes: "
            "CPU 1 [socket-id: 0, cluster-id: 0, core-id: 1, thread-id: 0], "
            "CPU 3 [socket-id: 0, cluster-id: 0, core-id: 3, thread-id: 0]",
            ARM + PARTIAL,
            ARM + "warning: CPU-0 and CPU-2 in socket-0-cluster-0 have been associated with "
            "node-0 and node-1 respectively. It can cause OSes like Linux to misbehave",
            ARM + "warning: CPU-1 and CPU-2 in socket-0-cluster-0 have been associated with "
            "node-0 and node-1 respectively. It can cause OSes like Linux to misbehave",
            ARM + "warning: CPU-2 and CPU-3 in socket-0-cluster-0 have been associated with "
            "node-1 and node-0 respectively. It can cause OSes like Linux to misbehave",
        ),
        (0, 0, 1),
        versions=("10.0",),
        source="run for this module",
    ),
    "virt-die-id": Row(
        Case(
            "aarch64",
            "virt-7.2",
            "4",
            ("node,memdev=m0", "node,memdev=m1", "cpu,node-id=1,die-id=0"),
            "512M",
            M2,
            VIRT,
        ),
        (ARM + "-numa cpu,node-id=1,die-id=0: die-id is not supported",),
        source="rules §3.10",
    ),
    "virt-6.2-socket-default": Row(
        Case(
            "aarch64",
            "virt-6.2",
            "4,sockets=2,maxcpus=6",
            ("node,memdev=m0", "node,memdev=m1"),
            "512M",
            M2,
            VIRT,
        ),
        (),
        (0, 0, 0, 1),
        versions=("7.2",),
        source="run for this module",
    ),
    "virt-mem-5.1-unsupported": Row(
        Case("aarch64", "virt-5.1", "1", ("node,mem=128M",), "128M"),
        (
            ARM + "-numa node,mem=128M: Parameter -numa node,mem is not supported by this "
            "machine type",
            "Use -numa node,memdev instead",
        ),
        versions=("7.2",),
        source="run for this module",
    ),
    "x86-implied-nodeid-duplicate": Row(
        _x86("2", "node,nodeid=1,memdev=m0", "node,memdev=m1"),
        (X86 + "-numa node,memdev=m1: Duplicate NUMA nodeid: 1",),
        source="run for this module",
    ),
    "x86-cpu-node-id-1000": Row(
        _x86("2", "node,memdev=m0", "node,memdev=m1", "cpu,node-id=1000"),
        (
            X86 + "-numa cpu,node-id=1000: Invalid node-id=1000, NUMA node must be defined with "
            "-numa node,nodeid=ID before it's used with -numa cpu,node-id=ID",
        ),
        source="rules §1 (-numa cpu 2)",
    ),
    "x86-duplicate-option-id": Row(
        _x86("2", "node,id=a", "node,id=a", memory="128M", backends=()),
        (X86 + "-numa node,id=a: Duplicate ID 'a' for numa",),
        source="rules §0.A",
    ),
    "x86-mem-then-memdev": Row(
        _x86("2", "node,mem=256M", "node,memdev=m1", machine="pc-q35-5.0"),
        (
            X86 + "-numa node,mem=256M: warning: " + MEM_DEPRECATED,
            X86 + "-numa node,memdev=m1: numa configuration should use either mem= or "
            "memdev=,mixing both is not allowed",
        ),
        versions=("7.2",),
        source="run for this module",
    ),
    "x86-memdev-then-mem": Row(
        _x86("2", "node,memdev=m1", "node,mem=256M", machine="pc-q35-5.0"),
        (
            X86 + "-numa node,mem=256M: numa configuration should use either mem= or "
            "memdev=,mixing both is not allowed",
        ),
        versions=("7.2",),
        source="run for this module",
    ),
    "x86-mem-hex-7.2": Row(
        _x86("2", "node,mem=0x10M", "node,mem=0x1F0M", machine="pc-q35-5.0", backends=()),
        (
            # Read twice (the opts visitor, then the MiB fix-up), so warned twice.
            X86 + "-numa node,mem=0x10M: warning: " + HEX + "0x10M",
            X86 + "-numa node,mem=0x10M: warning: " + HEX + "0x10M",
            X86 + "-numa node,mem=0x10M: warning: " + MEM_DEPRECATED,
            X86 + "-numa node,mem=0x1F0M: warning: " + HEX + "0x1F0M",
            X86 + "-numa node,mem=0x1F0M: warning: " + HEX + "0x1F0M",
            X86 + "-numa node,mem=0x1F0M: warning: " + MEM_DEPRECATED,
        ),
        (0, 1),
        versions=("7.2",),
        source="run for this module",
    ),
    "x86-memory-hex-size-7.2": Row(
        _x86("2", memory="0x20", backends=()),
        (X86 + "warning: Using a multiplier suffix on hex numbers is deprecated: 0x20M",),
        (None, None),
        versions=("7.2",),
        source="run for this module",
    ),
    "x86-memory-hex-size-10.0": Row(
        _x86("2", memory="0x20", backends=()),
        (X86 + "Parameter 'memory.size' expects size",),
        versions=("10.0",),
        source="run for this module",
    ),
    "x86-book-id-ignored-10.0": Row(
        _x86("4,sockets=2,cores=2", "node,memdev=m0", "node,memdev=m1", "cpu,node-id=0,book-id=7"),
        (),
        (0, 0, 0, 0),
        versions=("10.0",),
        source="rules §1 (-numa cpu 3)",
    ),
    "x86-module-id-10.0": Row(
        _x86(
            "4,modules=2,cores=2",
            "node,memdev=m0",
            "node,memdev=m1",
            "cpu,node-id=1,module-id=1",
            machine="pc-q35-10.0",
        ),
        (
            X86 + "warning: CPU(s) not present in any NUMA nodes: "
            "CPU 0 [socket-id: 0, module-id: 0, core-id: 0, thread-id: 0], "
            "CPU 1 [socket-id: 0, module-id: 0, core-id: 1, thread-id: 0]",
            X86 + PARTIAL,
        ),
        (0, 0, 1, 1),
        versions=("10.0",),
        source="run for this module",
    ),
    "x86-hmat-off": Row(
        _x86("2", "node,memdev=m0", "node,memdev=m1", LB_LATENCY),
        (
            X86 + f"-numa {LB_LATENCY}: ACPI Heterogeneous Memory Attribute Table (HMAT) is "
            "disabled, enable it with -machine hmat=on before using any of hmat specific options",
        ),
        source="rules §1 (hmat-lb)",
    ),
    "x86-hmat-initiator-200-starts": Row(
        _x86(
            "4",
            "node,memdev=m0,initiator=200",
            backends=(("m0", 512 * MiB),),
            options=HMAT,
        ),
        (
            X86 + "-numa node,memdev=m0,initiator=200: The initiator id 200 expects an integer "
            "between 0 and 127",
        ),
        (None, None, None, None),
        source="rules §3.13",
    ),
    "x86-hmat-initiator-200-drops-the-node": Row(
        _x86("2", "node,memdev=m0,initiator=200", "node,memdev=m1", options=HMAT),
        (
            X86 + "-numa node,memdev=m0,initiator=200: The initiator id 200 expects an integer "
            "between 0 and 127",
            X86 + "total memory for NUMA nodes (0x10000000) should equal RAM size (0x20000000)",
        ),
        source="run for this module",
    ),
    "x86-hmat-lb-not-an-initiator": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1",
            "hmat-lb,initiator=1,target=0,hierarchy=memory,data-type=access-latency,latency=10",
            options=HMAT,
        ),
        (
            X86 + "-numa hmat-lb,initiator=1,target=0,hierarchy=memory,data-type=access-latency,"
            "latency=10: Invalid initiator=1, it isn't an initiator proximity domain",
        ),
        source="rules §1 (hmat-lb)",
    ),
    "x86-hmat-lb-bandwidth-alignment": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1",
            LB_BANDWIDTH + ",bandwidth=1000",
            options=HMAT,
        ),
        (
            X86 + f"-numa {LB_BANDWIDTH},bandwidth=1000: Bandwidth 1000 between initiator=0 and "
            "target=1 should be 1MB aligned",
        ),
        source="run for this module",
    ),
    "x86-hmat-lb-latency-spread": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1",
            "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=1",
            "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=100000",
            options=HMAT,
        ),
        (
            X86 + "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,"
            "latency=100000: Latency 100000 between initiator=0 and target=0 should not differ "
            "from previously entered min or max values on more than 65534",
        ),
        source="run for this module",
    ),
    "x86-hmat-cache-before-lb": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1",
            CACHE + ",size=10K,level=1",
            options=HMAT,
        ),
        (
            X86 + f"-numa {CACHE},size=10K,level=1: The latency and bandwidth information of "
            "node-id=1 should be provided before memory side cache attributes",
        ),
        source="rules §1 (hmat-cache)",
    ),
    "x86-hmat-cache-sizes": Row(
        _x86(
            "2",
            "node,memdev=m0,cpus=0",
            "node,memdev=m1",
            LB_LATENCY,
            LB_BANDWIDTH + ",bandwidth=1M",
            CACHE + ",size=10K,level=1",
            CACHE + ",size=8K,level=2",
            options=HMAT,
        ),
        (
            X86 + f"-numa {CACHE},size=8K,level=2: Invalid size=8192, the size of level=2 should "
            "be larger than the size(10240) of level=1",
        ),
        source="run for this module",
    ),
    "pseries-default-smt-10.0": Row(
        _ppc(
            "8,sockets=2,cores=2,threads=2",
            "node,memdev=m0",
            "node,memdev=m1",
            machine="pseries-10.0",
        ),
        (),
        (0, 0, 1, 1),
        versions=("10.0",),
        source="shared notes §3.8 (core slot index / cores)",
    ),
    "x86-smp-before-memory": Row(
        _x86("1000", memory="512M,maxmem=256M", backends=()),
        (X86 + "Invalid SMP CPUs 1000. The max CPUs supported by machine 'pc-q35-7.2' is 288",),
        source="run for this module",
    ),
    "x86-memory-before-numa": Row(
        _x86("2", "node,nodeid=200", memory="512M,maxmem=256M", backends=()),
        (
            X86 + "invalid value of maxmem: maximum memory size (0x10000000) must be at least "
            "the initial memory size (0x20000000)",
        ),
        source="run for this module",
    ),
    "pseries-memory-slots": Row(
        _ppc("2", memory="512M,slots=33,maxmem=1G"),
        (PPC + "Specified number of memory slots 33 exceeds max supported 32",),
        source="run for this module",
    ),
    "pseries-core-mapped-twice-same-node": Row(
        _ppc(
            "2,maxcpus=4",
            "node,memdev=m0,cpus=0-3",
            "cpu,node-id=0,core-id=1",
            backends=(("m0", 512 * MiB),),
        ),
        (),
        (0, 0, 0, 0),
        source="shared notes §5.4",
    ),
    "virt-memory-slots": Row(
        Case("aarch64", "virt-7.2", "2", (), "512M,slots=257,maxmem=1G", (), VIRT),
        (ARM + "unsupported number of memory slots: 257",),
        source="run for this module",
    ),
    # Rules §3.11: s390x has no NUMA at all.
    "s390x-no-numa": Row(
        Case("s390x", "s390-ccw-virtio-7.2", "2", ("node",), "512M"),
        ("qemu-system-s390x: -numa node: NUMA is not supported by this machine-type",),
        versions=("7.2",),
        source="rules §3.11",
    ),
}


def _rows(version: str) -> list[tuple[str, Row]]:
    return [(name, row) for name, row in ROWS.items() if version in row.versions]


def _check_row(row: Row, outcome: Outcome) -> None:
    assert list(outcome.lines) == list(row.lines)
    found = node_ids(outcome)
    assert found == (None if row.nodes is None else list(row.nodes))


# Each row runs on the QEMU versions it was observed on.
_ROW_VERSIONS = [
    pytest.param(name, version, id=f"{name}-{version}")
    for name in sorted(ROWS)
    for version in ("7.2", "10.0")
    if version in ROWS[name].versions
]


@pytest.mark.parametrize(("name", "version"), _ROW_VERSIONS)
def test_table(name: str, version: str) -> None:
    _check_row(ROWS[name], model_outcome(ROWS[name].case, version))


# -- single examples ----------------------------------------------------------------


def test_findings_are_kept_apart_from_qemu_warnings() -> None:
    machine = topology.machine("x86_64", Q35, qemu_version="7.2")
    vm = VirtualMachine.start(
        machine,
        "4,sockets=1,cores=2,threads=2",
        numa=["node,memdev=m0,cpus=0-2", "node,memdev=m1,cpus=3"],
        memory="512M",
        memory_backends=dict(M2),
    )
    assert vm.numa is not None
    assert [str(w) for w in vm.numa.warnings] == []
    assert [(f.level, f.ids, f.nodes) for f in vm.numa.findings] == [
        ("socket", (("socket", 0),), (0, 1)),
        ("core", (("socket", 0), ("core", 1)), (0, 1)),
    ]
    assert str(vm.numa.findings[1]) == (
        "the CPUs of core [socket 0, core 1] are split across NUMA nodes 0, 1"
    )


def test_numa_errors_carry_the_warnings_before_them() -> None:
    machine = topology.machine("x86_64", "pc-q35-5.0", qemu_version="7.2")
    with pytest.raises(NumaError) as caught:
        VirtualMachine.start(
            machine, "2", numa=["node,mem=64M", "node,nodeid=3,mem=64M"], memory="128M"
        )
    assert str(caught.value) == "numa: Node ID missing: 2"
    assert [w.where for w in caught.value.warnings] == ["-numa node,mem=64M"] * 1 + [
        "-numa node,nodeid=3,mem=64M"
    ]


def test_default_start_is_unchanged() -> None:
    q35 = VirtualMachine.start(topology.machine("x86_64", Q35, qemu_version="7.2"), "2")
    assert q35.numa is None and all(s.props.node_id is None for s in q35.slots)
    pseries = VirtualMachine.start(
        topology.machine("ppc64", "pseries-7.2", qemu_version="7.2"), "2"
    )
    assert pseries.numa is not None and pseries.numa.auto
    assert [s.props.node_id for s in pseries.slots] == [0, 0]


def test_parsed_options_are_accepted() -> None:
    machine = topology.machine("x86_64", Q35, qemu_version="7.2")
    options = [topology.parse_numa(text) for text in ("node,memdev=m0", "node,memdev=m1")]
    vm = VirtualMachine.start(
        machine, "2,sockets=2", numa=options, memory=512 * MiB, memory_backends=dict(M2)
    )
    assert [s.props.node_id for s in vm.slots] == [0, 1]


def test_negative_node_id_is_refused() -> None:
    # QEMU 7.2 and 10.0 accept it and show node-id -1 (an array index out of bounds).
    machine = topology.machine("x86_64", Q35, qemu_version="7.2")
    with pytest.raises(NumaError, match=r"^-numa cpu,node-id=-1: cputopo: node-id=-1"):
        VirtualMachine.start(
            machine,
            "2",
            numa=["node,memdev=m0", "cpu,node-id=-1"],
            memory="256M",
            memory_backends={"m0": 256 * MiB},
        )


def test_from_options_takes_the_pieces_alone() -> None:
    machine = topology.machine("aarch64", "virt-7.2", qemu_version="7.2", gic_version="3")
    topo = machine.resolve("4,sockets=2")
    slots = machine.arch.possible_slots(machine.board(topo))
    numa = NumaConfig.from_options(
        machine,
        topo,
        slots,
        ["node,memdev=a", "node,memdev=b", "dist,src=0,dst=1,val=21"],
        memory=256 * MiB,
        memory_backends={"a": 128 * MiB, "b": 128 * MiB},
    )
    assert numa is not None
    assert numa.distances == ((10, 21), (21, 10))
    assert numa.slot_nodes == (0, 0, 1, 1)
    assert NumaConfig.from_options(machine, topo, slots).nodes == ()


def test_memory_option_errors() -> None:
    with pytest.raises(topology.ParameterError) as caught:
        topology.parse_memory("512x")
    assert str(caught.value) == "-m 512x: Parameter 'size' expects a non-negative number below 2^64"
    assert caught.value.hint is not None and caught.value.hint.endswith("respectively.")
    with pytest.raises(topology.ParameterError, match=r"^slots specified but no max-size$"):
        topology.parse_memory("512M,slots=1").layout(ram_default=0)
    config = topology.parse_memory("100001k")
    assert config.layout(ram_default=0).ram_size == 0x61AA000  # rounded up to 8 KiB
    assert topology.parse_memory("0").layout(ram_default=128 * MiB).ram_size == 128 * MiB
    assert topology.parse_memory("512").layout(ram_default=0).ram_size == 512 * MiB


def test_graph_has_the_nodes_and_their_distances() -> None:
    machine = topology.machine("x86_64", Q35, qemu_version="7.2")
    vm = VirtualMachine.start(
        machine,
        "2,sockets=2",
        numa=[
            *("node,memdev=m0", "node,memdev=m1", "node"),
            *("dist,src=0,dst=1,val=20", "dist,src=0,dst=2,val=30", "dist,src=1,dst=2,val=25"),
        ],
        memory="512M",
        memory_backends=dict(M2),
    )
    graph = topology.topology_graph(vm)
    assert topology.cpus_of_node(graph, 1) == [1]
    assert topology.cpus_of_node(graph, 2) == []  # a node without CPUs is still there
    assert ("node", 2) in graph
    assert graph.edges[("node", 2), ("node", 1)]["distance"] == 25


def test_numa_error_pickles_with_its_fields() -> None:
    import pickle

    error = NumaError("Duplicate NUMA nodeid: 1", option="-numa node,nodeid=1", what="nodeid")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.reason, copy.where, copy.what) == (
        "-numa node,nodeid=1: Duplicate NUMA nodeid: 1",
        "Duplicate NUMA nodeid: 1",
        "-numa node,nodeid=1",
        "nodeid",
    )
    assert isinstance(copy, ValueError)
