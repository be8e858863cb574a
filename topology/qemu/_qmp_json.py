"""QMP's JSON as QEMU reads and writes it: a streaming reader and QEMU's writer.

QEMU reads QMP input as a byte stream, not line by line: a value may span
lines and several may share one. :class:`QmpJsonStream` reads it as the QEMU
release it is given does, so that it splits and refuses input exactly where
that QEMU does. Every release cuts the bytes into tokens alike
(:mod:`topology.qemu._json_lexer`); what follows differs:

* 7.2 to 11.0 (``qobject/json-streamer.c`` and ``json-parser.c``, unchanged
  over these releases; 7.2 and 10.0 checked against real QEMU), here: the
  streamer counts braces and brackets and hands a value's tokens over as soon
  as both counts are back to zero (or below: a stray ``}`` is a value of its
  own, and an error); a lone keyword, number or string is a value at once; a
  lexical error (``JSON parse error, stray '@'``) drops what was collected.
  Then a recursive-descent parser builds the value; the first syntax error
  wins (``JSON parse error, expecting value``).
* 11.1 and later: a push parser that reports each error at once with where it
  is (``2:3: JSON parse error, stray '@'``), in
  :mod:`topology.qemu._qmp_json_push`, which says what changed and when.

Extensions QEMU accepts and so does this reader: single-quoted strings and
``\\'`` inside strings. End of input drops a partial value without a word,
as QEMU does when stdin closes.

The writer prints what QEMU prints: ``", "`` and ``": "`` separators, every
non-ASCII character as an upper-case ``\\uXXXX`` escape, floats as
``%.17g``, and the members of every object in QDict order (see
:func:`topology._parse.qom_props.qdict_order`), which is why QEMU's greeting
says ``micro, minor, major``.

>>> stream = QmpJsonStream("10.0")
>>> stream.feed(b'{"execute": "query-version",\\n')
[]
>>> for value in stream.feed(b'"id": 1}{"execute": "quit"} @\\n'):
...     print(value)
{'execute': 'query-version', 'id': 1}
{'execute': 'quit'}
JsonError(message="JSON parse error, stray '@'")
>>> QmpJsonStream("11.1").feed(b"  @\\n")
[JsonError(message="1:3: JSON parse error, stray '@'")]
>>> qmp_json({"return": {}, "id": 1})
'{"return": {}, "id": 1}'
>>> qmp_json({"id": 1, "error": {"desc": "x", "class": "GenericError"}})
'{"id": 1, "error": {"class": "GenericError", "desc": "x"}}'
"""

from __future__ import annotations

from typing import Final

from topology._parse.qdict import qdict_order
from topology._versions import QemuVersion, qemu_version
from topology.qemu._json_lexer import (
    MAX_NESTING,
    MAX_TOKEN_COUNT,
    MAX_TOKEN_SIZE,
    JsonError,
    JsonLexer,
    JsonSyntaxError,
    JsonValue,
    LexToken,
    TokenKind,
    _valid_codepoint,
    decode_number,
    decode_string,
    shown,
)
from topology.qemu._qmp_json_push import PushJsonReader

__all__ = ["JsonError", "JsonValue", "QmpJsonStream", "qmp_json"]


class QmpJsonStream:
    """QEMU's QMP input reader: feed it bytes as they come, get whole values out.

    ``release`` is the QEMU release whose reader to follow (``"10.0"``, a
    :class:`~topology.QemuVersion`; None for the newest modelled). Each call
    to :meth:`feed` returns the values (and :class:`JsonError` for input QEMU
    refuses) completed by those bytes, in order.
    """

    def __init__(self, release: str | QemuVersion | None = None) -> None:
        version = qemu_version(release)
        self._reader = PushJsonReader() if version.at_least("11.1") else _TokenQueueReader()

    def feed(self, data: bytes) -> list[JsonValue | JsonError]:
        """Read ``data``; return the values and errors it completes."""
        return self._reader.feed(data)


class _TokenQueueReader:
    """QEMU 7.2 to 11.0: collect a value's tokens until it is whole, then parse them."""

    def __init__(self) -> None:
        self._lexer = JsonLexer()
        self._tokens: list[LexToken] = []
        self._token_size = 0
        self._braces = 0
        self._brackets = 0
        self._out: list[JsonValue | JsonError] = []

    def feed(self, data: bytes) -> list[JsonValue | JsonError]:
        """Read ``data``; return the values and errors it completes."""
        for token in self._lexer.feed(data):
            self._on_token(token)
        out, self._out = self._out, []
        return out

    def _on_token(self, token: LexToken) -> None:
        """``json_message_process_token``: collect tokens until a value is whole."""
        kind = token.kind
        if kind is TokenKind.ERROR:
            self._emit(JsonError(message=f"JSON parse error, stray '{shown(token.text)}'"))
            return
        self._braces += {TokenKind.LCURLY: 1, TokenKind.RCURLY: -1}.get(kind, 0)
        self._brackets += {TokenKind.LSQUARE: 1, TokenKind.RSQUARE: -1}.get(kind, 0)
        if self._token_size + len(token.text) + 1 > MAX_TOKEN_SIZE:
            self._emit(JsonError(message="JSON token size limit exceeded"))
            return
        if len(self._tokens) + 1 > MAX_TOKEN_COUNT:
            self._emit(JsonError(message="JSON token count limit exceeded"))
            return
        if self._braces + self._brackets > MAX_NESTING:
            self._emit(JsonError(message="JSON nesting depth limit exceeded"))
            return
        self._tokens.append(token)
        self._token_size += len(token.text)
        # Either count below zero hands the tokens over at once: "[}" and "{]"
        # are values of their own, and errors (7.2 and 10.0 both do so).
        if (self._braces > 0 or self._brackets > 0) and self._braces >= 0 and self._brackets >= 0:
            return
        try:
            value: JsonValue | JsonError = _Parser(self._tokens).parse()
        except JsonSyntaxError as error:
            value = JsonError(message=f"JSON parse error, {error}")
        self._emit(value)

    def _emit(self, value: JsonValue | JsonError) -> None:
        self._braces = self._brackets = 0
        self._tokens = []
        self._token_size = 0
        self._out.append(value)


class _Parser:
    """``json-parser.c`` of 7.2 to 11.0: recursive descent over one value's tokens."""

    def __init__(self, tokens: list[LexToken]) -> None:
        self._tokens = tokens
        self._next = 0

    def parse(self) -> JsonValue:
        return self._value()

    def _peek(self) -> LexToken | None:
        return self._tokens[self._next] if self._next < len(self._tokens) else None

    def _pop(self) -> TokenKind:
        token = self._peek()
        if token is None:
            raise JsonSyntaxError("premature EOI")
        self._next += 1
        return token.kind

    def _value(self) -> JsonValue:
        token = self._peek()
        if token is None:
            raise JsonSyntaxError("premature EOI")
        kind = token.kind
        if kind is TokenKind.LCURLY:
            return self._object()
        if kind is TokenKind.LSQUARE:
            return self._array()
        if kind is TokenKind.STRING:
            self._next += 1
            return decode_string(token.text)
        if kind in (TokenKind.INTEGER, TokenKind.FLOAT):
            self._next += 1
            return decode_number(token)
        if kind is TokenKind.KEYWORD:
            self._next += 1
            keywords: dict[bytes, JsonValue] = {b"true": True, b"false": False, b"null": None}
            if token.text in keywords:
                return keywords[token.text]
            raise JsonSyntaxError(f"invalid keyword '{shown(token.text)}'")
        raise JsonSyntaxError("expecting value")

    def _object(self) -> dict[str, JsonValue]:
        self._pop()
        members: dict[str, JsonValue] = {}
        if self._peek() is None:
            raise JsonSyntaxError("premature EOI")
        if self._peek_kind() is TokenKind.RCURLY:
            self._pop()
            return members
        self._pair(members)
        kind = self._pop()
        while kind is not TokenKind.RCURLY:
            if kind is not TokenKind.COMMA:
                raise JsonSyntaxError("expected separator in dict")
            self._pair(members)
            kind = self._pop()
        return members

    def _pair(self, members: dict[str, JsonValue]) -> None:
        if self._peek() is None:
            raise JsonSyntaxError("premature EOI")
        key = self._value()
        if not isinstance(key, str):
            raise JsonSyntaxError("key is not a string in object")
        if self._pop() is not TokenKind.COLON:
            raise JsonSyntaxError("missing : in object pair")
        value = self._value()
        if key in members:
            raise JsonSyntaxError("duplicate key")
        members[key] = value

    def _array(self) -> list[JsonValue]:
        self._pop()
        items: list[JsonValue] = []
        if self._peek() is None:
            raise JsonSyntaxError("premature EOI")
        if self._peek_kind() is TokenKind.RSQUARE:
            self._pop()
            return items
        items.append(self._value())
        kind = self._pop()
        while kind is not TokenKind.RSQUARE:
            if kind is not TokenKind.COMMA:
                raise JsonSyntaxError("expected separator in list")
            items.append(self._value())
            kind = self._pop()
        return items

    def _peek_kind(self) -> TokenKind | None:
        token = self._peek()
        return None if token is None else token.kind


def qmp_json(value: object) -> str:
    """``value`` as QEMU's JSON writer prints it (one line, QDict member order).

    >>> qmp_json({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
    ...   "package": ""}, "capabilities": ["oob"]}})
    '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, \
"capabilities": ["oob"]}}'
    >>> qmp_json(["é", 0.5, None, True, "\\n"])
    '["\\\\u00E9", 0.5, null, true, "\\\\n"]'
    """
    if isinstance(value, dict):
        # QEMU's dicts are hash tables; a member put later comes first within a bucket.
        keys = qdict_order(_put_order([str(key) for key in value]))
        members = ", ".join(f"{_quoted(key)}: {qmp_json(value[key])}" for key in keys)
        return "{" + members + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(qmp_json(item) for item in value) + "]"
    if isinstance(value, str):
        return _quoted(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, ".17g")
    raise TypeError(f"QMP has no JSON for {type(value).__name__}")


#: QAPI structs whose members share a QDict bucket, in the order QEMU puts them
#: (the schema's): VersionTriple's ``micro`` and ``minor`` collide, and so do
#: StatusInfo's ``singlestep`` and ``status`` (before 9.0; observed on 7.2).
_SCHEMA_ORDERS: Final = (("major", "minor", "micro"), ("running", "singlestep", "status"))


def _put_order(keys: list[str]) -> list[str]:
    """The order QEMU put ``keys`` in: the dict's own, except for known schema orders."""
    for schema in _SCHEMA_ORDERS:
        if set(schema) <= set(keys):
            rest = [key for key in keys if key not in schema]
            return [*schema, *rest]
    return keys


_WRITER_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _quoted(text: str) -> str:
    parts = ['"']
    for char in text:
        codepoint = ord(char)
        if char in _WRITER_ESCAPES:
            parts.append(_WRITER_ESCAPES[char])
        elif not _valid_codepoint(codepoint):
            # QEMU's writer decodes its UTF-8 first and writes what is no valid
            # character (a noncharacter such as U+FFFE, a lone surrogate) as
            # U+FFFD, which its reader takes back (qobject/qjson.c).
            parts.append("\\uFFFD")
        elif codepoint > 0xFFFF:
            offset = codepoint - 0x10000
            parts.append(f"\\u{0xD800 + (offset >> 10):04X}\\u{0xDC00 + (offset & 0x3FF):04X}")
        elif codepoint < 0x20 or codepoint >= 0x7F:
            parts.append(f"\\u{codepoint:04X}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)
