"""STSI 15.1.x by properties: on any placement of CPUs in drawers, books and sockets,
with any entitlements, the SYSIB lists every CPU once, in QEMU's order
(``s390_topology_id_cmp``), one entry per socket and quality, and reads back.

The hand-checked SYSIBs and their sources are in ``tests/unit/test_s390x_stsi.py``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import topology
from arch.s390x import (
    ContainerEntry,
    CpuEntry,
    Sysib151,
    guest_set_polarization,
    placement_of,
    stsi_15_1,
)
from tests.unit.test_s390x_stsi import DRIVER, kvm_vm, set_topology
from topology import VirtualMachine

ENTITLEMENT_VALUE = {"low": 1, "medium": 2, "high": 3}


@st.composite
def placed_vms(draw: st.DrawFn) -> VirtualMachine:
    drawers, books, sockets = (draw(st.integers(1, 2)) for _ in range(3))
    # 2 * 2 * 2 * 31 = 248, the machine's limit.
    cores = draw(st.integers(1, 31))
    max_cpus = drawers * books * sockets * cores
    vm = kvm_vm(
        f"1,drawers={drawers},books={books},sockets={sockets},cores={cores},maxcpus={max_cpus}"
    )
    for _ in range(draw(st.integers(0, 30))):
        core = draw(st.integers(0, max_cpus - 1))
        args: dict[str, object] = {
            "entitlement": draw(st.sampled_from(["low", "medium", "high"])),
            "dedicated": draw(st.booleans()),
        }
        if draw(st.booleans()):
            args |= {
                "socket-id": draw(st.integers(0, sockets - 1)),
                "book-id": draw(st.integers(0, books - 1)),
                "drawer-id": draw(st.integers(0, drawers - 1)),
            }
        try:
            if vm.state(core) is None:
                vm.plug(DRIVER, {"core-id": core, **args})
            else:
                set_topology(vm, core_id=core, **{k.replace("-", "_"): v for k, v in args.items()})
        except topology.TopologyError:
            pass  # refused placements are part of the draw
    if draw(st.booleans()):
        guest_set_polarization(vm, "vertical")
    return vm


@settings(max_examples=50, deadline=None)
@given(placed_vms(), st.sampled_from([2, 3, 4]))
def test_every_cpu_once_in_qemu_order(vm: VirtualMachine, mnest: int) -> None:
    sysib = stsi_15_1(vm, mnest)
    assert sysib is not None
    present = [slot.index for slot in vm.present()]
    addresses = sysib.cpu_addresses()
    assert sorted(addresses) == present  # each CPU exactly once
    assert Sysib151.from_bytes(sysib.to_bytes()) == sysib
    vertical = any(e.entitlement for e in sysib.entries if isinstance(e, CpuEntry))
    keys = []
    for entry in sysib.entries:
        if not isinstance(entry, CpuEntry):
            continue
        placements = [placement_of(vm, address) for address in entry.cpu_addresses]
        assert all(p is not None for p in placements)
        sockets = {p.socket_key for p in placements if p is not None}
        assert len(sockets) == 1  # one entry never spans sockets
        first = placements[0]
        assert first is not None
        assert {a // 64 for a in entry.cpu_addresses} == {entry.origin // 64}
        keys.append((*first.socket_key, -entry.entitlement, -int(entry.dedicated), entry.origin))
        if vertical:
            assert all(
                p is not None and ENTITLEMENT_VALUE[p.entitlement] == entry.entitlement
                for p in placements
            )
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)  # equal qualities share one entry
    # One socket container per socket change, never an empty one.
    socket_containers = [e for e in sysib.entries if isinstance(e, ContainerEntry) and e.level == 1]
    assert len(socket_containers) == len({k[:3] for k in keys})
