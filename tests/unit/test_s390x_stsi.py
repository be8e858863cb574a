"""STSI 15.1.x as QEMU builds it (``target/s390x/kvm/stsi-topology.c``, 8.2-10.x).

The table's bytes were written by hand, entry by entry, from the layout in
``target/s390x/cpu.h`` (SysIB_151x, SYSIBContainerListEntry,
SysIBCPUListEntry) and the rules of ``stsi_topology_fill_sysib`` and
``s390_topology_id_cmp``: the length and magnitudes counted on paper, each
mask bit set as 63 - (address mod 64), the order and the container counters
followed by hand. KVM cannot run here, so no run of QEMU checked them. The
properties of the SYSIB are in ``tests/property/test_s390x_stsi.py``.
"""

from __future__ import annotations

import pytest

import topology
from arch.s390x import (
    ContainerEntry,
    CpuEntry,
    CpuPlacement,
    Sysib151,
    build_sysib,
    guest_set_polarization,
    qmp_commands,
    stsi_15_1,
)
from topology import VirtualMachine

DRIVER = "host-s390x-cpu"


def kvm_vm(smp: str) -> VirtualMachine:
    machine = topology.machine(
        "s390x", "s390-ccw-virtio-10.0", qemu_version="10.0", accel="kvm", cpu="host"
    )
    return VirtualMachine.start(machine, smp)


def set_topology(vm: VirtualMachine, **args: object) -> None:
    qmp_commands(vm.machine.qemu_version)["set-cpu-topology"](
        vm, {name.replace("_", "-"): value for name, value in args.items()}
    )


def four_cpus() -> VirtualMachine:
    return kvm_vm("4,sockets=2,cores=2")


def mixed(vertical: bool) -> VirtualMachine:
    # socket 0: CPU 0 medium, CPU 1 high; socket 1: CPU 2 high dedicated, CPU 3 high.
    vm = four_cpus()
    set_topology(vm, core_id=1, entitlement="high")
    set_topology(vm, core_id=2, dedicated=True)
    set_topology(vm, core_id=3, entitlement="high")
    if vertical:
        guest_set_polarization(vm, "vertical")
    return vm


def corners() -> VirtualMachine:
    # Only the first and the last socket of 2 drawers x 2 books x 2 sockets hold a CPU.
    vm = kvm_vm("1,drawers=2,books=2,sockets=2,cores=1,maxcpus=8")
    vm.plug(DRIVER, {"core-id": 7})
    return vm


CASES = {
    # name: (VM builder, MNEST, the SYSIB, one entry per line)
    "two-sockets-mnest2": (
        four_cpus,
        2,
        [
            "00000040 00000000 02020002 00000000",  # length 64; mag2 2, mag1 2; MNEST 2
            "01000000 00000000",  # socket 0
            "00000000 00030000 C0000000 00000000",  # IFL, origin 0, CPUs 0 1
            "01000000 00000001",  # socket 1
            "00000000 00030000 30000000 00000000",  # CPUs 2 3
        ],
    ),
    "two-sockets-mnest4": (
        four_cpus,
        4,
        [
            "00000050 00000101 02020004 00000000",  # length 80; mag4 1, mag3 1, mag2 2, mag1 2
            "03000000 00000000",  # drawer 0
            "02000000 00000000",  # book 0
            "01000000 00000000",
            "00000000 00030000 C0000000 00000000",
            "01000000 00000001",
            "00000000 00030000 30000000 00000000",
        ],
    ),
    "vertical-high-first-dedicated-first": (
        lambda: mixed(vertical=True),
        2,
        [
            "00000060 00000000 02020002 00000000",  # length 96
            "01000000 00000000",
            "00000000 03030000 40000000 00000000",  # CPU 1, high (3)
            "00000000 02030000 80000000 00000000",  # CPU 0, medium (2)
            "01000000 00000001",
            "00000000 07030000 20000000 00000000",  # CPU 2, dedicated (4) | high
            "00000000 03030000 10000000 00000000",  # CPU 3, high
        ],
    ),
    "horizontal-merges-entitlements": (
        lambda: mixed(vertical=False),
        2,
        [
            "00000050 00000000 02020002 00000000",  # length 80
            "01000000 00000000",
            "00000000 00030000 C0000000 00000000",  # CPUs 0 1: no entitlement shown
            "01000000 00000001",
            "00000000 04030000 20000000 00000000",  # CPU 2, dedicated, first
            "00000000 00030000 10000000 00000000",  # CPU 3
        ],
    ),
    "running-counters-mnest4": (
        corners,
        4,
        [
            "00000060 00000202 02010004 00000000",  # length 96; mag 2 2 2 1
            "03000000 00000000",
            "02000000 00000000",
            "01000000 00000000",
            "00000000 00030000 80000000 00000000",  # CPU 0
            "03000000 00000001",  # drawer 1
            "02000000 00000000",  # its book 1, numbered 0 (the counter restarts)
            "01000000 00000000",  # its socket 1, numbered 0
            "00000000 00030000 01000000 00000000",  # CPU 7
        ],
    ),
    "running-counters-mnest3": (
        corners,
        3,
        [
            "00000050 00000004 02010003 00000000",  # length 80; mag3 4 (drawers*books)
            "02000000 00000000",
            "01000000 00000000",
            "00000000 00030000 80000000 00000000",
            "02000000 00000001",  # book 3 of the machine, numbered 1
            "01000000 00000000",
            "00000000 00030000 01000000 00000000",
        ],
    ),
    "running-counters-mnest2": (
        corners,
        2,
        [
            "00000040 00000000 08010002 00000000",  # length 64; mag2 8
            "01000000 00000000",
            "00000000 00030000 80000000 00000000",
            "01000000 00000001",  # socket 7 of the machine, numbered 1
            "00000000 00030000 01000000 00000000",
        ],
    ),
    "origin-64": (
        lambda: kvm_vm("65,sockets=1,cores=65"),
        2,
        [
            "00000038 00000000 01410002 00000000",  # length 56; mag1 65
            "01000000 00000000",
            "00000000 00030000 FFFFFFFF FFFFFFFF",  # CPUs 0-63
            "00000000 00030040 80000000 00000000",  # origin 64: CPU 64
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_checked_sysibs(name: str) -> None:
    build, mnest, lines = CASES[name]
    expected = bytes.fromhex("".join(lines))
    sysib = stsi_15_1(build(), mnest)
    assert sysib is not None
    assert sysib.to_bytes() == expected
    assert Sysib151.from_bytes(expected) == sysib


def test_entries_read_back_as_structures() -> None:
    sysib = stsi_15_1(corners(), 2)
    assert sysib is not None
    assert sysib.entries == (
        ContainerEntry(level=1, id=0),
        CpuEntry(dedicated=False, entitlement=0, origin=0, mask=1 << 63),
        ContainerEntry(level=1, id=1),
        CpuEntry(dedicated=False, entitlement=0, origin=0, mask=1 << 56),
    )
    assert sysib.cpu_addresses() == [0, 7]


@pytest.mark.parametrize("mnest", [0, 1, 5, 6])
def test_other_nesting_levels_are_cc3(mnest: int) -> None:
    assert stsi_15_1(four_cpus(), mnest) is None


def test_without_the_facility_cc3() -> None:
    tcg = VirtualMachine.start(
        topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0"), "4"
    )
    assert stsi_15_1(tcg, 2) is None


def test_a_list_longer_than_4k_is_cc3() -> None:
    # One socket per CPU: 248 x (8 + 16) bytes do not fit; 124 sockets of 2 do.
    assert stsi_15_1(kvm_vm("248,sockets=248,cores=1"), 2) is None
    fits = stsi_15_1(kvm_vm("248,sockets=124,cores=2"), 2)
    assert fits is not None
    assert fits.length == 16 + 124 * 24


def test_build_sysib_accepts_placements_directly() -> None:
    smp = topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0").resolve(
        "2,sockets=1,cores=2"
    )
    sysib = build_sysib(
        [CpuPlacement(core_id=1, entitlement="high"), CpuPlacement(core_id=0, entitlement="low")],
        smp,
        mnest=2,
        polarization="vertical",
    )
    assert sysib is not None
    assert [e.cpu_addresses for e in sysib.entries if isinstance(e, CpuEntry)] == [(1,), (0,)]
