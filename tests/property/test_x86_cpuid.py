"""The CPUID topology leaves by properties: on any APIC layout and QEMU version, the
shifts, counts and ids of leaves 0BH, 1FH and 8000001EH agree with the APIC IDs.

The hand-checked rows, and the sources they follow, are in
``tests/unit/test_x86_cpuid.py``.
"""

from __future__ import annotations

import itertools

import attrs
from hypothesis import assume, given
from hypothesis import strategies as st

import topology
from arch.x86 import (
    ApicLayout,
    cpuid_leaf_0b,
    cpuid_leaf_1f,
    cpuid_leaf_8000001e,
    leaf_1f_reported,
    topology_levels,
)
from tests.unit.test_x86_cpuid import regs

versions = st.sampled_from(topology.SUPPORTED_QEMU_VERSIONS)
counts = st.integers(min_value=1, max_value=7)


@st.composite
def cpus(draw: st.DrawFn) -> tuple[ApicLayout, topology.QemuVersion, int, int]:
    """A layout, a QEMU version that has it, the number of sockets and one CPU's APIC ID."""
    version = draw(versions)
    modules = draw(counts) if version.at_least("9.1") else 1
    layout = ApicLayout.for_topology(
        dies=draw(counts), modules=modules, cores=draw(counts), threads=draw(counts)
    )
    sockets = draw(st.integers(min_value=1, max_value=3))
    per_socket = layout.dies * layout.modules * layout.cores * layout.threads
    index = draw(st.integers(min_value=0, max_value=sockets * per_socket - 1))
    return layout, version, sockets, layout.apic_id_from_index(index)


@given(cpus(), st.sampled_from([0xB, 0x1F]))
def test_the_last_level_shifts_to_the_socket(
    cpu: tuple[ApicLayout, topology.QemuVersion, int, int], leaf: int
) -> None:
    layout, version, _, _ = cpu
    levels = topology_levels(layout, leaf=leaf, qemu_version=version)
    assume(levels)
    assert levels[-1].shift == layout.pkg_offset
    assert [level.number for level in levels] == list(range(len(levels)))
    assert all(a.shift < b.shift or a.count == b.count for a, b in itertools.pairwise(levels))


@given(cpus(), st.sampled_from([0xB, 0x1F]))
def test_the_smt_level_counts_the_threads(
    cpu: tuple[ApicLayout, topology.QemuVersion, int, int], leaf: int
) -> None:
    layout, version, _, apic_id = cpu
    regs0 = (cpuid_leaf_0b if leaf == 0xB else cpuid_leaf_1f)(
        layout, apic_id, 0, qemu_version=version
    )
    if leaf == 0x1F and not leaf_1f_reported(layout, qemu_version=version):
        assert regs0 == regs(0, 0, 0, 0)
        return
    assert regs0.ebx == layout.threads
    assert regs0.ecx == 0x100
    assert regs0.eax == layout.smt_width
    assert regs0.edx == apic_id


@given(cpus(), st.integers(min_value=2, max_value=255))
def test_leaf_0b_past_the_last_level_is_invalid(
    cpu: tuple[ApicLayout, topology.QemuVersion, int, int], subleaf: int
) -> None:
    layout, version, _, apic_id = cpu
    assert cpuid_leaf_0b(layout, apic_id, subleaf, qemu_version=version) == regs(
        0, 0, subleaf, apic_id
    )


@given(cpus(), st.integers(min_value=0, max_value=5))
def test_leaf_1f_past_the_last_level_is_invalid(
    cpu: tuple[ApicLayout, topology.QemuVersion, int, int], subleaf: int
) -> None:
    layout, version, _, apic_id = cpu
    levels = topology_levels(layout, qemu_version=version)
    assume(levels and subleaf >= len(levels))
    assert cpuid_leaf_1f(layout, apic_id, subleaf, qemu_version=version) == regs(
        0, 0, subleaf, apic_id
    )


@given(cpus(), st.sampled_from([0xB, 0x1F]))
def test_each_level_counts_the_cpus_that_share_the_shifted_id(
    cpu: tuple[ApicLayout, topology.QemuVersion, int, int], leaf: int
) -> None:
    # The SDM's meaning: CPUs whose x2APIC IDs agree above the shift form one
    # unit of the next level, and EBX says how many there are.
    layout, version, sockets, apic_id = cpu
    assume(leaf == 0x1F or version.at_least("8.2") or layout.dies == 1)
    every = [
        layout.apic_id_from_index(index)
        for index in range(sockets * layout.dies * layout.modules * layout.cores * layout.threads)
    ]
    for level in topology_levels(layout, leaf=leaf, qemu_version=version):
        sharing = [other for other in every if other >> level.shift == apic_id >> level.shift]
        assert len(sharing) == level.count


@given(cpus())
def test_leaf_8000001e_carries_the_ids(
    cpu: tuple[ApicLayout, topology.QemuVersion, int, int],
) -> None:
    layout, version, _, apic_id = cpu
    ids = layout.decode(apic_id)
    found = cpuid_leaf_8000001e(layout, apic_id, qemu_version=version, machine_type="q35")
    assert found.eax == apic_id
    assert found.ebx == (layout.threads - 1) << 8 | ids.core_id
    if version.at_least("9.1"):
        assert found.ecx == ids.socket_id
    else:
        assert found.ecx >> 8 == layout.dies - 1
        assert found.ecx & ((1 << layout.die_width) - 1) == ids.die_id
    assert found.edx == 0


@given(cpus())
def test_cpuid_regs_are_32_bit(cpu: tuple[ApicLayout, topology.QemuVersion, int, int]) -> None:
    layout, version, _, apic_id = cpu
    for found in (
        cpuid_leaf_0b(layout, apic_id, 1, qemu_version=version),
        cpuid_leaf_1f(layout, apic_id, 1, qemu_version=version),
        cpuid_leaf_8000001e(layout, apic_id, qemu_version=version),
    ):
        for value in attrs.astuple(found):
            assert 0 <= value <= 0xFFFFFFFF
