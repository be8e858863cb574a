"""QEMU's QDict key order: the order in which QEMU walks a QMP argument object."""

from __future__ import annotations

__all__ = ["qdict_order"]


def _tdb_hash(name: str) -> int:
    # The gdbm/tdb hash of QEMU's qobject/qdict.c, in 32-bit unsigned arithmetic,
    # over the key's bytes as QEMU keeps them: its JSON reader stores U+0000 as
    # the two bytes C0 80 (modified UTF-8), so that a key stays one C string.
    data = name.encode("utf-8", "surrogatepass").replace(b"\x00", b"\xc0\x80")
    value = (0x238F13AF * len(data)) & 0xFFFFFFFF
    for position, byte in enumerate(data):
        value = (value + (byte << (position * 5 % 24))) & 0xFFFFFFFF
    return (1103515243 * value + 12345) & 0xFFFFFFFF


def qdict_order(names: list[str]) -> list[str]:
    """The order in which QEMU walks the keys of a QMP argument object (a QDict).

    QEMU sets ``device_add`` properties in this order, so with two bad
    properties the first one here is the one QEMU reports. A QDict is a hash
    table of 512 buckets (``tdb_hash(key) % 512``), walked bucket by bucket;
    a key put later comes first within its bucket (``qdict_put_obj`` inserts at
    the head; ``device_add`` copies the dict once more, so within one bucket
    the order is not certain, but the names QEMU's CPUs know share no bucket).
    QEMU's ``qobject/qdict.c`` up to at least 10.2; QEMU 7.2 and 10.0 report
    ``thread-id`` before ``book-id`` on s390x, as this order says.

    >>> qdict_order(["core-id", "book-id", "thread-id"])
    ['core-id', 'thread-id', 'book-id']
    """
    positions = {name: index for index, name in enumerate(names)}
    return sorted(names, key=lambda name: (_tdb_hash(name) % 512, -positions[name]))
