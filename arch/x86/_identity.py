"""What an x86 guest knows each CPU by: its initial APIC ID and the ids it encodes.

The APIC ID is in CPUID (leaves 1, 0xB, 0x1F) and the local APIC; the socket,
die, module, core and thread ids are how the guest decodes it with the field
widths of the CPUID topology leaves, so the same APIC ID under another
topology is another CPU to the guest (``include/hw/i386/topology.h``).
"""

from __future__ import annotations

from collections.abc import Mapping

from topology.plugin import VmView

__all__ = ["cpu_identity"]


def cpu_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    slot = vm.slots[slot_index]
    props = slot.props
    # Levels a topology lacks read as 0 on the CPU object (QEMU 7.2 and 10.0).
    return {
        "apic-id": slot.arch_id,
        "socket-id": props.socket_id or 0,
        "die-id": props.die_id or 0,
        "module-id": props.module_id or 0,
        "core-id": props.core_id or 0,
        "thread-id": props.thread_id or 0,
    }
