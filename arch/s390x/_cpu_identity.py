"""What an s390x guest knows each CPU by, for ``topology.abi``: its CPU address,
and with the configuration-topology facility its placement.

The CPU address (STAP, SIGP orders) is the core-id (``s390_possible_cpu_arch_ids``).
Drawer, book and socket, the entitlement, dedication and the polarization reach
the guest only through STSI 15.1.x and PTF, which need the facility (QEMU 8.2+
with KVM and ``ctop``, see :func:`._facility.has_topology`); under TCG they are
only query props. ``._identity`` describes the same for a whole VM.
"""

from __future__ import annotations

from collections.abc import Mapping

from arch.s390x._facility import default_placement, has_topology, placement_of, topology_state
from topology.plugin import VmView

__all__ = ["cpu_identity", "placement_identity", "plug_props"]


def placement_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    """Where the guest sees the CPU in ``slot_index``: its container ids and, for a
    present CPU, its entitlement, dedication and the machine's polarization.

    An empty slot is where QEMU would put a CPU added without placement props.
    """
    placement = placement_of(vm, slot_index)
    if placement is None:
        placement = default_placement(slot_index, vm)
        return {
            "drawer-id": placement.drawer_id,
            "book-id": placement.book_id,
            "socket-id": placement.socket_id,
        }
    return {
        "drawer-id": placement.drawer_id,
        "book-id": placement.book_id,
        "socket-id": placement.socket_id,
        "entitlement": placement.entitlement,
        "dedicated": placement.dedicated,
        "polarization": topology_state(vm).polarization,
    }


def cpu_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    identity: dict[str, object] = {"cpu-address": vm.slots[slot_index].arch_id}
    if has_topology(vm.machine):
        identity.update(placement_identity(vm, slot_index))
    return identity


def plug_props(vm: VmView, slot_index: int) -> Mapping[str, object]:
    """The placement props a ``-device`` needs to put the CPU in ``slot_index`` back
    where it is (``ArchPlugin`` optional member): with the facility, all three
    container ids (QEMU takes all or none), the entitlement and the dedication."""
    placement = placement_of(vm, slot_index) if has_topology(vm.machine) else None
    if placement is None:
        return {}
    return {
        "drawer-id": placement.drawer_id,
        "book-id": placement.book_id,
        "socket-id": placement.socket_id,
        "entitlement": placement.entitlement,
        "dedicated": placement.dedicated,
    }
