"""``-device`` options for CPUs: the driver, the id and the properties, as QEMU reads them.

QEMU reads ``-device`` with QemuOpts (``driver`` implied) or, when the text
starts with ``{``, as JSON. QemuOpts keeps every value a string, which the
device's property setters parse later: integers as C ``strtoll`` base 0,
booleans as ``on/off``, ``yes/no``, ``true/false``.
"""

from __future__ import annotations

import json
import re
from typing import Final

import attrs

from topology._errors import OptionSyntaxError, ParameterError, TopologyError
from topology._parse.cint import parse_int64
from topology._parse.command_line import UnsupportedOptionError
from topology._parse.identifiers import IDENTIFIER_HINT, is_identifier
from topology._parse.numa import _opt_items

__all__ = ["DeviceOption", "as_text_error", "cli_error", "read_device", "typed_text"]

_BOOLEANS: Final = {
    "on": True,
    "yes": True,
    "true": True,
    "off": False,
    "no": False,
    "false": False,
}
_TYPE_ERROR: Final = re.compile(r"Invalid parameter type for '([^']*)', expected: integer")


@attrs.frozen(kw_only=True)
class DeviceOption:
    """One ``-device`` option: driver, id and properties (typed as QEMU's setters read them)."""

    driver: str
    id: str | None
    props: dict[str, object]
    where: str


def read_device(text: str, *, spelled: str) -> DeviceOption:
    """Read one ``-device`` option as QEMU's command-line pass does.

    >>> read_device("qemu64-x86_64-cpu,socket-id=0x1,core-id=0,id=c1", spelled="-device")
    DeviceOption(driver='qemu64-x86_64-cpu', id='c1', props={'socket-id': 1, 'core-id': 0}, \
where='-device qemu64-x86_64-cpu,socket-id=0x1,core-id=0,id=c1')
    """
    where = f"{spelled} {text}"
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise OptionSyntaxError(
                f"JSON parse error, {error}", option=spelled, text=text, what="json"
            ) from None
        if not isinstance(parsed, dict):
            raise OptionSyntaxError("Invalid JSON syntax", option=spelled, text=text, what="json")
        props = dict(parsed)
        driver = props.pop("driver", None)
        device_id = props.pop("id", None)
        if not isinstance(driver, str):
            raise ParameterError(f"{where}: Parameter 'driver' is missing", what="driver")
        if device_id is not None and not isinstance(device_id, str):
            raise ParameterError(
                f"{where}: Invalid parameter type for 'id', expected: string", what="id"
            )
        return DeviceOption(driver=driver, id=device_id, props=props, where=where)
    items = list(_opt_items(text, "driver"))
    values = {name: value for name, value, _flag in items}
    device_id = next((value for name, value, _ in items if name == "id"), None)
    if device_id is not None and not is_identifier(device_id):
        raise ParameterError(
            f"{where}: Parameter 'id' expects an identifier",
            what="id",
            hint=IDENTIFIER_HINT,
        )
    driver = values.pop("driver", None)
    values.pop("id", None)
    if driver is None:
        raise ParameterError(f"{where}: Parameter 'driver' is missing", what="driver")
    if driver == "help" or values.get("help") is not None or driver.endswith(",help"):
        raise UnsupportedOptionError(f"cputopo: {where}: help texts are not modelled", what="help")
    return DeviceOption(
        driver=driver,
        id=device_id,
        props={name: typed_text(value) for name, value in values.items()},
        where=where,
    )


def typed_text(value: str) -> object:
    """A property value given as text, as the property setters will read it."""
    number = parse_int64(value)
    if number is not None:
        return number
    return _BOOLEANS.get(value, value)


def as_text_error(error: TopologyError) -> TopologyError:
    """``error`` for properties that were given as text (QemuOpts).

    A property given as text that is not a number reads ``Parameter 'X'
    expects integer`` (a JSON value of the wrong type gets a type error instead).
    """
    match = _TYPE_ERROR.fullmatch(error.message)
    if match is not None:
        error.message = f"Parameter '{match.group(1)}' expects integer"
        error.args = (error.message,)
    return error


def cli_error(error: TopologyError, device: DeviceOption) -> TopologyError:
    """``error`` as QEMU reports it for a ``-device`` option: prefixed with the option."""
    as_text_error(error)
    error.message = f"{device.where}: {error.message}"
    error.args = (error.message,)
    return error
