"""pseries machine types by QEMU release, and the checks the sPAPR board makes at start.

Sources: ``qemu-system-ppc64 -machine help`` of QEMU 7.2; ``hw/ppc/spapr.c``
(``spapr_machine_class_init``, ``spapr_set_vsmt_mode``, ``spapr_init_cpus``);
the shared notes §3.
"""

from __future__ import annotations

import functools
from typing import Final

from arch.spapr import _caps, _hotplug, _identity, _irq, _kvm
from topology import BoardError, MachineType, QemuVersion, QemuWarning
from topology.plugin import (
    AGE_DEPRECATION_REASON,
    BoardContext,
    CpuSlot,
    RamLayout,
    VmView,
    deprecated_by_age,
    release_key,
    releases_between,
    versioned_machine_type,
)

__all__ = ["PLUGIN", "SpaprPlugin"]


_MIB: Final = 1024 * 1024
# SPAPR_MEMORY_BLOCK_SIZE, and SPAPR_MAX_RAM_SLOTS.
_MEMORY_BLOCK_MIB: Final = 256
_MAX_RAM_SLOTS: Final = 32

# CPU models older than POWER8 (observed on QEMU 10.0: power7 refuses SMT under TCG).
_BEFORE_POWER8: Final = ("power5", "power6", "power7", "970")


def _oldest(version: QemuVersion) -> str:
    # pseries-2.1 ... 2.12 (and 2.12-sxxm) were removed in 9.2.
    return "3.0" if version.at_least("9.2") else "2.1"


def _max_cpus(version: QemuVersion) -> int:
    # A property of the QEMU binary, not of the machine version. Upstream 7.2.0
    # had INT32_MAX, but the 4096 limit of 9.0 was backported to 7.2.11, and
    # Debian's 7.2.22 enforces it.
    if version.at_least("9.0") or version == QemuVersion(7, 2):
        return 4096
    return 2**31 - 1


def _default_cpu(version: QemuVersion, release: str) -> str:
    """Default CPU model of pseries-``release`` in QEMU ``version`` (spapr class options)."""
    key = release_key(release)
    if key <= (2, 7):
        return "power7_v2.3"
    if key <= (3, 1):
        return "power8_v2.0"
    if key >= (11, 1):
        return "power11_v2.0"  # query-machines of QEMU 11.1: pseries-11.1 only
    if key >= (9, 0) and version.at_least("9.0"):
        return "power10_v2.0"
    if version.at_least("10.0"):
        return "power9_v2.2"
    if version.at_least("9.0"):
        return "power10_v2.0"  # 9.0-9.2 gave every type power10 (fixed in 10.0)
    if version.at_least("8.1"):
        return "power9_v2.2"
    return "power9_v2.0"


def _deprecation(release: str, version: QemuVersion) -> str | None:
    if deprecated_by_age(release, version):
        return AGE_DEPRECATION_REASON
    if version == QemuVersion(9, 0) and release_key(release) <= (2, 11):
        return "old and not maintained - use a 2.12+ version"
    return None


def _check_memory(memory: RamLayout) -> None:
    """``spapr_validate_node_memory``: everything in whole 256 MiB blocks."""
    block = _MEMORY_BLOCK_MIB * _MIB
    if memory.ram_size % block:
        raise BoardError(
            f"Memory size 0x{memory.ram_size:x} is not aligned to {_MEMORY_BLOCK_MIB} MiB",
            what="size",
            value=memory.ram_size,
        )
    if memory.max_ram_size % block:
        # QEMU prints the RAM size here, not the maximum (observed on 7.2 and 10.0).
        raise BoardError(
            f"Maximum memory size 0x{memory.ram_size:x} is not aligned to {_MEMORY_BLOCK_MIB} MiB",
            what="maxmem",
            value=memory.max_ram_size,
        )
    for node, size in enumerate(memory.node_memory):
        if size % block:
            raise BoardError(
                f"Node {node} memory size 0x{size:x} is not aligned to {_MEMORY_BLOCK_MIB} MiB",
                what="numa",
                value=size,
            )


class SpaprPlugin:
    """QEMU's ``pseries-*`` machine types."""

    name = "spapr"
    targets = ("ppc64",)
    capabilities = frozenset(
        {
            "check_driver",
            "check_machine_options",
            "check_reset",
            "cpu_identity",
            "deleted_devices",
            "child_devices",
            "unplug_rejected",
            "reset_unplugs",
        }
    )

    @functools.cache  # noqa: B019 - one small list per QEMU release, kept for the process
    def machine_types(self, version: QemuVersion) -> tuple[MachineType, ...]:
        newest = f"{version.major}.{version.minor}"
        releases = releases_between(_oldest(version), version)
        if "2.12" in releases:
            releases.insert(releases.index("2.12"), "2.12-sxxm")
        return tuple(
            versioned_machine_type(
                f"pseries-{release}",
                release=release,
                version=version,
                aliases=("pseries",) if release == newest else (),
                max_cpus=_max_cpus(version),
                default_cpu=_default_cpu(version, release),
                numa=True,
                auto_numa=True,
                default_ram_size=512 * _MIB,
                # CPU hot-plug came with pseries-2.7 (observed on QEMU 7.2).
                hotpluggable_cpus=release_key(release) >= (2, 7),
                deprecation_reason=_deprecation(release, version),
            )
            for release in releases
        )

    def default_machine(self, version: QemuVersion) -> str | None:
        return f"pseries-{version.major}.{version.minor}"

    def check_board(self, board: BoardContext) -> list[QemuWarning]:
        machine_type, options, version = board.machine_type, board.options, board.version
        topology, memory = board.cpu_topology, board.memory
        threads = topology.threads
        tcg = options.get("accel", "tcg") == "tcg"
        if tcg and threads > 1 and not version.at_least("8.1"):
            raise BoardError(
                "TCG cannot support more than 1 thread/core on a pseries machine",
                what="threads",
                value=threads,
            )
        model = machine_type.cpu_model(options)[0].lower()
        if tcg and threads > 1 and version.at_least("8.1") and model.startswith(_BEFORE_POWER8):
            raise BoardError(
                "TCG only supports SMT on POWER8 or newer CPUs", what="threads", value=threads
            )
        if tcg and threads > 8:
            raise BoardError(
                "TCG cannot support more than 8 threads/core on a pseries machine",
                what="threads",
                value=threads,
            )
        # Observed on 7.2: the TCG refusal comes before the power-of-2 check.
        if threads & (threads - 1):
            raise BoardError(
                f"Cannot support {threads} threads/core on a pseries machine because it "
                "must be a power of 2",
                what="threads",
                value=threads,
            )
        # Observed on 10.0: vsmt is checked next, before memory and cpus % threads.
        _identity.check_vsmt(options, threads)
        warnings: list[QemuWarning] = []
        if not tcg:
            # spapr_set_vsmt_mode, KVM part: the host's SMT modes (see ._kvm).
            warnings += _kvm.check_kvm_vsmt(
                vsmt=_identity.effective_vsmt(machine_type, threads, options),
                threads=threads,
                user_vsmt=_identity.requested_vsmt(options) is not None,
                options=options,
            )
        # spapr_irq_init runs after spapr_set_vsmt_mode and before the memory
        # and CPU checks (observed on 7.2 and 10.0).
        _irq.check_xive_cpu(machine_type, options)
        if memory is not None:
            _check_memory(memory)
        if not machine_type.hotpluggable_cpus:
            # spapr_init_cpus: types without CPU hot-plug (2.6 and older) check
            # only that no CPU is left to plug (observed on QEMU 7.2).
            if topology.max_cpus != topology.cpus:
                raise BoardError(
                    "This machine version does not support CPU hotplug",
                    what="maxcpus",
                    value=topology.max_cpus,
                )
        elif topology.cpus % threads:
            raise BoardError(
                f"smp_cpus ({topology.cpus}) must be multiple of threads ({threads})",
                what="cpus",
                value=topology.cpus,
            )
        elif topology.max_cpus % threads:
            raise BoardError(
                f"max_cpus ({topology.max_cpus}) must be multiple of threads ({threads})",
                what="maxcpus",
                value=topology.max_cpus,
            )
        if memory is not None and memory.slots > _MAX_RAM_SLOTS:
            raise BoardError(
                f"Specified number of memory slots {memory.slots} exceeds max supported "
                f"{_MAX_RAM_SLOTS}",
                what="slots",
                value=memory.slots,
            )
        return warnings

    def check_reset(self, board: BoardContext) -> list[QemuWarning]:
        machine_type, options, version = board.machine_type, board.options, board.version
        """The capabilities under TCG: ``spapr_caps_apply`` runs at the first machine
        reset, after the ``-device`` CPUs (observed on 7.2 and 10.0). See ``._caps``."""
        if options.get("accel", "tcg") != "tcg":
            return []
        return _caps.check_caps(machine_type, options, version)

    def reset_unplugs(self, vm: VmView) -> list[int]:
        """A reset releases every DRC whose unplug waits for the guest (observed on
        QEMU 10.0: ``system_reset`` after ``device_del`` of a core given with
        ``-device`` sends its ``DEVICE_DELETED`` events, then ``RESET``)."""
        pending = []
        for slot in vm.slots:
            state = vm.state(slot.index)
            if state is not None and state.unplug_pending:
                pending.append(slot.index)
        return pending

    def check_machine_options(self, board: BoardContext) -> None:
        machine_type, options = board.machine_type, board.options
        """QEMU's errors for ``vsmt=`` and ``ic-mode=`` values, when ``-machine`` is applied.

        They come before every ``-smp`` value check and whatever order they were
        given in, vsmt first (observed on QEMU 7.2 and 10.0).
        """
        _identity.requested_vsmt(options)
        _irq.check_ic_mode(machine_type, options)

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        # spapr_get_default_cpu_node_id: core slot index / cores, i.e. the socket.
        return slot.index // board.cpu_topology.cores % nodes

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
    deleted_devices = staticmethod(_irq.deleted_devices)
    child_devices = staticmethod(_irq.child_devices)
    unplug_rejected = staticmethod(_hotplug.unplug_rejected)
    # What the guest knows each CPU by (for topology.abi): see ._identity.
    cpu_identity = staticmethod(_identity.cpu_identity)


PLUGIN: Final = SpaprPlugin()
