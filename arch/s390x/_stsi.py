"""STSI 15.1.x: the topology list (SYSIB 15.1.x) a guest reads, as QEMU builds it.

Source: QEMU ``target/s390x/kvm/stsi-topology.c`` (8.2 to 10.x):
``insert_stsi_15_1_x`` (selector 2 = MNEST in 2..4, else cc 3; cc 3 also when
the list would not fit the 4 KiB SYSIB), ``setup_stsi`` (the magnitudes),
``s390_topology_from_cpu``/``s390_topology_id_cmp`` (one CPU entry per group of
CPUs with equal drawer, book, socket, type, polarization-entitlement,
dedication and origin; the order), ``stsi_topology_fill_sysib`` (container
entries and their numbering), ``fill_tle_cpu`` (the CPU entry's fields).
The layout is ``SysIB_151x``, ``SYSIBContainerListEntry`` and
``SysIBCPUListEntry`` of ``target/s390x/cpu.h``, big-endian:

* header, 16 bytes: 2 reserved, length (u16), mag6..mag1 (6 x u8), 1 reserved,
  mnest (u8), 4 reserved;
* container entry, 8 bytes: nesting level (u8), 6 reserved, id (u8);
* CPU entry, 16 bytes: nesting level 0 (u8), 3 reserved, flags (u8: bit 0x04
  dedicated, low two bits the entitlement in vertical polarization), CPU type
  (u8, IFL = 3), origin (u16, a multiple of 64), mask (u64; bit 63 - n is CPU
  address origin + n).

Note what the guest cannot learn here: container ids are running counters
(the socket counter restarts in each book, the book counter in each drawer),
not the ids QEMU placed the CPUs with, and empty containers are left out.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final

import attrs

from arch.s390x._facility import (
    CpuPlacement,
    Polarization,
    cpu_placements,
    has_topology,
    topology_state,
)
from topology import ParameterError

if TYPE_CHECKING:
    from topology import CpuTopology
    from topology.plugin import VmView

__all__ = [
    "CPU_TYPE_IFL",
    "ContainerEntry",
    "CpuEntry",
    "Sysib151",
    "build_sysib",
    "stsi_15_1",
]

CPU_TYPE_IFL: Final = 3
SYSIB_SIZE: Final = 4096
HEADER_SIZE: Final = 16
DEDICATED_FLAG: Final = 0x04
_ENTITLEMENT_VALUE: Final = {"low": 1, "medium": 2, "high": 3}


@attrs.frozen(kw_only=True)
class ContainerEntry:
    """A container topology-list entry: a socket (level 1), book (2) or drawer (3)."""

    level: int
    id: int

    def to_bytes(self) -> bytes:
        """The 8 bytes of this entry."""
        return struct.pack(">B6xB", self.level, self.id)


@attrs.frozen(kw_only=True)
class CpuEntry:
    """A CPU-type topology-list entry: CPUs of one socket with equal qualities.

    ``entitlement`` is 0 in horizontal polarization, else 1 (low), 2 (medium)
    or 3 (high); ``cpu_addresses`` are the CPUs the mask names.
    """

    dedicated: bool
    entitlement: int
    cpu_type: int = CPU_TYPE_IFL
    origin: int
    mask: int

    @property
    def cpu_addresses(self) -> tuple[int, ...]:
        """The CPU addresses (core-ids) the mask names, ascending."""
        return tuple(self.origin + bit for bit in range(64) if self.mask >> (63 - bit) & 1)

    @property
    def flags(self) -> int:
        """The flags byte: dedicated bit and entitlement."""
        return (DEDICATED_FLAG if self.dedicated else 0) | self.entitlement

    def to_bytes(self) -> bytes:
        """The 16 bytes of this entry."""
        return struct.pack(">B3xBBHQ", 0, self.flags, self.cpu_type, self.origin, self.mask)


@attrs.frozen(kw_only=True)
class Sysib151:
    """SYSIB 15.1.x: the magnitudes and the topology list, in the guest's order.

    ``mag`` is (mag6, mag5, mag4, mag3, mag2, mag1); mag1 counts CPUs per socket.
    """

    mnest: int
    mag: tuple[int, int, int, int, int, int]
    entries: tuple[ContainerEntry | CpuEntry, ...]

    @property
    def length(self) -> int:
        """The length field: header plus every entry, in bytes."""
        return HEADER_SIZE + sum(8 if isinstance(e, ContainerEntry) else 16 for e in self.entries)

    def to_bytes(self) -> bytes:
        """The SYSIB bytes QEMU writes to the guest (``length`` bytes)."""
        header = struct.pack(">2xH6BxB4x", self.length, *self.mag, self.mnest)
        return header + b"".join(entry.to_bytes() for entry in self.entries)

    @classmethod
    def from_bytes(cls, data: bytes) -> Sysib151:
        """Read a SYSIB 15.1.x (as a guest would find it in memory).

        >>> raw = bytes.fromhex(
        ...     "00000028 00000000 01020002 00000000"  # length 40, mag2 1, mag1 2, MNEST 2
        ...     "01000000 00000000"  # socket 0
        ...     "00000000 04030000 C0000000 00000000"  # CPUs 0 and 1, dedicated
        ... )
        >>> sysib = Sysib151.from_bytes(raw)
        >>> sysib.mnest, sysib.mag, sysib.cpu_addresses(), sysib.entries[1].dedicated
        (2, (0, 0, 0, 0, 1, 2), [0, 1], True)
        """
        if len(data) < HEADER_SIZE:
            raise ParameterError("a SYSIB 15.1.x has a 16-byte header", what="data")
        length, *mag, mnest = struct.unpack(">2xH6BxB4x", data[:HEADER_SIZE])
        if length > len(data):
            raise ParameterError(
                f"the SYSIB says {length} bytes but {len(data)} were given", what="length"
            )
        entries: list[ContainerEntry | CpuEntry] = []
        offset = HEADER_SIZE
        while offset < length:
            level = data[offset]
            if level:
                entries.append(ContainerEntry(level=level, id=data[offset + 7]))
                offset += 8
                continue
            _nl, flags, cpu_type, origin, mask = struct.unpack(
                ">B3xBBHQ", data[offset : offset + 16]
            )
            entries.append(
                CpuEntry(
                    dedicated=bool(flags & DEDICATED_FLAG),
                    entitlement=flags & 0x03,
                    cpu_type=cpu_type,
                    origin=origin,
                    mask=mask,
                )
            )
            offset += 16
        return cls(
            mnest=mnest,
            mag=(mag[0], mag[1], mag[2], mag[3], mag[4], mag[5]),
            entries=tuple(entries),
        )

    def cpu_addresses(self) -> list[int]:
        """Every CPU address in the list, in list order."""
        return [a for e in self.entries if isinstance(e, CpuEntry) for a in e.cpu_addresses]


def _magnitudes(smp: CpuTopology, mnest: int) -> tuple[int, int, int, int, int, int]:
    if mnest == 4:
        return (0, 0, smp.drawers, smp.books, smp.sockets, smp.cores)
    if mnest == 3:
        return (0, 0, 0, smp.drawers * smp.books, smp.sockets, smp.cores)
    return (0, 0, 0, 0, smp.drawers * smp.books * smp.sockets, smp.cores)


def _sort_key(placement: CpuPlacement, vertical: bool) -> tuple[int, int, int, int, int, int, int]:
    """``s390_topology_id_cmp``: higher entitlement first (vertical only), dedicated first."""
    value = _ENTITLEMENT_VALUE[placement.entitlement] if vertical else 0
    return (
        placement.drawer_id,
        placement.book_id,
        placement.socket_id,
        CPU_TYPE_IFL,
        -value,
        -int(placement.dedicated),
        placement.core_id // 64,
    )


def build_sysib(
    placements: Iterable[CpuPlacement],
    smp: CpuTopology,
    *,
    mnest: int,
    polarization: Polarization = "horizontal",
) -> Sysib151 | None:
    """The SYSIB 15.1.``mnest`` for CPUs placed so; None where QEMU sets cc 3.

    cc 3: ``mnest`` outside 2..4, or a list longer than the 4 KiB block.

    >>> import topology
    >>> smp = topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0").resolve(
    ...     "2,sockets=2,cores=1")
    >>> sysib = build_sysib([CpuPlacement(core_id=0), CpuPlacement(core_id=1, socket_id=1)],
    ...                     smp, mnest=2)
    >>> raw = sysib.to_bytes()  # checked by hand: see tests/unit/test_s390x_stsi.py
    >>> for at in range(0, len(raw), 16):
    ...     print(raw[at : at + 16].hex(" ", -4))
    00000040 00000000 02010002 00000000
    01000000 00000000 00000000 00030000
    80000000 00000000 01000000 00000001
    00000000 00030000 40000000 00000000
    """
    if not 2 <= mnest <= 4:
        return None
    vertical = polarization == "vertical"
    groups: dict[tuple[int, int, int, int, int, int, int], tuple[CpuPlacement, int]] = {}
    for placement in placements:
        key = _sort_key(placement, vertical)
        first, mask = groups.get(key, (placement, 0))
        groups[key] = (first, mask | 1 << (63 - placement.core_id % 64))
    entries: list[ContainerEntry | CpuEntry] = []
    last: tuple[int, int, int] | None = None
    drawer_no = book_no = socket_no = 0
    for key in sorted(groups):
        first, mask = groups[key]
        drawer_change = last is None or last[0] != first.drawer_id
        book_change = drawer_change or (last is not None and last[1] != first.book_id)
        socket_change = book_change or (last is not None and last[2] != first.socket_id)
        if mnest > 3 and drawer_change:
            entries.append(ContainerEntry(level=3, id=drawer_no))
            drawer_no += 1
            book_no = 0
        if mnest > 2 and book_change:
            entries.append(ContainerEntry(level=2, id=book_no))
            book_no += 1
            socket_no = 0
        if socket_change:
            entries.append(ContainerEntry(level=1, id=socket_no))
            socket_no += 1
        entries.append(
            CpuEntry(
                # The group's first CPU stands for it (in horizontal mode CPUs
                # of any entitlement share an entry; the flags then carry none).
                dedicated=first.dedicated,
                entitlement=_ENTITLEMENT_VALUE[first.entitlement] if vertical else 0,
                origin=key[6] * 64,
                mask=mask,
            )
        )
        last = first.socket_key
    sysib = Sysib151(mnest=mnest, mag=_magnitudes(smp, mnest), entries=tuple(entries))
    return sysib if sysib.length <= SYSIB_SIZE else None


def stsi_15_1(vm: VmView, mnest: int) -> Sysib151 | None:
    """What the guest of ``vm`` reads with STSI 15.1.``mnest``; None for cc 3.

    cc 3 also when the machine lacks the configuration-topology facility
    (any TCG guest: see :func:`has_topology`).
    """
    if not has_topology(vm.machine):
        return None
    return build_sysib(
        cpu_placements(vm),
        vm.topology,
        mnest=mnest,
        polarization=topology_state(vm).polarization,
    )


def entries_text(entries: Sequence[ContainerEntry | CpuEntry]) -> list[str]:
    """A readable line per entry (``socket 0``, ``cpus 0-3 medium``), indented by level."""
    names = {1: "socket", 2: "book", 3: "drawer"}
    lines = []
    for entry in entries:
        if isinstance(entry, ContainerEntry):
            lines.append(f"{'  ' * (3 - entry.level)}{names[entry.level]} {entry.id}")
        else:
            quality = ["horizontal", "low", "medium", "high"][entry.entitlement]
            dedicated = " dedicated" if entry.dedicated else ""
            cpus = ",".join(str(a) for a in entry.cpu_addresses)
            lines.append(f"{'  ' * 3}cpus {cpus} {quality}{dedicated}")
    return lines
