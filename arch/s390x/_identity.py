"""Guest-visible identity of each s390x CPU: what must not change across a migration.

A guest knows a CPU by its CPU address (STAP, SIGP orders, the STSI masks);
QEMU's CPU address is the core-id, which is also ``cpu_index``. With the
configuration-topology facility the guest also sees, in STSI 15.1.x, the
CPU's drawer/book/socket (as running container numbers), its entitlement
(only in vertical polarization), its dedication, and the polarization the
guest chose. QEMU migrates the per-CPU placement as CPU properties and the
polarization as machine state; a destination started with other ``-smp``
counts or other ``-device`` placements shows the guest another topology, which
the guest takes as a topology change at best.

What must match between source and destination, for each present CPU:
``address``; and, when ``topology`` is true on either side, ``topology``
itself and ``drawer_id``, ``book_id``, ``socket_id``, ``entitlement``,
``dedicated`` and the machine's ``polarization``. The ``-smp`` drawers, books,
sockets and cores must match too: they are STSI's magnitudes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from arch.s390x._facility import (
    Entitlement,
    Polarization,
    has_topology,
    placement_of,
    topology_state,
)
from arch.s390x._lpar import LparProfile

if TYPE_CHECKING:
    from topology.plugin import VmView

__all__ = ["CpuIdentity", "cpu_identities", "lpar_identities"]


@attrs.frozen(kw_only=True)
class CpuIdentity:
    """One CPU as its guest knows it.

    Without the topology facility only ``address`` means anything to the
    guest; the other fields are then None.

    >>> CpuIdentity(address=2, topology=False)
    CpuIdentity(address=2, topology=False, drawer_id=None, book_id=None, socket_id=None, entitlement=None, dedicated=None, polarization=None)
    """  # noqa: E501

    address: int
    topology: bool
    drawer_id: int | None = None
    book_id: int | None = None
    socket_id: int | None = None
    entitlement: Entitlement | None = None
    dedicated: bool | None = None
    polarization: Polarization | None = None


def cpu_identities(vm: VmView) -> list[CpuIdentity]:
    """The identity of every present CPU of a QEMU s390x VM, by CPU address.

    >>> import topology
    >>> m = topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0",
    ...                      accel="kvm", cpu="host")
    >>> vm = topology.VirtualMachine.start(m, "2,sockets=2,cores=1")
    >>> [(i.address, i.socket_id, i.entitlement) for i in cpu_identities(vm)]
    [(0, 0, 'medium'), (1, 1, 'medium')]
    """
    active = has_topology(vm.machine)
    polarization = topology_state(vm).polarization
    found = []
    for slot in vm.slots:
        placement = placement_of(vm, slot.index)
        if placement is None:
            continue
        if not active:
            found.append(CpuIdentity(address=slot.index, topology=False))
            continue
        found.append(
            CpuIdentity(
                address=slot.index,
                topology=True,
                drawer_id=placement.drawer_id,
                book_id=placement.book_id,
                socket_id=placement.socket_id,
                entitlement=placement.entitlement,
                dedicated=placement.dedicated,
                polarization=polarization,
            )
        )
    return found


def lpar_identities(lpar: LparProfile) -> list[CpuIdentity]:
    """The identity of every configured CPU of an LPAR, by logical CPU number.

    The address is the SMT address (core << shift | thread); standby CPUs are
    left out (the partition cannot use them until it configures them).
    """
    found = []
    for cpu in lpar.cpus():
        if not cpu.configured:
            continue
        core = next(c for c in lpar.cores if c.core_id == cpu.core_id)
        found.append(
            CpuIdentity(
                address=cpu.address,
                topology=True,
                drawer_id=cpu.drawer_id,
                book_id=cpu.book_id,
                socket_id=cpu.socket_id,
                entitlement=core.entitlement,
                dedicated=cpu.dedicated,
                polarization="vertical" if lpar.vertical else "horizontal",
            )
        )
    return found
