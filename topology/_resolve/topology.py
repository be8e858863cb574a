"""The resolved CPU topology: every level's count, as QEMU stores it."""

from __future__ import annotations

import typing
from typing import Final, Literal

import attrs

from topology._errors import InvalidTopologyError
from topology._warnings import QemuWarning

__all__ = ["LEVELS", "OPTIONAL_LEVELS", "CpuTopology", "Level"]

Level = Literal["drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads"]

#: Topology levels from the coarsest to the finest.
LEVELS: Final[tuple[Level, ...]] = typing.get_args(Level)

#: The levels a machine may or may not support; sockets, cores and threads always exist.
OPTIONAL_LEVELS: Final = frozenset({"drawers", "books", "dies", "clusters", "modules"})


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise InvalidTopologyError(
            f"{attribute.name} must be a positive int, not {value!r}",
            what=attribute.name,
            value=value,
        )


@attrs.frozen(kw_only=True)
class CpuTopology:
    """A complete CPU topology: how many of each level, present CPUs and possible CPUs.

    Each level counts units per unit of the level above (cores per module,
    threads per core, ...); ``max_cpus`` is the product of all levels and
    ``cpus`` the CPUs present at start. Levels a machine lacks are 1.
    As in QEMU, the product is taken modulo 2^32.
    ``warnings`` holds what QEMU warned about while resolving, and
    ``explicit_clusters`` whether ``-smp`` named ``clusters`` (QEMU's
    ``has_clusters``: ARM virt's ACPI PPTT describes clusters only then, from
    QEMU 8.0 on); neither takes part in equality.

    >>> topo = CpuTopology(cpus=4, sockets=2, cores=2, threads=2, max_cpus=8)
    >>> topo.threads_per_socket, topo.hotpluggable_cpus
    (4, 4)
    """

    cpus: int = attrs.field(validator=_positive)
    drawers: int = attrs.field(default=1, validator=_positive)
    books: int = attrs.field(default=1, validator=_positive)
    sockets: int = attrs.field(default=1, validator=_positive)
    dies: int = attrs.field(default=1, validator=_positive)
    clusters: int = attrs.field(default=1, validator=_positive)
    modules: int = attrs.field(default=1, validator=_positive)
    cores: int = attrs.field(default=1, validator=_positive)
    threads: int = attrs.field(default=1, validator=_positive)
    max_cpus: int = attrs.field(validator=_positive)
    warnings: tuple[QemuWarning, ...] = attrs.field(default=(), eq=False, repr=False)
    explicit_clusters: bool = attrs.field(default=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # QEMU multiplies in 32 bits, so it accepts counts whose product only
        # wraps round to max_cpus (sockets=-1 is 4294967295 sockets); so do we.
        product = 1
        for level in LEVELS:
            product = (product * getattr(self, level)) & 0xFFFFFFFF
        if product != self.max_cpus:
            raise InvalidTopologyError(
                f"the levels multiply to {product}, not max_cpus ({self.max_cpus})",
                what="max_cpus",
                value=self.max_cpus,
            )
        if self.cpus > self.max_cpus:
            raise InvalidTopologyError(
                f"cpus ({self.cpus}) exceeds max_cpus ({self.max_cpus})",
                what="cpus",
                value=self.cpus,
            )

    @property
    def cores_per_socket(self) -> int:
        """Cores in one socket, through dies, clusters and modules."""
        return self.dies * self.clusters * self.modules * self.cores

    @property
    def threads_per_socket(self) -> int:
        """Threads (CPUs) in one socket."""
        return self.cores_per_socket * self.threads

    @property
    def hotpluggable_cpus(self) -> int:
        """Possible CPUs that are not present at start."""
        return self.max_cpus - self.cpus

    def counts(self) -> dict[str, int]:
        """``cpus``, every level and ``max_cpus``, in that order.

        >>> CpuTopology(cpus=2, cores=2, max_cpus=2).counts()["cores"]
        2
        """
        result = {"cpus": self.cpus}
        result.update({level: getattr(self, level) for level in LEVELS})
        result["max_cpus"] = self.max_cpus
        return result
