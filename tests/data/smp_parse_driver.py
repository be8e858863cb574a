"""What the driver of QEMU's ``tests/unit/test-smp-parse.c`` does with its tables.

The source rows live in ``smp_parse_cases.py``; this module turns them into the
concrete cases the C test functions check, in the order they check them.  The
facts (which fake machine each test function uses, which level counts it sets
when a level is "specified") come from the same file and commit; see the
header of ``smp_parse_cases.py``.  Nothing here is C code.

What the C driver does, and what :func:`expand` reproduces:

* Every test function uses a fake machine named ``TEST-SMP`` with 1..4096 CPUs
  (``test_generic_invalid``: 2..4095) and some optional levels supported.
* ``unsupported_params_init`` forces every expected level the machine does not
  support to 1; a ``data_generic_valid`` row gives only cpus, sockets, cores,
  threads and max_cpus, so its other levels are 1.
* ``test_generic_valid`` checks each ``data_generic_valid`` row as is.
* Each ``test_with_*`` function and ``test_full_topo`` check each
  ``data_generic_valid`` row twice: "omitted" (as is; the machine's levels are
  expected to be 1), then "specified" (the machine's levels are set in the
  config, overriding any value the row had, and ``cpus``/``maxcpus``, when the
  row has them, are multiplied by the product of those counts; the expected
  levels take those counts and the expected cpus/max_cpus are multiplied).
* Then each function checks its invalid tables' rows as is.
* ``smp_parse_test`` checks every row under ``prefer_sockets`` true, then
  false; VALID rows carry one expectation per policy, INVALID rows list both.

A case's ``id`` is the C function or table name without ``test_``/``data_``,
hyphenated, then ``omitted``/``specified`` where that applies, then the
``-smp`` string (``none`` when empty); ``table`` is the C name itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

LEVEL_FLAGS = ("drawers", "books", "dies", "clusters", "modules")  # optional levels

# SMPConfiguration members in their C order (largest level first).
CONFIG_KEYS = (
    "cpus",
    "drawers",
    "books",
    "sockets",
    "dies",
    "clusters",
    "modules",
    "cores",
    "threads",
    "maxcpus",
)
# CpuTopology members in their C order.
TOPO_KEYS = (*CONFIG_KEYS[:-1], "max_cpus")

MACHINE_NAME = "TEST-SMP"
POLICIES = ("prefer_sockets", "prefer_cores")

Config = Mapping[str, int]  # an SMPConfiguration: the members whose has_X is true
# CPU_TOPOLOGY_GENERIC: cpus, sockets, cores, threads, max_cpus
Generic = tuple[int, int, int, int, int]
Row = dict[str, object]


class ValidRow(NamedTuple):
    """A ``data_generic_valid`` row."""

    config: Config
    prefer_sockets: Generic
    prefer_cores: Generic


class InvalidRow(NamedTuple):
    """A row of one of the ``data_*_invalid`` tables."""

    config: Config
    error: str


class DriverFunction(NamedTuple):
    """A C test function: its fake machine and the tables it checks."""

    name: str
    # The levels its machine supports, with the count each is given when the
    # generic valid rows are re-run with the level "specified".
    levels: Mapping[str, int]
    invalid_tables: Sequence[tuple[str, Sequence[InvalidRow]]] = ()
    runs_generic_valid: bool = True
    min_cpus: int = 1
    max_cpus: int = 4096


def _smp(config: Config) -> str:
    unknown = set(config) - set(CONFIG_KEYS)
    assert not unknown, unknown
    return ",".join(f"{key}={config[key]}" for key in CONFIG_KEYS if key in config)


def _slug(c_name: str) -> str:
    return c_name.removeprefix("test_").removeprefix("data_").replace("_", "-")


def _machine(function: DriverFunction) -> Row:
    return {
        "levels": [level for level in LEVEL_FLAGS if level in function.levels],
        "min_cpus": function.min_cpus,
        "max_cpus": function.max_cpus,
        "name": MACHINE_NAME,
    }


def _topology(generic: Generic, levels: Mapping[str, int]) -> dict[str, int]:
    cpus, sockets, cores, threads, max_cpus = generic
    multiplier = math.prod(levels.values())
    topo = dict.fromkeys(TOPO_KEYS, 1)
    topo.update(sockets=sockets, cores=cores, threads=threads, **levels)
    topo.update(cpus=cpus * multiplier, max_cpus=max_cpus * multiplier)
    return topo


def _specified(config: Config, levels: Mapping[str, int]) -> dict[str, int]:
    multiplier = math.prod(levels.values())
    out = {**config, **levels}
    for key in ("cpus", "maxcpus"):
        if key in config:
            out[key] = config[key] * multiplier
    return out


def _valid(function: DriverFunction, variant: str, config: Config, row: ValidRow) -> Row:
    levels = function.levels if variant == "specified" else {}
    smp = _smp(config)
    prefix = "-".join(part for part in (_slug(function.name), variant) if part)
    return {
        "id": f"{prefix}-{smp or 'none'}",
        "table": function.name,
        **_machine(function),
        "smp": smp,
        "prefer_sockets": _topology(row.prefer_sockets, levels),
        "prefer_cores": _topology(row.prefer_cores, levels),
    }


def expand(
    functions: Sequence[DriverFunction], generic_valid: Sequence[ValidRow]
) -> tuple[list[Row], list[Row]]:
    """The VALID and INVALID cases the test functions check, in their order."""
    valid: list[Row] = []
    invalid: list[Row] = []
    for function in functions:
        if function.runs_generic_valid:
            for row in generic_valid:
                if not function.levels:
                    valid.append(_valid(function, "", row.config, row))
                    continue
                valid.append(_valid(function, "omitted", row.config, row))
                specified = _specified(row.config, function.levels)
                valid.append(_valid(function, "specified", specified, row))
        for table, rows in function.invalid_tables:
            for bad in rows:
                smp = _smp(bad.config)
                invalid.append(
                    {
                        "id": f"{_slug(table)}-{smp}",
                        "table": table,
                        **_machine(function),
                        "smp": smp,
                        "policies": list(POLICIES),
                        "error": bad.error,
                    }
                )
    return valid, invalid
