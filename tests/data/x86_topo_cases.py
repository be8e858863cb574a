"""Test vectors ported from QEMU's own x86 APIC ID unit test.

Source: repository qemu/qemu, file ``tests/unit/test-x86-topo.c``, blob
55b731ccae55 (QEMU 9.1 and later). That version was rebuilt from two stored
pieces: the file at commit 3568adc995b3906b5cc134753a829363f08bf6e1 (blob
f21b8a5d95c2, the 9.0 state: module count in the struct, no module
assertions), plus commit 321d2599ebf9d27fbc41c672858048087f6a052d ("tests: Add
test case of APIC ID for module level parsing", merged for 9.1), whose diff
adds the five ``apicid_module_width`` rows and the ``apicid_module_offset`` row
(41 rows before, 47 after), and raises the module count of the four
``apicid_die_width`` rows from 1 to 6.
No later change to the file was found. The test was ``tests/test-x86-cpuid.c``,
then ``tests/unit/test-x86-cpuid.c``; it was renamed in 8.2.

Licence note: the upstream test is (c) 2012 Red Hat Inc., MIT licence. Nothing
here is C code; the rows restate the facts the test asserts (a topology, what
was computed, the expected number) as Python data.

How the C file was translated:

* The test is one function, ``test_topo_bits``, of ``g_assert_cmpuint``
  calls. Every call is one row, in source order.
* ``topo`` is the C ``X86CPUTopoInfo`` initialiser, in its field order:
  (dies per package, modules per die, cores per module, threads per core).
* ``check`` names what is computed: a width or offset (``smt_width``,
  ``core_width``, ``module_width``, ``die_width``, ``core_offset``,
  ``module_offset``, ``die_offset``, ``pkg_offset``; QEMU's
  ``apicid_<check>``) or ``apic_id_from_index`` (``x86_apicid_from_cpu_idx``,
  with ``index`` the CPU index).
* For ``apic_id_from_index`` rows the C test writes the expected value as a
  bit expression of socket, core and thread ids; ``expected`` is its value and
  ``ids`` keeps those ids as (socket, die, module, core, thread), so a test
  can also decode the ID. ``index`` keeps the C index expression.
* ``since`` is ``"9.1"`` for the six rows that commit 321d2599eb added;
  the rows with 6 modules per die had 1 module before it.
"""

from __future__ import annotations

from typing import Literal, TypedDict

Check = Literal[
    "smt_width",
    "core_width",
    "module_width",
    "die_width",
    "core_offset",
    "module_offset",
    "die_offset",
    "pkg_offset",
    "apic_id_from_index",
]


class TopoCase(TypedDict):
    """One ``g_assert_cmpuint`` of ``test_topo_bits``."""

    topo: tuple[int, int, int, int]
    check: Check
    index: int | None
    expected: int
    ids: tuple[int, int, int, int, int] | None
    since: str | None


def _value(
    topo: tuple[int, int, int, int], check: Check, expected: int, since: str | None = None
) -> TopoCase:
    return TopoCase(topo=topo, check=check, index=None, expected=expected, ids=None, since=since)


def _apic(
    topo: tuple[int, int, int, int], index: int, expected: int, socket: int, core: int, thread: int
) -> TopoCase:
    return TopoCase(
        topo=topo,
        check="apic_id_from_index",
        index=index,
        expected=expected,
        ids=(socket, 0, 0, core, thread),
        since=None,
    )


_ONE = (1, 1, 1, 1)
_WEIRD = (1, 1, 6, 3)  # 2 bits for the thread id, 3 for the core id

CASES: list[TopoCase] = [
    # One thread per core, one core per module, one module per die, one die per package.
    _value(_ONE, "smt_width", 0),
    _value(_ONE, "core_width", 0),
    _value(_ONE, "module_width", 0, since="9.1"),
    _value(_ONE, "die_width", 0),
    # With every width 0, the CPU index is the socket id and the APIC ID.
    # _apic(topology, index, expected APIC ID, socket, core, thread)
    _apic(_ONE, 0, 0, 0, 0, 0),
    _apic(_ONE, 1, 1, 1, 0, 0),
    _apic(_ONE, 2, 2, 2, 0, 0),
    _apic(_ONE, 3, 3, 3, 0, 0),
    # Field width for several thread counts.
    _value((1, 1, 1, 2), "smt_width", 1),
    _value((1, 1, 1, 3), "smt_width", 2),
    _value((1, 1, 1, 4), "smt_width", 2),
    _value((1, 1, 1, 14), "smt_width", 4),
    _value((1, 1, 1, 15), "smt_width", 4),
    _value((1, 1, 1, 16), "smt_width", 4),
    _value((1, 1, 1, 17), "smt_width", 5),
    # Core field width.
    _value((1, 1, 30, 2), "core_width", 5),
    _value((1, 1, 31, 2), "core_width", 5),
    _value((1, 1, 32, 2), "core_width", 5),
    _value((1, 1, 33, 2), "core_width", 6),
    # Module field width (9.1).
    _value((1, 6, 30, 2), "module_width", 3, since="9.1"),
    _value((1, 7, 30, 2), "module_width", 3, since="9.1"),
    _value((1, 8, 30, 2), "module_width", 3, since="9.1"),
    _value((1, 9, 30, 2), "module_width", 4, since="9.1"),
    # Die field width (1 module per die before 9.1).
    _value((1, 6, 30, 2), "die_width", 0),
    _value((2, 6, 30, 2), "die_width", 1),
    _value((3, 6, 30, 2), "die_width", 2),
    _value((4, 6, 30, 2), "die_width", 2),
    # A topology with non-power-of-two counts: 6 cores of 3 threads.
    _value(_WEIRD, "smt_width", 2),
    _value(_WEIRD, "core_offset", 2),
    _value(_WEIRD, "module_offset", 5, since="9.1"),
    _value(_WEIRD, "die_offset", 5),
    _value(_WEIRD, "pkg_offset", 5),
    _apic(_WEIRD, 0, 0, 0, 0, 0),
    _apic(_WEIRD, 1, 1, 0, 0, 1),
    _apic(_WEIRD, 2, 2, 0, 0, 2),
    _apic(_WEIRD, 1 * 3 + 0, 4, 0, 1, 0),
    _apic(_WEIRD, 1 * 3 + 1, 5, 0, 1, 1),
    _apic(_WEIRD, 1 * 3 + 2, 6, 0, 1, 2),
    _apic(_WEIRD, 2 * 3 + 0, 8, 0, 2, 0),
    _apic(_WEIRD, 2 * 3 + 1, 9, 0, 2, 1),
    _apic(_WEIRD, 2 * 3 + 2, 10, 0, 2, 2),
    _apic(_WEIRD, 5 * 3 + 0, 20, 0, 5, 0),
    _apic(_WEIRD, 5 * 3 + 1, 21, 0, 5, 1),
    _apic(_WEIRD, 5 * 3 + 2, 22, 0, 5, 2),
    _apic(_WEIRD, 1 * 6 * 3 + 0 * 3 + 0, 32, 1, 0, 0),
    _apic(_WEIRD, 1 * 6 * 3 + 1 * 3 + 1, 37, 1, 1, 1),
    _apic(_WEIRD, 3 * 6 * 3 + 5 * 3 + 2, 118, 3, 5, 2),
]

#: ``g_assert_cmpuint`` calls in ``test_topo_bits``, counted in the C source.
EXPECTED_ROWS = 47
