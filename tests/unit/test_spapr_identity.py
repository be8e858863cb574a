"""pseries identities: vCPU ids, CPU DRC indexes and names, chip ids, vsmt.

The table rows are worked by hand from the formulas of ``hw/ppc/spapr.c``
(notes §3.2, §3.3, §3.9). Their properties are in
``tests/property/test_spapr_identity.py``; the comparison with real QEMU's DRC
objects and vsmt is in ``tests/differential/test_spapr_identity.py``.
"""

from __future__ import annotations

import pytest

import topology
from arch.spapr._identity import (
    CPU_DRC_BASE,
    CoreIdentity,
    check_vsmt,
    chip_id,
    core_identities,
    drc_index,
    drc_name,
    effective_vsmt,
    max_server_number,
    requested_vsmt,
    vcpu_id,
)
from topology._model.vm import VirtualMachine

# (cpu_index, threads, vsmt, vcpu id): (cpu_index // threads) * vsmt + cpu_index % threads.
VCPU_ROWS = [
    (0, 1, 1, 0),
    (3, 1, 1, 3),
    (3, 1, 8, 24),  # pseries-4.1 default vsmt with threads=1
    (5, 2, 8, 17),  # core 2, thread 1: 2*8 + 1
    (7, 4, 4, 7),
    (7, 4, 6, 9),  # core 1 starts at 6
    (9, 8, 8, 9),
    (6, 2, 3, 9),  # vsmt need not be a power of 2
]

# (core_id, threads, vsmt, DRC index): 0x10000000 + (core_id // threads) * vsmt.
DRC_ROWS = [
    (0, 1, 1, 0x10000000),
    (3, 1, 1, 0x10000003),
    (3, 1, 8, 0x10000018),
    (4, 2, 8, 0x10000010),
    (8, 4, 6, 0x1000000C),
    (24, 8, 8, 0x10000018),
]


@pytest.mark.parametrize(("cpu_index", "threads", "vsmt", "expected"), VCPU_ROWS)
def test_vcpu_id(cpu_index: int, threads: int, vsmt: int, expected: int) -> None:
    assert vcpu_id(cpu_index, threads, vsmt) == expected


@pytest.mark.parametrize(("core_id", "threads", "vsmt", "expected"), DRC_ROWS)
def test_drc_index_and_name(core_id: int, threads: int, vsmt: int, expected: int) -> None:
    assert drc_index(core_id, threads, vsmt) == expected
    assert drc_name(core_id, threads, vsmt) == f"CPU {expected - CPU_DRC_BASE}"


@pytest.mark.parametrize(
    ("cpu_index", "threads", "cores", "expected"),
    [(0, 1, 1, 0), (3, 1, 2, 1), (7, 2, 2, 1), (8, 2, 2, 2), (15, 4, 2, 1)],
)
def test_chip_id(cpu_index: int, threads: int, cores: int, expected: int) -> None:
    assert chip_id(cpu_index, threads, cores) == expected


@pytest.mark.parametrize(
    ("max_cpus", "threads", "vsmt", "expected"),
    [(4, 1, 1, 4), (4, 1, 8, 32), (6, 2, 3, 9), (8, 4, 6, 12), (16, 8, 8, 16)],
)
def test_max_server_number(max_cpus: int, threads: int, vsmt: int, expected: int) -> None:
    assert max_server_number(max_cpus, threads, vsmt) == expected


@pytest.mark.parametrize(
    ("machine_name", "threads", "vsmt_option", "expected"),
    [
        ("pseries-4.1", 1, None, 8),
        ("pseries-4.1", 2, None, 8),
        ("pseries-4.1", 8, None, 8),
        ("pseries-4.1", 1, "3", 3),
        ("pseries-4.2", 1, None, 1),
        ("pseries-4.2", 4, None, 4),
        ("pseries-10.0", 2, "0", 2),  # 0 means "not set"
        ("pseries-10.0", 2, "5", 5),
    ],
)
def test_effective_vsmt(
    machine_name: str, threads: int, vsmt_option: str | None, expected: int
) -> None:
    options = {} if vsmt_option is None else {"vsmt": vsmt_option}
    machine = topology.machine("ppc64", machine_name, qemu_version="10.0", **options)
    assert effective_vsmt(machine.type, threads, machine.options) == expected


def test_vsmt_option_text() -> None:
    assert requested_vsmt({"vsmt": "0x10"}) == 16
    # A -machine property value: refused when QEMU sets the property (ParameterError).
    with pytest.raises(topology.ParameterError) as info:
        requested_vsmt({"vsmt": "-1"})
    assert str(info.value) == "Parameter 'vsmt' expects uint32_t"
    with pytest.raises(topology.ParameterError) as info:
        requested_vsmt({"vsmt": "abc"})
    assert str(info.value) == "Parameter 'vsmt' expects integer"


def test_vsmt_below_threads_is_refused() -> None:
    check_vsmt({"vsmt": "2"}, 2)
    with pytest.raises(topology.BoardError) as info:
        check_vsmt({"vsmt": "1"}, 2)
    assert str(info.value) == "Cannot support VSMT mode 1 because it must be >= threads/core (2)"
    assert info.value.what == "vsmt"


def test_core_identities_worked_example() -> None:
    machine = topology.machine("ppc64", "pseries-10.0", qemu_version="10.0", vsmt="8")
    vm = VirtualMachine.start(machine, "4,sockets=2,cores=2,threads=2,maxcpus=8")
    assert core_identities(vm) == [
        CoreIdentity(
            core_id=0, drc_index=0x10000000, drc_name="CPU 0", vcpu_ids=(0, 1), chip_ids=(0, 0)
        ),
        CoreIdentity(
            core_id=2, drc_index=0x10000008, drc_name="CPU 8", vcpu_ids=(8, 9), chip_ids=(0, 0)
        ),
        CoreIdentity(
            core_id=4,
            drc_index=0x10000010,
            drc_name="CPU 16",
            vcpu_ids=(16, 17),
            chip_ids=(1, 1),
        ),
        CoreIdentity(
            core_id=6,
            drc_index=0x10000018,
            drc_name="CPU 24",
            vcpu_ids=(24, 25),
            chip_ids=(1, 1),
        ),
    ]
