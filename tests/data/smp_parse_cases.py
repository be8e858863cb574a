"""Test vectors ported from QEMU's own SMP parser unit test.

Source: repository qemu/qemu, file ``tests/unit/test-smp-parse.c``, commit
12d1a768bdfea6e27a3a829228840d72507613a1 (QEMU 10.x development tree).

These tables describe QEMU 9.1+/10.x ``-smp`` semantics: an explicit zero value
for any parameter is an error, ``modules``/``books``/``drawers`` exist, and a
level the machine does not support may be given as 1 but not as more than 1.

Licence note: the upstream test is (c) 2021 Huawei Technologies Co., Ltd. and
licensed under the GNU LGPL, version 2.1 or later.  Nothing here is copied C
code; the rows below restate the facts that test checks (input configurations,
expected topologies and error texts) as Python data.

How the C file was translated:

* Every static table row is present, once, in source order (69 rows): the
  ``DATA_*`` tuples are the C ``data_*`` arrays.
* A config is the C ``SMPConfiguration`` with only the members whose ``has_X``
  is true; ``_full`` stands for ``SMP_CONFIG_WITH_FULL_TOPO`` (all ten given).
* A ``data_generic_valid`` expectation is the C ``CPU_TOPOLOGY_GENERIC``
  tuple (cpus, sockets, cores, threads, max_cpus), one per ``prefer_sockets``
  policy (true, then false).
* ``FUNCTIONS`` lists the C test functions in the order ``main`` registers
  them, with the levels each fake machine supports and the counts it uses
  when those levels are "specified".  ``smp_parse_driver.expand`` applies what
  those functions do (re-running every generic valid row "omitted" and
  "specified", forcing unsupported levels to 1) and gives ``VALID`` and
  ``INVALID``: one dict per concrete case, as checked by
  ``tests/unit/test_smp_parse_table.py``.
"""

from __future__ import annotations

from tests.data.smp_parse_driver import (
    LEVEL_FLAGS,
    DriverFunction,
    InvalidRow,
    ValidRow,
    expand,
)

__all__ = ["FUNCTIONS", "INVALID", "LEVEL_FLAGS", "VALID"]


def _full(
    cpus: int,
    drawers: int,
    books: int,
    sockets: int,
    dies: int,
    clusters: int,
    modules: int,
    cores: int,
    threads: int,
    maxcpus: int,
) -> dict[str, int]:
    """A config with every member given (``SMP_CONFIG_WITH_FULL_TOPO``)."""
    return dict(
        cpus=cpus,
        drawers=drawers,
        books=books,
        sockets=sockets,
        dies=dies,
        clusters=clusters,
        modules=modules,
        cores=cores,
        threads=threads,
        maxcpus=maxcpus,
    )


DATA_GENERIC_VALID = (
    ValidRow(dict(), (1, 1, 1, 1, 1), (1, 1, 1, 1, 1)),
    ValidRow(dict(cpus=8), (8, 8, 1, 1, 8), (8, 1, 8, 1, 8)),
    ValidRow(dict(sockets=2), (2, 2, 1, 1, 2), (2, 2, 1, 1, 2)),
    ValidRow(dict(cores=4), (4, 1, 4, 1, 4), (4, 1, 4, 1, 4)),
    ValidRow(dict(threads=2), (2, 1, 1, 2, 2), (2, 1, 1, 2, 2)),
    ValidRow(dict(maxcpus=16), (16, 16, 1, 1, 16), (16, 1, 16, 1, 16)),
    ValidRow(dict(cpus=8, sockets=2), (8, 2, 4, 1, 8), (8, 2, 4, 1, 8)),
    ValidRow(dict(cpus=8, cores=4), (8, 2, 4, 1, 8), (8, 2, 4, 1, 8)),
    ValidRow(dict(cpus=8, threads=2), (8, 4, 1, 2, 8), (8, 1, 4, 2, 8)),
    ValidRow(dict(cpus=8, maxcpus=16), (8, 16, 1, 1, 16), (8, 1, 16, 1, 16)),
    ValidRow(dict(sockets=2, cores=4), (8, 2, 4, 1, 8), (8, 2, 4, 1, 8)),
    ValidRow(dict(sockets=2, threads=2), (4, 2, 1, 2, 4), (4, 2, 1, 2, 4)),
    ValidRow(dict(sockets=2, maxcpus=16), (16, 2, 8, 1, 16), (16, 2, 8, 1, 16)),
    ValidRow(dict(cores=4, threads=2), (8, 1, 4, 2, 8), (8, 1, 4, 2, 8)),
    ValidRow(dict(cores=4, maxcpus=16), (16, 4, 4, 1, 16), (16, 4, 4, 1, 16)),
    ValidRow(dict(threads=2, maxcpus=16), (16, 8, 1, 2, 16), (16, 1, 8, 2, 16)),
    ValidRow(dict(cpus=8, sockets=2, cores=4), (8, 2, 4, 1, 8), (8, 2, 4, 1, 8)),
    ValidRow(dict(cpus=8, sockets=2, threads=2), (8, 2, 2, 2, 8), (8, 2, 2, 2, 8)),
    ValidRow(dict(cpus=8, sockets=2, maxcpus=16), (8, 2, 8, 1, 16), (8, 2, 8, 1, 16)),
    ValidRow(dict(cpus=8, cores=4, threads=2), (8, 1, 4, 2, 8), (8, 1, 4, 2, 8)),
    ValidRow(dict(cpus=8, cores=4, maxcpus=16), (8, 4, 4, 1, 16), (8, 4, 4, 1, 16)),
    ValidRow(dict(cpus=8, threads=2, maxcpus=16), (8, 8, 1, 2, 16), (8, 1, 8, 2, 16)),
    ValidRow(dict(sockets=2, cores=4, threads=2), (16, 2, 4, 2, 16), (16, 2, 4, 2, 16)),
    ValidRow(dict(sockets=2, cores=4, maxcpus=16), (16, 2, 4, 2, 16), (16, 2, 4, 2, 16)),
    ValidRow(dict(sockets=2, threads=2, maxcpus=16), (16, 2, 4, 2, 16), (16, 2, 4, 2, 16)),
    ValidRow(dict(cores=4, threads=2, maxcpus=16), (16, 2, 4, 2, 16), (16, 2, 4, 2, 16)),
    ValidRow(dict(cpus=8, sockets=2, cores=4, threads=1), (8, 2, 4, 1, 8), (8, 2, 4, 1, 8)),
    ValidRow(dict(cpus=8, sockets=2, cores=4, maxcpus=16), (8, 2, 4, 2, 16), (8, 2, 4, 2, 16)),
    ValidRow(dict(cpus=8, sockets=2, threads=2, maxcpus=16), (8, 2, 4, 2, 16), (8, 2, 4, 2, 16)),
    ValidRow(dict(cpus=8, cores=4, threads=2, maxcpus=16), (8, 2, 4, 2, 16), (8, 2, 4, 2, 16)),
    ValidRow(dict(sockets=2, cores=4, threads=2, maxcpus=16), (16, 2, 4, 2, 16), (16, 2, 4, 2, 16)),
    ValidRow(
        dict(cpus=8, sockets=2, cores=4, threads=2, maxcpus=16), (8, 2, 4, 2, 16), (8, 2, 4, 2, 16)
    ),
    # Unsupported levels may always be given as 1.
    ValidRow(_full(8, 1, 1, 2, 1, 1, 1, 2, 2, 8), (8, 2, 2, 2, 8), (8, 2, 2, 2, 8)),
)

_PRODUCT = "Invalid CPU topology: product of the hierarchy must match maxcpus: "
_MAXCPUS = "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
_ZERO = "Invalid CPU topology: CPU topology parameters must be greater than zero"
_MIN = "Invalid SMP CPUs {}. The min CPUs supported by machine 'TEST-SMP' is {}"
_MAX = "Invalid SMP CPUs {}. The max CPUs supported by machine 'TEST-SMP' is {}"
_UNSUPPORTED = "{} > 1 not supported by this machine's CPU topology"

DATA_GENERIC_INVALID = (
    InvalidRow(dict(cpus=2, modules=2), _UNSUPPORTED.format("modules")),
    InvalidRow(dict(cpus=2, dies=2), _UNSUPPORTED.format("dies")),
    InvalidRow(dict(cpus=2, clusters=2), _UNSUPPORTED.format("clusters")),
    InvalidRow(dict(cpus=2, books=2), _UNSUPPORTED.format("books")),
    InvalidRow(dict(cpus=2, drawers=2), _UNSUPPORTED.format("drawers")),
    InvalidRow(
        dict(cpus=8, sockets=2, cores=4, threads=2, maxcpus=8),
        _PRODUCT + "sockets (2) * cores (4) * threads (2) != maxcpus (8)",
    ),
    InvalidRow(
        dict(cpus=18, sockets=2, cores=4, threads=2, maxcpus=16),
        _MAXCPUS + "sockets (2) * cores (4) * threads (2) == maxcpus (16) < smp_cpus (18)",
    ),
    # The machine of test_generic_invalid accepts 2..4095 CPUs.
    InvalidRow(dict(cpus=1), _MIN.format(1, 2)),
    InvalidRow(dict(cpus=4096), _MAX.format(4096, 4095)),
)

DATA_WITH_MODULES_INVALID = (
    InvalidRow(
        dict(cpus=16, sockets=2, modules=2, cores=4, threads=2, maxcpus=16),
        _PRODUCT + "sockets (2) * modules (2) * cores (4) * threads (2) != maxcpus (16)",
    ),
    InvalidRow(
        dict(cpus=34, sockets=2, modules=2, cores=4, threads=2, maxcpus=32),
        _MAXCPUS
        + "sockets (2) * modules (2) * cores (4) * threads (2) == maxcpus (32) < smp_cpus (34)",
    ),
)

DATA_WITH_DIES_INVALID = (
    InvalidRow(
        dict(cpus=16, sockets=2, dies=2, cores=4, threads=2, maxcpus=16),
        _PRODUCT + "sockets (2) * dies (2) * cores (4) * threads (2) != maxcpus (16)",
    ),
    InvalidRow(
        dict(cpus=34, sockets=2, dies=2, cores=4, threads=2, maxcpus=32),
        _MAXCPUS
        + "sockets (2) * dies (2) * cores (4) * threads (2) == maxcpus (32) < smp_cpus (34)",
    ),
)

DATA_WITH_MODULES_DIES_INVALID = (
    InvalidRow(
        dict(cpus=200, sockets=3, dies=5, modules=2, cores=4, threads=2, maxcpus=200),
        _PRODUCT
        + "sockets (3) * dies (5) * modules (2) * cores (4) * threads (2) != maxcpus (200)",
    ),
    InvalidRow(
        dict(cpus=242, sockets=3, dies=5, modules=2, cores=4, threads=2, maxcpus=240),
        _MAXCPUS + "sockets (3) * dies (5) * modules (2) * cores (4) * threads (2)"
        " == maxcpus (240) < smp_cpus (242)",
    ),
)

DATA_WITH_CLUSTERS_INVALID = (
    InvalidRow(
        dict(cpus=16, sockets=2, clusters=2, cores=4, threads=2, maxcpus=16),
        _PRODUCT + "sockets (2) * clusters (2) * cores (4) * threads (2) != maxcpus (16)",
    ),
    InvalidRow(
        dict(cpus=34, sockets=2, clusters=2, cores=4, threads=2, maxcpus=32),
        _MAXCPUS
        + "sockets (2) * clusters (2) * cores (4) * threads (2) == maxcpus (32) < smp_cpus (34)",
    ),
)

DATA_WITH_BOOKS_INVALID = (
    InvalidRow(
        dict(cpus=16, books=2, sockets=2, cores=4, threads=2, maxcpus=16),
        _PRODUCT + "books (2) * sockets (2) * cores (4) * threads (2) != maxcpus (16)",
    ),
    InvalidRow(
        dict(cpus=34, books=2, sockets=2, cores=4, threads=2, maxcpus=32),
        _MAXCPUS
        + "books (2) * sockets (2) * cores (4) * threads (2) == maxcpus (32) < smp_cpus (34)",
    ),
)

DATA_WITH_DRAWERS_INVALID = (
    InvalidRow(
        dict(cpus=16, drawers=2, sockets=2, cores=4, threads=2, maxcpus=16),
        _PRODUCT + "drawers (2) * sockets (2) * cores (4) * threads (2) != maxcpus (16)",
    ),
    InvalidRow(
        dict(cpus=34, drawers=2, sockets=2, cores=4, threads=2, maxcpus=32),
        _MAXCPUS
        + "drawers (2) * sockets (2) * cores (4) * threads (2) == maxcpus (32) < smp_cpus (34)",
    ),
)

DATA_WITH_DRAWERS_BOOKS_INVALID = (
    InvalidRow(
        dict(cpus=200, drawers=3, books=5, sockets=2, cores=4, threads=2, maxcpus=200),
        _PRODUCT
        + "drawers (3) * books (5) * sockets (2) * cores (4) * threads (2) != maxcpus (200)",
    ),
    InvalidRow(
        dict(cpus=242, drawers=3, books=5, sockets=2, cores=4, threads=2, maxcpus=240),
        _MAXCPUS + "drawers (3) * books (5) * sockets (2) * cores (4) * threads (2)"
        " == maxcpus (240) < smp_cpus (242)",
    ),
)

DATA_FULL_TOPO_INVALID = (
    InvalidRow(
        _full(200, 3, 5, 2, 4, 2, 3, 7, 2, 200),
        _PRODUCT + "drawers (3) * books (5) * sockets (2) * dies (4) * clusters (2)"
        " * modules (3) * cores (7) * threads (2) != maxcpus (200)",
    ),
    InvalidRow(
        _full(2881, 3, 5, 2, 4, 2, 3, 2, 2, 2880),
        _MAXCPUS + "drawers (3) * books (5) * sockets (2) * dies (4) * clusters (2)"
        " * modules (3) * cores (2) * threads (2) == maxcpus (2880) < smp_cpus (2881)",
    ),
    InvalidRow(_full(1, 3, 5, 2, 4, 2, 3, 3, 3, 6480), _MAX.format(6480, 4096)),
)

# One row per member set to 0, in CONFIG_KEYS order (cpus first, maxcpus last).
DATA_ZERO_TOPO_INVALID = tuple(
    InvalidRow(_full(*(0 if i == zero else 1 for i in range(10))), _ZERO) for zero in range(10)
)

FUNCTIONS = (
    DriverFunction("test_generic_valid", {}),
    DriverFunction(
        "test_generic_invalid",
        {},
        [("data_generic_invalid", DATA_GENERIC_INVALID)],
        runs_generic_valid=False,
        min_cpus=2,
        max_cpus=4095,
    ),
    DriverFunction(
        "test_with_modules",
        {"modules": 2},
        [("data_with_modules_invalid", DATA_WITH_MODULES_INVALID)],
    ),
    DriverFunction(
        "test_with_dies", {"dies": 2}, [("data_with_dies_invalid", DATA_WITH_DIES_INVALID)]
    ),
    DriverFunction(
        "test_with_modules_dies",
        {"modules": 5, "dies": 3},
        [("data_with_modules_dies_invalid", DATA_WITH_MODULES_DIES_INVALID)],
    ),
    DriverFunction(
        "test_with_clusters",
        {"clusters": 2},
        [("data_with_clusters_invalid", DATA_WITH_CLUSTERS_INVALID)],
    ),
    DriverFunction(
        "test_with_books", {"books": 2}, [("data_with_books_invalid", DATA_WITH_BOOKS_INVALID)]
    ),
    DriverFunction(
        "test_with_drawers",
        {"drawers": 2},
        [("data_with_drawers_invalid", DATA_WITH_DRAWERS_INVALID)],
    ),
    DriverFunction(
        "test_with_drawers_books",
        {"drawers": 5, "books": 3},
        [("data_with_drawers_books_invalid", DATA_WITH_DRAWERS_BOOKS_INVALID)],
    ),
    DriverFunction(
        "test_full_topo",
        {"drawers": 5, "books": 3, "dies": 2, "clusters": 3, "modules": 2},
        [
            ("data_full_topo_invalid", DATA_FULL_TOPO_INVALID),
            ("data_zero_topo_invalid", DATA_ZERO_TOPO_INVALID),
        ],
    ),
)

VALID, INVALID = expand(FUNCTIONS, DATA_GENERIC_VALID)
