"""The ARM virt plugin without QEMU, by properties: the slots, their ids and the MPIDR
numbering follow the CPU index on any topology and GIC, and hot-plug is refused
without changing the VM.

The observed starts and refusals are in ``tests/unit/test_arm_virt.py``.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import topology
from arch.arm import affinity_group_size, mpidr
from topology import TopologyError, VirtualMachine


@settings(max_examples=60, deadline=None)
@given(
    version=st.sampled_from(["7.2", "9.0", "10.0", "10.2"]),
    name=st.sampled_from(["virt", "virt-2.6", "virt-6.1"]),
    gic=st.sampled_from(["2", "3", "max"]),
    sockets=st.integers(1, 3),
    clusters=st.integers(1, 3),
    cores=st.integers(1, 3),
    threads=st.integers(1, 2),
)
def test_slots_follow_the_index(
    version: str, name: str, gic: str, sockets: int, clusters: int, cores: int, threads: int
) -> None:
    total = sockets * clusters * cores * threads
    if gic == "2" and total > 8:
        gic = "3"
    offered = [t.name for t in topology.machine_types("aarch64", qemu_version=version)]
    assume(name == "virt" or name in offered)  # QEMU 10.2 deleted virt-2.6
    machine = topology.machine("aarch64", name, qemu_version=version, gic_version=gic)
    smp = f"sockets={sockets},clusters={clusters},cores={cores},threads={threads}"
    vm = VirtualMachine.start(machine, smp)
    group = 8 if gic == "2" or name == "virt-2.6" else 16
    assert (
        affinity_group_size(int(gic) if gic != "max" else 3, adjusted=name != "virt-2.6") == group
    )
    seen = set()
    for slot in vm.slots:
        props = slot.props
        # The ids count the index up: thread, core, cluster, socket.
        assert props.socket_id is not None and props.cluster_id is not None
        assert props.core_id is not None and props.thread_id is not None
        rebuilt = ((props.socket_id * clusters + props.cluster_id) * cores + props.core_id) * (
            threads
        ) + props.thread_id
        assert rebuilt == slot.index
        aff1, aff0 = slot.arch_id >> 8, slot.arch_id & 0xFF
        assert aff0 < group and aff1 * group + aff0 == slot.index
        assert mpidr(slot.arch_id) == slot.arch_id | 1 << 31
        seen.add(slot.arch_id)
    assert len(seen) == total


@settings(max_examples=30, deadline=None)
@given(
    version=st.sampled_from(["7.2", "8.1", "10.0", "10.2"]),
    cpus=st.integers(1, 8),
    driver=st.sampled_from(["cortex-a15-arm-cpu", "max-arm-cpu", "nope-arm-cpu"]),
)
def test_hotplug_is_refused_and_changes_nothing(version: str, cpus: int, driver: str) -> None:
    vm = VirtualMachine.start(topology.machine("aarch64", "virt", qemu_version=version), str(cpus))
    before = vm.snapshot()
    with pytest.raises(topology.DeviceTypeError) as plugged:
        vm.plug(driver, {"socket-id": 0, "core-id": cpus}, id="c1")
    valid = driver != "nope-arm-cpu"
    assert str(plugged.value) == (
        "Parameter 'driver' expects a pluggable device type"
        if valid
        else "'nope-arm-cpu' is not a valid device model name"
    )
    path = f"/machine/unattached/device[{cpus - 1}]"
    with pytest.raises(TopologyError) as unplugged:
        vm.request_unplug(path)
    if topology.qemu_version(version).at_least("10.0"):
        assert str(unplugged.value) == (
            "Device 'cortex-a15-arm-cpu' can not be hotplugged on this machine"
        )
    else:
        assert isinstance(unplugged.value, topology.QemuAbortError)
        assert str(unplugged.value) == "qdev_unplug: assertion failed: (hotplug_ctrl)"
    assert vm.snapshot() == before
    assert vm.take_events() == []
