"""QEMU's rule for ids (``id_wellformed``): -numa, -object, -device and device_add ids."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["IDENTIFIER_HINT", "is_identifier"]

_IDENTIFIER: Final = re.compile(r"[A-Za-z][A-Za-z0-9._\-]*")

#: The second line QEMU prints after ``Parameter 'id' expects an identifier``.
IDENTIFIER_HINT: Final = (
    "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."
)


def is_identifier(text: str) -> bool:
    """Whether ``text`` is an id QEMU accepts: an ASCII letter, then letters, digits, ``-._``.

    >>> is_identifier("cpu-1.a_b"), is_identifier("1cpu"), is_identifier("")
    (True, False, False)
    """
    return _IDENTIFIER.fullmatch(text) is not None
