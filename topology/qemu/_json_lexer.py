"""QEMU's JSON lexer and the decoding of its tokens, the same in every release.

QEMU cuts QMP input into tokens with one table-driven lexer
(``qobject/json-lexer.c``) from 7.2 to 11.1; what the releases do with the
tokens differs (:mod:`topology.qemu._qmp_json` for 7.2 to 11.0,
:mod:`topology.qemu._qmp_json_push` from 11.1). A byte that cannot start or
continue a token ends an ``ERROR`` token (``stray '@'``), after which the
lexer skips to the next structural character (``{}[]:,``) or control
character.

Each token carries where it starts, as QEMU 11.1 reports it in errors: lines
and columns count from 1, a column is a byte (a tab is one column, so is each
byte of a UTF-8 sequence), and only ``\\n`` starts a new line. QEMU notes the
position for the next token after each byte it consumes, so a token that
starts on the byte that ended the previous one (``]`` right after ``1`` in
``[1]``, or ``}`` right after skipped bytes) is placed one column to the
right of where it is; QEMU 11.1 reports it there too.

A token longer than 64 MiB (:data:`MAX_TOKEN_SIZE`) is cut off and handed on
as it is (``OVERSIZED``, which the size limit refuses); the lexer goes on from
the start state with the next byte, the rest of a string thus read as new
tokens, and keeps the cut token's start as the position of the next one.

>>> lexer = JsonLexer()
>>> [(t.kind.name, t.text, t.line, t.column) for t in lexer.feed(b'[1]\\n @')]
[('LSQUARE', b'[', 1, 1), ('INTEGER', b'1', 1, 2), ('RSQUARE', b']', 1, 4), ('ERROR', b'@', 2, 2)]
"""

from __future__ import annotations

import enum
import re
from typing import Final, TypeAlias

import attrs

__all__ = [
    "MAX_NESTING",
    "MAX_TOKEN_COUNT",
    "MAX_TOKEN_SIZE",
    "JsonError",
    "JsonLexer",
    "JsonSyntaxError",
    "JsonValue",
    "LexToken",
    "TokenKind",
    "decode_number",
    "decode_string",
    "shown",
]

JsonValue: TypeAlias = "dict[str, JsonValue] | list[JsonValue] | str | int | float | bool | None"

#: The streamer's limits (``json-streamer.c``), each refused with its own message.
MAX_TOKEN_SIZE: Final = 64 << 20
MAX_TOKEN_COUNT: Final = 2 << 20
MAX_NESTING: Final = 1 << 10


@attrs.frozen(kw_only=True)
class JsonError:
    """Input QEMU could not read: its message, as QMP's error reply gives it."""

    message: str


class JsonSyntaxError(Exception):
    """A token QEMU's parser refuses; the message without ``JSON parse error, ``."""


class TokenKind(enum.Enum):
    """The kinds of token QEMU's lexer makes."""

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
    #: What the lexer cuts off once a token grows past MAX_TOKEN_SIZE; QEMU hands
    #: it on typed with the lexer's state, which the size limit refuses.
    OVERSIZED = "oversized"


@attrs.frozen
class LexToken:
    """One token: its kind, its bytes, and the line and column QEMU places it at."""

    kind: TokenKind
    text: bytes
    line: int
    column: int


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
    ord("{"): TokenKind.LCURLY,
    ord("}"): TokenKind.RCURLY,
    ord("["): TokenKind.LSQUARE,
    ord("]"): TokenKind.RSQUARE,
    ord(":"): TokenKind.COLON,
    ord(","): TokenKind.COMMA,
}
_DIGITS: Final = frozenset(range(ord("0"), ord("9") + 1))
_LOWER: Final = frozenset(range(ord("a"), ord("z") + 1))
_WHITESPACE: Final = frozenset(b" \t\r\n")

#: The bytes that keep a string going, in a run: a string of 64 MiB is read at once.
_PLAIN_RUNS: Final = {
    _State.DQ_STRING: re.compile(rb"[\x20\x21\x23-\x5b\x5d-\xfd]+"),
    _State.SQ_STRING: re.compile(rb"[\x20-\x26\x28-\x5b\x5d-\xfd]+"),
}

#: A transition: the next state or a finished token, and whether the byte is
#: only looked at (left for the next state) rather than consumed.
_Step: TypeAlias = "tuple[_State | TokenKind, bool]"


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
        return TokenKind.ERROR, False
    if state is _State.RECOVERY:
        # Resynchronise on a structural character or a control character.
        if byte in _STRUCTURAL or (byte < 0x20 and byte != ord("\t")) or byte >= 0xFE:
            return _State.START, True
        return _State.RECOVERY, False
    if state in (_State.DQ_STRING, _State.SQ_STRING):
        quote = ord('"') if state is _State.DQ_STRING else ord("'")
        escape = _State.DQ_ESCAPE if state is _State.DQ_STRING else _State.SQ_ESCAPE
        if byte == quote:
            return TokenKind.STRING, False
        if byte == ord("\\"):
            return escape, False
        if 0x20 <= byte <= 0xFD:
            return state, False
        return TokenKind.ERROR, False
    if state in (_State.DQ_ESCAPE, _State.SQ_ESCAPE):
        if 0x20 <= byte <= 0xFD:
            return (_State.DQ_STRING if state is _State.DQ_ESCAPE else _State.SQ_STRING), False
        return TokenKind.ERROR, False
    return _step_number_or_keyword(state, byte)


def _step_number_or_keyword(state: _State, byte: int) -> _Step:
    digit = byte in _DIGITS
    exponent = byte in (ord("e"), ord("E"))
    if state is _State.ZERO:
        if digit:
            return TokenKind.ERROR, False
        return (_State.MANTISSA, False) if byte == ord(".") else (TokenKind.INTEGER, True)
    if state is _State.DIGITS:
        if digit:
            return _State.DIGITS, False
        if exponent:
            return _State.EXP_E, False
        return (_State.MANTISSA, False) if byte == ord(".") else (TokenKind.INTEGER, True)
    if state is _State.SIGN:
        if byte == ord("0"):
            return _State.ZERO, False
        return (_State.DIGITS, False) if digit else (TokenKind.ERROR, False)
    if state is _State.MANTISSA:
        return (_State.MANTISSA_DIGITS, False) if digit else (TokenKind.ERROR, False)
    if state is _State.MANTISSA_DIGITS:
        if digit:
            return _State.MANTISSA_DIGITS, False
        return (_State.EXP_E, False) if exponent else (TokenKind.FLOAT, True)
    if state is _State.EXP_E:
        if byte in (ord("-"), ord("+")):
            return _State.EXP_SIGN, False
        return (_State.EXP_DIGITS, False) if digit else (TokenKind.ERROR, False)
    if state is _State.EXP_SIGN:
        return (_State.EXP_DIGITS, False) if digit else (TokenKind.ERROR, False)
    if state is _State.EXP_DIGITS:
        return (_State.EXP_DIGITS, False) if digit else (TokenKind.FLOAT, True)
    assert state is _State.KEYWORD
    return (_State.KEYWORD, False) if byte in _LOWER else (TokenKind.KEYWORD, True)


class _Table(dict[_State, tuple[_Step, ...]]):
    """The whole table, byte by byte, each state's row worked out once, when first
    needed: a QMP session visits a few of the states, and the stand-in process
    should not spend its start on the rest."""

    def __missing__(self, state: _State) -> tuple[_Step, ...]:
        row = tuple(_step(state, byte) for byte in range(256))
        self[state] = row
        return row


_TABLE: Final = _Table()


class JsonLexer:
    """QEMU's lexer: feed it bytes as they come, get the tokens they finish."""

    def __init__(self) -> None:
        self._state = _State.START
        self._token = bytearray()
        # Where the next byte goes, and where the token being read started.
        self._line = 1
        self._column = 1
        self._start = (1, 1)
        self._out: list[LexToken] = []

    def feed(self, data: bytes) -> list[LexToken]:
        """Read ``data``; return the tokens it finishes, in order."""
        position = 0
        while position < len(data):
            plain = _PLAIN_RUNS.get(self._state)
            run = plain.match(data, position) if plain is not None else None
            if run is None:
                self._feed_byte(data[position])
                position += 1
                continue
            # Bytes that only lengthen a string, taken together (no newline among them).
            end = min(run.end(), position + MAX_TOKEN_SIZE + 1 - len(self._token))
            self._token += data[position:end]
            self._column += end - position
            position = end
            self._cut_if_oversized()
        out, self._out = self._out, []
        return out

    def _feed_byte(self, byte: int) -> None:
        self._column += 1
        if byte == ord("\n"):
            self._line, self._column = self._line + 1, 1
        consumed = False
        while not consumed:
            new, lookahead = _TABLE[self._state][byte]
            consumed = not lookahead
            if consumed:
                self._token.append(byte)
            if isinstance(new, TokenKind):
                self._out.append(LexToken(new, bytes(self._token), *self._start))
                if new is TokenKind.ERROR:
                    # Skipping keeps the error's position until a byte ends the skip.
                    self._token.clear()
                    self._state = _State.RECOVERY
                else:
                    self._restart()
            elif new is _State.START:
                self._restart()
            elif new is _State.RECOVERY:
                self._token.clear()
                self._state = new
            else:
                self._state = new
        self._cut_if_oversized()

    def _cut_if_oversized(self) -> None:
        """QEMU's cap on a single token: past MAX_TOKEN_SIZE it is handed on as it is.

        The lexer starts afresh on the next byte, in the start state, but the
        next token keeps the cut one's start as its position (QEMU 11.1.3).
        """
        if len(self._token) > MAX_TOKEN_SIZE:
            self._out.append(LexToken(TokenKind.OVERSIZED, bytes(self._token), *self._start))
            self._token.clear()
            self._state = _State.START

    def _restart(self) -> None:
        """Back to the start state: the next token starts where the next byte goes."""
        self._token.clear()
        self._state = _State.START
        self._start = (self._line, self._column)


def shown(text: bytes) -> str:
    """Token bytes as QEMU's messages print them: up to a NUL, invalid UTF-8 replaced."""
    return text.split(b"\0", 1)[0].decode("utf-8", "replace")


def decode_number(token: LexToken) -> int | float:
    """An INTEGER or FLOAT token's value: int64, then uint64, else a double (QNum's kinds)."""
    if token.kind is TokenKind.INTEGER:
        number = int(token.text)
        if -(1 << 63) <= number < (1 << 64):
            return number
    return float(token.text)


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


#: Printable ASCII but the string's quote and the backslash, by quote.
_ASCII_RUNS: Final = {
    ord('"'): re.compile(rb"[\x20\x21\x23-\x5b\x5d-\x7f]+"),
    ord("'"): re.compile(rb"[\x20-\x26\x28-\x5b\x5d-\x7f]+"),
}


def decode_string(token: bytes) -> str:
    """``parse_string``: the text of a quoted string token, escapes resolved.

    Raises :class:`JsonSyntaxError` with QEMU's message for a bad escape or bad UTF-8.
    """
    quote = token[0]
    chars: list[str] = []
    position = 1
    ascii_run = _ASCII_RUNS[quote]
    while token[position] != quote:
        run = ascii_run.match(token, position)
        if run is not None:
            # Printable ASCII is itself: a long string is taken in runs.
            chars.append(run.group().decode("ascii"))
            position = run.end()
            continue
        if token[position] == ord("\\"):
            begin = position
            escape = token[position + 1]
            position += 2
            if escape in _ESCAPES:
                chars.append(_ESCAPES[escape])
                continue
            if escape != ord("u"):
                raise JsonSyntaxError("invalid escape sequence in string")
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
                raise JsonSyntaxError(
                    f"{shown(token[begin:position])} is not a valid Unicode character"
                )
            chars.append(chr(codepoint))
            continue
        codepoint, position = _utf8_codepoint(token, position)
        if codepoint < 0:
            raise JsonSyntaxError("invalid UTF-8 sequence in string")
        chars.append(chr(codepoint))
    return "".join(chars)
