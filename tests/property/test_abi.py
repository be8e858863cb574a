"""topology.abi by properties, on VMs driven into a generated reachable state (plugs,
unplug requests, guest ejects, some refused): a VM compares equal to itself, its
migration plan starts a destination that differs only in the QOM paths the plan
documents, and a saved model loads back exactly.

The tables of changes that keep and break a guest's ABI are in
``tests/unit/test_abi.py``; ``tests/differential/test_abi.py`` starts real QEMU
with the plans.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from arch.x86._hotplug import ACPI_LEGACY
from topology import abi
from topology.abi._migration import device_ids
from topology.qemu import QemuSimulator

SETUPS = [
    ("x86_64", "pc-q35-7.2", "7.2", ["2,maxcpus=6", "3,sockets=2,cores=2,maxcpus=4"]),
    ("x86_64", "pc-i440fx-6.1", "7.2", ["2,maxcpus=4"]),
    ("x86_64", "pc-q35-9.1", "10.0", ["2,sockets=2,modules=2,cores=1,maxcpus=4"]),
    ("ppc64", "pseries-7.2", "7.2", ["2,maxcpus=5", "1,maxcpus=3"]),
    ("ppc64", "pseries-8.1", "10.0", ["2,threads=2,maxcpus=6"]),
    ("s390x", "s390-ccw-virtio-7.2", "7.2", ["2,maxcpus=5"]),
    ("s390x", "s390-ccw-virtio-8.2", "10.0", ["1,sockets=2,cores=2,maxcpus=4"]),
    ("aarch64", "virt-7.2", "7.2", ["2,maxcpus=4"]),
]


@st.composite
def reachable_vms(draw: st.DrawFn) -> topology.VirtualMachine:
    """A VM after a drawn sequence of plugs, unplug requests and guest ejects (some refused)."""
    arch, name, version, smps = draw(st.sampled_from(SETUPS))
    numa = draw(st.booleans()) and arch != "s390x"
    options = {"cpu": "power9_v2.2"} if name == "pseries-8.1" else {}
    chosen = topology.machine(arch, name, qemu_version=version, **options)
    smp = draw(st.sampled_from(smps))
    mib = 256 if arch != "ppc64" else 512  # pseries nodes need whole 256 MiB blocks
    # With memory hot-plug slots q35 and virt make a NUMA node on their own.
    memory = draw(st.sampled_from([None, f"{2 * mib}M", f"{2 * mib}M,slots=2,maxmem={8 * mib}M"]))
    if numa:
        numa_options = ["node,memdev=a", "node,memdev=b", "dist,src=0,dst=1,val=17"]
        if draw(st.booleans()):
            # An explicit CPU mapping: the first socket (pseries: core) to node 1.
            ids = "core-id=0" if arch == "ppc64" else "socket-id=0"
            numa_options.append(f"cpu,node-id=1,{ids}")
        vm = topology.VirtualMachine.start(
            chosen,
            smp,
            numa=numa_options,
            memory=memory or f"{2 * mib}M",
            memory_backends={"a": mib * 2**20, "b": mib * 2**20},
        )
    else:
        vm = topology.VirtualMachine.start(chosen, smp, memory=memory)
    vm.stash[ACPI_LEGACY] = False  # the x86 guest switched to modern mode
    for step in range(draw(st.integers(0, 8))):
        action = draw(st.integers(0, 3))
        try:
            if action <= 1:
                slot = draw(st.sampled_from(vm.slots))
                props = slot.props.as_qmp()
                device_id = draw(st.sampled_from([None, f"hp{step}", "hp0"]))
                vm.plug(slot.type, props, id=device_id)
            else:
                present = [s.index for s in vm.present() if s.index]
                if not present:
                    continue
                state = vm.state(draw(st.sampled_from(present)))
                assert state is not None
                vm.request_unplug(state.qom_path)
                if action == 3 and vm.state(vm.find_device(state.qom_path)) is not None:
                    if draw(st.booleans()):
                        vm.complete_unplug(state.qom_path)  # the guest ejects it
                    else:
                        vm.reject_unplug(state.qom_path)  # the guest refuses
        except topology.TopologyError:
            pass  # refused: nothing changed (a refused anonymous plug uses up a number)
        if draw(st.integers(0, 4)) == 0 and vm.present_cpu_indexes():
            vm.set_online(draw(st.sampled_from(vm.present_cpu_indexes())), draw(st.booleans()))
    return vm


def expected_paths(vm: topology.VirtualMachine) -> dict[int, str]:
    """The QOM path each present CPU gets on a destination started with the plan."""
    paths = {index: state.qom_path for index, state in vm.snapshot().items()}
    anonymous = 0
    for index, device_id in device_ids(vm).items():
        if device_id is None:
            paths[index] = f"/machine/peripheral-anon/device[{anonymous}]"
            anonymous += 1
        else:
            paths[index] = f"/machine/peripheral/{device_id}"
    return paths


EXAMPLES = int(os.environ.get("CPUTOPO_ABI_EXAMPLES", "60"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reachable_vms())
def test_compare_of_a_vm_with_itself_is_empty(vm: topology.VirtualMachine) -> None:
    assert abi.compare(vm, vm) == []


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reachable_vms())
def test_a_plan_reproduces_any_reachable_state(vm: topology.VirtualMachine) -> None:
    plan = abi.migration_plan(vm)
    assert plan[0] == f"qemu-system-{vm.machine.arch.targets[0]}"
    # The destination as the QEMU stand-in starts it, and as it answers over QMP.
    simulator = QemuSimulator(plan, version=str(vm.machine.qemu_version))
    destination = simulator.vm
    if vm.machine.type.hotpluggable_cpus:
        answer = simulator.qmp("query-hotpluggable-cpus")["return"]
        source = topology.query_hotpluggable_cpus(vm)
        assert [entry["props"] for entry in answer] == [entry["props"] for entry in source]
        assert [entry.get("qom-path") for entry in answer] == [
            expected_paths(vm).get(slot.index) for slot in reversed(vm.slots)
        ]
    assert [s.index for s in destination.present()] == [s.index for s in vm.present()]
    assert destination.slots == vm.slots
    paths = expected_paths(vm)
    assert {i: s.qom_path for i, s in destination.snapshot().items()} == paths
    # Only QOM paths may differ, and only where the plan says they must.
    changes = abi.compare(vm, destination)
    assert [(c.what, c.where, c.new) for c in changes] == [
        ("qom-path", f"slot {index}", path)
        for index, path in sorted(paths.items())
        if path != vm.snapshot()[index].qom_path
    ]
    views = [topology.query_cpus_fast(v) for v in (vm, destination)]
    assert [c["cpu-index"] for c in views[0]] == [c["cpu-index"] for c in views[1]]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reachable_vms())
def test_a_saved_model_loads_back_exactly(vm: topology.VirtualMachine) -> None:
    document = json.loads(json.dumps(abi.save_model(vm)))
    loaded = abi.load_model(document)
    assert abi.compare(vm, loaded) == []
    assert {i: (s.qom_path, s.device_id, s.online, s.unplug_pending, s.origin)
            for i, s in loaded.snapshot().items()} == {
        i: (s.qom_path, s.device_id, s.online, s.unplug_pending, s.origin)
        for i, s in vm.snapshot().items()
    }  # fmt: skip
    assert topology.query_cpus_fast(loaded) == topology.query_cpus_fast(vm)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    cores=st.integers(1, 4),
    boot=st.integers(1, 16),
    threads=st.sampled_from([(1, 2), (2, 1), (1, 4), (2, 4)]),
)
def test_vcpus_on_both_sides_are_never_missing(
    cores: int, boot: int, threads: tuple[int, int]
) -> None:
    # pseries with other threads per core on each side: slots hold other numbers
    # of vCPUs, and compare pairs the vCPUs themselves by cpu-index.
    machine = topology.machine("ppc64", "pseries-8.1", qemu_version="10.0")
    maxcpus = cores * 4
    vms = []
    for per_core in threads:
        cpus = max(per_core, min(boot, maxcpus) // per_core * per_core)
        smp = f"{cpus},threads={per_core},maxcpus={maxcpus}"
        vms.append(topology.VirtualMachine.start(machine, smp))
    src, dst = vms
    present = [set(vm.present_cpu_indexes()) for vm in vms]
    reported = {
        int(str(change.where).removeprefix("cpu "))
        for change in abi.compare(src, dst)
        if change.what == "cpu-present"
    }
    assert reported == present[0] ^ present[1]
