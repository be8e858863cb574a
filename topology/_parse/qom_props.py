"""Reading ``device_add`` properties as QEMU's QOM property setters do."""

from __future__ import annotations

from collections.abc import Mapping

from topology._errors import ParameterError
from topology._parse.qdict import qdict_order

__all__ = ["INT32", "UINT32", "parse_qemu_bool", "read_int_prop", "reject_unknown_props"]

INT32 = (-(2**31), 2**31 - 1, "int32_t")
UINT32 = (0, 2**32 - 1, "uint32_t")


def parse_qemu_bool(text: str) -> bool | None:
    """A boolean property's text as QEMU reads it (``qapi_bool_parse``); None if it is none.

    QEMU takes ``on``, ``yes``, ``true``, ``y`` and ``off``, ``no``, ``false``,
    ``n``, case included; anything else "expects 'on' or 'off'".

    >>> parse_qemu_bool("y"), parse_qemu_bool("off"), parse_qemu_bool("maybe")
    (True, False, None)
    """
    if text in ("on", "yes", "true", "y"):
        return True
    if text in ("off", "no", "false", "n"):
        return False
    return None


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
