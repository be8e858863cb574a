"""What an x86 guest reads from the CPUID topology leaves 0xB, 0x1F and 0x8000001E.

QEMU fills these from the APIC ID layout (``target/i386/cpu.c``,
``cpu_x86_cpuid``, ``encode_topo_cpuid1f`` and ``encode_topo_cpuid8000001e``).

Leaves 0xB and 0x1F (Intel SDM vol. 2A, CPUID): subleaf ``n`` (input ECX)
describes the n-th topology level from the thread up. EAX[4:0] is the right
shift of the x2APIC ID that gives the id of the *next* level, EBX[15:0] the
number of logical processors in one unit of that next level, ECX[7:0] the
subleaf again, ECX[15:8] the level type (1 SMT, 2 core, 3 module, 5 die; 0
ends the list) and EDX the x2APIC ID. QEMU keeps EBX to its low 16 bits and
ECX[7:0] to the low 8 bits of the subleaf.

* Leaf 0xB has two levels, SMT and core; the core level shifts to the socket.
  Up to QEMU 8.1 its core-level EBX was cores x threads of one *die*
  (``CPUState::nr_cores`` counted cores per die); 8.2 made it the threads of
  the whole socket (commit 958ac3c42b, "system/cpus: Fix CPUState.nr_cores'
  calculation"). The leaf is all zeros with ``-cpu ...,cpuid-0xb=off``
  (the default of pc machine types up to 2.6).
* Leaf 0x1F lists SMT, core, then module (``modules`` > 1, QEMU 9.1+) and die
  (``dies`` > 1). It is all zeros unless there are several dies or modules,
  or (10.1+) the CPU forces it (``x-force-cpuid-0x1f``, set by the
  ``SapphireRapids-v4``, ``GraniteRapids-v3``, ``SierraForest-v3`` and
  ``YongFeng-v3`` models and by TDX guests). From 9.1 QEMU walks a list of
  present levels (commit 822bce9f58) and asserts that the subleaf is at most 5:
  a TCG guest asking for a higher subleaf makes QEMU abort.
* Leaf 0x8000001E (AMD): EAX is the APIC ID, EBX ``(threads - 1) << 8`` with
  the core id (within its module) in bits 7:0, EDX 0. ECX is the socket id
  in bits 7:0 from QEMU 9.1; machine types up to 9.0 (``legacy-multi-node``,
  and every machine type before QEMU 9.1) report ``(dies - 1) << 8`` with
  ``(apic_id >> die_offset) & 0xFF``, which mixes socket bits into the die id.
  The leaf is all zeros for a core id above 255.

A guest only sees a leaf up to the CPU's maximum leaf: QEMU raises the basic
level to 0x1F for Intel-vendor models when leaf 0x1F has levels (and, on
machine types up to 6.0, for any vendor); the AMD-vendor default ``qemu64``
keeps level 0xD, and an input above the maximum returns the maximum leaf's
answer. Leaf 0x8000001E needs an extended level of 0x8000001E (EPYC models).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

import attrs

from arch.x86._apic import APIC_ID_MAX, ApicLayout
from topology import CpuTopology, ParameterError, QemuVersion
from topology import qemu_version as _version
from topology.plugin import release_key

__all__ = [
    "LEVEL_TYPE_CODES",
    "CpuidRegs",
    "LevelType",
    "TopologyLevel",
    "cpuid_leaf_0b",
    "cpuid_leaf_1f",
    "cpuid_leaf_8000001e",
    "leaf_1f_reported",
    "topology_levels",
]

LevelType = Literal["invalid", "smt", "core", "module", "die"]

#: ECX[15:8] of leaves 0xB and 0x1F, as the Intel SDM numbers the level types.
LEVEL_TYPE_CODES: Final[Mapping[LevelType, int]] = {
    "invalid": 0,
    "smt": 1,
    "core": 2,
    "module": 3,
    "die": 5,
}

#: What the layout or topology may be given as.
Source: TypeAlias = ApicLayout | CpuTopology

_UINT32: Final = APIC_ID_MAX
_PC_VERSIONED = re.compile(r"pc-(?:q35|i440fx)-(\d+\.\d+)(?:\.\d+)?")


@attrs.frozen(kw_only=True)
class CpuidRegs:
    """The four registers one CPUID query returns.

    >>> CpuidRegs(eax=1, ebx=2, ecx=0x100, edx=5)
    CpuidRegs(eax=0x00000001, ebx=0x00000002, ecx=0x00000100, edx=0x00000005)
    """

    eax: int
    ebx: int
    ecx: int
    edx: int

    def __repr__(self) -> str:
        return (
            f"CpuidRegs(eax={self.eax:#010x}, ebx={self.ebx:#010x}, "
            f"ecx={self.ecx:#010x}, edx={self.edx:#010x})"
        )


@attrs.frozen(kw_only=True)
class TopologyLevel:
    """One subleaf of leaf 0xB or 0x1F, decoded.

    Attributes:
        number: the subleaf (ECX[7:0]).
        type: the level type (ECX[15:8]), by name.
        shift: EAX[4:0], the x2APIC ID shift to the next level's id.
        count: EBX[15:0], the logical processors in one unit of the next level.
    """

    number: int
    type: LevelType
    shift: int
    count: int

    @property
    def type_code(self) -> int:
        """The level type as the SDM numbers it (ECX[15:8])."""
        return LEVEL_TYPE_CODES[self.type]


def _layout(source: Source, version: QemuVersion) -> ApicLayout:
    if isinstance(source, ApicLayout):
        layout = source
    elif isinstance(source, CpuTopology):
        layout = ApicLayout.for_topology(
            dies=source.dies, modules=source.modules, cores=source.cores, threads=source.threads
        )
    else:
        raise ParameterError(
            f"expected an ApicLayout or a CpuTopology, not {type(source).__name__}",
            what="topology",
            value=source,
        )
    if layout.modules > 1 and not version.at_least("9.1"):
        raise ParameterError(
            f"x86 has no module level before QEMU 9.1 (modules={layout.modules}, QEMU {version})",
            what="modules",
            value=layout.modules,
        )
    return layout


def _check_apic_id(source: Source, layout: ApicLayout, apic_id: int) -> None:
    ids = layout.decode(apic_id)
    for name, value, count, level in (
        ("die", ids.die_id, layout.dies, "dies"),
        ("module", ids.module_id, layout.modules, "modules"),
        ("core", ids.core_id, layout.cores, "cores"),
        ("thread", ids.thread_id, layout.threads, "threads"),
    ):
        if value >= count:
            raise ParameterError(
                f"APIC ID {apic_id} is no CPU's: its {name} field is {value}, but {level}={count}",
                what="apic_id",
                value=apic_id,
            )
    if isinstance(source, CpuTopology) and ids.socket_id >= source.sockets:
        raise ParameterError(
            f"APIC ID {apic_id} is no CPU's: its socket field is {ids.socket_id}, "
            f"but sockets={source.sockets}",
            what="apic_id",
            value=apic_id,
        )


def _check_subleaf(subleaf: int) -> None:
    if type(subleaf) is not int or not 0 <= subleaf <= _UINT32:
        raise ParameterError(
            f"subleaf must be an integer in range 0:{_UINT32}, not {subleaf!r}",
            what="subleaf",
            value=subleaf,
        )


def _level(number: int, kind: LevelType, shift: int, count: int) -> TopologyLevel:
    # QEMU asserts that the shift fits EAX[4:0].
    if shift > 0x1F:
        raise ParameterError(
            f"the {kind} level's shift {shift} does not fit CPUID EAX[4:0]: QEMU aborts",
            what="topology",
            value=shift,
        )
    return TopologyLevel(number=number, type=kind, shift=shift, count=count & 0xFFFF)


def _levels_0b(layout: ApicLayout, version: QemuVersion) -> tuple[TopologyLevel, ...]:
    threads = layout.threads
    per_socket = threads * layout.cores * layout.modules * layout.dies
    # Up to 8.1 the core level counted the threads of one die (nr_cores = smp.cores).
    core_count = per_socket if version.at_least("8.2") else threads * layout.cores
    return (
        _level(0, "smt", layout.core_offset, threads),
        _level(1, "core", layout.pkg_offset, core_count),
    )


def _reported_1f(layout: ApicLayout, version: QemuVersion, force: bool) -> bool:
    if force and not version.at_least("10.1"):
        raise ParameterError(
            f"QEMU {version} cannot force leaf 0x1F (x-force-cpuid-0x1f is new in 10.1)",
            what="force_1f",
            value=force,
        )
    return force or layout.dies > 1 or layout.modules > 1


def _levels_1f(layout: ApicLayout, version: QemuVersion, force: bool) -> tuple[TopologyLevel, ...]:
    if not _reported_1f(layout, version, force):
        return ()
    threads = layout.threads
    # Each level reports the shift and the size of the next present level up.
    kinds: list[LevelType] = ["smt", "core"]
    above = [(layout.core_offset, threads)]
    if layout.modules > 1:
        kinds.append("module")
        above.append((layout.module_offset, threads * layout.cores))
    if layout.dies > 1:
        kinds.append("die")
        above.append((layout.die_offset, threads * layout.cores * layout.modules))
    above.append((layout.pkg_offset, threads * layout.cores * layout.modules * layout.dies))
    return tuple(_level(number, kind, *above[number]) for number, kind in enumerate(kinds))


def topology_levels(
    source: Source,
    *,
    leaf: int = 0x1F,
    qemu_version: str | QemuVersion | None = None,
    force_1f: bool = False,
    cpuid_0xb: bool = True,
) -> tuple[TopologyLevel, ...]:
    """The levels leaf 0xB or 0x1F lists, without the closing invalid subleaf.

    ``source`` is an :class:`ApicLayout` or a resolved ``CpuTopology``;
    ``qemu_version`` defaults to the newest supported release. ``force_1f``
    is the CPU's ``x-force-cpuid-0x1f`` (QEMU 10.1+), ``cpuid_0xb`` its
    ``cpuid-0xb``. A leaf that QEMU leaves all zeros has no levels.

    >>> layout = ApicLayout.for_topology(dies=2, cores=3, threads=2)
    >>> for level in topology_levels(layout):
    ...     print(level)
    TopologyLevel(number=0, type='smt', shift=1, count=2)
    TopologyLevel(number=1, type='core', shift=3, count=6)
    TopologyLevel(number=2, type='die', shift=4, count=12)
    >>> topology_levels(layout, leaf=0xB, qemu_version="7.2")[-1].count
    6
    """
    version = _version(qemu_version)
    layout = _layout(source, version)
    if leaf == 0xB:
        return _levels_0b(layout, version) if cpuid_0xb else ()
    if leaf == 0x1F:
        return _levels_1f(layout, version, force_1f)
    raise ParameterError(f"leaf must be 0xB or 0x1F, not {leaf!r}", what="leaf", value=leaf)


def leaf_1f_reported(
    source: Source, *, qemu_version: str | QemuVersion | None = None, force_1f: bool = False
) -> bool:
    """Whether QEMU fills leaf 0x1F (several dies or modules, or forced), or leaves it zero.

    >>> leaf_1f_reported(ApicLayout.for_topology(cores=4, threads=2))
    False
    >>> leaf_1f_reported(ApicLayout.for_topology(modules=2, cores=4, threads=2))
    True
    """
    version = _version(qemu_version)
    return _reported_1f(_layout(source, version), version, force_1f)


def _subleaf_regs(levels: tuple[TopologyLevel, ...], apic_id: int, subleaf: int) -> CpuidRegs:
    if subleaf < len(levels):
        level = levels[subleaf]
        ecx = (subleaf & 0xFF) | level.type_code << 8
        return CpuidRegs(eax=level.shift, ebx=level.count, ecx=ecx, edx=apic_id)
    return CpuidRegs(eax=0, ebx=0, ecx=subleaf & 0xFF, edx=apic_id)


def cpuid_leaf_0b(
    source: Source,
    apic_id: int,
    subleaf: int,
    *,
    qemu_version: str | QemuVersion | None = None,
    cpuid_0xb: bool = True,
) -> CpuidRegs:
    """CPUID leaf 0xB, subleaf ``subleaf``, on the CPU with that APIC ID.

    ``apic_id`` must be a CPU's (not in a gap of the layout).

    >>> layout = ApicLayout.for_topology(dies=2, cores=3, threads=2)
    >>> cpuid_leaf_0b(layout, 29, 1)
    CpuidRegs(eax=0x00000004, ebx=0x0000000c, ecx=0x00000201, edx=0x0000001d)
    >>> cpuid_leaf_0b(layout, 29, 1, qemu_version="8.1").ebx
    6
    >>> cpuid_leaf_0b(layout, 29, 2)
    CpuidRegs(eax=0x00000000, ebx=0x00000000, ecx=0x00000002, edx=0x0000001d)
    """
    version = _version(qemu_version)
    layout = _layout(source, version)
    _check_apic_id(source, layout, apic_id)
    _check_subleaf(subleaf)
    if not cpuid_0xb:
        return CpuidRegs(eax=0, ebx=0, ecx=0, edx=0)
    return _subleaf_regs(_levels_0b(layout, version), apic_id, subleaf)


def cpuid_leaf_1f(
    source: Source,
    apic_id: int,
    subleaf: int,
    *,
    qemu_version: str | QemuVersion | None = None,
    force_1f: bool = False,
) -> CpuidRegs:
    """CPUID leaf 0x1F, subleaf ``subleaf``, on the CPU with that APIC ID.

    All zeros when QEMU does not report the leaf (see :func:`leaf_1f_reported`).
    From QEMU 9.1 a subleaf above 5 is refused: QEMU aborts on it.

    >>> layout = ApicLayout.for_topology(dies=2, cores=3, threads=2)
    >>> cpuid_leaf_1f(layout, 29, 2)
    CpuidRegs(eax=0x00000004, ebx=0x0000000c, ecx=0x00000502, edx=0x0000001d)
    >>> cpuid_leaf_1f(ApicLayout.for_topology(cores=3, threads=2), 5, 0)
    CpuidRegs(eax=0x00000000, ebx=0x00000000, ecx=0x00000000, edx=0x00000000)
    """
    version = _version(qemu_version)
    layout = _layout(source, version)
    _check_apic_id(source, layout, apic_id)
    _check_subleaf(subleaf)
    if not _reported_1f(layout, version, force_1f):
        return CpuidRegs(eax=0, ebx=0, ecx=0, edx=0)
    if subleaf > 5 and version.at_least("9.1"):
        raise ParameterError(
            f"CPUID 0x1F subleaf {subleaf}: QEMU {version} aborts on subleaves above 5 "
            "(assertion in encode_topo_cpuid1f)",
            what="subleaf",
            value=subleaf,
        )
    return _subleaf_regs(_levels_1f(layout, version, force_1f), apic_id, subleaf)


def _legacy_multi_node(version: QemuVersion, machine_type: str | None) -> bool:
    if not version.at_least("9.1"):
        return True
    if machine_type is None:
        return False
    match = _PC_VERSIONED.fullmatch(machine_type)
    # pc_compat_9_0 turns legacy-multi-node on for pc-*-9.0 and older.
    return match is not None and release_key(match[1]) <= (9, 0)


def cpuid_leaf_8000001e(
    source: Source,
    apic_id: int,
    *,
    qemu_version: str | QemuVersion | None = None,
    machine_type: str | None = None,
    legacy_multi_node: bool | None = None,
) -> CpuidRegs:
    """CPUID leaf 0x8000001E (AMD extended APIC ID, core and node ids) on that CPU.

    ``machine_type`` (``pc-q35-9.0``) decides ``legacy-multi-node`` from QEMU
    9.1 on; ``legacy_multi_node`` overrides it (``-cpu ...,legacy-multi-node=on``).
    Before 9.1 every machine type uses the legacy node ids.

    >>> layout = ApicLayout.for_topology(dies=2, cores=3, threads=2)
    >>> cpuid_leaf_8000001e(layout, 29)
    CpuidRegs(eax=0x0000001d, ebx=0x00000102, ecx=0x00000001, edx=0x00000000)
    >>> cpuid_leaf_8000001e(layout, 29, machine_type="pc-q35-9.0")
    CpuidRegs(eax=0x0000001d, ebx=0x00000102, ecx=0x00000103, edx=0x00000000)
    """
    version = _version(qemu_version)
    layout = _layout(source, version)
    _check_apic_id(source, layout, apic_id)
    if legacy_multi_node is None:
        legacy_multi_node = _legacy_multi_node(version, machine_type)
    elif not version.at_least("9.1") and not legacy_multi_node:
        raise ParameterError(
            f"QEMU {version} has no legacy-multi-node property: node ids are always legacy",
            what="legacy_multi_node",
            value=legacy_multi_node,
        )
    ids = layout.decode(apic_id)
    if ids.core_id > 255:
        return CpuidRegs(eax=0, ebx=0, ecx=0, edx=0)
    ebx = (layout.threads - 1) << 8 | ids.core_id
    if legacy_multi_node:
        ecx = ((layout.dies - 1) << 8 | (apic_id >> layout.die_offset) & 0xFF) & _UINT32
    else:
        ecx = (apic_id >> layout.pkg_offset) & 0xFF
    return CpuidRegs(eax=apic_id, ebx=ebx & _UINT32, ecx=ecx, edx=0)
