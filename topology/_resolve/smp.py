"""Filling in ``-smp``: QEMU's ``machine_parse_smp_config``, release by release.

The rules below were read from QEMU's ``hw/core/machine-smp.c`` at each
release and checked against running QEMU 7.2 (``tests/differential/test_smp.py``):

* Counts are C ``unsigned`` (32-bit): given values are truncated, and every
  product and quotient wraps. A value of 0 after truncation means "omitted".
* A member given as 0: a warning up to 8.2 (then treated as omitted), an
  error from 9.0.
* A level the machine lacks, given > 1: an error. Up to 8.2 the truncated
  value is compared, from 9.0 the 64-bit one; 9.0 alone also warns when such
  a level is given as 1. The order of these checks and their wording changed
  in 9.0 and 9.1.
* Missing sockets, cores and threads are derived from maxcpus (or cpus),
  preferring sockets on machine types up to 6.1 and cores after.
* Then, in order: the product must equal maxcpus, maxcpus must cover cpus,
  and cpus and maxcpus must fit the machine's bounds.
"""

from __future__ import annotations

import functools
from typing import Final

from topology._errors import CpuCountError, InvalidTopologyError, ParameterError, TopologyError
from topology._parse.cint import UINT32_MASK, as_int32
from topology._parse.smp import SmpConfig, parse_smp, smp_members
from topology._resolve.smp_rules import SmpRules
from topology._resolve.topology import LEVELS, CpuTopology
from topology._versions import QemuVersion
from topology._warnings import QemuWarning

__all__ = ["hierarchy_text", "resolve_smp"]

_DEPRECATED: Final = "Deprecated CPU topology (considered invalid): "
_ZERO_TEXT: Final = "CPU topology parameters must be greater than zero"

# The release that first knew each optional level's machine flag.
_LEVEL_SINCE: Final = {"drawers": "8.2", "books": "8.2", "modules": "9.1"}


def _known_levels(rules: SmpRules) -> frozenset[str]:
    version = rules.version
    return frozenset(
        level for level in rules.levels if version.at_least(_LEVEL_SINCE.get(level, "0.0"))
    )


def hierarchy_text(counts: dict[str, int], supported: frozenset[str]) -> str:
    """QEMU's ``cpu_hierarchy_to_string``: supported levels, coarsest first.

    Sockets, cores and threads always appear; the optional levels only when
    the machine supports them, whatever their value.

    >>> hierarchy_text({"sockets": 2, "dies": 1, "cores": 4, "threads": 2}, frozenset({"dies"}))
    'sockets (2) * dies (1) * cores (4) * threads (2)'
    """
    shown = [
        level for level in LEVELS if level in ("sockets", "cores", "threads") or level in supported
    ]
    return " * ".join(f"{level} ({counts.get(level, 1)})" for level in shown)


def _unsupported_check_order(version: QemuVersion) -> tuple[str, ...]:
    if version.at_least("9.1"):
        return ("modules", "clusters", "dies", "books", "drawers")
    if version.at_least("9.0"):
        return ("clusters", "dies", "books", "drawers")
    if version.at_least("8.2"):
        return ("dies", "clusters", "books", "drawers")
    return ("dies", "clusters")


def _check_unsupported_levels(
    config: SmpConfig,
    counts: dict[str, int],
    supported: frozenset[str],
    version: QemuVersion,
    warnings: list[QemuWarning],
) -> None:
    for level in _unsupported_check_order(version):
        given = getattr(config, level)
        if level in supported or given is None:
            continue
        # From 9.0 the 64-bit value as given is compared, before the truncated one.
        too_many = given > 1 if version.at_least("9.0") else counts[level] > 1
        if too_many:
            relation = " > 1" if version.at_least("9.1") else ""
            raise InvalidTopologyError(
                f"{level}{relation} not supported by this machine's CPU topology",
                what=level,
                value=given,
            )
        if version == QemuVersion(9, 0):
            warnings.append(
                QemuWarning(
                    message=f"{_DEPRECATED}Unsupported {level} parameter mustn't be specified as 1",
                    what=level,
                )
            )


def _divide(dividend: int, factors: list[int], rules: SmpRules) -> int:
    divisor = 1
    for factor in factors:
        divisor = (divisor * factor) & UINT32_MASK
    if divisor == 0:
        # QEMU itself dies with SIGFPE here; refuse instead of crashing.
        raise InvalidTopologyError(
            "cputopo: the counts given multiply to 0 modulo 2^32, so QEMU "
            f"{rules.qemu_version} divides by zero while filling in -smp and crashes (SIGFPE)",
            crash_signal=8,
            what="smp",
            value=factors,
        )
    return dividend // divisor


def _fill_in(counts: dict[str, int], rules: SmpRules) -> None:
    """Derive omitted sockets, cores and threads (0 means omitted), in place."""
    cpus, maxcpus = counts["cpus"], counts["maxcpus"]
    fixed = [counts[level] for level in ("drawers", "books", "dies", "clusters", "modules")]
    if cpus == 0 and maxcpus == 0:
        for level in ("sockets", "cores", "threads"):
            counts[level] = counts[level] or 1
        return
    maxcpus = counts["maxcpus"] = maxcpus or cpus
    first, second = ("sockets", "cores") if rules.prefer_sockets else ("cores", "sockets")
    if counts[first] == 0:
        counts[second] = counts[second] or 1
        counts["threads"] = counts["threads"] or 1
        counts[first] = _divide(maxcpus, [*fixed, counts[second], counts["threads"]], rules)
    elif counts[second] == 0:
        counts["threads"] = counts["threads"] or 1
        counts[second] = _divide(maxcpus, [*fixed, counts[first], counts["threads"]], rules)
    if counts["threads"] == 0:
        counts["threads"] = _divide(maxcpus, [*fixed, counts["sockets"], counts["cores"]], rules)


def resolve_smp(smp: str | SmpConfig, rules: SmpRules) -> CpuTopology:
    """Resolve ``-smp`` for a machine exactly as QEMU ``rules.qemu_version`` does.

    ``smp`` is the option string (``"8,sockets=2"``) or an already parsed
    :class:`SmpConfig`. The result is the complete topology; QEMU's warnings
    are in its ``warnings``. A refusal raises a :class:`TopologyError` whose
    text is QEMU's, and whose ``warnings`` hold what QEMU printed before it.

    >>> q35 = SmpRules("pc-q35-9.2", frozenset({"dies", "modules"}), 1, 4096, False, "9.2")
    >>> topo = resolve_smp("8,sockets=2", q35)
    >>> topo.sockets, topo.cores, topo.threads, topo.max_cpus
    (2, 4, 1, 8)
    >>> resolve_smp("4,sockets=2,cores=4", q35)  # threads = 4 // (2 * 4) = 0
    Traceback (most recent call last):
    ...
    topology.InvalidTopologyError: Invalid CPU topology: ... cores (4) * threads (0) != maxcpus (4)
    """
    return _resolve_cached(smp, rules)


# Resolution is a pure function of hashable values, and test suites resolve the
# same few -smp strings again and again: the answer is kept (a refusal is not;
# its error is a fresh object each time, as callers add to its warnings).
@functools.lru_cache(maxsize=4096)
def _resolve_cached(smp: str | SmpConfig, rules: SmpRules) -> CpuTopology:
    warnings: list[QemuWarning] = []
    try:
        return _resolve(smp, rules, warnings)
    except TopologyError as error:
        error.warnings = (*warnings, *error.warnings)
        raise


def _resolve(smp: str | SmpConfig, rules: SmpRules, warnings: list[QemuWarning]) -> CpuTopology:
    version = rules.version
    if isinstance(smp, str):
        config = parse_smp(smp, qemu_version=version)
    else:
        config = smp
        known = smp_members(version)
        for member in config.given():
            if member not in known:
                raise ParameterError(
                    f"Parameter 'smp.{member}' is unexpected", what=member, where="smp"
                )
    given = config.given()
    if 0 in given.values():
        zero = next(member for member, value in given.items() if value == 0)
        if version.at_least("9.0"):
            raise InvalidTopologyError(f"Invalid CPU topology: {_ZERO_TEXT}", what=zero, value=0)
        warnings.append(QemuWarning(message=_DEPRECATED + _ZERO_TEXT, what=zero))

    counts = {member: given.get(member, 0) & UINT32_MASK for member in ("cpus", *LEVELS, "maxcpus")}
    supported = _known_levels(rules)
    _check_unsupported_levels(config, counts, supported, version, warnings)
    for level in ("drawers", "books", "dies", "clusters", "modules"):
        counts[level] = counts[level] or 1
    _fill_in(counts, rules)

    total = 1
    for level in LEVELS:
        total = (total * counts[level]) & UINT32_MASK
    maxcpus = counts["maxcpus"] = counts["maxcpus"] or total
    cpus = counts["cpus"] = counts["cpus"] or maxcpus

    if total != maxcpus:
        raise InvalidTopologyError(
            "Invalid CPU topology: product of the hierarchy must match maxcpus: "
            f"{hierarchy_text(counts, supported)} != maxcpus ({maxcpus})",
            what="maxcpus",
            value=maxcpus,
        )
    if maxcpus < cpus:
        raise InvalidTopologyError(
            "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
            f"{hierarchy_text(counts, supported)} == maxcpus ({maxcpus}) < smp_cpus ({cpus})",
            what="cpus",
            value=cpus,
        )
    if cpus < rules.min_cpus:
        raise CpuCountError(
            f"Invalid SMP CPUs {as_int32(cpus)}. The min CPUs supported by machine "
            f"'{rules.name}' is {rules.min_cpus}",
            what="cpus",
            where=rules.name,
            value=cpus,
        )
    if maxcpus > rules.max_cpus:
        raise CpuCountError(
            f"Invalid SMP CPUs {as_int32(maxcpus)}. The max CPUs supported by machine "
            f"'{rules.name}' is {rules.max_cpus}",
            what="maxcpus",
            where=rules.name,
            value=maxcpus,
        )
    return CpuTopology(
        cpus=cpus,
        max_cpus=maxcpus,
        warnings=tuple(warnings),
        # QEMU keeps whether -smp named clusters (has_clusters): ARM's ACPI
        # describes a cluster level only then, from 8.0 on.
        explicit_clusters="clusters" in given,
        **{level: counts[level] for level in LEVELS},
    )
