"""QMP's ``set-numa-node`` arguments, read as QEMU's QObject input visitor reads them.

The arguments are the ``NumaOptions`` union (``qapi/machine.json``): ``type``
picks the members, visited in schema order. Unlike ``-numa``, QMP gives JSON
values, so the checks and their messages are the visitor's (observed on 7.2,
10.0 and 11.1):

* a missing mandatory member: ``Parameter 'val' is missing``;
* signed members (``node-id``...) need a JSON integer within int64:
  ``Invalid parameter type for 'node-id', expected: integer``;
* unsigned members and sizes need a JSON integer (a negative one wraps, as
  QEMU accepts them for backward compatibility), else ``Parameter 'X' expects
  uint64``; then the member's width: ``Parameter 'nodeid' expects uint16_t``;
* strings and enums need a JSON string (``expected: string``); an enum value it
  does not know: ``Parameter 'type' does not accept value 'foo'``;
* ``cpus`` needs an array (``expected: array``), its items are named
  ``cpus[0]``, ``cpus[1]``...;
* members the union does not have are reported last, the first one in
  GLib's hash table order (``Parameter 'x' is unexpected``).

``mem`` is in bytes here: no MiB default as on the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from topology._errors import ParameterError
from topology._parse.glib_hash import reported_unknown_member
from topology._parse.numa import (
    HMAT_CACHE_ASSOCIATIVITIES,
    HMAT_CACHE_POLICIES,
    HMAT_LB_DATA_TYPES,
    HMAT_LB_HIERARCHIES,
    NumaCpu,
    NumaDist,
    NumaHmatCache,
    NumaHmatLb,
    NumaNode,
    NumaOption,
    numa_cpu_members,
)
from topology._versions import QemuVersion

__all__ = ["numa_option_from_qmp"]

_TYPES: Final = ("node", "dist", "cpu", "hmat-lb", "hmat-cache")
_UINT64_MAX: Final = 2**64 - 1
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1

# Member kinds: ("uint", bits), ("size",), ("int",), ("str",), ("enum", values), ("cpus",).
_Member = tuple[str, tuple[Any, ...], bool]  # name, kind, mandatory

_MEMBERS: Final[dict[str, tuple[_Member, ...]]] = {
    "node": (
        ("nodeid", ("uint", 16), False),
        ("cpus", ("cpus",), False),
        ("mem", ("size",), False),
        ("memdev", ("str",), False),
        ("initiator", ("uint", 16), False),
    ),
    "dist": (
        ("src", ("uint", 16), True),
        ("dst", ("uint", 16), True),
        ("val", ("uint", 8), True),
    ),
    "hmat-lb": (
        ("initiator", ("uint", 16), True),
        ("target", ("uint", 16), True),
        ("hierarchy", ("enum", HMAT_LB_HIERARCHIES), True),
        ("data-type", ("enum", HMAT_LB_DATA_TYPES), True),
        ("latency", ("uint", 64), False),
        ("bandwidth", ("size",), False),
    ),
    "hmat-cache": (
        ("node-id", ("uint", 32), True),
        ("size", ("size",), True),
        ("level", ("uint", 8), True),
        ("associativity", ("enum", HMAT_CACHE_ASSOCIATIVITIES), True),
        ("policy", ("enum", HMAT_CACHE_POLICIES), True),
        ("line", ("uint", 16), True),
    ),
}


def numa_option_from_qmp(arguments: Mapping[str, object], version: QemuVersion) -> NumaOption:
    """The option ``set-numa-node`` ``arguments`` stand for, or QEMU's refusal.

    >>> from topology._versions import qemu_version
    >>> numa_option_from_qmp({"type": "node", "nodeid": 1}, qemu_version("7.2"))
    NumaNode(nodeid=1, cpus=(), mem=None, memdev=None, initiator=None)
    >>> numa_option_from_qmp({"type": "dist", "src": 0, "dst": 1}, qemu_version("7.2"))
    Traceback (most recent call last):
    ...
    topology.ParameterError: Parameter 'val' is missing
    """
    option_type = _enum(arguments, "type", _TYPES)
    if option_type == "cpu":
        members: tuple[_Member, ...] = tuple(
            (name, ("int",), False) for name in numa_cpu_members(version)
        )
    else:
        members = _MEMBERS[option_type]
    values: dict[str, Any] = {}
    for name, kind, mandatory in members:
        if name not in arguments:
            if mandatory:
                raise ParameterError(f"Parameter '{name}' is missing", what=name)
            continue
        values[name] = _visit(name, arguments[name], kind)
    unexpected = reported_unknown_member(list(arguments), ["type", *(m[0] for m in members)])
    if unexpected is not None:
        raise ParameterError(f"Parameter '{unexpected}' is unexpected", what=unexpected)
    if option_type == "node":
        return NumaNode(
            nodeid=values.get("nodeid"),
            cpus=values.get("cpus", ()),
            mem=values.get("mem"),
            memdev=values.get("memdev"),
            initiator=values.get("initiator"),
        )
    if option_type == "dist":
        return NumaDist(src=values["src"], dst=values["dst"], val=values["val"])
    if option_type == "cpu":
        node_id = values.pop("node-id", None)
        return NumaCpu(node_id=node_id, props=tuple(values.items()))
    if option_type == "hmat-lb":
        return NumaHmatLb(
            initiator=values["initiator"],
            target=values["target"],
            hierarchy=values["hierarchy"],
            data_type=values["data-type"],
            latency=values.get("latency"),
            bandwidth=values.get("bandwidth"),
        )
    return NumaHmatCache(
        node_id=values["node-id"],
        size=values["size"],
        level=values["level"],
        associativity=values["associativity"],
        policy=values["policy"],
        line=values["line"],
    )


def _visit(name: str, value: object, kind: tuple[Any, ...]) -> object:
    if kind[0] == "int":
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not _INT64_MIN <= value <= _INT64_MAX
        ):
            raise ParameterError(
                f"Invalid parameter type for '{name}', expected: integer", what=name, value=value
            )
        return value
    if kind[0] in ("uint", "size"):
        return _uint(name, value, 64 if kind[0] == "size" else kind[1])
    if kind[0] == "str":
        if not isinstance(value, str):
            raise ParameterError(
                f"Invalid parameter type for '{name}', expected: string", what=name, value=value
            )
        return value
    if kind[0] == "enum":
        return _enum({name: value}, name, kind[1])
    # cpus: a list of uint16
    if not isinstance(value, list):
        raise ParameterError(
            f"Invalid parameter type for '{name}', expected: array", what=name, value=value
        )
    return tuple(_uint(f"{name}[{index}]", item, 16) for index, item in enumerate(value))


def _uint(name: str, value: object, bits: int) -> int:
    # A JSON number beyond uint64 or int64 is a double for QEMU: no integer.
    if not isinstance(value, int) or isinstance(value, bool) or value > _UINT64_MAX:
        raise ParameterError(f"Parameter '{name}' expects uint64", what=name, value=value)
    if value < _INT64_MIN:
        raise ParameterError(f"Parameter '{name}' expects uint64", what=name, value=value)
    number = value % 2**64  # negatives wrap, as QEMU accepts them
    if bits < 64 and number >= 2**bits:
        raise ParameterError(f"Parameter '{name}' expects uint{bits}_t", what=name, value=value)
    return number


def _enum(arguments: Mapping[str, object], name: str, values: tuple[str, ...]) -> str:
    if name not in arguments:
        raise ParameterError(f"Parameter '{name}' is missing", what=name)
    value = arguments[name]
    if not isinstance(value, str):
        raise ParameterError(
            f"Invalid parameter type for '{name}', expected: string", what=name, value=value
        )
    if value not in values:
        raise ParameterError(f"Parameter '{name}' does not accept value '{value}'", what=name)
    return value
