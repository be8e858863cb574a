"""QMP's JSON as QEMU reads and writes it: a streaming reader and QEMU's writer.

QEMU reads QMP input as a byte stream (``qobject/json-lexer.c``,
``json-streamer.c``, ``json-parser.c``, unchanged from 7.2 to 10.0), not
line by line: a value may span lines and several may share one. The reader
here follows the same three stages, so that it splits and refuses input
exactly where QEMU does:

1. the lexer makes tokens; a byte that cannot start or continue a token is a
   lexical error (``JSON parse error, stray '@'``), after which it skips to
   the next structural character (``{}[]:,``) or control character;
2. the streamer counts braces and brackets and hands the tokens over as soon
   as both counts are back to zero (or below: a stray ``}`` is a value of its
   own, and an error); a lone keyword, number or string is a value at once;
3. the parser builds the value; the first syntax error wins
   (``JSON parse error, expecting value``).

Extensions QEMU accepts and so does this reader: single-quoted strings and
``\\'`` inside strings. End of input drops a partial value without a word,
as QEMU does when stdin closes.

The writer prints what QEMU prints: ``", "`` and ``": "`` separators, every
non-ASCII character as an upper-case ``\\uXXXX`` escape, floats as
``%.17g``, and the members of every object in QDict order (see
:func:`topology._parse.qom_props.qdict_order`), which is why QEMU's greeting
says ``micro, minor, major``.

>>> stream = QmpJsonStream()
>>> stream.feed(b'{"execute": "query-version",\\n')
[]
>>> for value in stream.feed(b'"id": 1}{"execute": "quit"} @\\n'):
...     print(value)
{'execute': 'query-version', 'id': 1}
{'execute': 'quit'}
JsonError(message="JSON parse error, stray '@'")
>>> qmp_json({"return": {}, "id": 1})
'{"return": {}, "id": 1}'
>>> qmp_json({"id": 1, "error": {"desc": "x", "class": "GenericError"}})
'{"id": 1, "error": {"class": "GenericError", "desc": "x"}}'
"""

from __future__ import annotations

import enum
from typing import Final, TypeAlias

import attrs

from topology._parse.qdict import qdict_order

__all__ = ["JsonError", "JsonValue", "QmpJsonStream", "qmp_json"]

JsonValue: TypeAlias = "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"

#: The streamer's limits (``json-streamer.c``), each refused with its own message.
MAX_TOKEN_SIZE: Final = 64 << 20
MAX_TOKEN_COUNT: Final = 2 << 20
MAX_NESTING: Final = 1 << 10


@attrs.frozen(kw_only=True)
class JsonError:
    """Input QEMU could not read: its message, as QMP's error reply gives it."""

    message: str


class _Token(enum.Enum):
    LCURLY = "{"
    RCURLY = "}"
    LSQUARE = "["
    RSQUARE = "]"
    COLON = ":"
    COMMA = ","
    INTEGER = "integer"
    FLOAT = "float"
    KEYWORD = "keyword"
    STRING = "string"
    ERROR = "error"


class _State(enum.Enum):
    START = enum.auto()
    RECOVERY = enum.auto()
    DQ_STRING = enum.auto()
    DQ_ESCAPE = enum.auto()
    SQ_STRING = enum.auto()
    SQ_ESCAPE = enum.auto()
    ZERO = enum.auto()
    DIGITS = enum.auto()
    SIGN = enum.auto()
    MANTISSA = enum.auto()
    MANTISSA_DIGITS = enum.auto()
    EXP_E = enum.auto()
    EXP_SIGN = enum.auto()
    EXP_DIGITS = enum.auto()
    KEYWORD = enum.auto()


_STRUCTURAL: Final = {
    ord("{"): _Token.LCURLY,
    ord("}"): _Token.RCURLY,
    ord("["): _Token.LSQUARE,
    ord("]"): _Token.RSQUARE,
    ord(":"): _Token.COLON,
    ord(","): _Token.COMMA,
}
_DIGITS: Final = frozenset(range(ord("0"), ord("9") + 1))
_LOWER: Final = frozenset(range(ord("a"), ord("z") + 1))
_WHITESPACE: Final = frozenset(b" \t\r\n")

#: A transition: the next state or a finished token, and whether the byte is
#: only looked at (left for the next state) rather than consumed.
_Step: TypeAlias = "tuple[_State | _Token, bool]"


def _step(state: _State, byte: int) -> _Step:
    """One transition of QEMU's lexer table (``json_lexer[][]``)."""
    if state is _State.START:
        if byte in _STRUCTURAL:
            return _STRUCTURAL[byte], False
        if byte in _WHITESPACE:
            return _State.START, False
        if byte == ord('"'):
            return _State.DQ_STRING, False
        if byte == ord("'"):
            return _State.SQ_STRING, False
        if byte == ord("0"):
            return _State.ZERO, False
        if byte in _DIGITS:
            return _State.DIGITS, False
        if byte == ord("-"):
            return _State.SIGN, False
        if byte in _LOWER:
            return _State.KEYWORD, False
        return _Token.ERROR, False
    if state is _State.RECOVERY:
        # Resynchronise on a structural character or a control character.
        if byte in _STRUCTURAL or (byte < 0x20 and byte != ord("\t")) or byte >= 0xFE:
            return _State.START, True
        return _State.RECOVERY, False
    if state in (_State.DQ_STRING, _State.SQ_STRING):
        quote = ord('"') if state is _State.DQ_STRING else ord("'")
        escape = _State.DQ_ESCAPE if state is _State.DQ_STRING else _State.SQ_ESCAPE
        if byte == quote:
            return _Token.STRING, False
        if byte == ord("\\"):
            return escape, False
        if 0x20 <= byte <= 0xFD:
            return state, False
        return _Token.ERROR, False
    if state in (_State.DQ_ESCAPE, _State.SQ_ESCAPE):
        if 0x20 <= byte <= 0xFD:
            return (_State.DQ_STRING if state is _State.DQ_ESCAPE else _State.SQ_STRING), False
        return _Token.ERROR, False
    return _step_number_or_keyword(state, byte)


def _step_number_or_keyword(state: _State, byte: int) -> _Step:
    digit = byte in _DIGITS
    exponent = byte in (ord("e"), ord("E"))
    if state is _State.ZERO:
        if digit:
            return _Token.ERROR, False
        return (_State.MANTISSA, False) if byte == ord(".") else (_Token.INTEGER, True)
    if state is _State.DIGITS:
        if digit:
            return _State.DIGITS, False
        if exponent:
            return _State.EXP_E, False
        return (_State.MANTISSA, False) if byte == ord(".") else (_Token.INTEGER, True)
    if state is _State.SIGN:
        if byte == ord("0"):
            return _State.ZERO, False
        return (_State.DIGITS, False) if digit else (_Token.ERROR, False)
    if state is _State.MANTISSA:
        return (_State.MANTISSA_DIGITS, False) if digit else (_Token.ERROR, False)
    if state is _State.MANTISSA_DIGITS:
        if digit:
            return _State.MANTISSA_DIGITS, False
        return (_State.EXP_E, False) if exponent else (_Token.FLOAT, True)
    if state is _State.EXP_E:
        if byte in (ord("-"), ord("+")):
            return _State.EXP_SIGN, False
        return (_State.EXP_DIGITS, False) if digit else (_Token.ERROR, False)
    if state is _State.EXP_SIGN:
        return (_State.EXP_DIGITS, False) if digit else (_Token.ERROR, False)
    if state is _State.EXP_DIGITS:
        return (_State.EXP_DIGITS, False) if digit else (_Token.FLOAT, True)
    assert state is _State.KEYWORD
    return (_State.KEYWORD, False) if byte in _LOWER else (_Token.KEYWORD, True)


class QmpJsonStream:
    """QEMU's QMP input reader: feed it bytes as they come, get whole values out.

    Each call to :meth:`feed` returns the values (and :class:`JsonError` for
    input QEMU refuses) completed by those bytes, in order.
    """

    def __init__(self) -> None:
        self._state = _State.START
        self._token = bytearray()
        self._tokens: list[tuple[_Token, bytes]] = []
        self._token_size = 0
        self._braces = 0
        self._brackets = 0
        self._out: list[JsonValue | JsonError] = []

    def feed(self, data: bytes) -> list[JsonValue | JsonError]:
        """Read ``data``; return the values and errors it completes."""
        for byte in data:
            self._feed_byte(byte)
        out, self._out = self._out, []
        return out

    def _feed_byte(self, byte: int) -> None:
        consumed = False
        while not consumed:
            new, lookahead = _step(self._state, byte)
            consumed = not lookahead
            if consumed:
                self._token.append(byte)
            if isinstance(new, _Token):
                self._on_token(new, bytes(self._token))
                self._token.clear()
                self._state = _State.RECOVERY if new is _Token.ERROR else _State.START
            else:
                if new in (_State.START, _State.RECOVERY):
                    self._token.clear()
                self._state = new

    def _on_token(self, kind: _Token, text: bytes) -> None:
        """``json_message_process_token``: collect tokens until a value is whole."""
        if kind is _Token.ERROR:
            shown = text.split(b"\0", 1)[0].decode("utf-8", "replace")
            self._emit(JsonError(message=f"JSON parse error, stray '{shown}'"))
            return
        self._braces += {_Token.LCURLY: 1, _Token.RCURLY: -1}.get(kind, 0)
        self._brackets += {_Token.LSQUARE: 1, _Token.RSQUARE: -1}.get(kind, 0)
        if self._token_size + len(text) + 1 > MAX_TOKEN_SIZE:
            self._emit(JsonError(message="JSON token size limit exceeded"))
            return
        if len(self._tokens) + 1 > MAX_TOKEN_COUNT:
            self._emit(JsonError(message="JSON token count limit exceeded"))
            return
        if self._braces + self._brackets > MAX_NESTING:
            self._emit(JsonError(message="JSON nesting depth limit exceeded"))
            return
        self._tokens.append((kind, text))
        self._token_size += len(text)
        # QEMU tests the bracket count twice and the brace count never for
        # being negative: "[}" keeps collecting, "{]" is handed over at once.
        if (self._braces > 0 or self._brackets > 0) and self._brackets >= 0:
            return
        try:
            value: JsonValue | JsonError = _Parser(self._tokens).parse()
        except _ParseError as error:
            value = JsonError(message=f"JSON parse error, {error}")
        self._emit(value)

    def _emit(self, value: JsonValue | JsonError) -> None:
        self._braces = self._brackets = 0
        self._tokens = []
        self._token_size = 0
        self._out.append(value)


class _ParseError(Exception):
    pass


class _Parser:
    """``json-parser.c``: recursive descent over one value's tokens."""

    def __init__(self, tokens: list[tuple[_Token, bytes]]) -> None:
        self._tokens = tokens
        self._next = 0

    def parse(self) -> JsonValue:
        return self._value()

    def _peek(self) -> tuple[_Token, bytes] | None:
        return self._tokens[self._next] if self._next < len(self._tokens) else None

    def _pop(self) -> tuple[_Token, bytes]:
        token = self._peek()
        if token is None:
            raise _ParseError("premature EOI")
        self._next += 1
        return token

    def _value(self) -> JsonValue:
        token = self._peek()
        if token is None:
            raise _ParseError("premature EOI")
        kind, text = token
        if kind is _Token.LCURLY:
            return self._object()
        if kind is _Token.LSQUARE:
            return self._array()
        if kind is _Token.STRING:
            self._next += 1
            return _string(text)
        if kind is _Token.INTEGER:
            self._next += 1
            number = int(text)
            # int64, then uint64, else a double (QNum's three kinds).
            if -(1 << 63) <= number < (1 << 64):
                return number
            return float(text)
        if kind is _Token.FLOAT:
            self._next += 1
            return float(text)
        if kind is _Token.KEYWORD:
            self._next += 1
            keywords: dict[bytes, JsonValue] = {b"true": True, b"false": False, b"null": None}
            if text in keywords:
                return keywords[text]
            raise _ParseError(f"invalid keyword '{text.decode()}'")
        raise _ParseError("expecting value")

    def _object(self) -> dict[str, JsonValue]:
        self._pop()
        members: dict[str, JsonValue] = {}
        if self._peek() is None:
            raise _ParseError("premature EOI")
        if self._peek_kind() is _Token.RCURLY:
            self._pop()
            return members
        self._pair(members)
        kind, _ = self._pop()
        while kind is not _Token.RCURLY:
            if kind is not _Token.COMMA:
                raise _ParseError("expected separator in dict")
            self._pair(members)
            kind, _ = self._pop()
        return members

    def _pair(self, members: dict[str, JsonValue]) -> None:
        if self._peek() is None:
            raise _ParseError("premature EOI")
        key = self._value()
        if not isinstance(key, str):
            raise _ParseError("key is not a string in object")
        kind, _ = self._pop()
        if kind is not _Token.COLON:
            raise _ParseError("missing : in object pair")
        value = self._value()
        if key in members:
            raise _ParseError("duplicate key")
        members[key] = value

    def _array(self) -> list[JsonValue]:
        self._pop()
        items: list[JsonValue] = []
        if self._peek() is None:
            raise _ParseError("premature EOI")
        if self._peek_kind() is _Token.RSQUARE:
            self._pop()
            return items
        items.append(self._value())
        kind, _ = self._pop()
        while kind is not _Token.RSQUARE:
            if kind is not _Token.COMMA:
                raise _ParseError("expected separator in list")
            items.append(self._value())
            kind, _ = self._pop()
        return items

    def _peek_kind(self) -> _Token | None:
        token = self._peek()
        return None if token is None else token[0]


_ESCAPES: Final = {
    ord('"'): '"',
    ord("'"): "'",
    ord("\\"): "\\",
    ord("/"): "/",
    ord("b"): "\b",
    ord("f"): "\f",
    ord("n"): "\n",
    ord("r"): "\r",
    ord("t"): "\t",
}


def _valid_codepoint(codepoint: int) -> bool:
    """Unicode scalar values that are not noncharacters (``util/unicode.c``)."""
    return (
        0 <= codepoint <= 0x10FFFF
        and not 0xFDD0 <= codepoint <= 0xFDEF
        and (codepoint & 0xFFFE) != 0xFFFE
        and not 0xD800 <= codepoint <= 0xDFFF
    )


def _hex4(text: bytes) -> int:
    digits = text[:4]
    if len(digits) < 4 or any(chr(b) not in "0123456789abcdefABCDEF" for b in digits):
        return -1
    return int(digits, 16)


def _utf8_codepoint(text: bytes, start: int) -> tuple[int, int]:
    """``mod_utf8_codepoint``: the code point at ``start`` (or -1) and where it ends."""
    byte = text[start]
    if byte < 0x80:
        return byte, start + 1
    if byte >= 0xFE or not byte & 0x40:
        return -1, start + 1
    length, mask = 0, 0x80
    while byte & mask:
        length += 1
        mask >>= 1
    codepoint = byte & (mask - 1)
    end = start + 1
    for _ in range(1, length):
        if end >= len(text) or text[end] & 0xC0 != 0x80:
            return -1, end
        codepoint = codepoint << 6 | text[end] & 0x3F
        end += 1
    minimum = (0x80, 0x800, 0x10000, 0x200000, 0x4000000)[length - 2]
    if not _valid_codepoint(codepoint) or (
        codepoint < minimum and not (codepoint == 0 and length == 2)
    ):
        return -1, end
    return codepoint, end


def _string(token: bytes) -> str:
    """``parse_string``: the text of a quoted string token, escapes resolved."""
    quote = token[0]
    chars: list[str] = []
    position = 1
    while token[position] != quote:
        if token[position] == ord("\\"):
            begin = position
            escape = token[position + 1]
            position += 2
            if escape in _ESCAPES:
                chars.append(_ESCAPES[escape])
                continue
            if escape != ord("u"):
                raise _ParseError("invalid escape sequence in string")
            codepoint = _hex4(token[position:])
            position += 4
            if 0xD800 <= codepoint <= 0xDBFF and token[position : position + 2] == b"\\u":
                trailing = _hex4(token[position + 2 :])
                if 0xDC00 <= trailing <= 0xDFFF:
                    codepoint = 0x10000 + ((codepoint & 0x3FF) << 10) | (trailing & 0x3FF)
                    position += 6
                else:
                    codepoint = -1
            if not _valid_codepoint(codepoint):
                shown = token[begin:position].split(b"\0", 1)[0].decode("utf-8", "replace")
                raise _ParseError(f"{shown} is not a valid Unicode character")
            chars.append(chr(codepoint))
            continue
        codepoint, position = _utf8_codepoint(token, position)
        if codepoint < 0:
            raise _ParseError("invalid UTF-8 sequence in string")
        chars.append(chr(codepoint))
    return "".join(chars)


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
#: (the schema's): VersionTriple's ``micro`` and ``minor`` collide.
_SCHEMA_ORDERS: Final = (("major", "minor", "micro"),)


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
        elif codepoint > 0xFFFF:
            offset = codepoint - 0x10000
            parts.append(f"\\u{0xD800 + (offset >> 10):04X}\\u{0xDC00 + (offset & 0x3FF):04X}")
        elif codepoint < 0x20 or codepoint >= 0x7F:
            parts.append(f"\\u{codepoint:04X}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)
