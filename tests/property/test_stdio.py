"""The QMP JSON reader and writer of the stand-in process, by properties: any JSON
values, however the bytes are cut, read back whole, in every release's reader;
any bytes read the same whether they come at once or in pieces; what the writer
prints reads back and is ASCII. The reader's tables of QEMU's answers are in
``tests/unit/test_qmp_json.py``.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topology.qemu._qmp_json import QmpJsonStream, qmp_json

#: A release of each reader: the one that parses whole values (7.2 to 11.0) and the push parser.
READER_RELEASES = ("10.0", "11.1")

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)

#: Bytes that exercise the lexer and parser: structure, quotes, escapes, junk.
JSON_ISH_BYTES = st.lists(
    st.sampled_from(
        [
            b"{",
            b"}",
            b"[",
            b"]",
            b":",
            b",",
            b'"a"',
            b"'b'",
            b"1",
            b"-2.5e3",
            b"01",
            b"tru",
            b"null",
            b'"\\u00e9"',
            b'"\\q',
            b"\\",
            b"@",
            b"\xc3\xa9",
            b"\xff",
            b"\x01",
            b" ",
            b"\n",
            b"\t",
        ]
    ),
    max_size=30,
).map(b"".join)


@pytest.mark.parametrize("release", READER_RELEASES)
@settings(max_examples=60)
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=4), cuts=st.lists(st.integers(0, 400)))
def test_reader_reads_any_json_however_it_is_cut(
    release: str, values: list[object], cuts: list[int]
) -> None:
    # Containers only: a bare number at the end of input would wait for its end.
    values = [[value] for value in values]
    data = "".join(json.dumps(value, ensure_ascii=False) for value in values).encode()
    stream = QmpJsonStream(release)
    got: list[object] = []
    start = 0
    for cut in sorted({min(cut, len(data)) for cut in cuts} | {len(data)}):
        got.extend(stream.feed(data[start:cut]))
        start = cut
    assert got == values


@pytest.mark.parametrize("release", READER_RELEASES)
@settings(max_examples=60)
@given(data=JSON_ISH_BYTES, cuts=st.lists(st.integers(0, 200)))
def test_reader_answers_alike_however_the_bytes_are_cut(
    release: str, data: bytes, cuts: list[int]
) -> None:
    whole = QmpJsonStream(release).feed(data)
    stream = QmpJsonStream(release)
    pieces: list[object] = []
    start = 0
    for cut in sorted({min(cut, len(data)) for cut in cuts} | {len(data)}):
        pieces.extend(stream.feed(data[start:cut]))
        start = cut
    assert pieces == whole


@settings(max_examples=60)
@given(value=JSON_VALUES)
def test_writer_output_reads_back_and_is_ascii(value: object) -> None:
    text = qmp_json(value)
    assert text.isascii()
    written = _as_qemu_writes(value)
    assert json.loads(text) == written
    for release in READER_RELEASES:
        assert QmpJsonStream(release).feed(f"[{text}]".encode()) == [[written]]


def _is_character(char: str) -> bool:
    # util/unicode.c: no surrogates, no noncharacters.
    code = ord(char)
    return not (0xD800 <= code <= 0xDFFF or 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)


def _as_qemu_writes(value: object) -> object:
    """``value`` with what QEMU's writer turns into U+FFFD (no valid character)."""
    if isinstance(value, str):
        return "".join(char if _is_character(char) else "\ufffd" for char in value)
    if isinstance(value, list):
        return [_as_qemu_writes(item) for item in value]
    if isinstance(value, dict):
        return {_as_qemu_writes(key): _as_qemu_writes(item) for key, item in value.items()}
    return value


def test_writer_writes_noncharacters_as_qemu_does() -> None:
    # Found by the test above: U+FFFE went out escaped as is, which QEMU's
    # own reader (and the stand-in's) refuses; QEMU writes U+FFFD.
    assert qmp_json({"\ufffe": "a\ud800b"}) == '{"\\uFFFD": "a\\uFFFDb"}'
