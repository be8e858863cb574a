"""x86 APIC IDs: QEMU packs socket, die, module, core and thread ids into bit fields.

Each field is as wide as its count needs (``ceil(log2(count))`` bits, 0 for a
count of 1), from the thread field at bit 0 up to the socket field, which has
no width limit (``include/hw/i386/topology.h``). Counts that are not powers of
two therefore leave gaps: with 3 cores, core ids 0-2 use 2 bits and APIC IDs
go 0, 1, 2, 4, 5, 6, ...
"""

from __future__ import annotations

import attrs

__all__ = ["ApicLayout", "TopoIds"]


def _width(count: int) -> int:
    return (count - 1).bit_length()


@attrs.frozen(kw_only=True)
class TopoIds:
    """The five ids an APIC ID encodes."""

    socket_id: int
    die_id: int
    module_id: int
    core_id: int
    thread_id: int


@attrs.frozen(kw_only=True)
class ApicLayout:
    """Field widths and offsets of the APIC ID for one topology.

    >>> layout = ApicLayout.for_topology(cores=3, threads=2)
    >>> layout.core_offset, layout.pkg_offset
    (1, 3)
    >>> [layout.apic_id_from_index(i) for i in range(8)]
    [0, 1, 2, 3, 4, 5, 8, 9]
    >>> layout.decode(9)
    TopoIds(socket_id=1, die_id=0, module_id=0, core_id=0, thread_id=1)
    """

    dies: int
    modules: int
    cores: int
    threads: int
    smt_width: int
    core_width: int
    module_width: int
    die_width: int
    core_offset: int
    module_offset: int
    die_offset: int
    pkg_offset: int

    @classmethod
    def for_topology(
        cls, *, dies: int = 1, modules: int = 1, cores: int, threads: int
    ) -> ApicLayout:
        """The layout for ``dies`` per socket, ``modules`` per die, ``cores`` per module
        and ``threads`` per core."""
        smt, core, module, die = _width(threads), _width(cores), _width(modules), _width(dies)
        return cls(
            dies=dies,
            modules=modules,
            cores=cores,
            threads=threads,
            smt_width=smt,
            core_width=core,
            module_width=module,
            die_width=die,
            core_offset=smt,
            module_offset=smt + core,
            die_offset=smt + core + module,
            pkg_offset=smt + core + module + die,
        )

    def apic_id(
        self, *, socket_id: int, die_id: int = 0, module_id: int = 0, core_id: int, thread_id: int
    ) -> int:
        """The APIC ID of a CPU at those ids."""
        return (
            socket_id << self.pkg_offset
            | die_id << self.die_offset
            | module_id << self.module_offset
            | core_id << self.core_offset
            | thread_id
        )

    def ids_from_index(self, cpu_index: int) -> TopoIds:
        """The ids of the CPU with that index (``x86_topo_ids_from_idx``)."""
        threads, cores, modules, dies = self.threads, self.cores, self.modules, self.dies
        return TopoIds(
            socket_id=cpu_index // (dies * modules * cores * threads),
            die_id=cpu_index // (modules * cores * threads) % dies,
            module_id=cpu_index // (cores * threads) % modules,
            core_id=cpu_index // threads % cores,
            thread_id=cpu_index % threads,
        )

    def apic_id_from_index(self, cpu_index: int) -> int:
        """The APIC ID QEMU gives the CPU with that index."""
        ids = self.ids_from_index(cpu_index)
        return self.apic_id(
            socket_id=ids.socket_id,
            die_id=ids.die_id,
            module_id=ids.module_id,
            core_id=ids.core_id,
            thread_id=ids.thread_id,
        )

    def decode(self, apic_id: int) -> TopoIds:
        """The ids an APIC ID encodes."""

        def field(offset: int, width: int) -> int:
            return (apic_id >> offset) & ((1 << width) - 1)

        return TopoIds(
            socket_id=apic_id >> self.pkg_offset,
            die_id=field(self.die_offset, self.die_width),
            module_id=field(self.module_offset, self.module_width),
            core_id=field(self.core_offset, self.core_width),
            thread_id=field(0, self.smt_width),
        )
