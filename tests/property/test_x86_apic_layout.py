"""``arch.x86.ApicLayout`` by properties: APIC IDs encode and decode the topology ids
both ways, grow with the CPU index, never repeat, and the offsets add up the widths.

QEMU's own APIC ID table is checked in ``tests/unit/test_x86_topo_table.py``.
"""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from arch.x86 import ApicLayout, TopoIds

# Counts stay small enough to enumerate a few sockets' worth of CPUs.
counts = st.integers(min_value=1, max_value=9)


@st.composite
def layouts(draw: st.DrawFn) -> ApicLayout:
    return ApicLayout.for_topology(
        dies=draw(counts), modules=draw(counts), cores=draw(counts), threads=draw(counts)
    )


@st.composite
def layouts_and_ids(draw: st.DrawFn) -> tuple[ApicLayout, TopoIds]:
    layout = draw(layouts())
    ids = TopoIds(
        socket_id=draw(st.integers(min_value=0, max_value=300)),
        die_id=draw(st.integers(min_value=0, max_value=layout.dies - 1)),
        module_id=draw(st.integers(min_value=0, max_value=layout.modules - 1)),
        core_id=draw(st.integers(min_value=0, max_value=layout.cores - 1)),
        thread_id=draw(st.integers(min_value=0, max_value=layout.threads - 1)),
    )
    return layout, ids


@given(layouts_and_ids())
def test_encode_then_decode_gives_the_ids(case: tuple[ApicLayout, TopoIds]) -> None:
    layout, ids = case
    apic_id = layout.apic_id(**attrs.asdict(ids))
    assert layout.decode(apic_id) == ids


@given(layouts_and_ids())
def test_decode_then_encode_gives_the_apic_id(case: tuple[ApicLayout, TopoIds]) -> None:
    layout, ids = case
    apic_id = layout.apic_id(**attrs.asdict(ids))
    assert layout.apic_id(**attrs.asdict(layout.decode(apic_id))) == apic_id


@given(layouts(), st.integers(min_value=0, max_value=5000))
def test_apic_ids_grow_strictly_with_the_index(layout: ApicLayout, index: int) -> None:
    assert layout.apic_id_from_index(index) < layout.apic_id_from_index(index + 1)
    assert layout.apic_id_from_index(index) >= index


@given(layouts(), st.integers(min_value=1, max_value=3))
def test_no_two_indexes_share_an_apic_id(layout: ApicLayout, sockets: int) -> None:
    cpus = sockets * layout.dies * layout.modules * layout.cores * layout.threads
    apic_ids = [layout.apic_id_from_index(index) for index in range(cpus)]
    assert len(set(apic_ids)) == cpus
    assert layout.apic_id_limit(cpus) == apic_ids[-1] + 1


@given(layouts(), st.integers(min_value=0, max_value=5000))
def test_index_ids_round_trip_through_the_apic_id(layout: ApicLayout, index: int) -> None:
    assert layout.decode(layout.apic_id_from_index(index)) == layout.ids_from_index(index)


@given(layouts())
def test_offsets_add_up_the_widths(layout: ApicLayout) -> None:
    assert layout.core_offset == layout.smt_width
    assert layout.module_offset == layout.core_offset + layout.core_width
    assert layout.die_offset == layout.module_offset + layout.module_width
    assert layout.pkg_offset == layout.die_offset + layout.die_width
    for count, width in (
        (layout.threads, layout.smt_width),
        (layout.cores, layout.core_width),
        (layout.modules, layout.module_width),
        (layout.dies, layout.die_width),
    ):
        assert count <= 2**width
        assert width == 0 or count > 2 ** (width - 1)
