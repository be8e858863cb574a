"""What an s390x guest knows each CPU by: its CPU address, and with KVM its placement.

The CPU address (``STAP``, SIGP orders) is the core-id (``s390_possible_cpu_arch_ids``).
Socket, book and drawer ids reach the guest only through STSI 15.1.x, which
needs the configuration-topology facility: QEMU 8.2+ with KVM and the ``ctop``
CPU feature (notes §4.4); under TCG they are only query props.
"""

from __future__ import annotations

from collections.abc import Mapping

from topology._vm import VmView

__all__ = ["cpu_identity", "placement_identity"]


def placement_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    """Hook for the s390x placement model: ``entitlement``, ``dedicated`` and
    ``polarization`` of the CPU in ``slot_index`` once cputopo models them
    (``set-cpu-topology``, ``-device ...,entitlement=``); none yet.

    The placement branch keeps them in ``vm.board_state`` (its
    ``_facility.placement_of(vm, core_id)`` and ``topology_state(vm).polarization``,
    when ``has_topology(vm.machine)``); wiring them here makes ``compare``
    report a changed entitlement, dedication or polarization as a changed
    CPU identity.
    """
    return {}


def cpu_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    slot = vm.slots[slot_index]
    identity: dict[str, object] = {"cpu-address": slot.arch_id}
    topology_facility = vm.machine.options.get("accel", "tcg") == "kvm" and (
        vm.machine.qemu_version.at_least("8.2")
    )
    if topology_facility:
        props = slot.props
        identity.update(
            {
                "drawer-id": props.drawer_id,
                "book-id": props.book_id,
                "socket-id": props.socket_id,
            }
        )
        identity.update(placement_identity(vm, slot_index))
    return identity
