"""Property tests: any -smp string and any rules give a topology or a TopologyError.

Resolution must never raise anything else (no ValueError, IndexError or
OverflowError from inside), and a topology it returns is consistent: the levels
multiply to max_cpus, cpus <= max_cpus, and both lie within the machine's bounds.
Single examples are in ``tests/unit/test_smp.py``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import topology
from topology import SmpRules, TopologyError, resolve_smp

_MEMBERS = topology.SMP_MEMBERS
_VERSIONS = [str(v) for v in topology.SUPPORTED_QEMU_VERSIONS]

# Values that exercise QEMU's integer handling: small counts, zero, negatives,
# 32-bit and 64-bit edges, and C literal forms.
_NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=64).map(str),
    st.sampled_from(
        [
            "-1",
            "4294967295",
            "4294967296",
            "4294967297",
            "2147483648",
            "9223372036854775807",
            "9223372036854775808",
            "0x10",
            "010",
            "08",
            " 4",
            "+2",
            "",
            "x",
            "65536",
        ]
    ),
)


@st.composite
def smp_strings(draw: st.DrawFn) -> str:
    """Mostly well-formed -smp strings, with some syntax noise mixed in."""
    members = draw(st.lists(st.sampled_from([*_MEMBERS, "foo"]), max_size=6))
    parts = [f"{member}={draw(_NUMBERS)}" for member in members]
    if draw(st.booleans()):
        parts.insert(0, draw(_NUMBERS))
    text = ",".join(parts)
    if draw(st.integers(0, 9)) == 0:
        text += draw(st.sampled_from([",", ",,", "=", ",help", ".a=1", ",a.b=1"]))
    return text


@st.composite
def smp_rules(draw: st.DrawFn) -> SmpRules:
    min_cpus = draw(st.integers(1, 4))
    return SmpRules(
        name=draw(st.sampled_from(["TEST-SMP", "pc-q35-7.2", "pseries-9.0"])),
        levels=draw(st.frozensets(st.sampled_from(sorted(topology.OPTIONAL_LEVELS)))),
        min_cpus=min_cpus,
        max_cpus=draw(st.integers(min_cpus, 5000)),
        prefer_sockets=draw(st.booleans()),
        qemu_version=draw(st.sampled_from(_VERSIONS)),
    )


def _check(smp: str, rules: SmpRules) -> None:
    try:
        topo = resolve_smp(smp, rules)
    except TopologyError as error:
        assert str(error), "errors carry a message"
        return
    product = 1
    for level in topology.LEVELS:
        product *= getattr(topo, level)
    assert product % 2**32 == topo.max_cpus  # QEMU multiplies in 32 bits
    assert rules.min_cpus <= topo.cpus <= topo.max_cpus <= rules.max_cpus


@given(smp=smp_strings(), rules=smp_rules())
def test_generated_strings_resolve_or_raise_topology_error(smp: str, rules: SmpRules) -> None:
    _check(smp, rules)


@given(smp=st.text(max_size=40), rules=smp_rules())
def test_arbitrary_text_resolves_or_raises_topology_error(smp: str, rules: SmpRules) -> None:
    _check(smp, rules)


@given(
    counts=st.dictionaries(st.sampled_from(_MEMBERS), st.integers(1, 2**64), max_size=10),
    rules=smp_rules(),
)
def test_huge_values_never_allocate_or_overflow(counts: dict[str, int], rules: SmpRules) -> None:
    # Values up to 2^64 go through the 64-bit parser and 32-bit truncation;
    # resolution is arithmetic only, so this returns at once whatever the size.
    smp = ",".join(f"{member}={value}" for member, value in counts.items())
    _check(smp, rules)


@given(
    text=st.one_of(
        smp_strings(),
        st.text(alphabet="ab=,.?hlep0x1 ", max_size=16),
        st.text(max_size=12),
    )
)
def test_keyval_fast_path_agrees_with_the_general_parser(text: str) -> None:
    from topology._parse.keyval import parse_keyval, parse_keyval_general

    def outcome(parse: Any) -> object:
        try:
            return parse(text, option="-smp", implied_key="cpus")
        except TopologyError as error:
            return ("error", str(error))

    assert outcome(parse_keyval) == outcome(parse_keyval_general)
