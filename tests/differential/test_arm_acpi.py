"""Differential tests: ARM virt's ACPI table size warning, the stand-in against QEMU.

``virt_acpi_build`` warns when the ACPI tables pass 64 KiB (``ACPI table size
N exceeds 65536 bytes, migration may not work``); the size depends on the
boot and possible CPUs, the ``-smp`` levels, the release and the virt type
(PPTT from 6.2, flash devices up to 5.0), NUMA (SRAT, SLIT, HMAT), memory
hot-plug and ``ras``. Each case starts real QEMU (7.2 needs ``gic-version=3``:
its default GICv2 takes 8 CPUs) and the stand-in with the same command line;
stderr must be equal line for line (the other warnings included) and so must
the exit status. ``arch/arm/_acpi.py`` says how the size is counted.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, run_qemu
from topology.qemu import QemuSimulator, QemuStartError

pytestmark = pytest.mark.qemu

EXAMPLES = max(10, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 16)


def _numa(nodes: int, memoryless: bool) -> list[str]:
    """``-m`` and ``-numa`` options for ``nodes`` nodes of 256 MiB (the last without
    memory when ``memoryless``)."""
    if nodes == 0:
        return []
    with_memory = nodes - 1 if memoryless and nodes > 1 else nodes
    args = ["-m", f"{256 * with_memory}M"]
    for node in range(nodes):
        if node < with_memory:
            args += ["-object", f"memory-backend-ram,id=m{node},size=256M"]
            args += ["-numa", f"node,nodeid={node},memdev=m{node}"]
        else:
            args += ["-numa", f"node,nodeid={node}"]
    return args


def _compare(version: str, args: list[str]) -> None:
    require_qemu("aarch64", version)
    run = run_qemu("aarch64", args, version=version)
    try:
        sim = QemuSimulator(["qemu-system-aarch64", *args], version=version)
        ours = (0, sim.stderr.splitlines())
    except QemuStartError as refused:
        ours = (refused.exit_code, refused.stderr.splitlines())
    assert ours == (run.exit_code, list(run.stderr_lines)), args


def _virt(version: str, machine_type: str = "virt", extra: str = "") -> list[str]:
    gic = ",gic-version=3" if version == "7.2" else ""
    return ["-machine", f"{machine_type}{gic}{extra}"]


N2_HMAT = [
    *("-m", "512M", "-object", "memory-backend-ram,id=m0,size=256M"),
    *("-object", "memory-backend-ram,id=m1,size=256M"),
    *("-numa", "node,nodeid=0,memdev=m0,initiator=0"),
    *("-numa", "node,nodeid=1,memdev=m1,initiator=1"),
    *("-numa", "cpu,node-id=0,socket-id=0", "-numa", "cpu,node-id=1,socket-id=1"),
    *("-numa", "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=10"),
    *("-numa", "hmat-lb,initiator=1,target=1,hierarchy=memory,data-type=access-latency,latency=10"),
    *(
        "-numa",
        "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=5G",
    ),
    *(
        "-numa",
        "hmat-cache,node-id=0,size=10K,level=1,associativity=direct,policy=write-back,line=8",
    ),
]

#: Hand-picked command lines: each side of the 64 KiB line, the levels, the
#: possible CPUs, the virt types whose tables differ, NUMA, memory hot-plug, ras.
CASES = [
    ("virt", "", ["-smp", "458"]),
    ("virt", "", ["-smp", "459"]),
    ("virt", "", ["-smp", "459,maxcpus=500"]),
    ("virt", "", ["-smp", "500,sockets=2"]),
    ("virt", "", ["-smp", "500,clusters=2"]),
    ("virt", "", ["-smp", "512,threads=2"]),
    ("virt", "", ["-smp", "300,maxcpus=512,threads=2", *_numa(2, False)]),
    ("virt", "", ["-smp", "400,sockets=4,clusters=2,threads=2", *_numa(1, False)]),
    ("virt", "", ["-smp", "420", *_numa(3, True)]),
    ("virt", "", ["-smp", "420", *_numa(2, False), "-numa", "dist,src=0,dst=1,val=20"]),
    ("virt", "", ["-smp", "430", "-m", "512M,slots=4,maxmem=1G"]),
    ("virt", ",hmat=on", ["-smp", "420,sockets=2", *N2_HMAT]),
    ("virt-6.2", "", ["-smp", "459"]),
    ("virt-6.1", "", ["-smp", "512", *_numa(1, False)]),
    ("virt-6.1", "", ["-smp", "459"]),
    ("virt-6.1", ",acpi=off", ["-smp", "512", *_numa(1, False)]),
]


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(("machine_type", "extra", "args"), CASES, ids=str)
def test_acpi_size_warning_is_qemus(
    version: str, machine_type: str, extra: str, args: list[str]
) -> None:
    _compare(version, [*_virt(version, machine_type, extra), *args])


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("smp", ["2", "500"])
def test_ras_without_firmware_crashes_qemu(version: str, smp: str) -> None:
    # virt makes no GED device without firmware, and the ACPI set-up asserts
    # for ras=on, after the size warning (HEST counted): 7.2 and 10.0 abort;
    # 11.1.3 dies of SIGSEGV. The stand-in stops the same way.
    require_qemu("aarch64", version)
    args = [*_virt(version, "virt", ",ras=on"), "-smp", smp]
    # QEMU's SIGSEGV is its answer here every time: not a random crash to rerun.
    run = run_qemu("aarch64", args, version=version, rerun_random_crashes=False)
    with pytest.raises(QemuStartError) as refused:
        QemuSimulator(["qemu-system-aarch64", *args], version=version)
    assert refused.value.exit_code == run.exit_code
    # QEMU prints the assertion after what the stand-in prints (the size warning;
    # up to 8.2 its hint has no line feed, so the assertion follows on its line).
    ours = refused.value.stderr.splitlines()
    assert len(run.stderr_lines) >= len(ours)
    for mine, theirs in zip(ours, run.stderr_lines, strict=False):
        assert theirs.startswith(mine), (ours, run.stderr_lines)


@pytest.mark.parametrize("machine_type", ["virt-5.0", "virt-4.1"])
def test_virt_5_0_and_older_describe_the_flash(machine_type: str) -> None:
    # 11.1 has no virt types older than 5.2.
    for version in ("7.2", "10.0"):
        _compare(version, [*_virt(version, machine_type), "-smp", "512", *_numa(1, False)])


def test_gicv5_tables() -> None:
    _compare("11.1", ["-machine", "virt,gic-version=x-5", "-cpu", "max", "-smp", "459"])


@st.composite
def configurations(draw: st.DrawFn) -> tuple[str, list[str]]:
    version = draw(st.sampled_from(QEMU_VERSIONS))
    newest = "virt"
    machine_type = draw(st.sampled_from([newest, newest, "virt-6.2", "virt-8.0", "virt-6.1"]))
    threads = draw(st.sampled_from([1, 1, 2]))
    sockets = draw(st.sampled_from([1, 2, 4]))
    clusters = draw(st.sampled_from([None, 1, 2]))
    per_socket = threads * (clusters or 1)
    cores = draw(st.integers(min_value=1, max_value=512 // (sockets * per_socket)))
    maxcpus = sockets * per_socket * cores
    cpus = draw(st.integers(min_value=max(1, maxcpus - 80), max_value=maxcpus))
    smp = f"{cpus},maxcpus={maxcpus},sockets={sockets},cores={cores},threads={threads}"
    if clusters is not None:
        smp += f",clusters={clusters}"
    args = [*_virt(version, machine_type), "-smp", smp]
    nodes = draw(st.integers(min_value=0, max_value=3))
    args += _numa(nodes, draw(st.booleans()))
    if nodes > 1 and draw(st.booleans()):
        args += ["-numa", f"dist,src=0,dst={nodes - 1},val=30"]
        for other in range(1, nodes - 1):
            args += ["-numa", f"dist,src=0,dst={other},val=20"]
            args += ["-numa", f"dist,src={other},dst={nodes - 1},val=20"]
    elif nodes == 0 and draw(st.booleans()):
        args += ["-m", "512M,slots=2,maxmem=1G"]
    return version, args


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(configurations())
def test_generated_configurations_warn_as_qemu(configuration: tuple[str, list[str]]) -> None:
    _compare(*configuration)
