"""The features of x86's ``-cpu`` option: how QEMU reads them and when it refuses them.

QEMU reads ``-cpu MODEL,FEATURES`` once (``x86_cpu_parse_featurestr`` in
``target/i386/cpu.c``): ``+name`` and ``-name`` are kept aside, ``name=value``
and ``name`` (``name=on``) become global properties of the model's QOM type,
with ``_`` read as ``-``; ``tsc-freq`` is a metric size. The globals are
applied as the board creates its first vCPU (``can't apply global``), the
``+``/``-`` names as that vCPU is realized. Every text below was observed on
QEMU 7.2.22, 10.0.13 and 11.1.3 under TCG; 8.x and 9.x answer as 7.2 and
10.1-11.0 as 10.0 where the texts differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

import attrs

from topology import BoardError, QemuVersion, QemuWarning
from topology.plugin import UnsupportedOptionError, parse_qemu_bool

__all__ = [
    "CpuFeatures",
    "check_globals",
    "check_plus_minus",
    "cpu_properties",
    "parse_cpu_features",
]

# Set through the CPU's topology, never as -cpu globals that every CPU shares.
_TOPOLOGY_IDS: Final = frozenset(
    {"apic-id", "socket-id", "die-id", "module-id", "core-id", "thread-id", "node-id"}
)
# Properties -cpu takes that QEMU's device-list-properties does not list for
# the release (observed: 7.2 and 10.0 leave out legacy-cache, 10.0
# legacy-multi-node), with the first release cputopo knows to have each.
_UNLISTED: Final = {"legacy-cache": "7.2", "legacy-multi-node": "10.0"}
# Properties only max and host (a max) have, beyond the catalogue's qemu64 ones
# (device-list-properties on 7.2, 10.0 and 11.1); libvirt's host-passthrough
# writes -cpu host,migratable=on.
_MAX_ONLY: Final = ("host-cache-info", "migratable")
# Properties with only a getter (QEMU: "Property '...' is not writable").
_READ_ONLY: Final = frozenset(
    {"feature-words", "filtered-features", "unavailable-features", "crash-information"}
)
# Unsigned integer properties: the largest value of each size; a value that
# is no number or does not fit 64 bits "expects uint64", a larger one than
# the size takes "expects uint32_t" (and so on).
_UNSIGNED_MAX: Final = {"uint8": 0xFF, "uint16": 0xFFFF, "uint32": 0xFFFF_FFFF, "uint64": 2**64 - 1}
# Checked further when the vCPU is realized, or turned into CPUID bits TCG
# warns about: not modelled.
_REALIZE_CHECKED: Final = frozenset(
    {"phys-bits", "guest-phys-bits", "host-phys-bits-limit", "lbr-fmt", "avx10-version"}
)
# x86's own signed setters, whose texts changed between releases: only values
# in range are judged (valid).
_INT_RANGES: Final = {
    "family": (0, 0xFF + 0xF),
    "model": (0, 0xFF),
    "stepping": (0, 0xF),
    "tsc-frequency": (0, 2**63 - 1),
}
# qemu_strtou64, base 0: decimal, 0x hexadecimal, 0 octal; a minus wraps.
_UNSIGNED: Final = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_METRIC: Final = re.compile(r"(\d+(?:\.\d*)?)([bkmgtpeBKMGTPE]?)")
# More digits than any 64-bit number has: out of range, without converting
# (Python refuses to convert more than 4,300 digits).
_MAX_DIGITS: Final = 30
_DECIMAL: Final = re.compile(r"-?\d+")


@attrs.frozen
class CpuFeatures:
    """``-cpu``'s features as QEMU read them.

    ``globals`` are the ``(property, value)`` pairs in order, ``plus`` and
    ``minus`` the names given with ``+`` and ``-``, ``warnings`` what QEMU
    printed while reading them (mixing ``+name`` and ``name=value``).
    """

    globals: tuple[tuple[str, str], ...]
    plus: tuple[str, ...]
    minus: tuple[str, ...]
    warnings: tuple[QemuWarning, ...]

    def global_is_on(self, name: str) -> bool:
        """Whether the last global for ``name`` turns it on (``+``/``-`` aside).

        >>> parse_cpu_features(["hv_vpindex", "x2apic=off"]).global_is_on("hv-vpindex")
        True
        """
        values = [value for prop, value in self.globals if prop == name]
        return bool(values) and parse_qemu_bool(values[-1]) is True


def parse_cpu_features(features: Sequence[str]) -> CpuFeatures:
    """Read ``-cpu``'s features (the text after the model, split at commas).

    >>> parse_cpu_features(["+x2apic", "x2apic=on", "tsc_deadline"]).globals
    (('x2apic', 'on'), ('tsc-deadline', 'on'))
    >>> [w.message for w in parse_cpu_features(["+x2apic", "x2apic=on"]).warnings][0]
    'Ambiguous CPU model string. Don\\'t mix both "+x2apic" and "x2apic=on"'
    """
    plus: list[str] = []
    minus: list[str] = []
    found: list[tuple[str, str]] = []
    warnings: list[QemuWarning] = []
    for feature in features:
        if not feature:
            continue  # QEMU splits with strtok: empty items vanish
        if feature[0] in "+-":
            (plus if feature[0] == "+" else minus).append(feature[1:])
            continue
        name, equals, value = feature.partition("=")
        name = name.replace("_", "-")
        value = value if equals else "on"
        for sign, names in (("+", plus), ("-", minus)):
            if name in names:
                warnings.append(
                    QemuWarning(
                        message=f'Ambiguous CPU model string. Don\'t mix both "{sign}{name}" '
                        f'and "{name}={value}"',
                        what="cpu",
                    )
                )
        if name == "tsc-freq":
            try:
                name, value = "tsc-frequency", str(_metric_size(value))
            except BoardError as error:
                error.warnings = tuple(warnings)  # printed before it
                raise
        found.append((name, value))
    if warnings:
        warnings.append(
            QemuWarning(
                message="Compatibility of ambiguous CPU model strings won't be kept on "
                "future QEMU versions",
                what="cpu",
            )
        )
    return CpuFeatures(tuple(found), tuple(plus), tuple(minus), tuple(warnings))


def _metric_size(text: str) -> int:
    # qemu_strtosz_metric: a number, a fraction allowed, and a unit of 1000s.
    match = _METRIC.fullmatch(text)
    # A fraction needs a unit other than bytes; too many digits is out of range.
    if match is None or len(match[1]) > _MAX_DIGITS or ("." in match[1] and match[2] in "bB"):
        raise BoardError(f"bad numerical value {text}", what="tsc-freq", value=text)
    unit = 1000 ** "BKMGTPE".index(match[2].upper() or "B")
    size = int(float(match[1]) * unit) if "." in match[1] else int(match[1]) * unit
    if size > 2**63 - 1:
        raise BoardError(f"bad numerical value {text}", what="tsc-freq", value=text)
    return size


def cpu_properties(model: str, listed: Mapping[str, str], version: QemuVersion) -> dict[str, str]:
    """The properties of ``model``'s CPU type: the catalogue's (those of qemu64,
    which every model has), those QEMU does not list, and max's and host's own.

    >>> from topology import qemu_version
    >>> cpu_properties("qemu64", {}, qemu_version("10.0"))
    {'legacy-cache': 'bool', 'legacy-multi-node': 'bool'}
    >>> sorted(cpu_properties("host", {}, qemu_version("7.2")))
    ['host-cache-info', 'legacy-cache', 'migratable']
    """
    unlisted = {name: "bool" for name, first in _UNLISTED.items() if version.at_least(first)}
    own = dict.fromkeys(_MAX_ONLY, "bool") if model in ("max", "host") else {}
    return {**listed, **unlisted, **own}


def check_globals(
    qom_type: str, parsed: CpuFeatures, properties: Mapping[str, str], version: QemuVersion
) -> None:
    """Apply the globals as the board creates its first vCPU; the first bad one fails.

    ``properties`` are the CPU type's, name to QOM type, from the catalogue.
    A value cputopo cannot judge as QEMU would raises UnsupportedOptionError.
    """
    for name, value in parsed.globals:
        prefix = f"can't apply global {qom_type}.{name}={value}: "
        kind = properties.get(name)
        if kind is None:
            raise BoardError(
                f"{prefix}Property '{qom_type}.{name}' not found", what=name, value=value
            )
        if name in _READ_ONLY:
            raise BoardError(
                f"{prefix}Property '{qom_type}.{name}' is not writable", what=name, value=value
            )
        if kind == "bool":
            if parse_qemu_bool(value) is None:
                raise BoardError(
                    f"{prefix}Parameter '{name}' expects 'on' or 'off'", what=name, value=value
                )
        elif name == "vendor":
            if len(value) != 12:
                message = (
                    "value of property 'vendor' must consist of exactly 12 characters"
                    if version.at_least("10.0")
                    else f"Property '.vendor' doesn't take value '{value}'"
                )
                raise BoardError(prefix + message, what=name, value=value)
        elif kind in ("string", "str"):
            continue
        elif kind in _UNSIGNED_MAX and name not in _TOPOLOGY_IDS:
            try:
                _check_unsigned(prefix, name, kind, value)
            except BoardError:
                if name == "lbr-fmt" and not version.at_least("10.0"):
                    raise _lbr_fmt_abort(value) from None
                raise
            if name in _REALIZE_CHECKED:
                raise UnsupportedOptionError(
                    f"cputopo: -cpu ...,{name}={value}: what QEMU checks of this value as "
                    "it realizes the vCPU is not modelled",
                    what="cpu",
                    value=f"{name}={value}",
                )
        elif name in _TOPOLOGY_IDS or not _integer_in_range(name, value):
            raise UnsupportedOptionError(
                f"cputopo: -cpu ...,{name}={value}: this -cpu property or value is not modelled",
                what="cpu",
                value=f"{name}={value}",
            )


def _lbr_fmt_abort(value: str) -> BoardError:
    # 7.2's lbr-fmt setter reports a bad value twice, and QEMU aborts on the
    # second report (observed with Debian's 7.2.22; 8.x and 9.x answer as 7.2).
    return BoardError(
        "../../util/error.c:59: error_setv: Assertion `*errp == NULL' failed.",
        what="lbr-fmt",
        value=value,
        crash_signal=6,
    )


def _check_unsigned(prefix: str, name: str, kind: str, value: str) -> None:
    match = _UNSIGNED.fullmatch(value)
    if match and len(match[2]) > _MAX_DIGITS:
        match = None  # out of 64 bits: "expects uint64" like a non-number
    number = int(match[2], 0) if match and match[2][1:2] in ("x", "X") else None
    if match and number is None:
        number = int(match[2], 8) if match[2].startswith("0") else int(match[2])
    if number is None or number > 2**64 - 1:
        raise BoardError(f"{prefix}Parameter '{name}' expects uint64", what=name, value=value)
    if match and match[1] == "-" and number:
        number = 2**64 - number
    if number > _UNSIGNED_MAX[kind]:
        raise BoardError(f"{prefix}Parameter '{name}' expects {kind}_t", what=name, value=value)


def _integer_in_range(name: str, value: str) -> bool:
    bounds = _INT_RANGES.get(name)
    if bounds is None or _DECIMAL.fullmatch(value) is None or len(value) > _MAX_DIGITS:
        return False
    return bounds[0] <= int(value) <= bounds[1]


def check_plus_minus(
    qom_type: str, parsed: CpuFeatures, properties: Mapping[str, str], version: QemuVersion
) -> None:
    """Turn the ``+`` features on, then the ``-`` ones off, as the first vCPU is realized.

    The names are property names as given (``+sse4_1`` is an alias QEMU has).
    """
    for name in (*parsed.plus, *parsed.minus):
        kind = properties.get(name)
        if kind is None:
            raise BoardError(f"Property '{qom_type}.{name}' not found", what=name)
        if kind != "bool" and name in ("lbr-fmt", "lbr_fmt") and not version.at_least("10.0"):
            raise _lbr_fmt_abort("on" if name in parsed.plus else "off")
        if kind in _UNSIGNED_MAX:
            raise BoardError(f"Parameter '{name}' expects uint64", what=name)
        if kind in ("string", "str"):
            raise BoardError(f"Invalid parameter type for '{name}', expected: string", what=name)
        if kind != "bool":
            raise UnsupportedOptionError(
                f"cputopo: -cpu ...,+{name}: a feature that is not a boolean is not modelled",
                what="cpu",
                value=name,
            )
