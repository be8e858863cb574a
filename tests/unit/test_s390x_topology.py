"""The s390x configuration-topology facility under KVM, as QEMU's source has it.

KVM cannot run here, so these facts come from the source (QEMU 8.2-10.x):
``hw/s390x/cpu-topology.c`` (s390_topology_cpu_default, s390_topology_check,
s390_topology_setup_cpu, s390_change_topology, qmp_set_cpu_topology,
qmp_query_s390x_cpu_polarization, s390_handle_ptf, s390_topology_reset),
``hw/s390x/s390-virtio-ccw.c`` s390_cpu_plug and ``target/s390x/cpu.c``
s390_query_cpu_fast. What TCG shows is compared with real QEMU in
``tests/differential/test_s390x_topology.py``; the properties are in
``tests/property/test_s390x_topology.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

import topology
from arch.s390x import (
    CommandNotFound,
    CpuPlacement,
    guest_reset,
    guest_set_polarization,
    has_topology,
    placement_of,
    qmp_commands,
    topology_state,
)
from topology import VirtualMachine, query_cpus_fast

DRIVER = "host-s390x-cpu"


def kvm_vm(smp: str, *, cpu: str = "host", version: str = "10.0") -> VirtualMachine:
    machine = topology.machine(
        "s390x", f"s390-ccw-virtio-{version}", qemu_version=version, accel="kvm", cpu=cpu
    )
    return VirtualMachine.start(machine, smp)


def qmp(vm: VirtualMachine, command: str, args: Mapping[str, object] | None = None) -> object:
    return qmp_commands(vm.machine.qemu_version)[command](vm, args or {})


def refused(vm: VirtualMachine, message: str, action: object) -> None:
    """``action`` raises ``message`` and leaves the VM exactly as it was."""
    assert callable(action)
    board, slots = vm.stash.copy(), vm.snapshot()
    with pytest.raises(topology.TopologyError) as error:
        action()
    assert str(error.value) == message
    assert vm.stash == board
    assert vm.snapshot() == slots


# -- when the facility is on ---------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "accel", "cpu", "on"),
    [
        ("10.0", "kvm", "host", True),
        ("10.0", "kvm", "max", True),
        ("10.0", "kvm", "host,ctop=off", False),
        ("10.0", "kvm", "z14", False),
        ("10.0", "kvm", "z14,ctop=on", True),
        ("10.0", "tcg", "qemu", False),
        ("8.2", "kvm", "host", True),
        ("8.1", "kvm", "host", False),  # no topology before 8.2
    ],
)
def test_facility_needs_kvm_ctop_and_8_2(version: str, accel: str, cpu: str, on: bool) -> None:
    machine = topology.machine(
        "s390x", f"s390-ccw-virtio-{version}", qemu_version=version, accel=accel, cpu=cpu
    )
    assert has_topology(machine) is on


# -- placement on plug -----------------------------------------------------------


def test_defaults_fill_socket_by_socket_and_auto_entitlement() -> None:
    vm = kvm_vm("1,drawers=2,books=1,sockets=2,cores=2,maxcpus=8")
    vm.plug(DRIVER, {"core-id": 5})
    vm.plug(DRIVER, {"core-id": 6, "dedicated": True})
    # core 5: socket 5//2%2 = 0, book 0, drawer 5//4 = 1; auto -> medium.
    assert placement_of(vm, 5) == CpuPlacement(core_id=5, drawer_id=1, socket_id=0)
    assert placement_of(vm, 6) == CpuPlacement(
        core_id=6, drawer_id=1, socket_id=1, entitlement="high", dedicated=True
    )
    assert placement_of(vm, 7) is None


def test_explicit_placement_and_query_cpus_fast_members() -> None:
    vm = kvm_vm("1,sockets=2,cores=2,maxcpus=4")
    vm.plug(
        DRIVER,
        {"core-id": 1, "socket-id": 1, "book-id": 0, "drawer-id": 0, "entitlement": "low"},
    )
    assert placement_of(vm, 1) == CpuPlacement(core_id=1, socket_id=1, entitlement="low")
    cpus = {cpu["cpu-index"]: cpu for cpu in query_cpus_fast(vm)}
    assert (cpus[1]["dedicated"], cpus[1]["entitlement"]) == (False, "low")
    assert (cpus[0]["dedicated"], cpus[0]["entitlement"]) == (False, "medium")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"socket-id": 1}, "Please define all or none of the topology geometry attributes"),
        (
            {"socket-id": 0, "book-id": 0, "drawer-id": -1},
            "Please define all or none of the topology geometry attributes",
        ),
        ({"socket-id": 2, "book-id": 0, "drawer-id": 0}, "Unavailable socket: 2"),
        ({"socket-id": 0, "book-id": 1, "drawer-id": 0}, "Unavailable book: 1"),
        ({"socket-id": 0, "book-id": 0, "drawer-id": 3}, "Unavailable drawer: 3"),
        # The order of s390_topology_check: socket before book before drawer.
        ({"socket-id": 9, "book-id": 9, "drawer-id": 9}, "Unavailable socket: 9"),
        ({"dedicated": True, "entitlement": "low"}, "A dedicated CPU implies high entitlement"),
        (
            {"dedicated": True, "entitlement": "medium"},
            "A dedicated CPU implies high entitlement",
        ),
    ],
)
def test_plug_refusals(props: dict[str, object], message: str) -> None:
    vm = kvm_vm("1,sockets=2,cores=2,maxcpus=4")
    refused(vm, message, lambda: vm.plug(DRIVER, {"core-id": 2, **props}))


def test_a_full_socket_refuses_even_the_default_placement() -> None:
    """QEMU does not resolve collisions with implicit placements (cpu-topology.rst)."""
    vm = kvm_vm("1,sockets=2,cores=2,maxcpus=4")
    vm.plug(DRIVER, {"core-id": 3, "socket-id": 0, "book-id": 0, "drawer-id": 0})
    # Socket 0 holds cores 0 and 3 now; core 1 belongs there by default.
    refused(vm, "No more space on this socket", lambda: vm.plug(DRIVER, {"core-id": 1}))
    vm.plug(DRIVER, {"core-id": 1, "socket-id": 1, "book-id": 0, "drawer-id": 0})


def test_core_id_checks_come_before_placement() -> None:
    vm = kvm_vm("1,sockets=2,cores=2,maxcpus=4")
    refused(
        vm,
        "Unable to add CPU with core-id: 0, it already exists",
        lambda: vm.plug(DRIVER, {"core-id": 0, "socket-id": 7}),
    )


def test_a_plug_refused_for_its_id_keeps_the_placement_state() -> None:
    vm = kvm_vm("1,sockets=2,cores=2,maxcpus=4")
    vm.plug(DRIVER, {"core-id": 1}, id="cpu1")
    refused(vm, "Duplicate device ID 'cpu1'", lambda: vm.plug(DRIVER, {"core-id": 2}, id="cpu1"))


# -- set-cpu-topology ------------------------------------------------------------------


def test_set_cpu_topology_moves_and_recomputes_an_omitted_entitlement() -> None:
    vm = kvm_vm("2,sockets=2,cores=2,maxcpus=4")
    assert qmp(vm, "set-cpu-topology", {"core-id": 1, "entitlement": "low"}) == {}
    assert placement_of(vm, 1) == CpuPlacement(core_id=1, entitlement="low")
    assert topology_state(vm).changed
    # Moving without entitlement: medium again, though QAPI says absent values stay.
    qmp(vm, "set-cpu-topology", {"core-id": 1, "socket-id": 1})
    assert placement_of(vm, 1) == CpuPlacement(core_id=1, socket_id=1, entitlement="medium")
    qmp(vm, "set-cpu-topology", {"core-id": 1, "dedicated": True})
    assert placement_of(vm, 1) == CpuPlacement(
        core_id=1, socket_id=1, entitlement="high", dedicated=True
    )
    # dedicated is kept when left out; so a later entitlement=low is refused.
    refused(
        vm,
        "A dedicated CPU implies high entitlement",
        lambda: qmp(vm, "set-cpu-topology", {"core-id": 1, "entitlement": "low"}),
    )


def test_set_cpu_topology_without_a_change_raises_no_report() -> None:
    vm = kvm_vm("2,sockets=2,cores=2,maxcpus=4")
    qmp(vm, "set-cpu-topology", {"core-id": 0, "socket-id": 0, "entitlement": "auto"})
    assert not topology_state(vm).changed


def test_set_cpu_topology_space_counts_the_cpu_leaving() -> None:
    vm = kvm_vm("4,sockets=2,cores=2")
    refused(
        vm,
        "No more space on this socket",
        lambda: qmp(vm, "set-cpu-topology", {"core-id": 0, "socket-id": 1}),
    )
    # Staying in its own full socket is fine.
    qmp(vm, "set-cpu-topology", {"core-id": 0, "socket-id": 0, "entitlement": "high"})


BAD_VALUE = "Parameter 'entitlement' does not accept value"
BAD_TYPE = "Invalid parameter type for"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "Parameter 'core-id' is missing"),
        ({"socket-id": 0}, "Parameter 'core-id' is missing"),
        ({"core-id": "0"}, "Parameter 'core-id' expects uint64"),
        ({"core-id": 70000}, "Parameter 'core-id' expects uint16_t"),
        ({"core-id": -1}, "Parameter 'core-id' expects uint16_t"),
        ({"core-id": 0, "entitlement": "max"}, f"{BAD_VALUE} 'max'"),
        ({"core-id": 0, "entitlement": 1}, f"{BAD_TYPE} 'entitlement', expected: string"),
        ({"core-id": 0, "dedicated": 1}, f"{BAD_TYPE} 'dedicated', expected: boolean"),
        ({"core-id": 0, "thread-id": 0}, "Parameter 'thread-id' is unexpected"),
        ({"core-id": 3}, "Core-id 3 does not exist!"),
        ({"core-id": 9}, "Core-id 9 does not exist!"),
        ({"core-id": 0, "socket-id": 2}, "Unavailable socket: 2"),
        ({"core-id": 0, "book-id": 1}, "Unavailable book: 1"),
        ({"core-id": 0, "drawer-id": 1}, "Unavailable drawer: 1"),
    ],
)
def test_set_cpu_topology_refusals(args: dict[str, object], message: str) -> None:
    vm = kvm_vm("2,sockets=2,cores=2,maxcpus=4")
    refused(vm, message, lambda: qmp(vm, "set-cpu-topology", args))


def test_set_cpu_topology_needs_the_facility() -> None:
    vm = kvm_vm("2,sockets=2,cores=1", cpu="z14")
    refused(
        vm,
        "This machine doesn't support topology",
        lambda: qmp(vm, "set-cpu-topology", {"core-id": 0}),
    )
    # The polarization query answers anyway (no facility check in QEMU).
    assert qmp(vm, "query-s390x-cpu-polarization") == {"polarization": "horizontal"}


def test_commands_by_version_and_accelerator() -> None:
    assert dict(qmp_commands(topology.qemu_version("8.1"))) == {}
    assert set(qmp_commands(topology.qemu_version("8.2"))) == {
        "set-cpu-topology",
        "query-s390x-cpu-polarization",
    }
    tcg10 = VirtualMachine.start(
        topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0"), "2"
    )
    with pytest.raises(CommandNotFound, match="The command set-cpu-topology has not been found"):
        qmp(tcg10, "set-cpu-topology", {"core-id": 0})
    tcg102 = VirtualMachine.start(
        topology.machine("s390x", "s390-ccw-virtio-10.2", qemu_version="10.2"), "2"
    )
    with pytest.raises(topology.TopologyError, match=r"^Parameter 'core-id' is missing$"):
        qmp(tcg102, "set-cpu-topology", {})
    refused(
        tcg102,
        "CPU topology change is not supported on this target",
        lambda: qmp(tcg102, "set-cpu-topology", {"core-id": 0}),
    )
    refused(
        tcg102,
        "CPU polarization is not supported on this target",
        lambda: qmp(tcg102, "query-s390x-cpu-polarization"),
    )


# -- polarization ----------------------------------------------------------------------


def test_guest_polarization_changes_emit_events() -> None:
    vm = kvm_vm("2,sockets=2,cores=1")
    assert guest_set_polarization(vm, "horizontal") == 2  # already: cc 2, no event
    assert vm.take_events() == []
    assert guest_set_polarization(vm, "vertical") == 0
    assert vm.take_events() == [
        {"event": "CPU_POLARIZATION_CHANGE", "data": {"polarization": "vertical"}}
    ]
    assert qmp(vm, "query-s390x-cpu-polarization") == {"polarization": "vertical"}
    guest_reset(vm)
    assert qmp(vm, "query-s390x-cpu-polarization") == {"polarization": "horizontal"}
    assert vm.take_events() == []


def test_ptf_without_the_facility_is_an_operation_exception() -> None:
    vm = kvm_vm("2", cpu="z14")
    refused(
        vm,
        "PTF: operation exception (no configuration-topology facility)",
        lambda: guest_set_polarization(vm, "vertical"),
    )
