"""x86 APIC IDs: QEMU packs socket, die, module, core and thread ids into bit fields.

Each field is as wide as its count needs (``ceil(log2(count))`` bits, 0 for a
count of 1), from the thread field at bit 0 up to the socket field, which has
no width limit (``include/hw/i386/topology.h``). Counts that are not powers of
two therefore leave gaps: with 3 cores, core ids 0-2 use 2 bits and APIC IDs
go 0, 1, 2, 4, 5, 6, ...
"""

from __future__ import annotations

from typing import Final

import attrs

from topology import ParameterError

__all__ = ["ApicLayout", "TopoIds"]

#: APIC IDs are 32-bit in QEMU (``apic_id_t``).
APIC_ID_MAX: Final = 0xFFFFFFFF


def _width(count: int) -> int:
    return (count - 1).bit_length()


def _count(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        raise ParameterError(
            f"{attribute.name} must be a positive integer, not {value!r}",
            what=attribute.name,
            value=value,
        )


def _check_id(name: str, value: int, count: int | None, counted: str) -> None:
    if type(value) is not int:
        raise ParameterError(f"{name} must be an integer, not {value!r}", what=name, value=value)
    if count is None:
        if value < 0:
            raise ParameterError(f"{name} must be >= 0, not {value}", what=name, value=value)
    elif not 0 <= value < count:
        raise ParameterError(
            f"{name} must be in range 0:{count - 1} ({counted}={count}), not {value}",
            what=name,
            value=value,
        )


@attrs.frozen(kw_only=True)
class TopoIds:
    """The five ids an APIC ID encodes (QEMU's ``X86CPUTopoIDs``).

    ``socket_id`` is QEMU's ``pkg_id``; the others count within the level
    above (the die within its socket, the core within its module, ...).

    >>> from arch.x86 import ApicLayout
    >>> ApicLayout.for_topology(dies=2, cores=3, threads=2).decode(13)
    TopoIds(socket_id=0, die_id=1, module_id=0, core_id=2, thread_id=1)
    """

    socket_id: int
    die_id: int
    module_id: int
    core_id: int
    thread_id: int


@attrs.frozen(kw_only=True)
class ApicLayout:
    """Field widths and offsets of the APIC ID for one topology.

    The counts are per unit of the level above: ``dies`` per socket,
    ``modules`` per die, ``cores`` per module, ``threads`` per core. The
    widths and offsets are derived from them (``apicid_*_width`` and
    ``apicid_*_offset`` in ``include/hw/i386/topology.h``); sockets need no
    count, because the socket field is the unbounded top of the ID.

    >>> layout = ApicLayout.for_topology(cores=3, threads=2)
    >>> layout.core_offset, layout.pkg_offset
    (1, 3)
    >>> [layout.apic_id_from_index(i) for i in range(8)]
    [0, 1, 2, 3, 4, 5, 8, 9]
    >>> layout.decode(9)
    TopoIds(socket_id=1, die_id=0, module_id=0, core_id=0, thread_id=1)
    >>> ApicLayout.for_topology(cores=0, threads=1)
    Traceback (most recent call last):
    ...
    topology.ParameterError: cores must be a positive integer, not 0
    """

    dies: int = attrs.field(default=1, validator=_count)
    modules: int = attrs.field(default=1, validator=_count)
    cores: int = attrs.field(validator=_count)
    threads: int = attrs.field(validator=_count)
    smt_width: int = attrs.field(init=False)
    core_width: int = attrs.field(init=False)
    module_width: int = attrs.field(init=False)
    die_width: int = attrs.field(init=False)
    core_offset: int = attrs.field(init=False)
    module_offset: int = attrs.field(init=False)
    die_offset: int = attrs.field(init=False)
    pkg_offset: int = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        smt, core = _width(self.threads), _width(self.cores)
        module, die = _width(self.modules), _width(self.dies)
        for name, value in (
            ("smt_width", smt),
            ("core_width", core),
            ("module_width", module),
            ("die_width", die),
            ("core_offset", smt),
            ("module_offset", smt + core),
            ("die_offset", smt + core + module),
            ("pkg_offset", smt + core + module + die),
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def for_topology(
        cls, *, dies: int = 1, modules: int = 1, cores: int, threads: int
    ) -> ApicLayout:
        """The layout for ``dies`` per socket, ``modules`` per die, ``cores`` per module
        and ``threads`` per core.

        Every count must be a positive integer (:class:`topology.ParameterError`
        otherwise). QEMU before 9.1 has no module level: pass ``modules=1``.

        >>> ApicLayout.for_topology(dies=2, modules=2, cores=3, threads=2).pkg_offset
        5
        """
        return cls(dies=dies, modules=modules, cores=cores, threads=threads)

    def apic_id(
        self, *, socket_id: int, die_id: int = 0, module_id: int = 0, core_id: int, thread_id: int
    ) -> int:
        """The APIC ID of the CPU at those ids (``x86_apicid_from_topo_ids``).

        Each id must lie within its level's count; the socket id only has to
        be non-negative.

        >>> layout = ApicLayout.for_topology(dies=2, cores=3, threads=2)
        >>> layout.apic_id(socket_id=1, die_id=1, core_id=2, thread_id=1)
        29
        >>> layout.apic_id(socket_id=0, core_id=3, thread_id=0)
        Traceback (most recent call last):
        ...
        topology.ParameterError: core_id must be in range 0:2 (cores=3), not 3
        """
        _check_id("socket_id", socket_id, None, "")
        _check_id("die_id", die_id, self.dies, "dies")
        _check_id("module_id", module_id, self.modules, "modules")
        _check_id("core_id", core_id, self.cores, "cores")
        _check_id("thread_id", thread_id, self.threads, "threads")
        return self._pack(socket_id, die_id, module_id, core_id, thread_id)

    def _pack(
        self, socket_id: int, die_id: int, module_id: int, core_id: int, thread_id: int
    ) -> int:
        # Unchecked: for callers whose ids are valid by construction.
        return (
            socket_id << self.pkg_offset
            | die_id << self.die_offset
            | module_id << self.module_offset
            | core_id << self.core_offset
            | thread_id
        )

    def _ids(self, cpu_index: int) -> tuple[int, int, int, int, int]:
        # (socket, die, module, core, thread) of an index, unchecked and without
        # allocating a TopoIds: slot building calls this maxcpus times.
        threads, cores, modules, dies = self.threads, self.cores, self.modules, self.dies
        return (
            cpu_index // (dies * modules * cores * threads),
            cpu_index // (modules * cores * threads) % dies,
            cpu_index // (cores * threads) % modules,
            cpu_index // threads % cores,
            cpu_index % threads,
        )

    def ids_from_index(self, cpu_index: int) -> TopoIds:
        """The ids of the CPU with that index (``x86_topo_ids_from_idx``).

        >>> ApicLayout.for_topology(cores=3, threads=2).ids_from_index(7)
        TopoIds(socket_id=1, die_id=0, module_id=0, core_id=0, thread_id=1)
        """
        _check_id("cpu_index", cpu_index, None, "")
        socket_id, die_id, module_id, core_id, thread_id = self._ids(cpu_index)
        return TopoIds(
            socket_id=socket_id,
            die_id=die_id,
            module_id=module_id,
            core_id=core_id,
            thread_id=thread_id,
        )

    def apic_id_from_index(self, cpu_index: int) -> int:
        """The APIC ID QEMU gives the CPU with that index (``x86_apicid_from_cpu_idx``).

        >>> ApicLayout.for_topology(cores=3, threads=1).apic_id_from_index(3)
        4
        """
        _check_id("cpu_index", cpu_index, None, "")
        return self._pack(*self._ids(cpu_index))

    def apic_id_limit(self, max_cpus: int) -> int:
        """One more than the highest APIC ID of ``max_cpus`` CPUs (QEMU's ``apic_id_limit``).

        QEMU sizes the APIC ID space with it (``x86_cpus_init``): KVM's
        maximum vCPU id and the firmware's CPU count. Above 255 it needs x2APIC.

        >>> ApicLayout.for_topology(cores=3, threads=1).apic_id_limit(6)
        7
        """
        if type(max_cpus) is not int or max_cpus < 1:
            raise ParameterError(
                f"max_cpus must be a positive integer, not {max_cpus!r}",
                what="max_cpus",
                value=max_cpus,
            )
        return self.apic_id_from_index(max_cpus - 1) + 1

    def decode(self, apic_id: int) -> TopoIds:
        """The ids an APIC ID encodes (``x86_topo_ids_from_apicid``).

        Like QEMU, this reads the bit fields without checking them against the
        counts: an ID in a gap decodes to an id no CPU has.

        >>> ApicLayout.for_topology(cores=3, threads=1).decode(3)
        TopoIds(socket_id=0, die_id=0, module_id=0, core_id=3, thread_id=0)
        """
        if type(apic_id) is not int or not 0 <= apic_id <= APIC_ID_MAX:
            raise ParameterError(
                f"apic_id must be an integer in range 0:{APIC_ID_MAX}, not {apic_id!r}",
                what="apic_id",
                value=apic_id,
            )

        def field(offset: int, width: int) -> int:
            return (apic_id >> offset) & ((1 << width) - 1)

        return TopoIds(
            socket_id=apic_id >> self.pkg_offset,
            die_id=field(self.die_offset, self.die_width),
            module_id=field(self.module_offset, self.module_width),
            core_id=field(self.core_offset, self.core_width),
            thread_id=field(0, self.smt_width),
        )


def c_semantics_ids(layout: ApicLayout, cpu_index: int) -> tuple[int, TopoIds]:
    """The APIC ID and props QEMU computes for a slot when counts wrap past 32 bits.

    With counts such as ``cores=-1`` (4294967295, which QEMU accepts when the
    product wraps round), field widths reach 32 and offsets 64. QEMU's C code
    then shifts 32-bit values by 32 or more, which x86-64 hosts do modulo 32,
    and masks with 64-bit ``0xFFFFFFFFUL << width``. This replays that
    arithmetic: index to ids with 32-bit products, ids to APIC ID, and the APIC
    ID back to the props QEMU lists (observed on QEMU 7.2 and 10.0).
    """
    u32, u64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF

    def product(*factors: int) -> int:
        result = 1
        for factor in factors:
            result = result * factor & u32
        return result

    def shl32(value: int, count: int) -> int:
        return value << (count & 31) & u32

    def shr32(value: int, count: int) -> int:
        return (value & u32) >> (count & 31)

    def low_mask(width: int) -> int:
        return ~(u32 << (width & 63) & u64) & u64

    threads, cores, modules, dies = layout.threads, layout.cores, layout.modules, layout.dies
    socket_id = cpu_index // product(dies, modules, cores, threads)
    die_id = cpu_index // product(modules, cores, threads) % dies
    module_id = cpu_index // product(cores, threads) % modules
    core_id = cpu_index // threads % cores
    thread_id = cpu_index % threads
    apic_id = (
        shl32(socket_id, layout.pkg_offset)
        | shl32(die_id, layout.die_offset)
        | shl32(module_id, layout.module_offset)
        | shl32(core_id, layout.core_offset)
        | thread_id
    ) & u32
    decoded = TopoIds(
        socket_id=shr32(apic_id, layout.pkg_offset),
        die_id=shr32(apic_id, layout.die_offset) & low_mask(layout.die_width),
        module_id=shr32(apic_id, layout.module_offset) & low_mask(layout.module_width),
        core_id=shr32(apic_id, layout.core_offset) & low_mask(layout.core_width),
        thread_id=apic_id & low_mask(layout.smt_width),
    )
    return apic_id, decoded
