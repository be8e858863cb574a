"""QMP argument checks as QEMU's generated marshallers make them.

A command's arguments are visited member by member in schema order: a
missing mandatory member (``Parameter 'id' is missing``), then a value of the
wrong JSON type (``Invalid parameter type for 'id', expected: string``); members
the schema does not have are reported last (``Parameter 'x' is unexpected``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology._errors import ParameterError
from topology._parse.identifiers import is_identifier

__all__ = ["check_arguments", "device_add_props"]

#: JSON type names as QEMU's messages spell them.
_TYPE_NAMES: Final = {str: "string", bool: "boolean", int: "integer", dict: "object"}


def check_arguments(
    arguments: Mapping[str, object],
    members: Mapping[str, tuple[type | None, bool]],
) -> None:
    """Check ``arguments`` against ``members`` (name: (type or None for any, mandatory)).

    >>> check_arguments({"id": 1}, {"id": (str, True)})
    Traceback (most recent call last):
    ...
    topology.ParameterError: Invalid parameter type for 'id', expected: string
    """
    for name, (kind, mandatory) in members.items():
        if name not in arguments:
            if mandatory:
                raise ParameterError(f"Parameter '{name}' is missing", what=name)
            continue
        value = arguments[name]
        if kind is not None and not _is(value, kind):
            raise ParameterError(
                f"Invalid parameter type for '{name}', expected: {_TYPE_NAMES[kind]}",
                what=name,
                value=value,
            )
    for name in arguments:
        if name not in members:
            raise ParameterError(f"Parameter '{name}' is unexpected", what=name)


def _is(value: object, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def device_add_props(
    arguments: Mapping[str, object], *, through_qemu_opts: bool
) -> tuple[str, str | None, dict[str, object]]:
    """``device_add``'s driver, id and properties, read as QEMU ``device_add`` reads them.

    Up to QEMU 9.1 ``device_add`` went through QemuOpts (``qemu_opts_from_qdict``):
    numbers and booleans became text (``on``/``off``), other JSON values were
    dropped, a non-text id left the device anonymous, and the properties were
    parsed back from text (so ``"1"`` works as 1). From 9.2 the JSON values are
    used as they are. Observed on QEMU 7.2 and 10.0.

    >>> device_add_props({"driver": "d", "core-id": "0x2", "x": None}, through_qemu_opts=True)
    ('d', None, {'core-id': 2})
    """
    if through_qemu_opts:
        texts: dict[str, str] = {}
        for name, value in arguments.items():
            if isinstance(value, bool):
                texts[name] = "on" if value else "off"
            elif isinstance(value, int | float):
                texts[name] = repr(value) if isinstance(value, float) else str(value)
            elif isinstance(value, str):
                texts[name] = value
        driver = texts.pop("driver", None)
        raw_id = arguments.get("id")
        device_id = raw_id if isinstance(raw_id, str) else None
        texts.pop("id", None)
        if driver is None:
            raise ParameterError("Parameter 'driver' is missing", what="driver")
        if device_id is not None and not is_identifier(device_id):
            raise ParameterError("Parameter 'id' expects an identifier", what="id")
        from topology._parse.device import typed_text

        return driver, device_id, {name: typed_text(text) for name, text in texts.items()}
    props = dict(arguments)
    json_driver = props.pop("driver", None)
    json_id = props.pop("id", None)
    if not isinstance(json_driver, str):
        raise ParameterError("Parameter 'driver' is missing", what="driver")
    return json_driver, json_id if isinstance(json_id, str) else None, props
