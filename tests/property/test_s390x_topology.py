"""The s390x topology facility by properties: any sequence of plugs and
set-cpu-topology calls keeps sockets within their size, dedicated CPUs high and
refusals without effect (the rules and their sources are in
``tests/unit/test_s390x_topology.py``).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import topology
from arch.s390x import placement_of
from tests.unit.test_s390x_topology import DRIVER, kvm_vm, qmp

ENTITLEMENTS = ["auto", "low", "medium", "high"]


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, dict[str, object]]]:
    ops = []
    for _ in range(draw(st.integers(1, 12))):
        args: dict[str, object] = {"core-id": draw(st.integers(0, 8))}
        if draw(st.booleans()):
            args |= {
                "socket-id": draw(st.integers(0, 2)),
                "book-id": draw(st.integers(0, 1)),
                "drawer-id": draw(st.integers(0, 1)),
            }
        if draw(st.booleans()):
            args["entitlement"] = draw(st.sampled_from(ENTITLEMENTS))
        if draw(st.booleans()):
            args["dedicated"] = draw(st.booleans())
        ops.append((draw(st.sampled_from(["plug", "set"])), args))
    return ops


@settings(max_examples=60, deadline=None)
@given(operations())
def test_sequences_keep_the_invariants(ops: list[tuple[str, dict[str, object]]]) -> None:
    """Sockets never overflow, dedicated CPUs are high, refusals change nothing."""
    vm = kvm_vm("2,drawers=1,books=1,sockets=2,cores=4,maxcpus=8")
    for kind, args in ops:
        board, slots = vm.stash.copy(), vm.snapshot()
        try:
            if kind == "plug":
                vm.plug(DRIVER, args)
            else:
                qmp(vm, "set-cpu-topology", args)
        except topology.TopologyError:
            assert vm.stash == board
            assert vm.snapshot() == slots
        placements = [placement_of(vm, core) for core in range(8)]
        present = [p for p in placements if p is not None]
        assert len(present) == len(vm.present())
        for key in {p.socket_key for p in present}:
            assert sum(p.socket_key == key for p in present) <= 4
        assert all(p.entitlement != "auto" for p in present)
        assert all(p.entitlement == "high" for p in present if p.dedicated)
