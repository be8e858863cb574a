"""Check ``arch.x86.ApicLayout`` against QEMU's APIC ID unit test, and its refusals.

The table lives in ``tests/data/x86_topo_cases.py``: a data-only port of
``tests/unit/test-x86-topo.c`` (qemu/qemu, QEMU 9.1+), one row per assertion.
The properties of the layout are in ``tests/property/test_x86_apic_layout.py``.
"""

from __future__ import annotations

from collections import Counter

import pytest

import topology
from arch.x86 import ApicLayout, TopoIds
from tests.data.x86_topo_cases import CASES, EXPECTED_ROWS, TopoCase


def _case_id(case: TopoCase) -> str:
    dies, modules, cores, threads = case["topo"]
    shape = f"d{dies}m{modules}c{cores}t{threads}"
    if case["index"] is None:
        return f"{shape}-{case['check']}"
    return f"{shape}-apic_id[{case['index']}]"


def _layout(case: TopoCase) -> ApicLayout:
    dies, modules, cores, threads = case["topo"]
    return ApicLayout.for_topology(dies=dies, modules=modules, cores=cores, threads=threads)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_qemu_x86_topo_row(case: TopoCase) -> None:
    layout = _layout(case)
    index = case["index"]
    if index is None:
        assert getattr(layout, case["check"]) == case["expected"]
        return
    assert layout.apic_id_from_index(index) == case["expected"]
    ids = case["ids"]
    assert ids is not None
    socket, die, module, core, thread = ids
    expected_ids = TopoIds(
        socket_id=socket, die_id=die, module_id=module, core_id=core, thread_id=thread
    )
    assert layout.decode(case["expected"]) == expected_ids
    assert layout.ids_from_index(index) == expected_ids


def test_qemu_x86_topo_table_is_complete() -> None:
    assert len(CASES) == EXPECTED_ROWS
    assert Counter(case["check"] for case in CASES) == {
        "smt_width": 9,
        "core_width": 5,
        "module_width": 5,
        "die_width": 5,
        "core_offset": 1,
        "module_offset": 1,
        "die_offset": 1,
        "pkg_offset": 1,
        "apic_id_from_index": 19,
    }
    assert sum(case["since"] == "9.1" for case in CASES) == 6
    ids = [_case_id(case) for case in CASES]
    assert len(ids) == len(set(ids))


def test_direct_construction_derives_the_same_fields() -> None:
    assert ApicLayout(dies=2, cores=3, threads=2) == ApicLayout.for_topology(
        dies=2, cores=3, threads=2
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cores": 0, "threads": 1}, "cores must be a positive integer, not 0"),
        ({"cores": 1, "threads": -2}, "threads must be a positive integer, not -2"),
        ({"dies": 0, "cores": 1, "threads": 1}, "dies must be a positive integer, not 0"),
        ({"modules": 2.0, "cores": 1, "threads": 1}, "modules must be a positive integer, not 2.0"),
        ({"cores": True, "threads": 1}, "cores must be a positive integer, not True"),
    ],
)
def test_bad_counts_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(topology.ParameterError) as excinfo:
        ApicLayout.for_topology(**kwargs)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


_LAYOUT = ApicLayout.for_topology(dies=2, modules=2, cores=3, threads=2)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ({"socket_id": -1}, "socket_id must be >= 0, not -1"),
        ({"die_id": 2}, "die_id must be in range 0:1 (dies=2), not 2"),
        ({"module_id": -1}, "module_id must be in range 0:1 (modules=2), not -1"),
        ({"core_id": 3}, "core_id must be in range 0:2 (cores=3), not 3"),
        ({"thread_id": 2}, "thread_id must be in range 0:1 (threads=2), not 2"),
        ({"core_id": "1"}, "core_id must be an integer, not '1'"),
    ],
)
def test_ids_out_of_range_are_refused(ids: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"socket_id": 0, "core_id": 0, "thread_id": 0, **ids}
    with pytest.raises(topology.ParameterError) as excinfo:
        _LAYOUT.apic_id(**arguments)  # type: ignore[arg-type]
    assert str(excinfo.value) == message
    assert excinfo.value.what == next(iter(ids))


def test_bad_index_and_apic_id_are_refused() -> None:
    with pytest.raises(topology.ParameterError, match="cpu_index must be >= 0, not -1"):
        _LAYOUT.apic_id_from_index(-1)
    with pytest.raises(topology.ParameterError, match="max_cpus must be a positive integer"):
        _LAYOUT.apic_id_limit(0)
    with pytest.raises(topology.ParameterError, match=r"apic_id must be an integer in range"):
        _LAYOUT.decode(2**32)


def test_decode_reads_gaps_as_qemu_does() -> None:
    # APIC ID 3 lies in the gap of 3 cores: its core field reads 3.
    layout = ApicLayout.for_topology(cores=3, threads=1)
    assert layout.decode(3).core_id == 3
