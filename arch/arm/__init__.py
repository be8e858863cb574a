"""The ARM ``virt`` (``qemu-system-aarch64``) plugin: machine types, the GIC and its
CPU limits, and how QEMU numbers the CPUs for the guest (MPIDR affinity).

Each slot's ``arch_id`` is the CPU's ``mp-affinity`` (what ``qom-get`` reads on the
CPU object): Aff1 = cpu-index div N, Aff0 = cpu-index mod N, where
:func:`affinity_group_size` gives N (8 with GICv2 or on virt-2.6, else 16).
:func:`gic_version` is the GIC QEMU picks and :func:`gic_cpu_limit` the most
CPUs it takes; ``docs/explanation/arm.md`` has the rules and QEMU's messages.

>>> import topology
>>> from arch.arm import gic_version, mp_affinity, mpidr
>>> m = topology.machine("aarch64", "virt", qemu_version="10.0")
>>> vm = topology.VirtualMachine.start(m, "4,maxcpus=20")
>>> gic_version(m.options, vm.topology.max_cpus, m.qemu_version)
3
>>> hex(vm.slots[17].arch_id), hex(mp_affinity(17, 16)), hex(mpidr(vm.slots[17].arch_id))
('0x101', '0x101', '0x80000101')
"""

from __future__ import annotations

from arch.arm._cpus import DEFAULT_CPU, virt_cpu_models
from arch.arm._gic import GIC_NCPU, gic_cpu_limit, gic_version, redist_capacity
from arch.arm._mpidr import MPIDR_M_BIT, affinity_group_size, mp_affinity, mpidr
from arch.arm._plugin import PLUGIN, ArmPlugin

__all__ = [
    "DEFAULT_CPU",
    "GIC_NCPU",
    "MPIDR_M_BIT",
    "PLUGIN",
    "ArmPlugin",
    "affinity_group_size",
    "gic_cpu_limit",
    "gic_version",
    "mp_affinity",
    "mpidr",
    "redist_capacity",
    "virt_cpu_models",
]
