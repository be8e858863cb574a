"""``-numa`` parsing against real QEMU 7.2 and 10.0.

Hypothesis draws option texts (the strategy of ``tests/property/test_numa_options.py``),
starts real QEMU with each one and compares:

* when the parser refuses, QEMU exits 1 and its last lines are the error (and
  the hint line after it);
* when the parser accepts, QEMU prints no parse-level error for that option,
  and where the command line lets QEMU show the parsed values (the CPUs of a
  node, the bytes of ``mem=``, a distance) they are the parser's;
* either way, QEMU's parse warnings for that option are the parser's, in order.

The observed rows of ``tests/unit/test_numa_options.py`` are checked on QEMU
again. ``CPUTOPO_QEMU_NUMA_EXAMPLES`` sets the number of QEMU 7.2 examples
(default 150).
"""

from __future__ import annotations

import os
import re
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings

from tests.property.test_numa_options import numa_texts
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QemuRun, run_qemu
from tests.unit.test_numa_options import OBSERVED_7_2, OBSERVED_10_0, Expected, MiB, _id
from topology import TopologyError
from topology._parse.numa import NumaDist, NumaNode, NumaOption, parse_numa

EXAMPLES = int(os.environ.get("CPUTOPO_QEMU_NUMA_EXAMPLES", "150"))


ARCH = "x86_64"
PREFIX = f"qemu-system-{ARCH}: "
# pc-q35-5.0 still takes the legacy mem=, so its sizes can be checked. It
# prefers sockets, so the 8 possible CPUs are sockets 0-7. QEMU 11.1 deleted
# every type up to 5.1, so this parser table runs on 7.2 and 10.0 only; 11.1's
# -numa handling is compared in test_numa_model.py.
BASE_ARGS = (
    "-machine",
    "pc-q35-5.0",
    "-m",
    "512M",
    "-smp",
    "4,maxcpus=8",
    "-object",
    "memory-backend-ram,id=m0,size=256M",
    "-object",
    "memory-backend-ram,id=m1,size=256M",
)
_PARSE_LEVEL = re.compile(
    r"Parameter '[^']*' (is missing|does not accept value '.*'|expects (a uint64 value"
    r"( or range)?|an int64 value|a size value|uint(8|16|32)_t|an identifier))"
    r"|Invalid parameter '.*'|could not parse memory size '.*'"
)
_OWN_WARNINGS = ("short-form boolean option", "Using a multiplier suffix on hex numbers")
_NO_NODE = (
    "Source/Destination NUMA node is missing. Please use '-numa node' option to declare it first."
)
_NO_DISTANCE = (
    "The distance between node 0 and 1 is missing, at least one distance value "
    "between each nodes should be provided."
)


class _Outcome(NamedTuple):
    """What QEMU must do with the command line of :func:`_command_line`.

    ``kind`` is "error" (``detail`` is the last line without the program name),
    "started", or "node 1" (``detail`` is the set of sockets on node 1).
    """

    kind: str
    detail: object = None


def _command_line(text: str, parsed: NumaOption | None) -> list[str]:
    """Fixed nodes before ``-numa text``, chosen so that QEMU shows what it parsed."""
    first = "node,nodeid=0,memdev=m0"
    if isinstance(parsed, NumaNode) and parsed.mem is not None:
        first = "node,nodeid=0,mem=256M"  # mem= and memdev= cannot be mixed
    second = ["-numa", "node,nodeid=1,memdev=m1"] if isinstance(parsed, NumaDist) else []
    return [*BASE_ARGS, "-numa", first, *second, "-numa", text]


def _node_outcome(text: str, node: NumaNode) -> _Outcome | None:
    if node.nodeid not in (None, 1) or node.initiator is not None:
        return None
    if any(cpu >= 8 for cpu in node.cpus):
        return None
    if node.mem is not None and node.memdev is None:
        total = (256 * MiB + node.mem) % 2**64
        if total == 512 * MiB:
            return _Outcome("started")
        return _Outcome(
            "error", f"total memory for NUMA nodes (0x{total:x}) should equal RAM size (0x20000000)"
        )
    if node.mem is None and node.memdev == "m1":
        # Without cpus= no CPU is mapped, and socket s goes to node s % 2.
        return _Outcome("node 1", set(node.cpus) if node.cpus else {1, 3, 5, 7})
    return None


def _dist_outcome(text: str, dist: NumaDist) -> _Outcome:
    # Nodes 0 and 1 exist; the checks of parse_numa_distance, then the table's.
    own = f"-numa {text}: "
    if dist.src >= 128 or dist.dst >= 128:
        member = "src" if dist.src >= 128 else "dst"
        return _Outcome("error", f"{own}Parameter '{member}' expects an integer between 0 and 127")
    if dist.src > 1 or dist.dst > 1:
        return _Outcome("error", own + _NO_NODE)
    if dist.val < 10:
        reason = f"NUMA distance ({dist.val}) is invalid, it shouldn't be less than 10."
        return _Outcome("error", own + reason)
    if dist.src == dist.dst and dist.val != 10:
        return _Outcome("error", f"{own}Local distance of node {dist.src} should be 10.")
    if dist.src == dist.dst:
        return _Outcome("error", _NO_DISTANCE)
    return _Outcome("started")


def _warning_blocks(text: str, warnings: tuple[Any, ...]) -> list[list[str]]:
    return [
        [f"{PREFIX}-numa {text}: warning: {w.message}", *([w.hint] if w.hint else [])]
        for w in warnings
    ]


def _in_order(blocks: list[list[str]], lines: tuple[str, ...]) -> bool:
    position = 0
    for block in blocks:
        while list(lines[position : position + len(block)]) != block:
            position += 1
            if position >= len(lines):
                return False
        position += len(block)
    return True


def _own_warning_count(text: str, run: QemuRun) -> int:
    start = f"{PREFIX}-numa {text}: warning: "
    return sum(
        1
        for line in run.stderr_lines
        if line.startswith(start) and line[len(start) :].startswith(_OWN_WARNINGS)
    )


def _sockets_on_node_1(run: QemuRun) -> set[int]:
    slots: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
    return {slot["props"]["socket-id"] for slot in slots if slot["props"]["node-id"] == 1}


def compare_with_qemu(text: str, version: str) -> None:
    """Run QEMU ``version`` with ``-numa text`` and assert that the parser agrees."""
    parsed: NumaOption | None = None
    error: TopologyError | None = None
    try:
        parsed = parse_numa(text, qemu_version=version)
    except TopologyError as caught:
        error = caught
    args = _command_line(text, parsed)
    run = run_qemu(ARCH, args, [("query-hotpluggable-cpus", None)], timeout=20, version=version)
    context = f"-numa {text!r} on QEMU {version}: exit {run.exit_code}, {list(run.stderr_lines)}"
    warnings = error.warnings if error is not None else parsed.warnings if parsed else ()
    assert _in_order(_warning_blocks(text, warnings), run.stderr_lines), context
    assert _own_warning_count(text, run) == len(warnings), context
    if error is not None:
        expected = [PREFIX + str(error), *([error.hint] if error.hint else [])]
        assert run.exit_code == 1, context
        assert list(run.stderr_lines[-len(expected) :]) == expected, context
        return
    own = f"{PREFIX}-numa {text}: "
    for line in run.stderr_lines:
        if line.startswith(own) and not line.startswith(own + "warning: "):
            assert not _PARSE_LEVEL.fullmatch(line[len(own) :]), context
    outcome: _Outcome | None = None
    if isinstance(parsed, NumaNode):
        outcome = _node_outcome(text, parsed)
    elif isinstance(parsed, NumaDist):
        outcome = _dist_outcome(text, parsed)
    if outcome is None:
        return
    if outcome.kind == "error":
        assert run.exit_code == 1, context
        assert run.stderr_lines[-1] == PREFIX + str(outcome.detail), context
    elif outcome.kind == "started":
        assert run.exit_code == 0 and run.greeted, context
    else:
        assert run.exit_code == 0 and run.replies, context
        assert _sockets_on_node_1(run) == outcome.detail, context


@pytest.mark.qemu
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(numa_texts())
def test_parse_numa_matches_qemu_7_2(text: str) -> None:
    require_qemu(ARCH)
    compare_with_qemu(text, "7.2")


@pytest.mark.qemu
@settings(max_examples=max(EXAMPLES // 3, 10), deadline=None, database=None)
@given(numa_texts())
def test_parse_numa_matches_qemu_10_0(text: str) -> None:
    require_qemu(ARCH, "10.0")
    compare_with_qemu(text, "10.0")


@pytest.mark.qemu
@pytest.mark.parametrize("case", OBSERVED_7_2, ids=[_id(c) for c in OBSERVED_7_2])
def test_observed_rows_hold_on_qemu_7_2(case: tuple[str, Expected]) -> None:
    require_qemu(ARCH)
    compare_with_qemu(case[0], "7.2")


@pytest.mark.qemu
@pytest.mark.parametrize("case", OBSERVED_10_0, ids=[_id(c) for c in OBSERVED_10_0])
def test_observed_rows_hold_on_qemu_10_0(case: tuple[str, Expected]) -> None:
    require_qemu(ARCH, "10.0")
    compare_with_qemu(case[0], "10.0")
