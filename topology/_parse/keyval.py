"""QEMU's ``KEY=VALUE,...`` option syntax (``keyval``), as used by ``-smp``.

Grammar (QEMU ``util/keyval.c``)::

    key-vals     = [ key-val { ',' key-val } [ ',' ] ]
    key-val      = key '=' val | help
    key          = key-fragment { '.' key-fragment }
    key-fragment = qapi-name | index          (an index only after the first fragment)
    qapi-name    = '__' / [a-z0-9.-]+ / '_' / [A-Za-z][A-Za-z0-9_-]*
    index        = / [0-9]+ /
    val          = { / [^,] / | ',,' }
    help         = 'help' | '?'

The first key-val may leave out ``key=``: its value, up to the first comma
(no ``,,`` escape there), belongs to the implied key. A key given twice keeps
the last value. Dotted keys build nested dictionaries; a key used both as a
value and as a dictionary is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, TypeAlias

from topology._errors import OptionSyntaxError

__all__ = ["KeyvalTree", "parse_keyval"]

# QEMU keeps each key fragment in a 128-byte buffer, terminator included.
_MAX_FRAGMENT: Final = 127
_QAPI_NAME: Final = re.compile(r"(?:__[a-z0-9.\-]+_)?[A-Za-z][A-Za-z0-9_\-]*")
_INDEX: Final = re.compile(r"[0-9]+")
_KEY_END: Final = re.compile(r"[=,]")
_SIMPLE_ITEM: Final = re.compile(r"([A-Za-z][A-Za-z0-9_\-]{0,126})=(.*)", re.DOTALL)
_COMMA: Final = re.compile(",")

KeyvalTree: TypeAlias = dict[str, "str | KeyvalTree"]


def _help_length(text: str) -> int:
    for word in ("help", "?"):
        if text.startswith(word):
            return len(word)
    return 0


def parse_keyval(text: str, *, option: str, implied_key: str | None) -> tuple[KeyvalTree, bool]:
    """Split ``text`` into a (possibly nested) dict of strings, and whether help was asked.

    ``option`` names the command-line option for error messages (``"-smp"``).

    >>> parse_keyval("4,sockets=2,,x", option="-smp", implied_key="cpus")
    ({'cpus': '4', 'sockets': '2,x'}, False)
    >>> parse_keyval("4,=2", option="-smp", implied_key="cpus")
    Traceback (most recent call last):
    ...
    topology.OptionSyntaxError: -smp 4,=2: Invalid parameter ''
    """
    simple = _parse_simple(text, implied_key)
    if simple is not None:
        return simple, False
    return parse_keyval_general(text, option=option, implied_key=implied_key)


def _parse_simple(text: str, implied_key: str | None) -> KeyvalTree | None:
    """The common case (plain ``key=value`` items, no ``,,``, dots or help) quickly.

    Returns None for anything else, which the general parser then reads;
    both give the same result where this one answers.
    """
    if ",," in text or "." in text or "?" in text or "help" in text:
        return None
    items = text.split(",")
    if items[-1] == "" and len(items) > 1:
        items.pop()  # one trailing comma is allowed
    tree: KeyvalTree = {}
    for index, item in enumerate(items):
        match = _SIMPLE_ITEM.fullmatch(item)
        if match is not None:
            tree[match[1]] = match[2]
        elif index == 0 and implied_key is not None and item and "=" not in item:
            tree[implied_key] = item
        else:
            return None
    return tree


def parse_keyval_general(
    text: str, *, option: str, implied_key: str | None
) -> tuple[KeyvalTree, bool]:
    """:func:`parse_keyval` for any input: QEMU's algorithm step by step."""
    tree: KeyvalTree = {}
    wants_help = False
    pos = 0
    while pos < len(text):
        pos, asked = _parse_one(tree, text, pos, option, implied_key)
        wants_help = wants_help or asked
        implied_key = None
    return tree, wants_help


def _parse_one(
    tree: KeyvalTree, text: str, start: int, option: str, implied_key: str | None
) -> tuple[int, bool]:
    def fail(reason: str, what: str | None = None) -> OptionSyntaxError:
        return OptionSyntaxError(reason, option=option, text=text, what=what)

    rest = text[start:]
    key_len = _span_until(rest, _KEY_END)
    if key_len and (key_len == len(rest) or rest[key_len] != "="):
        if _help_length(rest) == key_len:
            end = start + key_len
            return (end + 1 if end < len(text) and text[end] == "," else end), True
        if implied_key is not None:
            value_len = _span_until(rest, _COMMA)
            _put(tree, [implied_key], rest[:value_len], implied_key, fail)
            end = start + value_len
            return (end + 1 if end < len(text) else end), False
    key = rest[:key_len]
    fragments: list[str] = []
    offset = 0
    while True:
        fragment_text = key[offset:]
        match = _INDEX.match(fragment_text) if fragments else None
        if match is None:
            match = _QAPI_NAME.match(fragment_text)
        length = match.end() if match else 0
        if not length or (offset + length < key_len and key[offset + length] != "."):
            raise fail(f"Invalid parameter '{key}'", what=key)
        if length > _MAX_FRAGMENT:
            whole = offset == 0 and length == key_len
            kind = "Parameter" if whole else "Parameter fragment"
            raise fail(f"{kind} '{fragment_text[:length]}' is too long", what=key)
        fragments.append(fragment_text[:length])
        offset += length
        if offset >= key_len:
            break
        offset += 1  # the dot
    pos = start + key_len
    if pos >= len(text) or text[pos] != "=":
        raise fail(f"Expected '=' after parameter '{key}'", what=key)
    pos += 1
    # The value runs to the first lone comma; ",," stands for one comma.
    value: list[str] = []
    while True:
        comma = text.find(",", pos)
        if comma < 0:
            value.append(text[pos:])
            pos = len(text)
            break
        value.append(text[pos:comma])
        if text.startswith(",,", comma):
            value.append(",")
            pos = comma + 2
            continue
        pos = comma + 1
        break
    _put(tree, fragments, "".join(value), key, fail)
    return pos, False


def _span_until(text: str, stops: re.Pattern[str]) -> int:
    found = stops.search(text)
    return found.start() if found else len(text)


def _put(
    tree: KeyvalTree,
    fragments: list[str],
    value: str,
    key: str,
    fail: Callable[[str, str | None], OptionSyntaxError],
) -> None:
    # QEMU names the prefix that clashes, always in the form 'prefix.*'.
    node = tree
    for depth, fragment in enumerate(fragments[:-1]):
        child = node.get(fragment)
        if child is None:
            child = node[fragment] = {}
        elif isinstance(child, str):
            prefix = ".".join(fragments[: depth + 1])
            raise fail(f"Parameters '{prefix}.*' used inconsistently", prefix)
        node = child
    last = fragments[-1]
    if isinstance(node.get(last), dict):
        raise fail(f"Parameters '{key}.*' used inconsistently", key)
    node[last] = value
