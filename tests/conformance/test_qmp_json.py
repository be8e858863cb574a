"""Generated QMP input, good and bad, to real QEMU and to the stand-in: the same replies.

Hypothesis draws the bytes a client might send after ``qmp_capabilities``:
commands (``query-version`` with an ``id`` of any JSON, unknown commands),
JSON values of every kind with spaces, tabs and newlines between their tokens
(so values span lines and share them), the same mutated (a byte deleted or
inserted, a slice doubled, the end cut off), scalars QEMU refuses (``01``,
``tru``, bad escapes, bad UTF-8, strings cut by a newline), stray bytes and
lone structural characters. The same bytes go to real QEMU (x86_64, ``-S``,
TCG) and to the stand-in process of the same release, each followed by a
control byte (which ends whatever value is open, in every release) and
``quit``; the exit status and the whole stdout must be equal, but for event
timestamps. QEMU 7.2 and 10.0 answer with the parser 7.2 to 11.0 share, 11.1
with its push parser (``LINE:COLUMN: JSON parse error, ...``).

A fixed case compares the token count limit (2**21 tokens a value) the same way.

``CPUTOPO_CONFORMANCE_EXAMPLES`` sets the examples per release (default 40; the
conformance profile of ``tests/conftest.py`` runs 1000). The fixed tables are in
``tests/unit/test_qmp_json.py``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, qemu_command
from tests.unit.test_stdio import BASE, QMP, ROOT, stand_in

pytestmark = [pytest.mark.qemu, pytest.mark.conformance]


def _examples() -> int:
    """Examples per release: the env var, else the conformance profile, else 40."""
    given_count = os.environ.get("CPUTOPO_CONFORMANCE_EXAMPLES")
    if given_count:
        return int(given_count)
    if os.environ.get("CPUTOPO_HYPOTHESIS_PROFILE") == "conformance":
        return int(settings.get_profile("conformance").max_examples)
    return 40


EXAMPLES: Final = _examples()
START: Final = b'{"execute": "qmp_capabilities"}\n'
#: A control byte is a lexical error in every lexer state: whatever value is
#: open is given up (silently, if 11.1 is skipping after an error), so quit is read.
END: Final = b'\n\x01\n{"execute": "quit"}\n'

# -- what a client might send -------------------------------------------------------

SPACE = st.sampled_from([b"", b"", b" ", b"\n", b"\t", b"\r\n", b"  \n "])
SCALARS = st.sampled_from(
    [
        b"0",
        b"-7",
        b"0.5",
        b"-2.5e+3",
        b"1E5",
        b"18446744073709551616",
        b"true",
        b"false",
        b"null",
        b'"x"',
        b"'y'",
        b'"\\u00e9\\n\\"\\\\\\/"',
        b"'it\\'s \"q\"'",
        b'"\xc3\xa9\xe2\x82\xac"',
        b'"\\ud83d\\ude00"',
    ]
)
#: Scalars QEMU refuses, each for another reason.
BAD_SCALARS = st.sampled_from(
    [
        b"01",
        b"1.",
        b"-",
        b"1e",
        b"1.5e+",
        b"tru",
        b"nulls",
        b"garbage",
        b"TRUE",
        b'"\\q"',
        b'"\\u12"',
        b'"\\uD800"',
        b'"\\uDC00x"',
        b'"\\uFFFF"',
        b'"\xc3"',
        b'"\xc0\x80"',
        b'"\xff"',
        b'"a\x01"',
        b'"a\tb"',
        b'"open\n',
        b"'open\n",
        b"%p",
    ]
)
STRAYS = st.sampled_from(
    [b"@", b"#", b"A", b"\x7f", b"\x00", b"\xfe", b"\\", b"%", b"}", b"]", b"{", b"[", b":", b","]
)
KEYS = st.sampled_from(
    [b'"a"', b'"b"', b"'a'", b'"execute"', b'"id"', b'"arguments"', b'"\\u0061"', b"1", b"null"]
)


@st.composite
def _list(draw: st.DrawFn, inner: st.SearchStrategy[bytes]) -> bytes:
    items = draw(st.lists(inner, max_size=3))
    return b"[" + b",".join(draw(SPACE) + item + draw(SPACE) for item in items) + b"]"


@st.composite
def _object(draw: st.DrawFn, inner: st.SearchStrategy[bytes]) -> bytes:
    keys = draw(st.lists(KEYS, max_size=3))
    members = [
        draw(SPACE) + key + draw(SPACE) + b":" + draw(SPACE) + draw(inner) + draw(SPACE)
        for key in keys
    ]
    return b"{" + b",".join(members) + b"}"


VALUES = st.recursive(SCALARS, lambda inner: _list(inner) | _object(inner), max_leaves=8)


@st.composite
def _command(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from([b'"query-version"', b"'query-version'", b'"nope"']))
    members = [b'"execute"' + draw(SPACE) + b":" + draw(SPACE) + name]
    if draw(st.booleans()):
        members.append(b'"id"' + draw(SPACE) + b":" + draw(SPACE) + draw(VALUES))
    if draw(st.booleans()):
        members.append(b'"arguments": {}')
    order = draw(st.permutations(members))
    return b"{" + draw(SPACE) + (b"," + draw(SPACE)).join(order) + draw(SPACE) + b"}"


@st.composite
def _mutated(draw: st.DrawFn, text: bytes) -> bytes:
    """``text`` with one change: a byte deleted or inserted, a slice doubled, the end cut."""
    at = draw(st.integers(0, len(text)))
    change = draw(st.sampled_from(["delete", "insert", "double", "cut"]))
    if change == "delete":
        return text[:at] + text[at + 1 :]
    if change == "insert":
        extra = draw(STRAYS | SPACE | st.sampled_from([b'"', b"'", b"\\", b"\n", b"1", b"x"]))
        return text[:at] + extra + text[at:]
    if change == "double":
        end = draw(st.integers(at, len(text)))
        return text[:end] + text[at:end] + text[end:]
    return text[:at]


PIECES = st.one_of(
    _command(),
    VALUES,
    _command().flatmap(_mutated),
    VALUES.flatmap(_mutated),
    BAD_SCALARS,
    STRAYS,
)
QMP_INPUT = st.lists(st.tuples(PIECES, SPACE), min_size=1, max_size=6).map(
    lambda pieces: b"".join(piece + space for piece, space in pieces)
)

# -- running both -----------------------------------------------------------------


def _transcript(argv: list[str], data: bytes) -> tuple[int, list[str], str]:
    """Exit status, stdout lines (timestamps blanked) and stderr of ``argv`` fed ``data``."""
    proc = subprocess.run(
        argv,
        input=data,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ROOT},
        check=False,
    )
    out = re.sub(rb'"seconds": \d+, "microseconds": \d+', b"T", proc.stdout)
    return proc.returncode, out.decode("utf-8", "replace").split("\r\n"), proc.stderr.decode()


@functools.cache
def _stand_in_options(version: str) -> tuple[str, ...]:
    """The stand-in's --qemu-version/--qemu-package of the real QEMU ``version``."""
    argv = [*qemu_command("x86_64", version), *BASE, *QMP]
    greeting: dict[str, Any] = json.loads(_transcript(argv, START + END)[1][0])["QMP"]["version"]
    numbers = greeting["qemu"]
    return (
        f"--qemu-version={numbers['major']}.{numbers['minor']}.{numbers['micro']}",
        f"--qemu-package={greeting['package']}",
    )


def _same_replies(version: str, data: bytes) -> list[str]:
    """Feed ``data`` to real QEMU ``version`` and to the stand-in; their stdout lines, if equal."""
    stream = START + data + END
    real = _transcript([*qemu_command("x86_64", version), *BASE, *QMP], stream)
    ours = _transcript([*stand_in("x86_64", *_stand_in_options(version)), *BASE, *QMP], stream)
    assert ours == real, f"input {stream!r}"
    return real[1]


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_generated_input_gets_real_qemus_replies(version: str) -> None:
    require_qemu("x86_64", version)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=QMP_INPUT)
    def compare(data: bytes) -> None:
        _same_replies(version, data)

    compare()


#: A list whose 2**21+1st token is a comma: 7.2 and 10.0 refuse it and read the
#: rest of the list as new values, which shows where the limit is; 11.1 skips the
#: rest up to the bracket that balances, so for it a list of exactly 2**21 tokens
#: (2**20 - 2 zeros and an empty list), which it reads, goes first.
OVER_TOKEN_COUNT: Final = b"[" + b"0," * ((1 << 20) - 1) + b"0, 0, 0]]"
EXACT_TOKEN_COUNT: Final = b"[" + b"0," * ((1 << 20) - 2) + b"[]]\n"


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_token_count_limit_as_real_qemu(version: str) -> None:
    require_qemu("x86_64", version)
    data = (EXACT_TOKEN_COUNT if version == "11.1" else b"") + OVER_TOKEN_COUNT
    replies = _same_replies(version, data)
    assert sum("JSON token count limit exceeded" in reply for reply in replies) == 1
