"""s390-ccw-virtio machine types by QEMU release, and the checks the board makes at start.

Sources: ``qemu-system-s390x -machine help`` of QEMU 7.2;
``hw/s390x/s390-virtio-ccw.c`` (``ccw_machine_class_init``, ``s390_init_cpus``,
the per-version class options); the shared notes §4.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from topology import BoardError, CpuTopology, MachineType, QemuVersion, QemuWarning
from topology._releases import release_key, releases_between

__all__ = ["PLUGIN", "S390xPlugin"]

#: S390_MAX_CPUS, the same in every supported release.
MAX_CPUS: Final = 248


class S390xPlugin:
    """QEMU's ``s390-ccw-virtio-*`` machine types."""

    name = "s390x"
    targets = ("s390x",)

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        newest = f"{version.major}.{version.minor}"
        return tuple(
            MachineType(
                name=f"s390-ccw-virtio-{release}",
                aliases=("s390-ccw-virtio",) if release == newest else (),
                # books and drawers came with 8.2 and are off on older types.
                levels={"books", "drawers"} if release_key(release) >= (8, 2) else set(),
                max_cpus=MAX_CPUS,
                prefer_sockets=release_key(release) <= (6, 1),
                default_cpu="qemu",
            )
            for release in releases_between("2.4", version)
        )

    def default_machine(self, version: QemuVersion) -> str | None:
        return f"s390-ccw-virtio-{version.major}.{version.minor}"

    def check_board(
        self,
        machine_type: MachineType,
        topology: CpuTopology,
        options: Mapping[str, str],
        version: QemuVersion,
    ) -> list[QemuWarning]:
        release = machine_type.name.rsplit("-", 1)[1]
        if topology.threads > 1 and release_key(release) >= (7, 2):
            raise BoardError(
                "S390 does not support more than 1 threads.",
                what="threads",
                value=topology.threads,
            )
        return []


PLUGIN: Final = S390xPlugin()
