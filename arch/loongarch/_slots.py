"""The possible CPU slots of the ``virt`` board, and the physical id of each.

From QEMU 10.0 (``hw/loongarch/virt.c`` ``virt_possible_cpu_arch_ids``,
``virt_get_topo_from_index``, ``virt_get_arch_id_from_topo``): one slot per
possible CPU, in index order, socket-major; slot ``n`` has socket
``n / (cores * threads)``, core ``n / threads % cores``, thread ``n % threads``,
and is CPU number (``cpu-index``) ``n``. Its arch id, the CPU's physical id
(``phy_id``: the guest's CPU id, the ACPI MADT id), packs the ids into fields
of the counts rounded up to powers of two: ``thread + core * T + socket * T * C``
with T, C the rounded thread and core counts. The interrupt controllers route
to at most 256 CPU ids, so the board refuses a topology whose rounded counts
multiply to more (``Exceeding max cpuid 256 with sockets[S] cores[C]
threads[T]``, the counts as given; observed on 10.0 and 11.1 with
``sockets=3,cores=65``: 4 x 128 > 256 for 195 CPUs).

The arithmetic is C's, as in QEMU: the counts are unsigned 32-bit integers
whose products wrap, and a count above 2^31 rounds up to 2^32, which is 0 in
32 bits. ``-smp 1,cores=4294967295,threads=4294967295`` (the counts multiply
to 1) therefore starts, with every id field 0 wide: QEMU 10.0 and 11.1 then
crash (SIGSEGV) on a ``device_add`` whose ids give a physical id no slot has.

QEMU 7.2's board lists no possible CPUs: its slots here are numbered by CPU
index, without properties.
"""

from __future__ import annotations

from typing import Final

from topology import BoardError, CpuTopology
from topology.plugin import UINT32_MASK, CpuSlot, SlotProps, as_int32

__all__ = ["MAX_CPU_IDS", "arch_id", "check_cpu_ids", "possible_slots", "rounded_up"]

#: The CPU ids the IPI and EIOINTC interrupt controllers route to.
MAX_CPU_IDS: Final = 256


def rounded_up(count: int) -> int:
    """``count`` rounded up to a power of two, as a 32-bit unsigned integer
    (QEMU's ``topo_align_up``: past 2^31 it is 0).

    >>> [rounded_up(n) for n in (1, 2, 3, 5, 65, 2**32 - 1)]
    [1, 2, 4, 8, 128, 0]
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    return (1 << (count - 1).bit_length()) & UINT32_MASK


def arch_id(topology: CpuTopology, socket_id: int, core_id: int, thread_id: int) -> int:
    """The physical CPU id of the CPU at (socket, core, thread) (a C ``int``).

    >>> from topology import machine
    >>> topo = machine("loongarch64", "virt", qemu_version="10.0").resolve("6,sockets=2,cores=3")
    >>> arch_id(topo, 1, 2, 0)
    6
    """
    threads = as_int32(rounded_up(topology.threads))
    cores = as_int32(rounded_up(topology.cores))
    return as_int32(thread_id + core_id * threads + socket_id * threads * cores)


def check_cpu_ids(topology: CpuTopology) -> None:
    """The board's refusal of a topology whose CPU ids pass :data:`MAX_CPU_IDS`."""
    needed = as_int32(
        rounded_up(topology.threads) * rounded_up(topology.cores) * rounded_up(topology.sockets)
    )
    if needed > MAX_CPU_IDS:
        raise BoardError(
            f"Exceeding max cpuid {MAX_CPU_IDS} with sockets[{topology.sockets}] "
            f"cores[{topology.cores}] threads[{topology.threads}]",
            what="smp",
            value=needed,
        )


def possible_slots(topology: CpuTopology, qom_type: str, *, with_ids: bool) -> list[CpuSlot]:
    """Every slot, in QEMU's order; ``with_ids`` is false for QEMU 7.2's board."""
    if not with_ids:
        return [
            CpuSlot(
                index=index,
                type=qom_type,
                vcpus_count=1,
                arch_id=index,
                first_cpu_index=index,
                props=SlotProps(),
            )
            for index in range(topology.max_cpus)
        ]
    threads, cores = topology.threads, topology.cores
    # Never 0: sockets * cores * threads equals maxcpus (at most 256) modulo 2^32.
    per_socket = cores * threads & UINT32_MASK
    slots = []
    for index in range(topology.max_cpus):
        socket_id = index // per_socket
        core_id = index // threads % cores
        thread_id = index % threads
        slots.append(
            CpuSlot(
                index=index,
                type=qom_type,
                vcpus_count=1,
                arch_id=arch_id(topology, socket_id, core_id, thread_id),
                first_cpu_index=index,
                props=SlotProps(socket_id=socket_id, core_id=core_id, thread_id=thread_id),
            )
        )
    return slots
