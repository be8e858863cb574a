"""pseries machine types by QEMU release, and the checks the sPAPR board makes at start.

Sources: ``qemu-system-ppc64 -machine help`` of QEMU 7.2; ``hw/ppc/spapr.c``
(``spapr_machine_class_init``, ``spapr_set_vsmt_mode``, ``spapr_init_cpus``);
the shared notes §3.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from topology import BoardError, CpuTopology, MachineType, QemuVersion, QemuWarning
from topology._releases import release_key, releases_between

__all__ = ["PLUGIN", "SpaprPlugin"]

_OLDEST: Final = (("0.0", "2.1"),)


def _max_cpus(version: QemuVersion) -> int:
    # A property of the QEMU binary, not of the machine version.
    if version.at_least("9.0"):
        return 4096
    return 2**31 - 1


def _default_cpu(version: QemuVersion, release: str) -> str:
    if version.at_least("10.0"):
        return "power10_v2.0" if release_key(release) >= (10, 0) else "power9_v2.2"
    return "power9_v2.0"


class SpaprPlugin:
    """QEMU's ``pseries-*`` machine types."""

    name = "spapr"
    targets = ("ppc64",)

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        newest = f"{version.major}.{version.minor}"
        releases = releases_between(_OLDEST[0][1], version)
        if "2.12" in releases:
            releases.insert(releases.index("2.12"), "2.12-sxxm")
        return tuple(
            MachineType(
                name=f"pseries-{release}",
                aliases=("pseries",) if release == newest else (),
                max_cpus=_max_cpus(version),
                prefer_sockets=release_key(release) <= (6, 1),
                default_cpu=_default_cpu(version, release),
                auto_numa=True,
            )
            for release in releases
        )

    def default_machine(self, version: QemuVersion) -> str | None:
        return f"pseries-{version.major}.{version.minor}"

    def check_board(
        self,
        machine_type: MachineType,
        topology: CpuTopology,
        options: Mapping[str, str],
        version: QemuVersion,
    ) -> list[QemuWarning]:
        threads = topology.threads
        tcg = options.get("accel", "tcg") == "tcg"
        if threads & (threads - 1):
            raise BoardError(
                f"Cannot support {threads} threads/core on a pseries machine because it "
                "must be a power of 2",
                what="threads",
                value=threads,
            )
        if tcg and threads > 1 and not version.at_least("8.1"):
            raise BoardError(
                "TCG cannot support more than 1 thread/core on a pseries machine",
                what="threads",
                value=threads,
            )
        if tcg and threads > 8:
            raise BoardError(
                "TCG cannot support more than 8 threads/core on a pseries machine",
                what="threads",
                value=threads,
            )
        if topology.cpus % threads:
            raise BoardError(
                f"smp_cpus ({topology.cpus}) must be multiple of threads ({threads})",
                what="cpus",
                value=topology.cpus,
            )
        if topology.max_cpus % threads:
            raise BoardError(
                f"max_cpus ({topology.max_cpus}) must be multiple of threads ({threads})",
                what="maxcpus",
                value=topology.max_cpus,
            )
        return []


PLUGIN: Final = SpaprPlugin()
