"""The worked example of docs/strategies.md: a toy CPU manager checked with the stateful kit.

The toy keeps its own list of a VM's CPUs, as management tools do, over a
hypervisor it talks to. The hypervisor here is the model itself standing in
for QEMU (``VirtualMachine``, answering like ``device_add``/``device_del`` and
sending ``DEVICE_DELETED`` events); the QEMU stand-in ``topology.qemu`` can
take its place once it exists. The correct toy passes; the buggy one, which
waits for the guest after every ``device_del``, is caught: on pseries QEMU
releases a hot-plugged core the guest never took at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from topology import GuestPolicy, TopologyError, VirtualMachine
from topology.strategies import PresentCpu, VmSpec, vm_specs
from topology.testing import HotplugComparison


class ToyManager:
    """A management tool's CPU bookkeeping: what it believes is plugged in its VM."""

    def __init__(self, hypervisor: VirtualMachine, *, wait_for_guest: bool = False) -> None:
        self.hypervisor = hypervisor
        self.wait_for_guest = wait_for_guest  # the bug: removal only on the guest's eject
        self.auto_online = hypervisor.guest is GuestPolicy.AUTO_ONLINE
        self.cpus: dict[str, list[PresentCpu]] = {}  # by QOM path
        self.names: dict[str, str] = {}  # device id -> QOM path
        for slot in hypervisor.present():
            state = hypervisor.state(slot.index)
            assert state is not None
            self.cpus[state.qom_path] = [
                PresentCpu(cpu_index=cpu, props=slot.props) for cpu in slot.cpu_indexes
            ]

    def add_cpu(self, driver: str, props: Mapping[str, object], device_id: str | None) -> None:
        slot = self.hypervisor.plug(driver, props, id=device_id)
        state = self.hypervisor.state(slot.index)
        assert state is not None
        self.cpus[state.qom_path] = [
            PresentCpu(cpu_index=cpu, props=slot.props, device_id=device_id,
                       online=self.auto_online)
            for cpu in slot.cpu_indexes
        ]  # fmt: skip
        if device_id is not None:
            self.names[device_id] = state.qom_path

    def remove_cpu(self, device: str) -> None:
        self.hypervisor.request_unplug(device)
        if not self.wait_for_guest:
            self._forget_deleted()

    def guest_ejected(self, device: str) -> None:
        self.hypervisor.complete_unplug(device)
        if self.wait_for_guest:
            self.hypervisor.take_events()
            self._forget(self.names.get(device, device))
        else:
            self._forget_deleted()

    def set_online(self, cpu_index: int, online: bool) -> None:
        self.hypervisor.set_online(cpu_index, online)
        for path, cpus in self.cpus.items():
            if any(cpu.cpu_index == cpu_index for cpu in cpus):
                # The guest onlines a whole core's vCPUs together (pseries).
                self.cpus[path] = [
                    PresentCpu(cpu_index=c.cpu_index, props=c.props, device_id=c.device_id,
                               online=online)
                    for c in cpus
                ]  # fmt: skip

    def present(self) -> list[PresentCpu]:
        return [cpu for cpus in self.cpus.values() for cpu in cpus]

    def _forget_deleted(self) -> None:
        for event in self.hypervisor.take_events():
            data = event.get("data")
            if event["event"] == "DEVICE_DELETED" and isinstance(data, dict):
                self._forget(str(data["path"]))

    def _forget(self, path: str) -> None:
        if self.cpus.pop(path, None) is not None:
            self.names = {name: p for name, p in self.names.items() if p != path}


class ToyComparison(HotplugComparison):
    """The kit's adapter for the toy: six small methods."""

    # pseries VMs with room for at least one more core.
    specs = vm_specs(arch="ppc64", qemu_version="10.0", max_cpus=4).filter(
        lambda spec: spec.start().topology.hotpluggable_cpus > 0
    )
    refusals = (TopologyError,)
    compare_messages = True
    wait_for_guest = False

    def system_start(self, spec: VmSpec) -> None:
        self.toy = ToyManager(spec.start(), wait_for_guest=self.wait_for_guest)

    def system_plug(self, driver: str, props: Mapping[str, object], device_id: str | None) -> None:
        self.toy.add_cpu(driver, props, device_id)

    def system_request_unplug(self, device: str) -> None:
        self.toy.remove_cpu(device)

    def system_complete_unplug(self, device: str) -> None:
        self.toy.guest_ejected(device)

    def system_set_online(self, cpu_index: int, online: bool) -> None:
        self.toy.set_online(cpu_index, online)

    def system_present(self) -> Iterable[PresentCpu]:
        return self.toy.present()


class BuggyToyComparison(ToyComparison):
    wait_for_guest = True


_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=10,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_the_correct_toy_agrees_with_qemu() -> None:
    run_state_machine_as_test(ToyComparison, settings=_SETTINGS)  # type: ignore[no-untyped-call]


def test_the_kit_catches_the_toy_that_waits_for_the_guest() -> None:
    # Without the shrink phase: finding the bug takes a fraction of a second,
    # shrinking it several seconds (docs/strategies.md shows the shrunk report).
    fast = settings(_SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    with pytest.raises(AssertionError, match="the tool's present vCPUs differ") as caught:
        run_state_machine_as_test(BuggyToyComparison, settings=fast)  # type: ignore[no-untyped-call]
    assert "extra [PresentCpu(" in str(caught.value)
