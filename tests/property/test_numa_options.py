"""``-numa`` parsing by properties: an option text the parser accepts prints back (``str``)
as an option that parses to the same value, on QEMU 7.2 and 10.2.

The strategy of option texts (valid, invalid, and noise) is also the differential
test's (``tests/differential/test_numa_options.py``); the table of QEMU's
observed answers is in ``tests/unit/test_numa_options.py``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from topology import TopologyError
from topology._parse.numa import (
    HMAT_CACHE_ASSOCIATIVITIES,
    HMAT_CACHE_POLICIES,
    HMAT_LB_DATA_TYPES,
    HMAT_LB_HIERARCHIES,
    numa_cpu_members,
    parse_numa,
)

_UINT_TEXTS = st.one_of(
    st.integers(0, 9).map(str),
    st.integers(0, 300).map(str),
    st.integers(0, 20).map(hex),
    st.integers(0, 20).map(lambda n: f"0{n:o}"),
    st.sampled_from(
        [
            " 1",
            "+2",
            "1 ",
            "-0",
            "-1",
            "08",
            "",
            "x",
            "0x",
            "127",
            "128",
            "255",
            "256",
            "65535",
            "65536",
            "4294967295",
            "4294967296",
            "18446744073709551615",
            "18446744073709551616",
        ]
    ),
)
_SMALL_CPU = st.one_of(st.integers(0, 9).map(str), st.integers(0, 7).map(hex))
_CPU_ITEMS = st.one_of(
    _SMALL_CPU,
    _SMALL_CPU,
    st.tuples(_SMALL_CPU, _SMALL_CPU).map(lambda pair: f"{pair[0]}-{pair[1]}"),
    st.tuples(st.integers(0, 70000), st.integers(0, 70000)).map(lambda p: f"{p[0]}-{p[1]}"),
    _UINT_TEXTS,
    st.sampled_from(["0-1:3", "1-", " 1- 2", "1-+2", "0-65535", "65535-65536", "1--2", "1-2-3"]),
)
_SIZES = st.one_of(
    st.sampled_from(["256M", "256", "0x100", "0.25G", "256m", "268435456b", "262144K"]),
    st.sampled_from(["128M", "0", "1", "1.5", "1.", "1.k", ".5G", "12.345M", "1e", "1.5e"]),
    st.sampled_from(["0x10M", "16E", "15E", "-1", "", " 256M", "+256M", "1.5e3M", "0x", "1.0"]),
    st.sampled_from(["17592186044416", "18446744073709551615", "18446744073709551616", "1.5e999k"]),
    st.tuples(st.integers(0, 999), st.sampled_from(["", "k", "K", "M", "G", "b", "T"])).map(
        lambda p: f"{p[0]}{p[1]}"
    ),
)
_INT_TEXTS = st.one_of(
    st.integers(-3, 9).map(str),
    st.sampled_from(["0x1", "010", " 2", "9223372036854775807", "9223372036854775808", "x", ""]),
)
_ENUM_VALUES = {
    "hierarchy": HMAT_LB_HIERARCHIES,
    "data-type": HMAT_LB_DATA_TYPES,
    "associativity": HMAT_CACHE_ASSOCIATIVITIES,
    "policy": HMAT_CACHE_POLICIES,
}
_MEMBERS = {
    "node": ("nodeid", "cpus", "mem", "memdev", "initiator"),
    "dist": ("src", "dst", "val"),
    "cpu": numa_cpu_members("10.2"),
    "hmat-lb": ("initiator", "target", "hierarchy", "data-type", "latency", "bandwidth"),
    "hmat-cache": ("node-id", "size", "level", "associativity", "policy", "line"),
}
_JUNK_KEYS = st.sampled_from(["foo", "id", "help", "Nodeid", "type", "", "cpu", "mem.x"])
_FLAGS = st.sampled_from(["foo", "nofoo", "help", "?", "memdev", "nodelay", "no", "node"])


def _value_strategy(kind: str, member: str) -> st.SearchStrategy[str]:
    if member in _ENUM_VALUES:
        valid = st.sampled_from(_ENUM_VALUES[member])
        return st.one_of(*[valid] * 8, st.sampled_from(["", "x", "Memory"]))
    if member == "cpus":
        return _CPU_ITEMS
    if member in ("mem", "size", "bandwidth"):
        return _SIZES
    if member == "memdev":
        return st.sampled_from(["m1", "m1", "m0", "", "nope", "m1,,x"])
    if kind == "cpu":
        return _INT_TEXTS
    if member in ("nodeid", "src", "dst"):
        small = st.integers(0, 2).map(str)
        return st.one_of(small, small, _UINT_TEXTS)
    if member == "val":
        return st.one_of(st.sampled_from(["10", "20", "5", "255"]), _UINT_TEXTS)
    return _UINT_TEXTS


_NOISE = st.lists(
    st.sampled_from([*",,,===0123-+ .kMex?", "nodeid", "cpus", "mem", "memdev", "id", "no"]),
    max_size=10,
).map("".join)


@st.composite
def numa_texts(draw: st.DrawFn) -> str:
    """-numa texts: mostly well-formed options of one type, with noise mixed in."""
    if draw(st.integers(0, 9)) == 0:
        # Free-form text after a type, to exercise QemuOpts' splitting.
        return draw(st.sampled_from(["node,", "dist,", "cpu,", "", ","])) + draw(_NOISE)
    kind = draw(st.sampled_from(["node", "node", "node", "dist", "cpu", "hmat-lb", "hmat-cache"]))
    parts: list[str] = []
    head = draw(st.sampled_from(["implied"] * 13 + ["key", "junk", "none"]))
    if head == "implied":
        parts.append(kind)
    elif head == "key":
        parts.append(f"type={kind}")
    elif head == "junk":
        parts.append(draw(st.sampled_from(["", "nodes", "Node", "node,,x", "id"])))
    members = _MEMBERS[kind]
    chosen = draw(st.lists(st.sampled_from(members), max_size=len(members) + 2))
    if kind in ("dist", "hmat-lb", "hmat-cache") and draw(st.integers(0, 4)):
        chosen = [m for m in members if m not in ("latency", "bandwidth")] + chosen
    if kind == "node" and "memdev" not in chosen and "mem" not in chosen:
        chosen.append(draw(st.sampled_from(["memdev", "memdev", "mem"])))
    for member in chosen:
        parts.append(f"{member}={draw(_value_strategy(kind, member))}")
    if draw(st.integers(0, 5)) == 0:
        parts.insert(
            draw(st.integers(1, len(parts))) if parts else 0,
            draw(st.one_of(_FLAGS, _JUNK_KEYS.map(lambda key: f"{key}=1"))),
        )
    if kind == "hmat-lb" and chosen:
        kind_of_data = draw(st.sampled_from(HMAT_LB_DATA_TYPES))
        parts.append(f"data-type={kind_of_data}")
    text = ",".join(parts)
    if draw(st.integers(0, 10)) == 0:
        text += ","
    return text


@settings(max_examples=200, deadline=None)
@given(numa_texts())
def test_str_reads_back_as_the_same_option(text: str) -> None:
    try:
        parsed = parse_numa(text, qemu_version="7.2")
    except TopologyError:
        return
    assert parse_numa(str(parsed), qemu_version="7.2") == parsed
    assert parse_numa(str(parsed), qemu_version="10.2") == parsed
