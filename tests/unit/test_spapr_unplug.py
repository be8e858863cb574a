"""pseries without QEMU: guest refusal of an unplug, KVM VSMT host modes, FORM1 NUMA.

The facts behind these tables come from the QEMU source (no guest, no KVM
here): ``hw/ppc/spapr_drc.c`` drc_unisolate_logical, ``hw/acpi/cpu.c``
cpu_hotplug_wr, ``hw/ppc/spapr.c`` spapr_set_vsmt_mode, ``target/ppc/kvm.c``
kvmppc_error_append_smt_possible_hint, ``hw/ppc/spapr_numa.c``
spapr_numa_FORM1_affinity_check. Hot-added cores leaving whole are a property
(``tests/property/test_spapr_unplug.py``).
"""

from __future__ import annotations

import pytest

import topology
from arch.spapr._form1 import check_form1, uses_form1
from arch.x86._hotplug import ACPI_LEGACY
from topology import VirtualMachine

PSERIES = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2")


def test_pseries_guest_rejects_a_pending_unplug() -> None:
    vm = VirtualMachine.start(PSERIES, "2,maxcpus=4")
    core = "/machine/unattached/device[2]"
    vm.request_unplug(core)
    assert vm.state(1).unplug_pending  # type: ignore[union-attr]
    vm.reject_unplug(core)
    assert not vm.state(1).unplug_pending  # type: ignore[union-attr]
    assert vm.take_events() == [{"event": "DEVICE_UNPLUG_GUEST_ERROR", "data": {"path": core}}]
    # Nothing pending any more: a second refusal is an error and changes nothing.
    before = vm.snapshot()
    with pytest.raises(topology.TopologyError, match="no unplug request is pending"):
        vm.reject_unplug(core)
    assert vm.snapshot() == before and vm.take_events() == []
    # device_del asks again; the guest may now release it.
    vm.request_unplug(core)
    vm.complete_unplug(core)
    assert vm.state(1) is None
    assert [e["event"] for e in vm.take_events()] == ["DEVICE_DELETED"] * 4


def test_pseries_rejection_names_the_device_id() -> None:
    # A core with an id that the guest took (modelled by the same pending state).
    vm = VirtualMachine.start(PSERIES, "1,maxcpus=2")
    vm.plug("power9_v2.0-spapr-cpu-core", {"core-id": 1}, id="c1")
    vm._states[1] = vm._states[1].__class__(  # the guest configured the DRC: it owns the core
        origin=topology.PlugOrigin.COLD, device_id="c1", qom_path="/machine/peripheral/c1"
    )
    assert vm.request_unplug("c1") is topology.UnplugResult.PENDING
    vm.reject_unplug("c1")
    assert vm.take_events() == [
        {
            "event": "DEVICE_UNPLUG_GUEST_ERROR",
            "data": {"device": "c1", "path": "/machine/peripheral/c1"},
        }
    ]


def test_x86_guest_rejects_with_ost_events() -> None:
    q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
    vm = VirtualMachine.start(q35, "2,maxcpus=4")
    vm.stash[ACPI_LEGACY] = False
    vm.plug("qemu64-x86_64-cpu", {"socket-id": 0, "core-id": 3, "thread-id": 0}, id="cpu3")
    vm.request_unplug("cpu3")
    vm.reject_unplug("cpu3")
    info = {"device": "cpu3", "slot": "3", "slot-type": "CPU", "source": 3}
    assert vm.take_events() == [
        {"event": "ACPI_DEVICE_OST", "data": {"info": {**info, "status": 0x84}}},
        {"event": "ACPI_DEVICE_OST", "data": {"info": {**info, "status": 0x82}}},
    ]
    assert not vm.state(3).unplug_pending  # type: ignore[union-attr]


# spapr_set_vsmt_mode with KVM: (threads, vsmt option, host-smt, host-vsmt-modes) ->
# the warning or the error and its hint lines.
KVM_CASES = [
    (2, None, "1", "1 2 4 8", None, None),  # POWER9 host: vsmt 2 can be set
    (4, None, "8", "1 2 4 8", None, None),  # POWER8 host: 4 can be set
    (8, None, "8", "", None, None),  # vsmt equals the host's mode: nothing to set
    (
        2,
        None,
        "1",
        "",
        "error",
        "On PPC, a VM with 2 threads/core on a host with 1 threads/core requires the use of "
        "VSMT mode 2.\nThis KVM seems to be too old to support VSMT.",
    ),
    (
        2,
        "16",
        "1",
        "1 2 4 8",
        "error",
        "Available VSMT modes: 8 4 2 1.",  # a user's vsmt: no "On PPC" line
    ),
    (2, "16", "8", "1 2 4 8", "warning", None),  # 8 >= 2 and 16 % 8 == 0: ids wasted, works
    (2, "12", "4", "1 2 4", "warning", None),
]


@pytest.mark.parametrize(("threads", "vsmt", "smt", "modes", "outcome", "hint"), KVM_CASES)
def test_kvm_vsmt(
    threads: int, vsmt: str | None, smt: str, modes: str, outcome: str | None, hint: str | None
) -> None:
    options = {"accel": "kvm", "host_smt": smt, "host_vsmt_modes": modes}
    if vsmt is not None:
        options["vsmt"] = vsmt
    machine = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2", **options)
    smp = f"{threads},threads={threads}"
    effective = int(vsmt) if vsmt else threads
    message = f"Failed to set KVM's VSMT mode to {effective} (errno -22)"
    if outcome == "error":
        with pytest.raises(topology.BoardError) as info:
            VirtualMachine.start(machine, smp)
        assert (str(info.value), info.value.hint) == (message, hint)
        return
    vm = VirtualMachine.start(machine, smp)
    warnings = [str(w) for w in vm.warnings]
    assert warnings == ([f"warning: {message}"] if outcome == "warning" else [])


def test_kvm_host_options_are_checked() -> None:
    machine = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2", accel="kvm",
                               host_vsmt_modes="3")  # fmt: skip
    with pytest.raises(topology.ParameterError, match="powers of 2"):
        VirtualMachine.start(machine, "2,threads=2")


MEM = {"a": 256 * 2**20, "b": 256 * 2**20}


def test_form1_refuses_asymmetric_distances() -> None:
    m = topology.machine("ppc64", "pseries-6.1", qemu_version="7.2")
    numa = ["node,memdev=a,cpus=0-1", "node,memdev=b"]
    dist = ["dist,src=0,dst=1,val=20", "dist,src=1,dst=0,val=30"]
    vm = VirtualMachine.start(m, "2", numa=numa + dist, memory="512M", memory_backends=MEM)
    with pytest.raises(topology.NumaError) as info:
        check_form1(vm)
    assert str(info.value) == (
        "Asymmetrical NUMA topologies aren't supported in the pSeries machine using FORM1 NUMA"
    )
    symmetric = VirtualMachine.start(m, "2", numa=[*numa, dist[0]], memory="512M",
                                     memory_backends=MEM)  # fmt: skip
    check_form1(symmetric)


def test_form1_memoryless_node_is_fine_with_a_present_cpu() -> None:
    m = topology.machine("ppc64", "pseries-6.1", qemu_version="7.2")
    numa = ["node,memdev=a,cpus=0", "node,cpus=1-3"]
    vm = VirtualMachine.start(m, "1,maxcpus=4", numa=numa, memory="256M",
                              memory_backends={"a": 256 * 2**20})  # fmt: skip
    with pytest.raises(topology.NumaError, match=r"\(node 1\)"):
        check_form1(vm)  # node 1 has no memory and its CPUs are not plugged yet
    vm.plug("power9_v2.0-spapr-cpu-core", {"core-id": 2})
    check_form1(vm)


def test_which_guests_get_form1() -> None:
    assert uses_form1("pseries-6.1", guest_form2=True)
    assert not uses_form1("pseries-6.2", guest_form2=True)
    assert uses_form1("pseries-10.0", guest_form2=False)


@pytest.mark.parametrize("path", ["/machine/unattached/device[0]", "/machine/unattached/device[1]"])
def test_pseries_types_without_cpu_hotplug_refuse_every_unplug(path: str) -> None:
    # Observed on QEMU 7.2.22: -machine pseries-2.2 -smp 2, device_del of either
    # boot core (found by the conformance kit; the boot-core text came first before).
    old = topology.machine("ppc64", "pseries-2.2", qemu_version="7.2")
    vm = VirtualMachine.start(old, "2")
    with pytest.raises(topology.BoardError) as refused:
        vm.request_unplug(path)
    assert str(refused.value) == "CPU hot unplug not supported on this machine"
    assert vm.present_cpu_indexes() == [0, 1]
