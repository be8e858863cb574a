"""C integer semantics that QEMU's option handling shows to users.

QEMU reads option numbers with ``strtoll(text, &end, 0)`` into an ``int64_t``
and then stores topology counts in ``unsigned int`` (32-bit) fields, so
``0x10`` is 16, ``010`` is 8, and ``4294967296`` becomes 0.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["INT64_MAX", "INT64_MIN", "UINT32_MASK", "as_int32", "parse_int64", "parse_uint64"]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
UINT32_MASK: Final = 2**32 - 1

# strtoll with base 0: optional C white space and sign, then hex, octal or decimal.
_C_INTEGER: Final = re.compile(
    r"[ \t\n\v\f\r]*(?P<sign>[+-]?)"
    r"(?:0[xX](?P<hex>[0-9a-fA-F]+)|(?P<oct>0[0-7]*)|(?P<dec>[1-9][0-9]*))"
)


def _c_number(text: str) -> tuple[bool, int] | None:
    """(negative, magnitude) of a whole C integer literal (``strtoll`` base 0), or None."""
    match = _C_INTEGER.match(text)
    if match is None or match.end() != len(text):
        return None
    if match["hex"] is not None:
        magnitude = int(match["hex"], 16)
    elif match["oct"] is not None:
        magnitude = int(match["oct"], 8)
    else:
        magnitude = int(match["dec"])
    return match["sign"] == "-", magnitude


def parse_int64(text: str) -> int | None:
    """The value of ``text`` as QEMU's ``qemu_strtoi64(text, NULL, 0)``, or None if invalid.

    The whole string must be consumed; out-of-range values are invalid.

    >>> [parse_int64(t) for t in ("0x10", "010", " +4", "08", "4 ", "9223372036854775808")]
    [16, 8, 4, None, None, None]
    """
    number = _c_number(text)
    if number is None:
        return None
    negative, magnitude = number
    value = -magnitude if negative else magnitude
    if not INT64_MIN <= value <= INT64_MAX:
        return None
    return value


def parse_uint64(text: str) -> int | None:
    """``qemu_strtou64(text, NULL, 0)``: None when invalid, -1 when out of range.

    As ``strtoull``, a minus sign negates modulo 2^64.

    >>> [parse_uint64(t) for t in ("0x10", "-1", "18446744073709551616", "x")]
    [16, 18446744073709551615, -1, None]
    """
    number = _c_number(text)
    if number is None:
        return None
    negative, magnitude = number
    if magnitude > 2**64 - 1:
        return -1
    return -magnitude % 2**64 if negative else magnitude


def as_int32(value: int) -> int:
    """``value`` reinterpreted as a signed 32-bit int, as C's ``%d`` prints an unsigned.

    >>> as_int32(2**32 - 1)
    -1
    """
    value &= UINT32_MASK
    return value - 2**32 if value >= 2**31 else value
