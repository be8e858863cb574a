"""Property tests: any -smp string and any rules give a topology or a TopologyError.

Resolution must never raise anything else (no ValueError, IndexError or
OverflowError from inside), and a topology it returns is consistent: the levels
multiply to max_cpus, cpus <= max_cpus, and both lie within the machine's bounds.
"""

from __future__ import annotations

from typing import Any

import pytest
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


@pytest.mark.parametrize(
    ("smp", "message"),
    [
        # Observed on QEMU 7.2 (pc-q35-7.2, TCG); see tests/test_qemu_smp.py for the
        # live comparison.
        (",4", "-smp ,4: Invalid parameter ''"),
        ("4,sockets", "-smp 4,sockets: Expected '=' after parameter 'sockets'"),
        ("4,=2", "-smp 4,=2: Invalid parameter ''"),
        ("4,,5", "-smp 4,,5: Invalid parameter ''"),
        ("0x", "Parameter 'smp.cpus' expects integer"),
        ("08", "Parameter 'smp.cpus' expects integer"),
        ("4,sockets=", "Parameter 'smp.sockets' expects integer"),
        ("4,id=x", "Parameter 'smp.id' is unexpected"),
        ("4,books=2", "Parameter 'smp.books' is unexpected"),
        ("-1", "Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-q35-7.2' is 288"),
        ("4,clusters=2", "clusters not supported by this machine's CPU topology"),
    ],
)
def test_qemu_7_2_messages(smp: str, message: str) -> None:
    q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
    with pytest.raises(TopologyError) as excinfo:
        q35.resolve(smp)
    assert str(excinfo.value) == message


def test_zero_warns_on_7_2_and_fails_from_9_0() -> None:
    old = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2").resolve("4,sockets=0")
    assert (old.sockets, old.cores) == (1, 4)
    assert [w.message for w in old.warnings] == [
        "Deprecated CPU topology (considered invalid): "
        "CPU topology parameters must be greater than zero"
    ]
    with pytest.raises(topology.InvalidTopologyError, match="must be greater than zero"):
        topology.machine("x86_64", "pc-q35-7.2", qemu_version="9.0").resolve("4,sockets=0")


def test_values_wrap_at_32_bits() -> None:
    # 2^32 truncates to 0, which means "omitted": one CPU, no warning (QEMU 7.2 and 10).
    for version in ("7.2", "10.0"):
        topo = topology.machine("x86_64", "q35", qemu_version=version).resolve("4294967296")
        assert topo.cpus == 1 and topo.warnings == ()


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
