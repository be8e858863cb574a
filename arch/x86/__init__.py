"""The x86 (``qemu-system-x86_64``) plugin: PC machine types, their boot checks,
and how QEMU numbers x86 CPUs for the guest.

:class:`ApicLayout` is QEMU's APIC ID layout for a topology (socket, die,
module, core and thread fields) and :class:`TopoIds` the ids one APIC ID
encodes. :func:`cpuid_leaf_0b`, :func:`cpuid_leaf_1f` and
:func:`cpuid_leaf_8000001e` give what a guest reads from the CPUID topology
leaves, and :func:`topology_levels` lists the levels of leaf 0xB or 0x1F.

>>> from arch.x86 import ApicLayout, cpuid_leaf_0b
>>> layout = ApicLayout.for_topology(dies=2, cores=3, threads=2)
>>> layout.apic_id(socket_id=1, die_id=0, core_id=2, thread_id=1)
21
>>> layout.decode(21)
TopoIds(socket_id=1, die_id=0, module_id=0, core_id=2, thread_id=1)
>>> cpuid_leaf_0b(layout, 21, 0).ebx
2
"""

from __future__ import annotations

from arch.x86._acpi import switch_acpi_to_modern
from arch.x86._apic import ApicLayout, TopoIds
from arch.x86._cpuid import (
    LEVEL_TYPE_CODES,
    CpuidRegs,
    LevelType,
    TopologyLevel,
    cpuid_leaf_0b,
    cpuid_leaf_1f,
    cpuid_leaf_8000001e,
    leaf_1f_reported,
    topology_levels,
)
from arch.x86._plugin import PLUGIN, X86Plugin

__all__ = [
    "LEVEL_TYPE_CODES",
    "PLUGIN",
    "ApicLayout",
    "CpuidRegs",
    "LevelType",
    "TopoIds",
    "TopologyLevel",
    "X86Plugin",
    "cpuid_leaf_0b",
    "cpuid_leaf_1f",
    "cpuid_leaf_8000001e",
    "leaf_1f_reported",
    "switch_acpi_to_modern",
    "topology_levels",
]
