"""Stateful property test of the VM model: any sequence of operations keeps its invariants.

Operations: plug (the props of a drawn slot, sometimes spoiled), unplug request,
unplug completion, online, offline, and the x86 guest's switch to the modern
ACPI CPU hot-plug interface. After each step: present slots are possible slots,
every present vCPU's cpu_index follows from its slot, a refused operation left
the model as it was, and the QMP views and the graph agree with the model.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import topology
from arch.x86._hotplug import ACPI_LEGACY
from topology import VirtualMachine

SETUPS = [
    ("x86_64", "pc-q35-9.2", "9.2", "2,sockets=2,cores=3,threads=2,maxcpus=12"),
    ("x86_64", "pc-q35-7.2", "7.2", "1,dies=2,cores=3,maxcpus=6"),
    ("ppc64", "pseries-10.0", "10.0", "4,threads=2,maxcpus=12"),
    ("s390x", "s390-ccw-virtio-8.2", "8.2", "2,books=2,sockets=2,cores=2,maxcpus=8"),
]


class VmMachine(RuleBasedStateMachine):
    vm: VirtualMachine

    @initialize(setup=st.sampled_from(SETUPS), auto_online=st.booleans())
    def start(self, setup: tuple[str, str, str, str], auto_online: bool) -> None:
        arch, name, version, smp = setup
        guest = (
            topology.GuestPolicy.AUTO_ONLINE if auto_online else topology.GuestPolicy.MANUAL_ONLINE
        )
        self.vm = VirtualMachine.start(
            topology.machine(arch, name, qemu_version=version), smp, guest=guest
        )
        self.ids = [f"cpu{n}" for n in range(6)]

    def _attempt(self, operation: Any) -> None:
        before = self.vm.snapshot()
        try:
            operation()
        except topology.TopologyError as error:
            assert str(error)
            assert self.vm.snapshot() == before, f"refused but changed: {error}"

    @rule(data=st.data())
    def plug(self, data: st.DataObject) -> None:
        slot = data.draw(st.sampled_from(self.vm.slots))
        props: dict[str, object] = dict(slot.props.as_qmp())
        if data.draw(st.integers(0, 4)) == 0 and props:
            props[data.draw(st.sampled_from(sorted(props)))] = data.draw(st.integers(-2, 20))
        device_id = data.draw(st.none() | st.sampled_from(self.ids))
        self._attempt(lambda: self.vm.plug(slot.type, props, id=device_id))

    @rule(data=st.data())
    def unplug_request(self, data: st.DataObject) -> None:
        names = [s.device_id or s.qom_path for s in self.vm.snapshot().values()] + ["nope"]
        name = data.draw(st.sampled_from(names))
        self._attempt(lambda: self.vm.request_unplug(name))

    @rule(data=st.data())
    def unplug_completion(self, data: st.DataObject) -> None:
        names = [s.qom_path for s in self.vm.snapshot().values()]
        name = data.draw(st.sampled_from(names))
        self._attempt(lambda: self.vm.complete_unplug(name))

    @rule(data=st.data(), online=st.booleans())
    def set_online(self, data: st.DataObject, online: bool) -> None:
        cpu = data.draw(st.integers(0, self.vm.topology.max_cpus))
        self._attempt(lambda: self.vm.set_online(cpu, online))

    @rule()
    def guest_switches_acpi_to_modern(self) -> None:
        self.vm.stash[ACPI_LEGACY] = False

    @invariant()
    def present_slots_are_possible_and_indexed_by_position(self) -> None:
        vm = self.vm
        cpus = vm.present_cpu_indexes()
        assert len(cpus) == len(set(cpus))
        for slot in vm.present():
            assert vm.slots[slot.index] is slot
            assert list(slot.cpu_indexes) == [
                slot.first_cpu_index + n for n in range(slot.vcpus_count)
            ]
        assert 0 in cpus, "the boot CPU can never leave"

    @invariant()
    def views_agree_with_the_model(self) -> None:
        vm = self.vm
        entries = topology.query_hotpluggable_cpus(vm)
        assert len(entries) == len(vm.slots)
        filled = [e for e in entries if "qom-path" in e]
        assert len(filled) == len(vm.present())
        assert (
            sorted(c["cpu-index"] for c in topology.query_cpus_fast(vm)) == vm.present_cpu_indexes()
        )
        graph = topology.topology_graph(vm)
        present = sorted(n[1] for n, d in graph.nodes(data=True) if n[0] == "cpu" and d["present"])
        assert present == vm.present_cpu_indexes()


VmMachine.TestCase.settings = settings(
    max_examples=40 if os.environ.get("CPUTOPO_HYPOTHESIS_PROFILE") != "ci" else 150,
    stateful_step_count=25,
    deadline=None,
)
TestVmMachine = VmMachine.TestCase
