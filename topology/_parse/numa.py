"""The ``-numa`` option, read as QEMU reads it, before any machine sees it.

QEMU parses ``-numa`` in two stages, and this module replays both:

1. **QemuOpts** (``util/qemu-option.c``) splits the text at the command line.
   This is *not* keyval: keys are not checked, a key may repeat, a bare word is
   a deprecated short-form boolean, and ``id=`` is taken out and checked::

       numa      = [ first { ',' item } ]
       first     = item | implied                   (implied: the value of "type")
       item      = key '=' value | flag
       key       = / [^=,]* /                       (anything, even empty)
       value     = { / [^,] / | ',,' }              (',,' stands for one comma)
       flag      = / [^=,]* /                       ("X" means X=on, "noX" means X=off)
       implied   = value                            (only when the first item has no '=')

   A flag other than ``help``/``?`` warns ``short-form boolean option 'X'
   deprecated`` (the hint shows ``X=on``; ``nodelay`` and ``delay`` are advised
   as ``nodelay=on|off``). Before that, QEMU looks for the first ``id`` by reading
   every item, the first one too, as key or flag (so ``node,,id=1`` has an id
   although the second pass reads ``node,id=1`` as the type); it must be an
   identifier, ``[A-Za-z][A-Za-z0-9._-]*``.

2. **The QAPI options visitor** (``qapi/opts-visitor.c``) turns the items into
   the ``NumaOptions`` union (``qapi/machine.json``): ``type`` (mandatory, one of
   ``node dist cpu hmat-lb hmat-cache``) selects the members, which are visited
   in schema order. For a scalar member the *last* occurrence counts; a list
   member (``cpus``) takes *every* occurrence, in order. Number syntax:

   * unsigned members: C ``strtoull`` base 0 (``0x1f``, ``017`` octal, leading
     blanks and ``+``), no minus sign, at most 2^64-1; then the range of the
     member's type (``uint16_t``...);
   * list items may also be a range ``A-B`` with ``A <= B`` and ``B - A < 65536``,
     expanded in place; each element is then checked against ``uint16_t`` under
     the name ``null`` (``Parameter 'null' expects uint16_t``);
   * signed members: C ``strtoll`` base 0, 64-bit;
   * sizes: ``qemu_strtosz``: a decimal (or ``0x`` hex) number, an optional
     fraction, an optional suffix ``B K M G T P E`` (any case, powers of 1024),
     rounded to the nearest byte; a fraction needs a suffix other than ``B``.
     By version: a hex number with a suffix warns (``Using a multiplier suffix
     on hex numbers is deprecated: TEXT``) in 7.2 and is refused from 8.0. Up
     to 8.0 the fraction needs a digit before the point, a fraction that rounds
     to 1.0 counts as 0 and one below 2^-64 is no fraction; from 8.1 either side
     of the point may be empty, 1.0 carries into the number and any nonzero
     fraction counts. Up to 8.0 an exponent that overflows (``1.5e999k``) makes
     QEMU skip the next character; at the end of the text QEMU then reads past
     it, and this module refuses what QEMU's answer depends on memory for.

   Then every item not consumed is an error, ``Invalid parameter 'X'``; when
   several are left QEMU names the first one in its GLib hash table order, which
   this module replays (see ``topology._parse.glib_hash``). A given ``id=`` is
   such an item, so it is always refused.

   Finally ``mem=`` is re-read with MiB as the default unit (``mem=512`` is
   512 MiB). From QEMU 8.1 a value that then overflows is an error; before, the
   value read in bytes was kept.

Everything QEMU checks after that (node ids below 128, duplicate nodes, the
node's memory, distances, ``-numa cpu`` without ``node-id``, CPU indexes
below ``maxcpus``...) needs the machine and is not done here.

QEMU prints every error of both stages as ``-numa TEXT: MESSAGE``, which is what
``str()`` of the errors raised here gives. Warnings (:class:`QemuWarning`, in
the ``warnings`` attribute of the result, or of the error) are printed by QEMU
as ``-numa TEXT: warning: MESSAGE``, with their ``hint`` on the next line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, Literal, TypeAlias

import attrs

from topology._errors import OptionSyntaxError, ParameterError
from topology._parse.cint import parse_int64
from topology._parse.glib_hash import _GlibHashSet
from topology._parse.identifiers import IDENTIFIER_HINT, is_identifier
from topology._versions import QemuVersion
from topology._versions import qemu_version as _version
from topology._warnings import QemuWarning

__all__ = [
    "HMAT_CACHE_ASSOCIATIVITIES",
    "HMAT_CACHE_POLICIES",
    "HMAT_LB_DATA_TYPES",
    "HMAT_LB_HIERARCHIES",
    "NUMA_OPTION_TYPES",
    "NumaCpu",
    "NumaDist",
    "NumaHmatCache",
    "NumaHmatLb",
    "NumaNode",
    "NumaOption",
    "numa_cpu_members",
    "parse_numa",
]

#: The values of ``type`` (``NumaOptionsType``), the same in every supported release.
NUMA_OPTION_TYPES: Final = ("node", "dist", "cpu", "hmat-lb", "hmat-cache")
#: ``HmatLBMemoryHierarchy`` values, for ``-numa hmat-lb,hierarchy=``.
HMAT_LB_HIERARCHIES: Final = ("memory", "first-level", "second-level", "third-level")
#: ``HmatLBDataType`` values, for ``-numa hmat-lb,data-type=``.
HMAT_LB_DATA_TYPES: Final = (
    "access-latency",
    "read-latency",
    "write-latency",
    "access-bandwidth",
    "read-bandwidth",
    "write-bandwidth",
)
#: ``HmatCacheAssociativity`` values, for ``-numa hmat-cache,associativity=``.
HMAT_CACHE_ASSOCIATIVITIES: Final = ("none", "direct", "complex")
#: ``HmatCacheWritePolicy`` values, for ``-numa hmat-cache,policy=``.
HMAT_CACHE_POLICIES: Final = ("none", "write-back", "write-through")

# CpuInstanceProperties in schema order, with the release that added each one.
_CPU_MEMBERS: Final = (
    ("node-id", "0.0"),
    ("drawer-id", "8.2"),
    ("book-id", "8.2"),
    ("socket-id", "0.0"),
    ("die-id", "0.0"),
    ("cluster-id", "0.0"),
    ("module-id", "9.1"),
    ("core-id", "0.0"),
    ("thread-id", "0.0"),
)

_UINT64_MAX: Final = 2**64 - 1
# The opts visitor refuses ranges of this many elements or more.
_RANGE_MAX: Final = 65536
_C_SPACE: Final = " \t\n\v\f\r"
_DIGITS: Final = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}
_SUFFIX_POWER: Final = {"B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_STRERROR: Final = {"erange": "Numerical result out of range", "einval": "Invalid argument"}


def numa_cpu_members(qemu_version: str | QemuVersion | None = None) -> tuple[str, ...]:
    """The members of ``-numa cpu`` that QEMU ``qemu_version`` knows, in schema order.

    >>> numa_cpu_members("7.2")
    ('node-id', 'socket-id', 'die-id', 'cluster-id', 'core-id', 'thread-id')
    >>> numa_cpu_members("9.1")[1:3], numa_cpu_members("9.1")[6]
    (('drawer-id', 'book-id'), 'module-id')
    """
    version = _version(qemu_version)
    return tuple(name for name, since in _CPU_MEMBERS if version.at_least(since))


# -- value objects ------------------------------------------------------------

_Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _check_uint(bits: int, name: str | None = None) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        label = name or attribute.name.replace("_", "-")
        if type(value) is not int or not 0 <= value < 2**bits:
            raise ParameterError(
                f"Parameter '{label}' expects uint{bits}_t", what=label, value=value
            )

    return check


def _check_int64(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (type(value) is not int or not -(2**63) <= value < 2**63):
        label = attribute.name.replace("_", "-")
        raise ParameterError(f"Parameter '{label}' expects an int64 value", what=label, value=value)


def _as_cpus(cpus: Iterable[int]) -> tuple[int, ...]:
    return tuple(cpus)


def _as_props(props: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple(props)


def _check_cpus(_instance: object, _attribute: object, value: tuple[int, ...]) -> None:
    for cpu in value:
        if type(cpu) is not int or not 0 <= cpu <= 0xFFFF:
            raise ParameterError("Parameter 'null' expects uint16_t", what="cpus", value=cpu)


def _check_props(_instance: object, _attribute: object, value: tuple[tuple[str, int], ...]) -> None:
    known = [name for name, _ in _CPU_MEMBERS[1:]]
    names = [name for name, _ in value]
    if any(name not in known for name in names):
        bad = next(name for name in names if name not in known)
        raise ParameterError(f"Invalid parameter '{bad}'", what=bad)
    if names != sorted(set(names), key=known.index):
        raise ParameterError("props must be distinct and in schema order", what="props")
    for name, number in value:
        if type(number) is not int or not -(2**63) <= number < 2**63:
            raise ParameterError(
                f"Parameter '{name}' expects an int64 value", what=name, value=number
            )


def _one_of(choices: tuple[str, ...], name: str) -> _Validator:
    def check(_instance: object, _attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise ParameterError(
                f"Parameter '{name}' does not accept value '{value}'", what=name, value=value
            )

    return check


def _warnings_field() -> tuple[QemuWarning, ...]:
    result: tuple[QemuWarning, ...] = attrs.field(default=(), eq=False, repr=False)
    return result


def _size_text(size: int) -> str:
    # The largest suffix that keeps the value exact; an explicit suffix also
    # keeps QEMU's MiB default for mem= out of the way.
    for suffix in "EPTGMK":
        scale = 1024 ** _SUFFIX_POWER[suffix]
        if size and size % scale == 0:
            return f"{size // scale}{suffix}"
    return f"{size}B"


def _ranges(cpus: tuple[int, ...]) -> Iterator[str]:
    start = 0
    while start < len(cpus):
        end = start
        while end + 1 < len(cpus) and cpus[end + 1] == cpus[end] + 1:
            end += 1
        first, last = cpus[start], cpus[end]
        yield str(first) if first == last else f"{first}-{last}"
        start = end + 1


def _escape(value: str) -> str:
    return value.replace(",", ",,")


@attrs.frozen(kw_only=True)
class NumaNode:
    """``-numa node``: a guest NUMA node, as QEMU read it.

    Attributes:
        nodeid: the node id, or None when not given (QEMU then takes the number
            of nodes defined so far).
        cpus: the CPU indexes of every ``cpus=`` item, in the order given, with
            ranges expanded (duplicates kept).
        mem: the legacy ``mem=`` size in bytes (MiB when given without a suffix),
            or None.
        memdev: the ``memdev=`` backend id, or None.
        initiator: the HMAT initiator node, or None.
        warnings: what QEMU warned about while parsing (not part of equality).

    ``str()`` gives an option text that QEMU reads back as the same node.

    >>> node = parse_numa("node,nodeid=1,cpus=0-2,cpus=7,memdev=ram1", qemu_version="7.2")
    >>> node.nodeid, node.cpus, node.memdev
    (1, (0, 1, 2, 7), 'ram1')
    >>> str(node)
    'node,nodeid=1,cpus=0-2,cpus=7,memdev=ram1'
    """

    nodeid: int | None = attrs.field(default=None, validator=_check_uint(16))
    cpus: tuple[int, ...] = attrs.field(default=(), converter=_as_cpus, validator=_check_cpus)
    mem: int | None = attrs.field(default=None, validator=_check_uint(64))
    memdev: str | None = None
    initiator: int | None = attrs.field(default=None, validator=_check_uint(16))
    warnings: tuple[QemuWarning, ...] = _warnings_field()

    def __str__(self) -> str:
        parts = ["node"]
        if self.nodeid is not None:
            parts.append(f"nodeid={self.nodeid}")
        parts += [f"cpus={item}" for item in _ranges(self.cpus)]
        if self.mem is not None:
            parts.append(f"mem={_size_text(self.mem)}")
        if self.memdev is not None:
            parts.append(f"memdev={_escape(self.memdev)}")
        if self.initiator is not None:
            parts.append(f"initiator={self.initiator}")
        return ",".join(parts)


@attrs.frozen(kw_only=True)
class NumaDist:
    """``-numa dist``: the distance from node ``src`` to node ``dst``.

    >>> parse_numa("dist,src=0,dst=1,val=20", qemu_version="7.2")
    NumaDist(src=0, dst=1, val=20)
    """

    src: int = attrs.field(validator=_check_uint(16))
    dst: int = attrs.field(validator=_check_uint(16))
    val: int = attrs.field(validator=_check_uint(8))
    warnings: tuple[QemuWarning, ...] = _warnings_field()

    def __str__(self) -> str:
        return f"dist,src={self.src},dst={self.dst},val={self.val}"


@attrs.frozen(kw_only=True)
class NumaCpu:
    """``-numa cpu``: the CPU slots matching ``props`` go to node ``node_id``.

    Attributes:
        node_id: the node, or None when ``node-id`` was not given. QEMU needs it,
            but only reports it missing after the machine checks that NUMA is
            supported (``Missing mandatory node-id property``).
        props: the other topology ids given, as ``("socket-id", 1)`` pairs in
            QEMU's member order (see :func:`numa_cpu_members`).

    >>> parse_numa("cpu,core-id=3,node-id=1,socket-id=0x1", qemu_version="7.2")
    NumaCpu(node_id=1, props=(('socket-id', 1), ('core-id', 3)))
    """

    node_id: int | None = attrs.field(default=None, validator=_check_int64)
    props: tuple[tuple[str, int], ...] = attrs.field(
        default=(), converter=_as_props, validator=_check_props
    )
    warnings: tuple[QemuWarning, ...] = _warnings_field()

    def __str__(self) -> str:
        parts = ["cpu"]
        if self.node_id is not None:
            parts.append(f"node-id={self.node_id}")
        parts += [f"{name}={number}" for name, number in self.props]
        return ",".join(parts)


HmatLbHierarchy: TypeAlias = Literal["memory", "first-level", "second-level", "third-level"]
HmatLbDataType: TypeAlias = Literal[
    "access-latency",
    "read-latency",
    "write-latency",
    "access-bandwidth",
    "read-bandwidth",
    "write-bandwidth",
]
HmatCacheAssociativity: TypeAlias = Literal["none", "direct", "complex"]
HmatCachePolicy: TypeAlias = Literal["none", "write-back", "write-through"]


@attrs.frozen(kw_only=True)
class NumaHmatLb:
    """``-numa hmat-lb``: HMAT latency or bandwidth from ``initiator`` to ``target``.

    >>> parse_numa(
    ...     "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=read-latency,latency=10"
    ... ).latency
    10
    """

    initiator: int = attrs.field(validator=_check_uint(16))
    target: int = attrs.field(validator=_check_uint(16))
    hierarchy: HmatLbHierarchy = attrs.field(validator=_one_of(HMAT_LB_HIERARCHIES, "hierarchy"))
    data_type: HmatLbDataType = attrs.field(validator=_one_of(HMAT_LB_DATA_TYPES, "data-type"))
    latency: int | None = attrs.field(default=None, validator=_check_uint(64))
    bandwidth: int | None = attrs.field(default=None, validator=_check_uint(64))
    warnings: tuple[QemuWarning, ...] = _warnings_field()

    def __str__(self) -> str:
        parts = [
            f"hmat-lb,initiator={self.initiator},target={self.target}",
            f"hierarchy={self.hierarchy},data-type={self.data_type}",
        ]
        if self.latency is not None:
            parts.append(f"latency={self.latency}")
        if self.bandwidth is not None:
            parts.append(f"bandwidth={_size_text(self.bandwidth)}")
        return ",".join(parts)


@attrs.frozen(kw_only=True)
class NumaHmatCache:
    """``-numa hmat-cache``: a memory-side cache of node ``node_id``.

    >>> parse_numa(
    ...     "hmat-cache,node-id=1,size=10K,level=1,associativity=direct,"
    ...     "policy=write-back,line=8"
    ... ).size
    10240
    """

    node_id: int = attrs.field(validator=_check_uint(32, "node-id"))
    size: int = attrs.field(validator=_check_uint(64))
    level: int = attrs.field(validator=_check_uint(8))
    associativity: HmatCacheAssociativity = attrs.field(
        validator=_one_of(HMAT_CACHE_ASSOCIATIVITIES, "associativity")
    )
    policy: HmatCachePolicy = attrs.field(validator=_one_of(HMAT_CACHE_POLICIES, "policy"))
    line: int = attrs.field(validator=_check_uint(16))
    warnings: tuple[QemuWarning, ...] = _warnings_field()

    def __str__(self) -> str:
        return (
            f"hmat-cache,node-id={self.node_id},size={_size_text(self.size)},"
            f"level={self.level},associativity={self.associativity},"
            f"policy={self.policy},line={self.line}"
        )


NumaOption: TypeAlias = NumaNode | NumaDist | NumaCpu | NumaHmatLb | NumaHmatCache


# -- C number parsing ---------------------------------------------------------

_Err: TypeAlias = Literal["einval", "erange"] | None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _C_SPACE:
        pos += 1
    return pos


def _strtoull(text: str, pos: int, base: int) -> tuple[int, int, _Err]:
    """C ``strtoull`` from ``pos``: (value, end, error); no digits is "einval"."""
    i = _skip_space(text, pos)
    negative = i < len(text) and text[i] == "-"
    if i < len(text) and text[i] in "+-":
        i += 1
    prefixed = text[i : i + 2] in ("0x", "0X") and _is_hex_digit(text[i + 2 : i + 3])
    if base in (0, 16) and prefixed:
        base, i = 16, i + 2
    if base == 0:
        base = 8 if text[i : i + 1] == "0" else 10
    end = i
    while end < len(text) and text[end] in _DIGITS[base]:
        end += 1
    if end == i:
        return 0, pos, "einval"
    magnitude = int(text[i:end], base)
    if magnitude > _UINT64_MAX:
        return _UINT64_MAX, end, "erange"
    return (-magnitude) & _UINT64_MAX if negative else magnitude, end, None


def _parse_uint(text: str, pos: int, base: int) -> tuple[int, int, _Err]:
    """QEMU's ``parse_uint``: ``strtoull`` that refuses a minus sign."""
    value, end, err = _strtoull(text, pos, base)
    if err is None and text[_skip_space(text, pos) : _skip_space(text, pos) + 1] == "-":
        return 0, end, "erange"
    return value, end, err


def _full_uint(text: str) -> int | None:
    value, end, err = _parse_uint(text, 0, 0)
    return value if err is None and end == len(text) else None


# strtod on a string that starts with '.', as QEMU 7.2 and 8.0 call it.
_LEGACY_FRACTION: Final = re.compile(r"\.[0-9]+(?:[eE][+-]?[0-9]+)?")
# strtod on the tail of the text cut at the first 'e' and 'E' (QEMU 8.1+).
_MODERN_FRACTION: Final = re.compile(r"[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)", re.ASCII)


def _strtod(number: str) -> tuple[float, _Err]:
    """The double C's strtod gives for a matched decimal, and whether it over/underflowed."""
    value = float(number)
    if math.isinf(value):
        return value, "erange"
    nonzero = any(c in "123456789" for c in number.split("e")[0].split("E")[0])
    if nonzero and abs(value) < 2.2250738585072014e-308:
        return value, "erange"  # underflow: glibc sets ERANGE
    return value, None


def _is_digit(char: str) -> bool:
    return len(char) == 1 and char in _DIGITS[10]


def _is_hex_digit(char: str) -> bool:
    return len(char) == 1 and char in _DIGITS[16]


def _fixed_fraction(fraction: float) -> int:
    # (uint64_t)(fraction * 2^64): 1.0 does not fit, and x86-64 code then gives 0.
    scaled = math.floor(fraction * 2.0**64)
    return scaled if scaled <= _UINT64_MAX else 0


@attrs.frozen
class _Size:
    value: int | None
    error: _Err
    hex_suffix: bool  # a hex number met a scaling suffix (QEMU 7.2 warns)


def _strtosz(text: str, default: str, version: QemuVersion) -> _Size:
    """QEMU's ``qemu_strtosz`` (default unit ``default``), the whole text consumed."""
    if version.at_least("8.1"):
        return _strtosz_modern(text, default)
    return _strtosz_legacy(text, default, hex_suffix_ok=not version.at_least("8.0"))


def _scale(text: str, end: int, val: int, valf: int, default: str, hexed: bool = False) -> _Size:
    """The common tail of both strtosz versions: suffix, scaling, rounding, trailing junk."""
    suffix = text[end : end + 1].upper()
    power = _SUFFIX_POWER.get(suffix) if suffix else None
    hex_suffix = hexed and power is not None
    if power is not None:
        end += 1
    else:
        power = _SUFFIX_POWER[default]
    if power == 0:
        if valf:
            return _Size(None, "einval", hex_suffix)
    else:
        mul = 1024**power
        total = val * mul + ((valf * mul) >> 64) + (((valf * mul) & _UINT64_MAX) >> 63)
        if total > _UINT64_MAX:
            return _Size(None, "einval" if end != len(text) else "erange", hex_suffix)
        val = total
    if end != len(text):
        return _Size(None, "einval", hex_suffix)
    return _Size(val, None, hex_suffix)


def _strtosz_legacy(text: str, default: str, *, hex_suffix_ok: bool) -> _Size:
    val, end, err = _strtoull(text, 0, 10)
    if err is not None:
        return _Size(None, err, False)
    if "-" in text[:end]:
        return _Size(None, "einval", False)
    valf = 0
    hexed = False
    if val == 0 and text[end : end + 1] in ("x", "X"):
        val, end, err = _strtoull(text, 0, 16)
        if err is not None:
            return _Size(None, err, False)
        following = text[end : end + 1]
        if following == "." or (not hex_suffix_ok and following.upper() in _SUFFIX_POWER):
            return _Size(None, "einval", False)
        hexed = True
    elif text[end : end + 1] == ".":
        match = _LEGACY_FRACTION.match(text, end)
        if match is None:
            end += 1  # strtod read nothing; QEMU steps over the '.'
        else:
            fraction, ferr = _strtod(match[0])
            if ferr is not None:
                # Out of range: QEMU steps over one character after the number.
                end = match.end() + 1
                if end > len(text):
                    return _Size(None, "einval", False)  # QEMU reads past the text here
            elif "e" in match[0].lower():
                return _Size(None, "einval", False)
            else:
                end = match.end()
                valf = _fixed_fraction(fraction)
    return _scale(text, end, val, valf, default, hexed)


def _strtosz_modern(text: str, default: str) -> _Size:
    val, end, err = _parse_uint(text, 0, 10)
    if err == "erange":
        return _Size(None, err, False)
    valf = 0
    if err is None and val == 0 and text[end : end + 1] in ("x", "X"):
        val, end, err = _strtoull(text, 0, 16)
        if err is not None:
            return _Size(None, err, False)
        following = text[end : end + 1]
        if following == "." or following.upper() in _SUFFIX_POWER:
            return _Size(None, "einval", False)
    elif text[end : end + 1] == "." or (end == 0 and "." in text):
        fraction = 0.0
        if err is None and not _is_digit(text[end + 1 : end + 2]):
            end += 1  # "1." or "1.k": nothing after the point
        else:
            copy = re.split("[eE]", text[end:], maxsplit=1)[0]
            match = _MODERN_FRACTION.match(copy)
            if match is None:  # also inf and nan, which QEMU refuses
                return _Size(None, "einval", False)
            fraction, err = _strtod(match[0])
            end += match.end()
            if math.copysign(1.0, fraction) < 0:
                return _Size(None, "erange", False)
        if fraction == 1.0:
            if val == _UINT64_MAX:
                return _Size(None, "erange", False)
            val += 1
        elif err == "erange":
            valf, err = 1, None
        else:
            valf = _fixed_fraction(fraction)
            if valf == 0 and fraction > 0.0:
                valf = 1
    if err is not None:
        return _Size(None, err, False)
    return _scale(text, end, val, valf, default)


# -- QemuOpts -----------------------------------------------------------------


def _opt_value(text: str, pos: int) -> tuple[str, int]:
    """The value from ``pos`` up to a lone comma (``,,`` is a comma), and where it stopped."""
    value: list[str] = []
    while True:
        comma = text.find(",", pos)
        if comma < 0:
            value.append(text[pos:])
            return "".join(value), len(text)
        value.append(text[pos:comma])
        if text.startswith(",,", comma):
            value.append(",")
            pos = comma + 2
        else:
            return "".join(value), comma


def _opt_items(text: str, implied: str | None) -> Iterator[tuple[str, str, str | None]]:
    """QemuOpts' items: (name, value, flag text or None), ``implied`` naming a bare first value."""
    pos = 0
    while pos < len(text):
        rest = text[pos:]
        length = min((i for i in (rest.find("="), rest.find(",")) if i >= 0), default=len(rest))
        flag: str | None = None
        if length < len(rest) and rest[length] == "=":
            name = rest[:length]
            value, pos = _opt_value(text, pos + length + 1)
        elif implied is not None:
            name = implied
            value, pos = _opt_value(text, pos)
        else:
            flag = rest[:length]
            name, value = (flag[2:], "off") if flag.startswith("no") else (flag, "on")
            pos += length
        implied = None
        if pos < len(text):
            pos += 1  # the comma
        yield name, value, flag


def _flag_warning(flag: str, name: str, value: str) -> QemuWarning:
    if name == "delay":
        advice = f"nodelay={'on' if value == 'off' else 'off'}"
    else:
        advice = f"{name}={value}"
    return QemuWarning(
        message=f"short-form boolean option '{flag}' deprecated",
        what=name,
        hint=f"Please use {advice} instead",
    )


# -- the options visitor ------------------------------------------------------

_Kind: TypeAlias = Literal["uint8", "uint16", "uint32", "uint64", "int64", "size", "str", "list"]
_Member: TypeAlias = tuple[str, _Kind | tuple[str, ...], bool]  # name, kind, optional

_MEMBERS: Final[dict[str, tuple[_Member, ...]]] = {
    "node": (
        ("nodeid", "uint16", True),
        ("cpus", "list", True),
        ("mem", "size", True),
        ("memdev", "str", True),
        ("initiator", "uint16", True),
    ),
    "dist": (("src", "uint16", False), ("dst", "uint16", False), ("val", "uint8", False)),
    "hmat-lb": (
        ("initiator", "uint16", False),
        ("target", "uint16", False),
        ("hierarchy", HMAT_LB_HIERARCHIES, False),
        ("data-type", HMAT_LB_DATA_TYPES, False),
        ("latency", "uint64", True),
        ("bandwidth", "size", True),
    ),
    "hmat-cache": (
        ("node-id", "uint32", False),
        ("size", "size", False),
        ("level", "uint8", False),
        ("associativity", HMAT_CACHE_ASSOCIATIVITIES, False),
        ("policy", HMAT_CACHE_POLICIES, False),
        ("line", "uint16", False),
    ),
}


class _Visitor:
    """The opts visitor's bookkeeping: items by name, and the hash table of unvisited names."""

    def __init__(
        self,
        items: list[tuple[str, str]],
        opts_id: str | None,
        fail: Callable[[str, str, object], ParameterError],
        version: QemuVersion,
        warnings: list[QemuWarning],
    ) -> None:
        self.values: dict[str, list[str]] = {}
        self.unvisited = _GlibHashSet()
        for name, value in items:
            if name not in self.values:
                self.unvisited.add(name)
            self.values.setdefault(name, []).append(value)
        if opts_id is not None:
            self.values["id"] = [opts_id]
            self.unvisited.add("id")
        self.fail = fail
        self.version = version
        self.warnings = warnings

    def visited(self, name: str) -> None:
        self.unvisited.discard(name)

    def scalar(self, name: str, kind: _Kind | tuple[str, ...], optional: bool) -> object:
        if name not in self.values:
            if optional:
                return None
            raise self.fail(f"Parameter '{name}' is missing", name, None)
        if kind == "list":
            return self._list(name)
        raw = self.values[name][-1]
        if isinstance(kind, tuple) or kind == "str":
            # QEMU marks a string visited before it checks an enum's value.
            self.visited(name)
            if isinstance(kind, tuple) and raw not in kind:
                raise self.fail(f"Parameter '{name}' does not accept value '{raw}'", name, raw)
            return raw
        if kind == "int64":
            number = parse_int64(raw)
            if number is None:
                raise self.fail(f"Parameter '{name}' expects an int64 value", name, raw)
        elif kind == "size":
            size = _strtosz(raw, "B", self.version)
            if size.hex_suffix:
                self.hex_warning(name, raw)
            if size.value is None:
                raise self.fail(f"Parameter '{name}' expects a size value", name, raw)
            number = size.value
        else:
            parsed = _full_uint(raw)
            if parsed is None:
                raise self.fail(f"Parameter '{name}' expects a uint64 value", name, raw)
            number = parsed
            bits = int(kind[4:])
            if number >= 2**bits:
                raise self.fail(f"Parameter '{name}' expects {kind}_t", name, raw)
        self.visited(name)
        return number

    def hex_warning(self, name: str, raw: str) -> None:
        self.warnings.append(
            QemuWarning(
                message=f"Using a multiplier suffix on hex numbers is deprecated: {raw}",
                what=name,
            )
        )

    def _list(self, name: str) -> tuple[int, ...]:
        result: list[int] = []
        for raw in self.values[name]:
            for number in self._list_item(name, raw):
                if number > 0xFFFF:
                    # List elements are visited without a name, which QEMU prints as null.
                    raise self.fail("Parameter 'null' expects uint16_t", name, raw)
                result.append(number)
        self.visited(name)
        return tuple(result)

    def _list_item(self, name: str, raw: str) -> Iterable[int]:
        first, end, err = _parse_uint(raw, 0, 0)
        if err is None and end == len(raw):
            return (first,)
        if err is None and raw[end] == "-":
            last, last_end, last_err = _parse_uint(raw, end + 1, 0)
            if (
                last_err is None
                and last_end == len(raw)
                and first <= last
                and last - first < _RANGE_MAX
            ):
                return range(first, last + 1)
        raise self.fail(f"Parameter '{name}' expects a uint64 value or range", name, raw)

    def check_all_visited(self) -> None:
        left = self.unvisited.first()
        if left is not None:
            raise self.fail(f"Invalid parameter '{left}'", left, self.values[left][-1])


def parse_numa(text: str, *, qemu_version: str | QemuVersion | None = None) -> NumaOption:
    """Read a ``-numa`` option string exactly as QEMU ``qemu_version`` does.

    The grammar and number syntax are in this module's docstring. The result is
    one of :class:`NumaNode`, :class:`NumaDist`, :class:`NumaCpu`,
    :class:`NumaHmatLb` and :class:`NumaHmatCache`; what QEMU warned about is in
    its ``warnings``. Checks that need the machine (node ids below 128, node
    memory, distances, CPU indexes, a missing ``node-id`` of ``-numa cpu``) are
    left to the caller.

    Raises:
        OptionSyntaxError: ``id=`` is not an identifier
            (``-numa node,id=1: Parameter 'id' expects an identifier``, with
            QEMU's second line in ``hint``).
        ParameterError: ``type`` is missing or unknown, a member is missing, has
            a bad value or is not a member of that type, in QEMU's words
            (``-numa node,cpus=3-1: Parameter 'cpus' expects a uint64 value or range``).

    >>> parse_numa("node,mem=512", qemu_version="7.2").mem == 512 * 2**20
    True
    >>> parse_numa("dist,src=0,dst=1")
    Traceback (most recent call last):
    ...
    topology.ParameterError: -numa dist,src=0,dst=1: Parameter 'val' is missing
    >>> parse_numa("node,nodeid=1,foo=2,bar=3")
    Traceback (most recent call last):
    ...
    topology.ParameterError: -numa node,nodeid=1,foo=2,bar=3: Invalid parameter 'bar'
    """
    version = _version(qemu_version)
    where = f"-numa {text}"
    warnings: list[QemuWarning] = []

    def fail(reason: str, what: str, value: object) -> ParameterError:
        error = ParameterError(f"{where}: {reason}", what=what, where=where, value=value)
        error.warnings = tuple(warnings)
        return error

    # QemuOpts looks for the first id before anything else, reading every item
    # (the first one too) as key=value or flag.
    opts_id = next((value for name, value, _ in _opt_items(text, None) if name == "id"), None)
    if opts_id is not None and not is_identifier(opts_id):
        error = OptionSyntaxError(
            "Parameter 'id' expects an identifier", option="-numa", text=text, what="id"
        )
        error.hint = IDENTIFIER_HINT
        raise error
    items: list[tuple[str, str]] = []
    for name, value, flag in _opt_items(text, "type"):
        if flag is not None and flag not in ("help", "?"):
            warnings.append(_flag_warning(flag, name, value))
        if name != "id":
            items.append((name, value))

    visitor = _Visitor(items, opts_id, fail, version, warnings)
    kind = visitor.scalar("type", NUMA_OPTION_TYPES, False)
    assert isinstance(kind, str)
    if kind == "cpu":
        members: tuple[_Member, ...] = tuple(
            (name, "int64", True) for name in numa_cpu_members(version)
        )
    else:
        members = _MEMBERS[kind]
    values = {
        name: visitor.scalar(name, member_kind, optional) for name, member_kind, optional in members
    }
    visitor.check_all_visited()

    if kind == "node" and values["mem"] is not None:
        values["mem"] = _mem_fixup(visitor.values["mem"][-1], values["mem"], version, fail, visitor)
    return _build(kind, values, tuple(warnings))


def _mem_fixup(
    raw: str,
    in_bytes: object,
    version: QemuVersion,
    fail: Callable[[str, str, object], ParameterError],
    visitor: _Visitor,
) -> object:
    # mem= is read again with MiB as the default unit, for the legacy
    # suffix-less form; QEMU 8.1 started to check the result.
    size = _strtosz(raw, "M", version)
    if size.hex_suffix:
        visitor.hex_warning("mem", raw)
    if size.value is not None:
        return size.value
    if version.at_least("8.1"):
        assert size.error is not None
        raise fail(f"could not parse memory size '{raw}': {_STRERROR[size.error]}", "mem", raw)
    return in_bytes


def _build(kind: str, values: dict[str, object], warnings: tuple[QemuWarning, ...]) -> NumaOption:
    # Members left out keep the value objects' defaults.
    args = {name.replace("-", "_"): value for name, value in values.items() if value is not None}
    if kind == "node":
        return NumaNode(warnings=warnings, **args)  # type: ignore[arg-type]
    if kind == "dist":
        return NumaDist(warnings=warnings, **args)  # type: ignore[arg-type]
    if kind == "cpu":
        props = tuple(
            (name, number)
            for name, number in values.items()
            if name != "node-id" and isinstance(number, int)
        )
        node_id = values["node-id"]
        assert node_id is None or isinstance(node_id, int)
        return NumaCpu(node_id=node_id, props=props, warnings=warnings)
    if kind == "hmat-lb":
        return NumaHmatLb(warnings=warnings, **args)  # type: ignore[arg-type]
    return NumaHmatCache(warnings=warnings, **args)  # type: ignore[arg-type]
