"""The CPUID topology leaves a guest reads, checked by hand.

The hand-checked rows follow the Intel SDM vol. 2A (CPUID leaves 0BH and 1FH:
EAX[4:0] the x2APIC ID shift to the next level's id, EBX[15:0] the logical
processors at the level, ECX[7:0] the level number, ECX[15:8] the level type,
EDX the x2APIC ID) and QEMU's ``target/i386/cpu.c``: ``cpu_x86_cpuid`` cases
0xB, 0x1F and 0x8000001E, ``encode_topo_cpuid1f`` and
``encode_topo_cpuid8000001e`` (read at commit 0048035a87, QEMU 10.0 era), the
7.2 switch for 0x1F, commit 958ac3c42b (8.2, ``CPUState::nr_cores`` counts
the cores of a socket) and commit b776569a53 (9.1, ``legacy-multi-node``).
The properties of the same leaves are in ``tests/property/test_x86_cpuid.py``.
"""

from __future__ import annotations

import pytest

import arch.x86
import topology
from arch.x86 import (
    ApicLayout,
    CpuidRegs,
    TopologyLevel,
    cpuid_leaf_0b,
    cpuid_leaf_1f,
    cpuid_leaf_8000001e,
    leaf_1f_reported,
    topology_levels,
)


def regs(eax: int, ebx: int, ecx: int, edx: int) -> CpuidRegs:
    return CpuidRegs(eax=eax, ebx=ebx, ecx=ecx, edx=edx)


# 2 sockets x 2 dies x 3 cores x 2 threads: thread 1 bit, core 2 bits (3 cores
# leave a gap), die 1 bit, so core_offset 1, die_offset 3, pkg_offset 4.
# APIC ID 29 = 0b1_1_10_1: socket 1, die 1, core 2, thread 1.
DIES = ApicLayout.for_topology(dies=2, cores=3, threads=2)
# 2 modules x 3 cores x 2 threads (QEMU 9.1+): module_offset 3, pkg_offset 4.
# CPU index 7 is module 1, core 0, thread 1: APIC ID 0b1_00_1 = 9.
MODULES = ApicLayout.for_topology(modules=2, cores=3, threads=2)
# 4 cores x 1 thread: no SMT bits, core_offset 0, pkg_offset 2.
FLAT = ApicLayout.for_topology(cores=4, threads=1)

LEAF_0B_ROWS = [
    # SMT level: shift by the thread bits to reach the core id; 2 threads per core.
    ("dies-smt", DIES, "10.2", 0, regs(1, 2, 0x100, 29)),
    # Core level: shift to the socket id; 2 x 3 x 2 = 12 threads per socket (8.2+).
    ("dies-core", DIES, "10.2", 1, regs(4, 12, 0x201, 29)),
    ("dies-core-8.2", DIES, "8.2", 1, regs(4, 12, 0x201, 29)),
    # Up to 8.1 nr_cores was smp.cores, so EBX counted one die: 3 x 2 = 6.
    ("dies-core-8.1", DIES, "8.1", 1, regs(4, 6, 0x201, 29)),
    ("dies-core-7.2", DIES, "7.2", 1, regs(4, 6, 0x201, 29)),
    # Past the core level: type 0, ECX[7:0] echoes the subleaf, EDX still the ID.
    ("dies-end", DIES, "10.2", 2, regs(0, 0, 0x002, 29)),
    ("dies-end-7", DIES, "10.2", 7, regs(0, 0, 0x007, 29)),
    # ECX keeps the low 8 bits of the subleaf only.
    ("dies-end-0x102", DIES, "10.2", 0x102, regs(0, 0, 0x002, 29)),
    ("flat-smt", FLAT, "10.2", 0, regs(0, 1, 0x100, 3)),
    ("flat-core", FLAT, "10.2", 1, regs(2, 4, 0x201, 3)),
    ("modules-core", MODULES, "9.1", 1, regs(4, 12, 0x201, 9)),
]


@pytest.mark.parametrize(
    ("layout", "version", "subleaf", "expected"),
    [row[1:] for row in LEAF_0B_ROWS],
    ids=[row[0] for row in LEAF_0B_ROWS],
)
def test_leaf_0b(layout: ApicLayout, version: str, subleaf: int, expected: CpuidRegs) -> None:
    assert cpuid_leaf_0b(layout, expected.edx, subleaf, qemu_version=version) == expected


LEAF_1F_ROWS = [
    # SMT, core, die: the die level (type 5) shifts to the socket.
    ("dies-smt", DIES, "10.2", 0, regs(1, 2, 0x100, 29)),
    ("dies-core", DIES, "10.2", 1, regs(3, 6, 0x201, 29)),
    ("dies-die", DIES, "10.2", 2, regs(4, 12, 0x502, 29)),
    ("dies-end", DIES, "10.2", 3, regs(0, 0, 0x003, 29)),
    # 7.2's fixed switch gives the same numbers for dies.
    ("dies-core-7.2", DIES, "7.2", 1, regs(3, 6, 0x201, 29)),
    ("dies-die-7.2", DIES, "7.2", 2, regs(4, 12, 0x502, 29)),
    ("dies-end-7.2", DIES, "7.2", 9, regs(0, 0, 0x009, 29)),
    # Modules (type 3) between core and socket, 9.1+.
    ("modules-smt", MODULES, "9.1", 0, regs(1, 2, 0x100, 9)),
    ("modules-core", MODULES, "9.1", 1, regs(3, 6, 0x201, 9)),
    ("modules-module", MODULES, "9.1", 2, regs(4, 12, 0x302, 9)),
    ("modules-end", MODULES, "10.2", 3, regs(0, 0, 0x003, 9)),
    ("modules-last-allowed", MODULES, "10.2", 5, regs(0, 0, 0x005, 9)),
    # One die, one module: the leaf is all zeros, EDX included.
    ("flat", FLAT, "10.2", 0, regs(0, 0, 0, 0)),
    ("flat-7.2", FLAT, "7.2", 1, regs(0, 0, 0, 0)),
]


@pytest.mark.parametrize(
    ("layout", "version", "subleaf", "expected"),
    [row[1:] for row in LEAF_1F_ROWS],
    ids=[row[0] for row in LEAF_1F_ROWS],
)
def test_leaf_1f(layout: ApicLayout, version: str, subleaf: int, expected: CpuidRegs) -> None:
    apic_id = 29 if layout is DIES else 9 if layout is MODULES else 3
    assert cpuid_leaf_1f(layout, apic_id, subleaf, qemu_version=version) == expected


def test_leaf_1f_forced_lists_smt_and_core() -> None:
    # x-force-cpuid-0x1f (10.1+): the levels present, SMT and core.
    assert cpuid_leaf_1f(FLAT, 3, 0, qemu_version="10.1", force_1f=True) == regs(0, 1, 0x100, 3)
    assert cpuid_leaf_1f(FLAT, 3, 1, qemu_version="10.1", force_1f=True) == regs(2, 4, 0x201, 3)
    assert cpuid_leaf_1f(FLAT, 3, 2, qemu_version="10.1", force_1f=True) == regs(0, 0, 2, 3)
    with pytest.raises(topology.ParameterError, match=r"x-force-cpuid-0x1f is new in 10\.1"):
        cpuid_leaf_1f(FLAT, 3, 0, qemu_version="10.0", force_1f=True)


def test_leaf_1f_subleaf_above_5_aborts_qemu_from_9_1() -> None:
    with pytest.raises(topology.ParameterError) as excinfo:
        cpuid_leaf_1f(DIES, 29, 6, qemu_version="9.1")
    assert str(excinfo.value) == (
        "CPUID 0x1F subleaf 6: QEMU 9.1 aborts on subleaves above 5 "
        "(assertion in encode_topo_cpuid1f)"
    )
    assert cpuid_leaf_1f(DIES, 29, 6, qemu_version="9.0") == regs(0, 0, 6, 29)


LEAF_8000001E_ROWS = [
    # EAX the APIC ID; EBX (threads - 1) << 8 | core id; ECX the socket id (9.1+).
    ("dies", DIES, 29, "10.2", "pc-q35-10.0", regs(29, 0x102, 0x001, 0)),
    ("dies-alias", DIES, 29, "10.2", "q35", regs(29, 0x102, 0x001, 0)),
    ("dies-no-machine", DIES, 29, "9.1", None, regs(29, 0x102, 0x001, 0)),
    # legacy-multi-node: (dies - 1) << 8 | (29 >> die_offset 3) & 0xFF = 0x100 | 3.
    ("dies-legacy-9.0-type", DIES, 29, "10.2", "pc-q35-9.0", regs(29, 0x102, 0x103, 0)),
    ("dies-legacy-i440fx", DIES, 29, "9.1", "pc-i440fx-8.2", regs(29, 0x102, 0x103, 0)),
    ("dies-legacy-7.2", DIES, 29, "7.2", "pc-q35-7.2", regs(29, 0x102, 0x103, 0)),
    ("dies-legacy-9.0", DIES, 29, "9.0", None, regs(29, 0x102, 0x103, 0)),
    # One die, one socket bit: the legacy formula reads the socket id too.
    ("flat", FLAT, 3, "10.2", None, regs(3, 0x003, 0x000, 0)),
    ("flat-legacy", FLAT, 7, "7.2", None, regs(7, 0x003, 0x001, 0)),
    # The core id is the core within its module.
    ("modules", MODULES, 9, "10.2", None, regs(9, 0x100, 0x000, 0)),
]


@pytest.mark.parametrize(
    ("layout", "apic_id", "version", "machine_type", "expected"),
    [row[1:] for row in LEAF_8000001E_ROWS],
    ids=[row[0] for row in LEAF_8000001E_ROWS],
)
def test_leaf_8000001e(
    layout: ApicLayout,
    apic_id: int,
    version: str,
    machine_type: str | None,
    expected: CpuidRegs,
) -> None:
    found = cpuid_leaf_8000001e(layout, apic_id, qemu_version=version, machine_type=machine_type)
    assert found == expected


def test_leaf_8000001e_is_zero_above_core_255() -> None:
    wide = ApicLayout.for_topology(cores=300, threads=1)
    assert cpuid_leaf_8000001e(wide, 255) == regs(255, 0xFF, 0, 0)
    assert cpuid_leaf_8000001e(wide, 256) == regs(0, 0, 0, 0)


def test_leaf_8000001e_legacy_override() -> None:
    assert cpuid_leaf_8000001e(DIES, 29, legacy_multi_node=True).ecx == 0x103
    off = cpuid_leaf_8000001e(DIES, 29, machine_type="pc-q35-9.0", legacy_multi_node=False)
    assert off.ecx == 1
    with pytest.raises(topology.ParameterError, match="has no legacy-multi-node property"):
        cpuid_leaf_8000001e(DIES, 29, qemu_version="9.0", legacy_multi_node=False)


def test_cpuid_0xb_off_zeroes_the_leaf() -> None:
    assert cpuid_leaf_0b(DIES, 29, 0, cpuid_0xb=False) == regs(0, 0, 0, 0)
    assert topology_levels(DIES, leaf=0xB, cpuid_0xb=False) == ()


def test_topology_levels_read_like_the_sdm() -> None:
    assert topology_levels(MODULES, qemu_version="9.1") == (
        TopologyLevel(number=0, type="smt", shift=1, count=2),
        TopologyLevel(number=1, type="core", shift=3, count=6),
        TopologyLevel(number=2, type="module", shift=4, count=12),
    )
    assert [level.type_code for level in topology_levels(DIES)] == [1, 2, 5]
    assert topology_levels(FLAT) == ()
    assert leaf_1f_reported(FLAT, qemu_version="10.1", force_1f=True)


def test_resolved_topologies_are_accepted() -> None:
    topo = topology.machine("x86_64", "q35", qemu_version="10.0").resolve(
        "24,sockets=2,dies=2,cores=3,threads=2"
    )
    assert topology_levels(topo) == topology_levels(DIES)
    assert cpuid_leaf_0b(topo, 29, 1) == cpuid_leaf_0b(DIES, 29, 1)
    # The topology knows there are 2 sockets, so socket 2 is no CPU.
    with pytest.raises(topology.ParameterError, match="its socket field is 2, but sockets=2"):
        cpuid_leaf_0b(topo, 32, 0)
    cpuid_leaf_0b(DIES, 32, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: cpuid_leaf_0b(DIES, 7, 0),
            "APIC ID 7 is no CPU's: its core field is 3, but cores=3",
        ),
        (
            lambda: cpuid_leaf_0b(DIES, 0, -1),
            "subleaf must be an integer in range 0:4294967295, not -1",
        ),
        (
            lambda: cpuid_leaf_1f(MODULES, 9, 0, qemu_version="9.0"),
            "x86 has no module level before QEMU 9.1 (modules=2, QEMU 9.0)",
        ),
        (
            lambda: topology_levels(DIES, leaf=4),
            "leaf must be 0xB or 0x1F, not 4",
        ),
        (
            lambda: cpuid_leaf_0b(ApicLayout.for_topology(cores=2**20, threads=2**13), 0, 0),
            "the core level's shift 33 does not fit CPUID EAX[4:0]: QEMU aborts",
        ),
        (
            lambda: cpuid_leaf_0b(DIES, 0, 0, qemu_version="6.2"),
            "QEMU 6.2 is not supported; supported: 7.2, 8.0, 8.1, 8.2, 9.0, 9.1, 9.2, "
            "10.0, 10.1, 10.2, 11.0, 11.1",
        ),
    ],
)
def test_bad_arguments_are_refused(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(topology.TopologyError) as excinfo:
        call()
    assert str(excinfo.value) == message


def test_x86_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(arch.x86) if not name.startswith("_")}
    public -= {"annotations"}
    assert len(set(arch.x86.__all__)) == len(arch.x86.__all__)
    assert set(arch.x86.__all__) == public
