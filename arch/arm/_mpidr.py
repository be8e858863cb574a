"""MPIDR: how the virt board numbers its CPUs for the guest's GIC and firmware.

QEMU gives CPU number ``n`` (its ``cpu-index``, which on virt is also its slot)
the affinity ``Aff1 = n div N``, ``Aff0 = n mod N``, i.e. ``(n div N) << 8 | n mod N``,
with N CPUs per affinity group: 8 for GICv2 (its target list is 8 bits wide),
16 for GICv3 and v4 (their SGI target list), and always 8 on ``virt-2.6`` and older,
which keep the CPU's own default (``hw/arm/virt.c`` ``virt_cpu_mp_affinity``,
``virt_machine_2_6_options`` setting ``disallow_affinity_adjustment``;
``target/arm/cpu.c`` ``arm_build_mp_affinity``; ``ARM_DEFAULT_CPUS_PER_CLUSTER``).
The groups have nothing to do with ``-smp clusters``: the affinity follows the
index only. The value is the CPU's ``mp-affinity`` QOM property, read over QMP
with ``qom-get`` (observed on QEMU 7.2 and 10.0: virt-2.6 and virt-2.7 with
GICv3, GICv2, GICv4, ``max`` and 10.0's default).

The guest reads MPIDR_EL1 = the affinity with bit 31 set (RES1 on every CPU
the virt board accepts, all of which have the multiprocessing extensions);
QEMU never sets the U bit (30) for these CPUs nor the MT bit (24)
(``target/arm/helper.c`` ``mpidr_read_val``). Under KVM the host kernel
replaces the value (``arch/arm64/kvm/sys_regs.c`` ``reset_mpidr``: Aff0 =
vcpu id mod 16), which equals the GICv3 numbering above.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MPIDR_M_BIT", "affinity_group_size", "mp_affinity", "mpidr"]

#: Bit 31 of MPIDR, RES1 on CPUs with the multiprocessing extensions.
MPIDR_M_BIT: Final = 1 << 31
_DEFAULT_GROUP: Final = 8  # ARM_DEFAULT_CPUS_PER_CLUSTER, also GIC_TARGETLIST_BITS
_GICV3_GROUP: Final = 16  # GICV3_TARGETLIST_BITS


def affinity_group_size(gic: int, *, adjusted: bool = True) -> int:
    """CPUs per Aff1 group: 8 with GICv2 or without adjustment (virt-2.6 and older), else 16.

    >>> affinity_group_size(3), affinity_group_size(2), affinity_group_size(3, adjusted=False)
    (16, 8, 8)
    """
    if not adjusted or gic == 2:
        return _DEFAULT_GROUP
    return _GICV3_GROUP


def mp_affinity(cpu_index: int, group_size: int) -> int:
    """The ``mp-affinity`` of CPU ``cpu_index`` (Aff1 in bits 8-15, Aff0 in bits 0-7).

    >>> hex(mp_affinity(17, 16)), hex(mp_affinity(17, 8))
    ('0x101', '0x201')
    """
    if cpu_index < 0:
        raise ValueError(f"cpu_index must be >= 0, not {cpu_index}")
    return (cpu_index // group_size) << 8 | cpu_index % group_size


def mpidr(affinity: int) -> int:
    """The MPIDR_EL1 value the guest reads for a CPU with this ``mp-affinity``.

    >>> hex(mpidr(0x101))
    '0x80000101'
    """
    return affinity | MPIDR_M_BIT
