"""pseries identities: vCPU ids, CPU DRC indexes and names, chip ids, vsmt.

The table rows are worked by hand from the formulas of ``hw/ppc/spapr.c``
(notes §3.2, §3.3, §3.9). The QEMU-backed tests (marked ``qemu``) start
pseries on QEMU 7.2 (threads 1 only: TCG 7.2 refuses SMT) and 10.0 and compare,
for every possible core, the CPU DRC objects under ``/machine``
(``dr-connector[<index>]`` of type ``spapr-drc-cpu``, properties ``index`` and
``id``) and ``qom-get /machine vsmt`` with the model; refusals compare QEMU's
last stderr line with ``str()`` of the model's error.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import run_qemu
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


@st.composite
def pseries_vms(draw: st.DrawFn) -> VirtualMachine:
    threads = draw(st.sampled_from([1, 2, 4, 8]))
    cores = draw(st.integers(1, 3))
    sockets = draw(st.integers(1, 3))
    max_cpus = sockets * cores * threads
    cpus = threads * draw(st.integers(1, max_cpus // threads))
    name = draw(st.sampled_from(["pseries-4.1", "pseries-4.2", "pseries-10.0"]))
    vsmt = draw(st.none() | st.integers(threads, 16))
    options = {} if vsmt is None else {"vsmt": str(vsmt)}
    machine = topology.machine("ppc64", name, qemu_version="10.0", **options)
    smp = f"{cpus},sockets={sockets},cores={cores},threads={threads},maxcpus={max_cpus}"
    return VirtualMachine.start(machine, smp)


@given(pseries_vms())
def test_identities_are_unique_and_aligned(vm: VirtualMachine) -> None:
    threads = vm.topology.threads
    vsmt = effective_vsmt(vm.machine.type, threads, vm.machine.options)
    cores = core_identities(vm)
    assert len(cores) == vm.topology.max_cpus // threads
    assert len({core.drc_index for core in cores}) == len(cores)
    assert len({core.drc_name for core in cores}) == len(cores)
    ids = [i for core in cores for i in core.vcpu_ids]
    assert len(set(ids)) == len(ids) == vm.topology.max_cpus
    server_max = max_server_number(vm.topology.max_cpus, threads, vsmt)
    for core in cores:
        assert core.vcpu_ids[0] % vsmt == 0
        assert core.drc_index == CPU_DRC_BASE + core.vcpu_ids[0]
        assert core.vcpu_ids == tuple(range(core.vcpu_ids[0], core.vcpu_ids[0] + threads))
        assert max(core.vcpu_ids) < server_max
        assert 0 <= core.chip_ids[0] < vm.topology.sockets


# -- differential against QEMU ------------------------------------------------------------------

# (QEMU version, machine type, vsmt option or None, -smp).
QEMU_CASES = [
    ("7.2", "pseries-4.1", None, "2,maxcpus=4"),
    ("7.2", "pseries-4.1", "3", "2,maxcpus=4"),
    ("7.2", "pseries-4.2", None, "1,maxcpus=3"),
    ("7.2", "pseries-7.2", None, "2,sockets=2,cores=2,maxcpus=4"),
    ("7.2", "pseries-7.2", "2", "1,maxcpus=4"),
    ("7.2", "pseries-7.2", "5", "2,maxcpus=3"),
    ("7.2", "pseries-2.7", "1", "1,maxcpus=2"),
    ("10.0", "pseries-4.1", None, "2,threads=2,maxcpus=6"),
    ("10.0", "pseries-4.1", None, "8,threads=8,maxcpus=16"),
    ("10.0", "pseries-4.1", "3", "2,threads=2,maxcpus=4"),
    ("10.0", "pseries-4.2", None, "4,threads=4,maxcpus=8"),
    ("10.0", "pseries-10.0", None, "2,maxcpus=4"),
    ("10.0", "pseries-10.0", None, "8,threads=8,maxcpus=16"),
    ("10.0", "pseries-10.0", "3", "2,threads=2,maxcpus=6"),
    ("10.0", "pseries-10.0", "6", "4,sockets=2,cores=1,threads=4,maxcpus=8"),
    ("10.0", "pseries-10.0", "8", "2,threads=2,maxcpus=8"),
    ("10.0", "pseries-10.0", "4", "1,maxcpus=3"),
]

# Refusals: (QEMU version, machine type, vsmt option, -smp, -m or None).
QEMU_REFUSALS = [
    ("10.0", "pseries-10.0", "1", "4,threads=2", None),
    ("10.0", "pseries-10.0", "3", "4,threads=4", None),
    ("10.0", "pseries-4.1", "4", "8,threads=8", None),
    # Order: vsmt before the RAM alignment and before cpus % threads.
    ("10.0", "pseries-10.0", "1", "4,threads=2", "300M"),
    ("10.0", "pseries-10.0", "1", "1,threads=2,maxcpus=4", None),
    # Order: the power-of-2 and TCG checks come first.
    ("10.0", "pseries-10.0", "1", "6,threads=3", None),
    ("10.0", "pseries-10.0", "1", "16,threads=16", None),
    ("7.2", "pseries-7.2", "1", "2,threads=2", None),
]


def _case_id(case: tuple[Any, ...]) -> str:
    return "-".join(str(part) for part in case if part is not None)


def _machine_arg(machine_name: str, vsmt: str | None) -> str:
    return machine_name if vsmt is None else f"{machine_name},vsmt={vsmt}"


def _qom_get(path: str, prop: str) -> tuple[str, dict[str, object]]:
    return ("qom-get", {"path": path, "property": prop})


@pytest.mark.qemu
@pytest.mark.parametrize("case", QEMU_CASES, ids=_case_id)
def test_drcs_match_qemu(case: tuple[str, str, str | None, str]) -> None:
    version, machine_name, vsmt, smp = case
    require_qemu("ppc64", version)
    options = {} if vsmt is None else {"vsmt": vsmt}
    machine = topology.machine("ppc64", machine_name, qemu_version=version, **options)
    vm = VirtualMachine.start(machine, smp)
    cores = core_identities(vm)
    paths = [f"/machine/dr-connector[{core.drc_index}]" for core in cores]
    commands: list[tuple[str, dict[str, object]]] = [
        ("qom-list", {"path": "/machine"}),
        _qom_get("/machine", "vsmt"),
    ]
    for path in paths:
        commands += [_qom_get(path, "index"), _qom_get(path, "id")]
    run = run_qemu(
        "ppc64",
        ["-machine", _machine_arg(machine_name, vsmt), "-smp", smp],
        commands,
        version=version,
    )
    assert run.greeted, run.stderr_lines
    replies = [reply.get("return", reply.get("error")) for reply in run.replies]
    children, qemu_vsmt, *props = replies
    assert isinstance(children, list)
    qemu_drcs = sorted(
        child["name"] for child in children if child["type"] == "child<spapr-drc-cpu>"
    )
    assert qemu_drcs == sorted(path.removeprefix("/machine/") for path in paths)
    assert qemu_vsmt == effective_vsmt(machine.type, vm.topology.threads, machine.options)
    expected: list[object] = []
    for core in cores:
        expected += [core.drc_index, core.vcpu_ids[0]]
    assert props == expected


@pytest.mark.qemu
@pytest.mark.parametrize("case", QEMU_REFUSALS, ids=_case_id)
def test_refusals_match_qemu(case: tuple[str, str, str, str, str | None]) -> None:
    version, machine_name, vsmt, smp, memory = case
    require_qemu("ppc64", version)
    machine = topology.machine("ppc64", machine_name, qemu_version=version, vsmt=vsmt)
    with pytest.raises(topology.TopologyError) as info:
        VirtualMachine.start(machine, smp, memory=memory)
    args = ["-machine", _machine_arg(machine_name, vsmt), "-smp", smp]
    if memory is not None:
        args += ["-m", memory]
    run = run_qemu("ppc64", args, version=version)
    assert run.exit_code == 1
    assert run.stderr_lines[-1] == f"qemu-system-ppc64: {info.value}"
