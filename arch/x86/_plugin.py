"""x86 machine types by QEMU release, and the checks a PC board makes at start.

Machine-type lists: ``qemu-system-x86_64 -machine help`` of QEMU 7.2, and for
later releases the machine definitions in ``hw/i386/pc_piix.c`` and
``hw/i386/pc_q35.c`` with the removals recorded in
``docs/about/removed-features.rst``. CPU limits: ``pc_machine_class_init``,
``pc_q35_machine_options`` and their compat functions (``../shared`` notes §2.7).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final

from arch.x86 import _acpi, _board, _hotplug, _identity, _tcg_features
from topology import MachineType, QemuVersion
from topology.plugin import (
    AGE_DEPRECATION_REASON,
    BoardContext,
    CpuSlot,
    QemuWarning,
    QmpCommand,
    deprecated_by_age,
    release_key,
    releases_between,
    versioned_machine_type,
)

__all__ = ["PLUGIN", "X86Plugin"]

# Oldest versioned i440fx type, by the QEMU release that removed older ones by hand
# (1.4-1.7 in 8.2, 2.0-2.3 in 9.1; from 10.1 the age rule removes more).
_I440FX_OLDEST: Final = (("9.1", "2.4"), ("8.2", "2.0"), ("0.0", "1.4"))
# Hand deprecations before the age rule (9.1): (since QEMU, newest deprecated type).
_I440FX_DEPRECATED: Final = (("9.1", "0.0"), ("8.2", "2.3"), ("0.0", "1.7"))
_OLD_I440FX_REASON: Final = "old and unattended - use a newer version instead"


def _pick(table: tuple[tuple[str, str], ...], version: QemuVersion) -> str:
    return next(value for since, value in table if version.at_least(since))


def _i440fx_deprecation(release: str, version: QemuVersion) -> str | None:
    if deprecated_by_age(release, version):
        return AGE_DEPRECATION_REASON
    newest_deprecated = _pick(_I440FX_DEPRECATED, version)
    if release_key(release) <= release_key(newest_deprecated):
        return _OLD_I440FX_REASON
    return None


def _levels(version: QemuVersion) -> frozenset[str]:
    # dies on every PC type; modules from QEMU 9.1 on every PC type, old ones included.
    return frozenset({"dies", "modules"} if version.at_least("9.1") else {"dies"})


def _q35_max_cpus(machine_release: str) -> int:
    key = release_key(machine_release)
    if key >= (9, 0):
        return 4096
    if key >= (8, 1):
        return 1024
    if key >= (2, 8):
        return 288
    return 255


class X86Plugin:
    """QEMU's PC machine types (``pc-i440fx-*``, ``pc-q35-*``, ``microvm``, ``isapc``)."""

    name = "x86"
    targets = ("x86_64",)
    capabilities = frozenset(
        {
            "check_driver",
            "cpu_identity",
            "plug_warnings",
            "qmp_commands",
            "qom_links",
            "sync_live",
            "unplug_rejected",
        }
    )

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        levels = _levels(version)
        newest = f"{version.major}.{version.minor}"
        i440fx = [
            versioned_machine_type(
                f"pc-i440fx-{release}",
                release=release,
                version=version,
                aliases=("pc",) if release == newest else (),
                levels=levels,
                max_cpus=255,
                default_cpu="qemu64",
                numa=True,
                # pc_*_machine_2_10_options and _5_0_options turn these off.
                auto_numa_with_memhp=release_key(release) >= (2, 11),
                auto_numa_with_memdev=release_key(release) >= (5, 1),
                deprecation_reason=_i440fx_deprecation(release, version),
            )
            for release in releases_between(_pick(_I440FX_OLDEST, version), version)
        ]
        q35_releases = releases_between("2.4", version)
        if "4.0" in q35_releases:
            q35_releases.insert(q35_releases.index("4.0"), "4.0.1")
        q35 = [
            versioned_machine_type(
                f"pc-q35-{release}",
                release=release,
                version=version,
                aliases=("q35",) if release == newest else (),
                levels=levels,
                max_cpus=_q35_max_cpus(release),
                default_cpu="qemu64",
                numa=True,
                # pc_*_machine_2_10_options and _5_0_options turn these off.
                auto_numa_with_memhp=release_key(release) >= (2, 11),
                auto_numa_with_memdev=release_key(release) >= (5, 1),
            )
            for release in q35_releases
        ]
        others = [
            MachineType(
                name="microvm",
                max_cpus=288,
                default_cpu="qemu64",
                hotpluggable_cpus=False,
                numa=True,
            ),
            # isapc is a PC machine with PC's levels; microvm has none.
            MachineType(
                name="isapc",
                levels=levels,
                max_cpus=1,
                default_cpu="486",
                numa=True,
            ),
        ]
        return (*i440fx, *q35, *others)

    def default_machine(self, version: QemuVersion) -> str | None:
        return f"pc-i440fx-{version.major}.{version.minor}"

    # Start-time checks and warnings: see ._board.
    def check_board(self, board: BoardContext) -> list[QemuWarning]:
        return _board.check_board(
            board.machine_type, board.cpu_topology, board.options, board.version, board.memory
        )

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        # x86_get_default_cpu_node_id: the socket (package) id of the slot's APIC ID.
        assert slot.props.socket_id is not None
        return slot.props.socket_id % nodes

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
    unplug_rejected = staticmethod(_hotplug.unplug_rejected)
    # Warnings as a plugged CPU is realized: see ._tcg_features.
    plug_warnings = staticmethod(_tcg_features.plug_warnings)
    # What the guest knows each CPU by (for topology.abi): see ._identity.
    cpu_identity = staticmethod(_identity.cpu_identity)

    # qom-set of the ACPI CPU hot-plug switch, query-acpi-ospm-status: see ._acpi.
    sync_live = staticmethod(_acpi.sync_live)
    qom_links = staticmethod(_acpi.qom_links)

    def qmp_commands(self, board: BoardContext) -> Mapping[str, QmpCommand]:
        return _acpi.qmp_commands(board.version)


PLUGIN: Final = X86Plugin()
