"""What the ``-smp`` resolver needs to know about a machine."""

from __future__ import annotations

import attrs

from topology._errors import ParameterError
from topology._resolve.topology import OPTIONAL_LEVELS
from topology._versions import QemuVersion, qemu_version

__all__ = ["SmpRules"]


def _normalise_levels(levels: object) -> frozenset[str]:
    if isinstance(levels, str) or not hasattr(levels, "__iter__"):
        raise ParameterError(
            f"levels must be a set of level names, not {levels!r}", what="levels", value=levels
        )
    return frozenset(levels)


def _check_levels(_instance: object, _attribute: object, levels: frozenset[str]) -> None:
    unknown = sorted(levels - OPTIONAL_LEVELS)
    if unknown:
        allowed = ", ".join(sorted(OPTIONAL_LEVELS))
        raise ParameterError(
            f"unknown optional levels {unknown}; choose from {allowed}",
            what="levels",
            value=unknown,
        )


def _check_cpu_bounds(instance: SmpRules, _attribute: object, max_cpus: int) -> None:
    bounds = (instance.min_cpus, max_cpus)
    if not all(type(b) is int for b in bounds) or not 1 <= instance.min_cpus <= max_cpus:
        raise ParameterError(
            f"need ints with 1 <= min_cpus <= max_cpus, got {bounds}", what="max_cpus", value=bounds
        )


def _normalise_version(version: str | QemuVersion) -> str:
    return str(qemu_version(version))


@attrs.frozen
class SmpRules:
    """A machine's ``-smp`` rules: its name, optional levels, CPU bounds and fill-in policy.

    Args:
        name: the machine type's full name, as QEMU prints it in messages (``pc-q35-7.2``).
        levels: the optional levels the machine supports, a subset of
            ``{"drawers", "books", "dies", "clusters", "modules"}``.
        min_cpus: the fewest CPUs the machine starts with.
        max_cpus: the most possible CPUs (``maxcpus``) the machine allows.
        prefer_sockets: fill in sockets before cores (machine types 6.1 and older).
        qemu_version: the QEMU release whose rules and messages apply.

    Attributes:
        version: :attr:`qemu_version` as a comparable :class:`QemuVersion`.

    >>> SmpRules("pc-q35-7.2", frozenset({"dies"}), 1, 288, False, "7.2").version
    QemuVersion(major=7, minor=2)
    """

    name: str
    levels: frozenset[str] = attrs.field(converter=_normalise_levels, validator=_check_levels)
    min_cpus: int
    max_cpus: int = attrs.field(validator=_check_cpu_bounds)
    prefer_sockets: bool
    qemu_version: str = attrs.field(default=str(qemu_version()), converter=_normalise_version)
    # Parsed once: resolution consults it many times.
    version: QemuVersion = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "version", qemu_version(self.qemu_version))
