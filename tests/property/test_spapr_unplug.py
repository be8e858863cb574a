"""pseries unplug by properties: hot-added cores a guest never took leave at once, in
any order, each with its events (the tables are in ``tests/unit/test_spapr_unplug.py``).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import topology
from tests.unit.test_spapr_unplug import PSERIES
from topology import VirtualMachine


@given(st.sampled_from(["1,maxcpus=4", "2,maxcpus=6"]), st.data())
def test_hot_added_cores_leave_whole(smp: str, data: st.DataObject) -> None:
    # Every hot-added core a guest never took leaves at once, with one event per
    # presenter and thread and one for the core, and its slot is empty again.
    vm = VirtualMachine.start(PSERIES, smp)
    free = [s.index for s in vm.slots if vm.state(s.index) is None]
    chosen = data.draw(st.lists(st.sampled_from(free), unique=True, min_size=1))
    for index in chosen:
        vm.plug(vm.slots[index].type, {"core-id": vm.slots[index].props.core_id}, id=f"c{index}")
    for index in data.draw(st.permutations(chosen)):
        assert vm.request_unplug(f"c{index}") is topology.UnplugResult.REMOVED
        events = vm.take_events()
        assert len(events) == 3 * vm.slots[index].vcpus_count + 1
        assert events[-1]["data"] == {
            "device": f"c{index}",
            "path": f"/machine/peripheral/c{index}",
        }
        assert vm.state(index) is None
