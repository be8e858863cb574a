"""The worked example of docs/strategies.md: a toy CPU manager checked with the stateful kit.

The toy keeps its own list of a VM's CPUs, as management tools do, and talks
QMP to its hypervisor: here the QEMU stand-in ``topology.qemu.QemuSimulator``,
started from the spec's QEMU command line (``device_add``, ``device_del``,
``query-cpus-fast`` and the ``DEVICE_DELETED`` events; the guest's own actions,
ejecting or onlining a CPU, go to the stand-in's VM model). The correct toy
passes; the buggy one, which waits for the guest after every ``device_del``, is
caught: on pseries QEMU releases a hot-plugged core the guest never took at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from topology import GuestPolicy, SlotProps, TopologyError
from topology.qemu import QemuSimulator
from topology.strategies import PresentCpu, VmSpec, vm_specs
from topology.testing import HotplugComparison

_THREAD: re.Pattern[str] = re.compile(r"/thread\[\d+\]$")


class ToyError(Exception):
    """QEMU refused a command; the text is QEMU's ``desc``."""


class ToyManager:
    """A management tool's CPU bookkeeping: what it believes is plugged in its VM."""

    def __init__(self, qemu: QemuSimulator, *, wait_for_guest: bool = False) -> None:
        self.qemu = qemu
        self.wait_for_guest = wait_for_guest  # the bug: removal only on the guest's eject
        self.auto_online = qemu.vm.guest is GuestPolicy.AUTO_ONLINE
        self.cpus: dict[str, list[PresentCpu]] = {}  # by the device's QOM path
        self.names: dict[str, str] = {}  # device id -> QOM path
        self._qmp("qmp_capabilities")
        self._learn(online=True)

    def add_cpu(self, driver: str, props: Mapping[str, object], device_id: str | None) -> None:
        arguments: dict[str, object] = {"driver": driver, **props}
        if device_id is not None:
            arguments["id"] = device_id
        self._qmp("device_add", arguments)
        for path in self._learn(online=self.auto_online, device_id=device_id):
            if device_id is not None:
                self.names[device_id] = path

    def remove_cpu(self, device: str) -> None:
        self._qmp("device_del", {"id": device})
        if not self.wait_for_guest:
            self._forget_deleted()

    def guest_ejected(self, device: str) -> None:
        try:
            self.qemu.vm.complete_unplug(device)
        except TopologyError as error:
            raise ToyError(str(error)) from None
        if self.wait_for_guest:
            self.qemu.events()
            self._forget(self.names.get(device, device))
        else:
            self._forget_deleted()

    def set_online(self, cpu_index: int, online: bool) -> None:
        try:
            self.qemu.vm.set_online(cpu_index, online)
        except TopologyError as error:
            raise ToyError(str(error)) from None
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

    def _qmp(self, command: str, arguments: Mapping[str, object] | None = None) -> Any:
        reply = self.qemu.qmp(command, arguments)
        if "error" in reply:
            raise ToyError(reply["error"]["desc"])
        return reply["return"]

    def _learn(self, *, online: bool, device_id: str | None = None) -> list[str]:
        """Record the vCPUs query-cpus-fast shows that the toy does not know yet."""
        found: dict[str, list[PresentCpu]] = {}
        for cpu in self._qmp("query-cpus-fast"):
            path = _THREAD.sub("", cpu["qom-path"])  # a pseries thread belongs to its core
            if path in self.cpus:
                continue
            props = SlotProps(**{name.replace("-", "_"): v for name, v in cpu["props"].items()})
            found.setdefault(path, []).append(
                PresentCpu(cpu_index=cpu["cpu-index"], props=props, device_id=device_id,
                           online=online)
            )  # fmt: skip
        self.cpus.update(found)
        return list(found)

    def _forget_deleted(self) -> None:
        for event in self.qemu.events():
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
    refusals = (ToyError,)
    compare_messages = True
    wait_for_guest = False

    def system_start(self, spec: VmSpec) -> None:
        qemu = QemuSimulator(spec.argv(), version=str(spec.machine.qemu_version))
        qemu.vm.guest = spec.guest  # the guest's habit is not on QEMU's command line
        self.toy = ToyManager(qemu, wait_for_guest=self.wait_for_guest)

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
    run_state_machine_as_test(ToyComparison, settings=_SETTINGS)  # type: ignore[no-untyped-call, unused-ignore]


def test_the_kit_catches_the_toy_that_waits_for_the_guest() -> None:
    # Without the shrink phase: finding the bug takes a fraction of a second,
    # shrinking it several seconds (docs/strategies.md shows the shrunk report).
    fast = settings(_SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    with pytest.raises(AssertionError, match="the tool's present vCPUs differ") as caught:
        run_state_machine_as_test(BuggyToyComparison, settings=fast)  # type: ignore[no-untyped-call, unused-ignore]
    assert "extra [PresentCpu(" in str(caught.value)
