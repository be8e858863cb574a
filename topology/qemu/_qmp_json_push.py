"""QMP input as QEMU 11.1 reads it: a push parser, errors with ``LINE:COLUMN``.

QEMU 11.1 replaced the JSON parser that waits for a whole value and then
parses its tokens (:mod:`topology.qemu._qmp_json`, 7.2 to 11.0) with a push
parser that takes each token as the lexer makes it (Paolo Bonzini's series
"qobject: switch JSON parser to push", v3 posted 2026-05-25, after 11.0.0 came
out in April 2026; QEMU 10.2.50 still answered as before). What changed, as
QEMU 11.1.3 answers:

* every parse error starts with where its token starts, ``2:3: JSON parse
  error, stray '@'`` (:mod:`topology.qemu._json_lexer` says how lines and
  columns are counted); the limits (``JSON nesting depth limit exceeded``
  and the others) carry no position;
* the parser's messages name what it expected: ``expecting key`` (was
  ``expecting value`` after ``{`` or ``,``, and ``key is not a string in
  object``), ``expecting ':'`` (was ``missing : in object pair``), ``expected
  ',' or ']'`` and ``expected ',' or '}'`` (were ``expected separator in
  list``/``dict``);
* the first error is reported at the token that causes it, then the input is
  skipped, silently, until braces and brackets balance again: a lexical error
  or a closing bracket with nothing open to close counts as balancing. The
  releases before reported one error per balanced group, the first one in it;
  so ``{"a" 1 @`` is ``expecting ':'`` now and was ``stray '@'``, and a
  stray byte after an error in an unbalanced value goes unreported;
* after a limit error the input is skipped the same way (the releases before
  started afresh after it, reading the rest of the value as new values).

>>> stream = PushJsonReader()
>>> stream.feed(b'{"execute": "query-version",\\n')
[]
>>> for value in stream.feed(b' "id": 1}{"a" 1} @\\n[1 2]'):
...     print(value)
{'execute': 'query-version', 'id': 1}
JsonError(message="2:15: JSON parse error, expecting ':'")
JsonError(message="2:18: JSON parse error, stray '@'")
JsonError(message="3:4: JSON parse error, expected ',' or ']'")
"""

from __future__ import annotations

import enum

import attrs

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
    decode_number,
    decode_string,
    shown,
)

__all__ = ["PushJsonReader"]


class _Expect(enum.Enum):
    """What an open container waits for next."""

    FIRST_VALUE = enum.auto()  # after "[": a value or "]"
    VALUE = enum.auto()  # after "," in a list, or ":" in an object
    FIRST_KEY = enum.auto()  # after "{": a key or "}"
    KEY = enum.auto()  # after "," in an object
    COLON = enum.auto()
    SEPARATOR = enum.auto()  # after a member: "," or the closing bracket


@attrs.define
class _Open:
    """A container being read: a list, or an object with the key last read."""

    members: list[JsonValue] | dict[str, JsonValue]
    expect: _Expect
    key: str = ""


class _Pending(enum.Enum):
    """What the parser hands out while no top-level value is whole (``null`` is one)."""

    PENDING = enum.auto()


PENDING = _Pending.PENDING

_KEYWORDS: dict[bytes, JsonValue] = {b"true": True, b"false": False, b"null": None}


class _PushParser:
    """``json_parser_feed``: one token at a time; a whole top-level value, or PENDING."""

    def __init__(self) -> None:
        self._stack: list[_Open] = []

    def feed(self, token: LexToken) -> JsonValue | _Pending:
        """Take ``token``; the top-level value it completes, else PENDING.

        Raises :class:`JsonSyntaxError` when the token does not fit.
        """
        kind = token.kind
        top = self._stack[-1] if self._stack else None
        if top is None or top.expect in (_Expect.FIRST_VALUE, _Expect.VALUE):
            if top is not None and top.expect is _Expect.FIRST_VALUE and kind is TokenKind.RSQUARE:
                return self._close()
            return self._begin_value(token)
        if top.expect in (_Expect.FIRST_KEY, _Expect.KEY):
            if top.expect is _Expect.FIRST_KEY and kind is TokenKind.RCURLY:
                return self._close()
            top.expect = _Expect.KEY
            if kind is not TokenKind.STRING:
                raise JsonSyntaxError("expecting key")
            top.key = decode_string(token.text)
            top.expect = _Expect.COLON
            return PENDING
        if top.expect is _Expect.COLON:
            if kind is not TokenKind.COLON:
                raise JsonSyntaxError("expecting ':'")
            top.expect = _Expect.VALUE
            return PENDING
        in_list = isinstance(top.members, list)
        if kind is TokenKind.COMMA:
            top.expect = _Expect.VALUE if in_list else _Expect.KEY
            return PENDING
        if kind is not (TokenKind.RSQUARE if in_list else TokenKind.RCURLY):
            raise JsonSyntaxError("expected ',' or ']'" if in_list else "expected ',' or '}'")
        return self._close()

    def _begin_value(self, token: LexToken) -> JsonValue | _Pending:
        kind = token.kind
        if kind is TokenKind.LCURLY:
            self._stack.append(_Open({}, _Expect.FIRST_KEY))
            return PENDING
        if kind is TokenKind.LSQUARE:
            self._stack.append(_Open([], _Expect.FIRST_VALUE))
            return PENDING
        if kind is TokenKind.STRING:
            return self._complete(decode_string(token.text))
        if kind in (TokenKind.INTEGER, TokenKind.FLOAT):
            return self._complete(decode_number(token))
        if kind is TokenKind.KEYWORD:
            if token.text not in _KEYWORDS:
                raise JsonSyntaxError(f"invalid keyword '{shown(token.text)}'")
            return self._complete(_KEYWORDS[token.text])
        raise JsonSyntaxError("expecting value")

    def _close(self) -> JsonValue | _Pending:
        return self._complete(self._stack.pop().members)

    def _complete(self, value: JsonValue) -> JsonValue | _Pending:
        """A value is whole: put it into the container it belongs to, or hand it out."""
        if not self._stack:
            return value
        top = self._stack[-1]
        if isinstance(top.members, list):
            top.members.append(value)
        else:
            # Checked only now that the value is whole: the error is placed at its last token.
            if top.key in top.members:
                raise JsonSyntaxError("duplicate key")
            top.members[top.key] = value
        top.expect = _Expect.SEPARATOR
        return PENDING


class PushJsonReader:
    """QEMU 11.1's QMP input reader: feed it bytes as they come, get whole values out.

    Each call to :meth:`feed` returns the values (and :class:`JsonError` for
    input QEMU refuses) completed by those bytes, in order.
    """

    def __init__(self) -> None:
        self._lexer = JsonLexer()
        self._parser = _PushParser()
        self._braces = 0
        self._brackets = 0
        self._token_count = 0
        self._token_size = 0
        self._skipping = False  # after an error, until braces and brackets balance
        self._out: list[JsonValue | JsonError] = []

    def feed(self, data: bytes) -> list[JsonValue | JsonError]:
        """Read ``data``; return the values and errors it completes."""
        for token in self._lexer.feed(data):
            self._on_token(token)
        out, self._out = self._out, []
        return out

    def _on_token(self, token: LexToken) -> None:
        """``json_message_process_token``: count, check the limits, parse, recover."""
        kind = token.kind
        if kind is TokenKind.LCURLY:
            self._braces += 1
        elif kind is TokenKind.LSQUARE:
            self._brackets += 1
        elif kind is TokenKind.RCURLY and self._braces > 0:
            self._braces -= 1
        elif kind is TokenKind.RSQUARE and self._brackets > 0:
            self._brackets -= 1
        elif kind in (TokenKind.RCURLY, TokenKind.RSQUARE, TokenKind.ERROR):
            # Nothing open to close, or a lexical error: whatever was open is given up.
            self._braces = self._brackets = 0
        self._token_count += 1
        self._token_size += len(token.text)
        if not self._skipping:
            self._read(token)
        if self._braces == 0 and self._brackets == 0:
            self._parser = _PushParser()
            self._skipping = False
            self._token_count = self._token_size = 0

    def _read(self, token: LexToken) -> None:
        if self._token_size >= MAX_TOKEN_SIZE:
            self._fail("JSON token size limit exceeded")
        elif self._token_count > MAX_TOKEN_COUNT:
            self._fail("JSON token count limit exceeded")
        elif self._braces + self._brackets > MAX_NESTING:
            self._fail("JSON nesting depth limit exceeded")
        elif token.kind is TokenKind.ERROR:
            self._fail(_located(token, f"stray '{shown(token.text)}'"))
        else:
            try:
                value = self._parser.feed(token)
            except JsonSyntaxError as error:
                self._fail(_located(token, str(error)))
            else:
                if value is not PENDING:
                    self._out.append(value)

    def _fail(self, message: str) -> None:
        self._out.append(JsonError(message=message))
        self._skipping = True


def _located(token: LexToken, message: str) -> str:
    return f"{token.line}:{token.column}: JSON parse error, {message}"
