"""s390-ccw-virtio machine types by QEMU release, and the checks the board makes at start.

Sources: ``qemu-system-s390x -machine help`` of QEMU 7.2;
``hw/s390x/s390-virtio-ccw.c`` (``ccw_machine_class_init``, ``s390_init_cpus``,
the per-version class options); the shared notes §4.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from arch.s390x import _cpu_identity, _facility, _hotplug
from arch.s390x._facility import ctop_setting
from arch.s390x._models import tcg_refusal
from topology import BoardError, MachineType, QemuVersion, QemuWarning
from topology.plugin import (
    BoardContext,
    CpuSlot,
    QmpCommand,
    UnsupportedOptionError,
    release_key,
    releases_between,
    versioned_machine_type,
)

__all__ = ["PLUGIN", "S390xPlugin"]

#: S390_MAX_CPUS, the same in every supported release.
MAX_CPUS: Final = 248


class S390xPlugin:
    """QEMU's ``s390-ccw-virtio-*`` machine types."""

    name = "s390x"
    targets = ("s390x",)
    capabilities = frozenset({"check_driver", "cpu_identity", "plug_props", "qmp_commands"})

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        newest = f"{version.major}.{version.minor}"
        return tuple(
            versioned_machine_type(
                f"s390-ccw-virtio-{release}",
                release=release,
                version=version,
                aliases=("s390-ccw-virtio",) if release == newest else (),
                # books and drawers came with 8.2 and are off on older types.
                levels={"books", "drawers"} if release_key(release) >= (8, 2) else set(),
                max_cpus=MAX_CPUS,
                default_cpu="qemu",
            )
            # 2.4-2.8 were removed in 10.0.
            for release in releases_between("2.9" if version.at_least("10.0") else "2.4", version)
        )

    def default_machine(self, version: QemuVersion) -> str | None:
        return f"s390-ccw-virtio-{version.major}.{version.minor}"

    def check_board(self, board: BoardContext) -> list[QemuWarning]:
        machine_type, options, version = board.machine_type, board.options, board.version
        topology = board.cpu_topology
        release = machine_type.name.rsplit("-", 1)[1]
        # s390_init_cpus: machine types 7.2 and newer allow one thread, older
        # ones as many as there can be CPUs (ccw_machine_7_1_class_options).
        max_threads = 1 if release_key(release) >= (7, 2) else MAX_CPUS
        if topology.threads > max_threads:
            raise BoardError(
                f"S390 does not support more than {max_threads} threads.",
                what="threads",
                value=topology.threads,
            )
        if options.get("accel", "tcg") != "kvm":
            model, features = machine_type.cpu_model(options)
            refused = tcg_refusal(model, machine_type.name, version)
            if refused is not None and features:
                raise UnsupportedOptionError(
                    f"cputopo: -cpu {options.get('cpu')}: which features TCG refuses "
                    "for a model with features of its own is not modelled",
                    what="cpu",
                )
            if refused is not None:
                raise refused  # s390_realize_cpu_model, as the first CPU is realized
            if model in ("qemu", "max") and ctop_setting(features):
                # TCG cannot offer the configuration-topology facility (observed
                # on 7.2 and 10.0; the wording changed in between).
                current = "current " if version.at_least("10.0") else ""
                raise BoardError(
                    "Some features requested in the CPU model are not available in the "
                    f"{current}configuration: ctop  ",
                    what="cpu",
                    value=options.get("cpu"),
                    hint=(
                        "Consider a different accelerator, QEMU, or kernel version"
                        if version.at_least("10.0")
                        else None
                    ),
                )
        return []

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        # The board has no NUMA (no get_default_cpu_node_id); the core never asks.
        raise BoardError("NUMA is not supported by this machine-type", what="numa")

    # Slots and hot-plug: see ._hotplug.
    def possible_slots(self, board: BoardContext) -> list[CpuSlot]:
        return _hotplug.possible_slots(
            board.machine_type, board.cpu_topology, board.options, board.version
        )

    def boot_qom_path(self, board: BoardContext, slot: CpuSlot, position: int) -> str:
        return _hotplug.boot_qom_path(board, slot, position)

    select_slot = staticmethod(_hotplug.select_slot)
    check_driver = staticmethod(_hotplug.check_driver)
    request_unplug = staticmethod(_hotplug.request_unplug)
    cpu_status = staticmethod(_hotplug.cpu_status)
    legacy_cpu_add = staticmethod(_hotplug.legacy_cpu_add)

    # Optional member (topology._registry.OPTIONAL_MEMBERS): set-cpu-topology and
    # query-s390x-cpu-polarization, 8.2 and later.
    def qmp_commands(self, board: BoardContext) -> Mapping[str, QmpCommand]:
        return _facility.qmp_commands(board.version)

    # What the guest knows each CPU by (for topology.abi): see ._cpu_identity.
    cpu_identity = staticmethod(_cpu_identity.cpu_identity)
    plug_props = staticmethod(_cpu_identity.plug_props)


PLUGIN: Final = S390xPlugin()
