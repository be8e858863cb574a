"""Check ``topology.resolve_smp`` against QEMU's own SMP parser test vectors.

The source rows live in ``tests/data/smp_parse_cases.py``, a data-only
port of ``tests/unit/test-smp-parse.c`` from repository qemu/qemu at commit
12d1a768bdfea6e27a3a829228840d72507613a1 (QEMU 9.1+/10.x semantics);
``tests/data/smp_parse_driver.py`` generates from them the rows that the C
test functions generate in loops.  Every row runs under each ``prefer_sockets``
policy the C driver checks it under.
"""

from __future__ import annotations

from collections import Counter
from typing import cast

import pytest

import topology
from tests.data.smp_parse_cases import INVALID, LEVEL_FLAGS, VALID

Row = dict[str, object]

POLICIES = ("prefer_sockets", "prefer_cores")

# Rows per C test function (VALID) and per C table (INVALID), counted in the C source:
# data_generic_valid has 33 rows; each test_with_* function and test_full_topo run
# every one of them twice (levels omitted, then specified), giving 66 rows each.
EXPECTED_VALID_COUNTS: dict[str, int] = {
    "test_generic_valid": 33,
    "test_with_modules": 66,
    "test_with_dies": 66,
    "test_with_modules_dies": 66,
    "test_with_clusters": 66,
    "test_with_books": 66,
    "test_with_drawers": 66,
    "test_with_drawers_books": 66,
    "test_full_topo": 66,
}
EXPECTED_INVALID_COUNTS: dict[str, int] = {
    "data_generic_invalid": 9,
    "data_with_modules_invalid": 2,
    "data_with_dies_invalid": 2,
    "data_with_modules_dies_invalid": 2,
    "data_with_clusters_invalid": 2,
    "data_with_books_invalid": 2,
    "data_with_drawers_invalid": 2,
    "data_with_drawers_books_invalid": 2,
    "data_full_topo_invalid": 3,
    "data_zero_topo_invalid": 10,
}


def _rules(row: Row, policy: str) -> topology.SmpRules:
    return topology.SmpRules(
        name=cast(str, row["name"]),
        levels=frozenset(cast(list[str], row["levels"])),
        min_cpus=cast(int, row["min_cpus"]),
        max_cpus=cast(int, row["max_cpus"]),
        prefer_sockets=(policy == "prefer_sockets"),
        qemu_version="10.2",
    )


def _valid_cases() -> tuple[list[tuple[Row, str]], list[str]]:
    cases: list[tuple[Row, str]] = []
    ids: list[str] = []
    for row in VALID:
        for policy in POLICIES:
            if row[policy] is not None:
                cases.append((row, policy))
                ids.append(f"{row['id']}-{policy}")
    return cases, ids


def _invalid_cases() -> tuple[list[tuple[Row, str]], list[str]]:
    cases: list[tuple[Row, str]] = []
    ids: list[str] = []
    for row in INVALID:
        for policy in cast(list[str], row["policies"]):
            cases.append((row, policy))
            ids.append(f"{row['id']}-{policy}")
    return cases, ids


_VALID_CASES, _VALID_IDS = _valid_cases()
_INVALID_CASES, _INVALID_IDS = _invalid_cases()


@pytest.mark.parametrize(("row", "policy"), _VALID_CASES, ids=_VALID_IDS)
def test_qemu_valid_smp(row: Row, policy: str) -> None:
    expected = cast(dict[str, int], row[policy])
    topo = topology.resolve_smp(cast(str, row["smp"]), _rules(row, policy))
    assert {key: getattr(topo, key) for key in expected} == expected


@pytest.mark.parametrize(("row", "policy"), _INVALID_CASES, ids=_INVALID_IDS)
def test_qemu_invalid_smp(row: Row, policy: str) -> None:
    with pytest.raises(topology.TopologyError) as excinfo:
        topology.resolve_smp(cast(str, row["smp"]), _rules(row, policy))
    assert str(excinfo.value) == row["error"]


def test_qemu_smp_table_is_complete() -> None:
    assert Counter(cast(str, row["table"]) for row in VALID) == EXPECTED_VALID_COUNTS
    assert Counter(cast(str, row["table"]) for row in INVALID) == EXPECTED_INVALID_COUNTS
    assert len(_VALID_CASES) == 2 * len(VALID)
    assert len(_INVALID_CASES) == 2 * len(INVALID)
    all_ids = [row["id"] for row in VALID] + [row["id"] for row in INVALID]
    assert len(all_ids) == len(set(all_ids))
    for row in VALID + INVALID:
        assert set(cast(list[str], row["levels"])) <= set(LEVEL_FLAGS)
    for row in VALID:
        for policy in POLICIES:
            expected = row[policy]
            if expected is not None:
                assert len(cast(dict[str, int], expected)) == 10
