"""Reading ``device_add`` properties as QEMU's QOM property setters do."""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import ParameterError

__all__ = ["INT32", "UINT32", "qdict_order", "read_int_prop", "reject_unknown_props"]

INT32 = (-(2**31), 2**31 - 1, "int32_t")
UINT32 = (0, 2**32 - 1, "uint32_t")


def read_int_prop(
    props: Mapping[str, object], name: str, default: int, kind: tuple[int, int, str] = INT32
) -> int:
    """The integer property ``name``, or ``default``; QEMU's errors for bad values.

    >>> read_int_prop({"core-id": -1}, "core-id", 0, UINT32)
    Traceback (most recent call last):
    ...
    topology.ParameterError: Parameter 'core-id' expects uint32_t
    """
    if name not in props:
        return default
    value = props[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(
            f"Invalid parameter type for '{name}', expected: integer", what=name, value=value
        )
    low, high, c_type = kind
    if not low <= value <= high:
        raise ParameterError(f"Parameter '{name}' expects {c_type}", what=name, value=value)
    return value


def reject_unknown_props(props: Mapping[str, object], known: set[str], qom_type: str) -> None:
    """QEMU sets properties before any check: an unknown one, or a known (integer)
    one given a value of another type, is reported first, in QDict order
    (observed on 7.2 and 10.0: ``node-id`` of the wrong type before an unknown
    ``cluster-id``)."""
    for name in qdict_order(list(props)):
        if name not in known:
            raise ParameterError(
                f"Property '{qom_type}.{name}' not found", what=name, where=qom_type
            )
        value = props[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(
                f"Invalid parameter type for '{name}', expected: integer", what=name, value=value
            )


def _tdb_hash(name: str) -> int:
    # The gdbm/tdb hash of QEMU's qobject/qdict.c, in 32-bit unsigned arithmetic.
    data = name.encode()
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
