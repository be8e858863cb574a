"""The stand-in's QMP JSON reader (``topology.qemu._qmp_json``) against QEMU's answers.

Every table here is what real QEMU answered to the same bytes on stdin, with
``-accel tcg -S -nodefaults -no-user-config -display none -qmp stdio``: QEMU
7.2.22 (Debian bookworm), 10.0.13 (Debian trixie) and 11.1.3 (Debian sid).
The rows of 11.1 were sent after a ``qmp_capabilities`` line, which is line 1,
so the positions in 11.1's messages are those of that stream; the tests feed
the same line first. The generated comparison with real QEMU is in
``tests/conformance/test_qmp_json.py``, the reader's properties in
``tests/property/test_stdio.py``.
"""

from __future__ import annotations

import pytest

from topology._parse.qdict import qdict_order
from topology.qemu._json_lexer import JsonError
from topology.qemu._qmp_json import QmpJsonStream

#: The releases before the push parser whose answers were observed (7.2.22, 10.0.13).
QUEUE_RELEASES = ("7.2", "10.0")
CAPABILITIES = b'{"execute":"qmp_capabilities"}\n'


def read(release: str, data: bytes) -> list[object]:
    """What the reader of ``release`` makes of ``data``: values, and error texts."""
    stream = QmpJsonStream(release)
    return [v.message if isinstance(v, JsonError) else v for v in stream.feed(data)]


# -- QEMU 7.2 and 10.0 ----------------------------------------------------------

#: Input -> what QEMU 7.2.22 and 10.0.13 both made of it (values, or errors).
QUEUE_CASES: list[tuple[bytes, list[object]]] = [
    (b"garbage\n", ["JSON parse error, invalid keyword 'garbage'"]),
    (b"[1,2]\n", [[1, 2]]),
    (b'{"a":}\n', ["JSON parse error, expecting value"]),
    (b"}\n", ["JSON parse error, expecting value"]),
    (b'{"a" 1}\n', ["JSON parse error, missing : in object pair"]),
    (b"{'execute':'query-version'}\n", [{"execute": "query-version"}]),
    (b'{"execute":"query-version" "x"}\n', ["JSON parse error, expected separator in dict"]),
    (b'{"execute":"q"}}\n', [{"execute": "q"}, "JSON parse error, expecting value"]),
    (b'{"execute":"q"}]\n', [{"execute": "q"}, "JSON parse error, expecting value"]),
    (b"@\n", ["JSON parse error, stray '@'"]),
    (b'{"execute":"query-vers\\u0069on"}\n', [{"execute": "query-version"}]),
    (b'{"execute":"query-version","execute":"quit"}\n', ["JSON parse error, duplicate key"]),
    (b'"str"\n', ["str"]),
    (b"1\n", [1]),
    (b"null\n", [None]),
    (
        b'{"execute": "query-version",\n"id": 5}{"execute":"query-version"}\n',
        [
            {"execute": "query-version", "id": 5},
            {"execute": "query-version"},
        ],
    ),
    # A closing bracket with nothing open hands the tokens over at once, "}" in a
    # list too (the stand-in kept collecting "[}" until it learnt this).
    (b"[}\n", ["JSON parse error, expecting value"]),
    (b"[}]\n", ["JSON parse error, expecting value", "JSON parse error, expecting value"]),
    (b"[1}\n", ["JSON parse error, expected separator in list"]),
    (
        b'[{"a"\n}\n}\n}\n]\n]\n',
        ["JSON parse error, missing : in object pair", *3 * ["JSON parse error, expecting value"]],
    ),
    # The first error of a group wins, a lexical one included.
    (b'{"a" 1 @ "b"}\n', ["JSON parse error, stray '@'", "JSON parse error, expecting value"]),
    (b"[1 2]\n", ["JSON parse error, expected separator in list"]),
    (b"{1: 2}\n", ["JSON parse error, key is not a string in object"]),
    (b'{"a":1,}\n', ["JSON parse error, expecting value"]),
    # Past the nesting limit QEMU starts afresh: every "]" is then a value of its own.
    (
        b"[" * 1025 + b"]" * 1025,
        ["JSON nesting depth limit exceeded", *1025 * ["JSON parse error, expecting value"]],
    ),
]


@pytest.mark.parametrize("release", QUEUE_RELEASES)
@pytest.mark.parametrize(("data", "expected"), QUEUE_CASES, ids=lambda v: repr(v)[:30])
def test_reader_of_7_2_to_11_0_splits_and_refuses_as_qemu(
    release: str, data: bytes, expected: list[object]
) -> None:
    assert read(release, data) == expected


def test_reader_keeps_a_partial_value_until_it_is_whole() -> None:
    for release in (*QUEUE_RELEASES, "11.1"):
        stream = QmpJsonStream(release)
        assert stream.feed(b'{"execute"') == []
        assert stream.feed(b': "quit", "arguments"') == []
        assert stream.feed(b": {}}") == [{"execute": "quit", "arguments": {}}]


# -- QEMU 11.1 --------------------------------------------------------------------

#: One stream, line by line after the qmp_capabilities line, and what QEMU 11.1.3
#: made of each line (observed on 11.1.3; the messages of 10.0.13 for the same
#: lines are those of QUEUE_CASES' kind, without positions).
STREAM_11_1: list[tuple[bytes, list[object]]] = [
    (b"  @\n", ["2:3: JSON parse error, stray '@'"]),
    (b'{"execute": }\n', ["3:13: JSON parse error, expecting value"]),
    (b'{"execute" "x"}\n', ["4:12: JSON parse error, expecting ':'"]),
    (b"]\n", ["5:1: JSON parse error, expecting value"]),
    (b'{"a": 1,}\n', ["6:9: JSON parse error, expecting key"]),
    (b'{"a":\n  [1, 2\n  ,]}\n', ["9:4: JSON parse error, expecting value"]),
    (b"   garbage\n", ["10:4: JSON parse error, invalid keyword 'garbage'"]),
    (b"{'a': tru}\n", ["11:7: JSON parse error, invalid keyword 'tru'"]),
    # The newline ends the string as an error; the next line is skipped up to its end.
    (b'"abc\nxyz"\n', ["12:1: JSON parse error, stray '\"abc\n'"]),
    (b'{"a": 1} @ {"b": 2}\n', [{"a": 1}, "14:10: JSON parse error, stray '@'", {"b": 2}]),
    (b"[1 2]\n", ["15:4: JSON parse error, expected ',' or ']'"]),
    (b"{1: 2}\n", ["16:2: JSON parse error, expecting key"]),
]


def test_reader_of_11_1_places_errors_as_qemu_11_1() -> None:
    stream = QmpJsonStream("11.1")
    assert stream.feed(CAPABILITIES) == [{"execute": "qmp_capabilities"}]
    for line, expected in STREAM_11_1:
        got = [v.message if isinstance(v, JsonError) else v for v in stream.feed(line)]
        assert (line, got) == (line, expected)


#: Input (the line after qmp_capabilities) -> what QEMU 11.1.3 made of it.
CASES_11_1: list[tuple[bytes, list[object]]] = [
    # Columns count bytes from 1; a tab, a carriage return and each byte of
    # UTF-8 are one column; only a newline starts a line.
    (b"\t@", ["2:2: JSON parse error, stray '@'"]),
    (b"\r@", ["2:2: JSON parse error, stray '@'"]),
    (b'  "\xc3\xa9\xc3\xa9"@', ["\xe9\xe9", "2:9: JSON parse error, stray '@'"]),
    (b"1\n@", [1, "3:1: JSON parse error, stray '@'"]),
    # A token that starts on the byte that ended the one before is placed a
    # column to its right: '@' is in column 3 here, and "]" in column 7 below.
    (b"[1@", ["2:4: JSON parse error, stray '@'"]),
    (b'{"a":1]', ["2:8: JSON parse error, expected ',' or '}'"]),
    (b"tru@", ["2:1: JSON parse error, invalid keyword 'tru'", "2:5: JSON parse error, stray '@'"]),
    (b"@abc}", ["2:1: JSON parse error, stray '@'", "2:6: JSON parse error, expecting value"]),
    (b"@\xfe{}", ["2:1: JSON parse error, stray '@'", "2:3: JSON parse error, stray '\ufffd'", {}]),
    # Errors in a string are placed at the string; a duplicate key at the last
    # token of its value.
    (b'"\\q"', ["2:1: JSON parse error, invalid escape sequence in string"]),
    (b'"\\uD800"', ["2:1: JSON parse error, \\uD800 is not a valid Unicode character"]),
    (b'{"\xc3(": 1}', ["2:2: JSON parse error, invalid UTF-8 sequence in string"]),
    (b'{"a":1,"a":[1, 2]}', ["2:18: JSON parse error, duplicate key"]),
    (b'{"execute":"quit","execute":"x"}', ["2:29: JSON parse error, duplicate key"]),
    # The first error is reported at once; then the input is skipped until
    # braces and brackets balance, a lexical error or a closing bracket with
    # nothing open counting as balance. Errors while skipping go unreported.
    (
        b'{"a" 1 @ "b"}',
        ["2:6: JSON parse error, expecting ':'", "2:14: JSON parse error, expecting value"],
    ),
    (b'[{"a"]\n\x01', ["2:6: JSON parse error, expecting ':'"]),
    (
        b'[{"a"\n}\n}\n}\n]\n]',
        [
            "3:1: JSON parse error, expecting ':'",
            "5:1: JSON parse error, expecting value",
            "6:1: JSON parse error, expecting value",
            "7:1: JSON parse error, expecting value",
        ],
    ),
    (
        b'{"a":{"b" 1]}} {"c":1}',
        [
            "2:11: JSON parse error, expecting ':'",
            "2:13: JSON parse error, expecting value",
            "2:14: JSON parse error, expecting value",
            {"c": 1},
        ],
    ),
    (
        b"[1}]",
        ["2:4: JSON parse error, expected ',' or ']'", "2:4: JSON parse error, expecting value"],
    ),
    (b"{]\n\x01", ["2:2: JSON parse error, expecting key", "3:1: JSON parse error, stray '\x01'"]),
    (b"{,}", ["2:2: JSON parse error, expecting key"]),
    (b"{:1}", ["2:2: JSON parse error, expecting key"]),
    (b'{"a",1}', ["2:5: JSON parse error, expecting ':'"]),
    (b'{"a":1 "b":2}', ["2:8: JSON parse error, expected ',' or '}'"]),
    (b"[1:2]", ["2:4: JSON parse error, expected ',' or ']'"]),
    (b"[,1]", ["2:2: JSON parse error, expecting value"]),
    (b"[1,]", ["2:4: JSON parse error, expecting value"]),
    # The limits carry no position; after one the rest of the value is skipped.
    (b"[" * 1025 + b"]" * 1025, ["JSON nesting depth limit exceeded"]),
    (b"[" * 1025 + b'\n{"execute":"query-version"}\n\x01', ["JSON nesting depth limit exceeded"]),
]


@pytest.mark.parametrize(("data", "expected"), CASES_11_1, ids=lambda v: repr(v)[:30])
def test_reader_of_11_1_answers_as_qemu_11_1(data: bytes, expected: list[object]) -> None:
    assert read("11.1", CAPABILITIES + data) == [{"execute": "qmp_capabilities"}, *expected]


def test_releases_from_11_1_read_with_positions_and_those_before_without() -> None:
    # The push parser came with 11.1 (posted for it after 11.0's release).
    assert read("11.0", b"@") == ["JSON parse error, stray '@'"]
    assert read("11.1", b"@") == ["1:1: JSON parse error, stray '@'"]
    assert read("10.2", b"{1: 2}") == ["JSON parse error, key is not a string in object"]


# -- the limits, in 10.0 and 11.1 ----------------------------------------------------
# The nesting limit is in the tables above; the token count limit (2**21 tokens,
# 4 MiB of input, too slow for here) is compared with real QEMU in
# tests/conformance/test_qmp_json.py.

MIB_64 = 64 << 20
THEN = b"\n\x01\n"  # a control byte ends whatever was left open

#: Input (after qmp_capabilities) -> what QEMU 10.0.13 and 11.1.3 made of it.
#: A string of 64 MiB less one byte is read; one of 64 MiB is too big. A token
#: past 64 MiB is cut by the lexer, which reads on from the start state: the
#: rest of the string is a keyword (placed, in 11.1, where the string began),
#: then its closing quote opens a string the newline ends.
SIZE_CASES: list[tuple[str, bytes, list[object]]] = [
    (
        "10.0",
        b'"' + b"a" * (MIB_64 - 3) + b'"' + THEN,
        ["a" * (MIB_64 - 3), "JSON parse error, stray '\x01'"],
    ),
    (
        "11.1",
        b'"' + b"a" * (MIB_64 - 3) + b'"' + THEN,
        ["a" * (MIB_64 - 3), "3:1: JSON parse error, stray '\x01'"],
    ),
    (
        "10.0",
        b'"' + b"a" * (MIB_64 - 2) + b'"' + THEN,
        ["JSON token size limit exceeded", "JSON parse error, stray '\x01'"],
    ),
    (
        "11.1",
        b'"' + b"a" * (MIB_64 - 2) + b'"' + THEN,
        ["JSON token size limit exceeded", "3:1: JSON parse error, stray '\x01'"],
    ),
    (
        "10.0",
        b'"' + b"a" * (MIB_64 + 5) + b'bc"' + THEN,
        [
            "JSON token size limit exceeded",
            "JSON parse error, invalid keyword 'aaaaabc'",
            "JSON parse error, stray '\"\n'",
            "JSON parse error, stray '\x01'",
        ],
    ),
    (
        "11.1",
        b'"' + b"a" * (MIB_64 + 5) + b'bc"' + THEN,
        [
            "JSON token size limit exceeded",
            "2:1: JSON parse error, invalid keyword 'aaaaabc'",
            f"2:{MIB_64 + 10}: JSON parse error, stray '\"\n'",
            "3:2: JSON parse error, stray '\x01'",
        ],
    ),
]


@pytest.mark.parametrize(("release", "data", "expected"), SIZE_CASES, ids=lambda v: str(v)[:12])
def test_token_size_limit_as_qemu(release: str, data: bytes, expected: list[object]) -> None:
    assert read(release, CAPABILITIES + data) == [{"execute": "qmp_capabilities"}, *expected]


def test_a_key_with_nul_is_ordered_as_qemu_keeps_it() -> None:
    # QEMU's reader keeps U+0000 as the bytes C0 80, and QMP's "member is
    # unexpected" check walks the keys in QDict order: for
    # {"a": 0.5, "\u000061": 0} QEMU 7.2.22, 10.0.13 and 11.1.3 all report
    # 'a' (found by tests/conformance/test_qmp_json.py in CI).
    (value,) = QmpJsonStream("10.0").feed(b'{"a": 0.5, "\\u000061": 0}\n')
    assert isinstance(value, dict)
    assert qdict_order(list(value)) == ["a", "\x0061"]
    assert qdict_order(["\x0061", "a"]) == ["a", "\x0061"]
