"""topology.abi without QEMU: tables of changes that keep and break a guest's ABI,
upgrade checks, migration plans, model files and ``cputopo diff``.

The properties of compare, of migration plans and of model files are in
tests/property/test_abi.py; the QEMU-backed checks of the same tables and plans
are in tests/differential/test_abi.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import topology
from arch.x86._hotplug import ACPI_LEGACY
from topology import abi
from topology._cli.main import main

Severity = abi.Severity
BREAKS, BOOT, HARMLESS = Severity.BREAKS_RUNNING, Severity.FRESH_BOOT, Severity.HARMLESS

# (id, arch, source argv, destination argv, {(what, severity)} expected, the reason).
# Both sides run on QEMU 7.2, except the rows listed in ON_QEMU_10.
ABI_TABLE: list[tuple[str, str, list[str], list[str], set[tuple[str, Severity]], str]] = [
    (
        "x86-same-topology-spelled-out",
        "x86_64",
        ["-M", "pc-q35-7.2", "-smp", "4"],
        ["-M", "pc-q35-7.2", "-smp", "cpus=4,sockets=1,cores=4,threads=1"],
        set(),
        "-smp 4 on a 6.2+ type is 1 socket of 4 cores",
    ),
    (
        "x86-boot-cpus-as-devices",
        "x86_64",
        ["-M", "pc-q35-7.2", "-smp", "4,maxcpus=4"],
        ["-M", "pc-q35-7.2", "-smp", "2,maxcpus=4",
         "-device", "qemu64-x86_64-cpu,id=a,socket-id=0,core-id=2,thread-id=0",
         "-device", "qemu64-x86_64-cpu,id=b,socket-id=0,core-id=3,thread-id=0"],
        {("qom-path", HARMLESS)},
        "the same CPUs present; only their QOM paths differ",
    ),
    (
        "x86-prefer-sockets-moves-cpus",
        "x86_64",
        ["-M", "pc-q35-6.1", "-smp", "8"],
        ["-M", "pc-q35-6.2", "-smp", "8"],
        {("machine-type", BREAKS), ("prefer-sockets", BOOT), ("topology", BREAKS),
         ("cpu-identity", BREAKS), ("slot-props", HARMLESS)},
        "-smp 8 is 8 sockets on 6.1 and 8 cores on 6.2: every CPU but 0 changes socket",
    ),
    (
        "x86-dies-move-apic-ids",
        "x86_64",
        ["-M", "pc-q35-7.2", "-smp", "4,sockets=1,cores=4"],
        ["-M", "pc-q35-7.2", "-smp", "4,sockets=1,dies=2,cores=2"],
        {("topology", BREAKS), ("cpu-identity", BREAKS), ("slot-props", HARMLESS)},
        "two dies of 2 cores: core 2 becomes die 1 core 0 (same APIC ID, other ids)",
    ),
    (
        "x86-three-cores-leave-apic-gaps",
        "x86_64",
        ["-M", "pc-q35-7.2", "-smp", "6,sockets=2,cores=3"],
        ["-M", "pc-q35-7.2", "-smp", "6,sockets=3,cores=2"],
        {("topology", BREAKS), ("cpu-identity", BREAKS), ("slot-props", HARMLESS)},
        "3 cores take 2 bits, so socket 1 starts at APIC ID 4, not 3",
    ),
    (
        "x86-maxcpus",
        "x86_64",
        ["-M", "pc-q35-7.2", "-smp", "2,maxcpus=4"],
        ["-M", "pc-q35-7.2", "-smp", "2,maxcpus=8"],
        {("topology", BREAKS), ("maxcpus", BREAKS)},
        "more possible CPUs: another ACPI CPU hot-plug state to migrate",
    ),
    (
        "x86-cpu-model",
        "x86_64",
        ["-M", "pc-q35-7.2", "-smp", "2"],
        ["-M", "pc-q35-7.2", "-cpu", "max", "-smp", "2"],
        {("cpu-model", BREAKS), ("cpu-type", BREAKS)},
        "another CPUID",
    ),
    (
        "x86-numa-distance",
        "x86_64",
        ["-M", "pc-q35-7.2", "-m", "512M", "-smp", "2,sockets=2",
         "-object", "memory-backend-ram,id=a,size=256M",
         "-object", "memory-backend-ram,id=b,size=256M",
         "-numa", "node,memdev=a", "-numa", "node,memdev=b"],
        ["-M", "pc-q35-7.2", "-m", "512M", "-smp", "2,sockets=2",
         "-object", "memory-backend-ram,id=a,size=256M",
         "-object", "memory-backend-ram,id=b,size=256M",
         "-numa", "node,memdev=a", "-numa", "node,memdev=b",
         "-numa", "dist,src=0,dst=1,val=30"],
        {("numa-distance", BOOT)},
        "the SLIT is read at boot; a running guest keeps its own",
    ),
    (
        "x86-numa-cpu-node",
        "x86_64",
        ["-M", "pc-q35-7.2", "-m", "512M", "-smp", "2,sockets=2",
         "-object", "memory-backend-ram,id=a,size=256M",
         "-object", "memory-backend-ram,id=b,size=256M",
         "-numa", "node,memdev=a", "-numa", "node,memdev=b"],
        ["-M", "pc-q35-7.2", "-m", "512M", "-smp", "2,sockets=2",
         "-object", "memory-backend-ram,id=a,size=256M",
         "-object", "memory-backend-ram,id=b,size=256M",
         "-numa", "node,memdev=a", "-numa", "node,memdev=b",
         "-numa", "cpu,node-id=1,socket-id=0", "-numa", "cpu,node-id=0,socket-id=1"],
        {("cpu-node", BOOT)},
        "the SRAT is read at boot; a running guest keeps its own",
    ),
    (
        "x86-ram",
        "x86_64",
        ["-M", "pc-q35-7.2", "-m", "512M", "-smp", "2"],
        ["-M", "pc-q35-7.2", "-m", "1G", "-smp", "2"],
        {("ram-size", BREAKS)},
        "the RAM block has another size",
    ),
    (
        "pseries-vsmt",
        "ppc64",
        ["-M", "pseries-7.2", "-smp", "2,maxcpus=4"],
        ["-M", "pseries-7.2,vsmt=8", "-smp", "2,maxcpus=4"],
        {("machine-option", BREAKS), ("cpu-identity", BREAKS), ("slot-identity", BREAKS)},
        "vsmt spaces the vCPU ids and DRC indexes of the cores",
    ),
    (
        "pseries-4.1-vsmt-default",
        "ppc64",
        ["-M", "pseries-4.1", "-smp", "2,maxcpus=4"],
        ["-M", "pseries-4.2", "-smp", "2,maxcpus=4"],
        {("machine-type", BREAKS), ("cpu-identity", BREAKS), ("slot-identity", BREAKS)},
        "pseries-4.1 and older default vsmt to 8: DRC indexes 0,8,16 against 0,1,2",
    ),
    (
        "pseries-threads-change-the-granularity",
        "ppc64",
        ["-M", "pseries-8.1", "-smp", "2,maxcpus=4"],
        ["-M", "pseries-8.1", "-smp", "2,threads=2,maxcpus=4"],
        {("topology", BREAKS), ("vcpus-count", BREAKS), ("cpu-identity", BREAKS),
         ("slot-identity", BREAKS)},
        "one core of 2 threads per plug instead of one CPU (QEMU 10.0: TCG SMT from 8.1); "
        "vCPUs pair by cpu-index, so vCPUs 0 and 1 are present on both sides (no CPU is "
        "missing) and vCPU 1 is thread 1 of core 0 instead of core 1",
    ),
    (
        "pseries-alias-is-the-model-it-names",
        "ppc64",
        ["-M", "pseries-7.2", "-cpu", "power9_v2.0", "-smp", "2"],
        ["-M", "pseries-7.2", "-cpu", "power9", "-smp", "2"],
        set(),
        "power9 is power9_v2.0 on QEMU 7.2: the same CPU",
    ),
    (
        "pseries-boot-core-as-device",
        "ppc64",
        ["-M", "pseries-7.2", "-smp", "2,maxcpus=4"],
        ["-M", "pseries-7.2", "-smp", "1,maxcpus=4",
         "-device", "power9_v2.0-spapr-cpu-core,id=c1,core-id=1"],
        {("qom-path", HARMLESS)},
        "the same cores; only the QOM path of core 1 differs",
    ),
    (
        "s390x-hot-cpu",
        "s390x",
        ["-M", "s390-ccw-virtio-7.2", "-smp", "1,maxcpus=4"],
        ["-M", "s390-ccw-virtio-7.2", "-smp", "1,maxcpus=4",
         "-device", "qemu-s390x-cpu,id=c3,core-id=3"],
        {("cpu-present", BREAKS)},
        "the destination has a CPU (address 3) the source lacks",
    ),
    (
        "s390x-sockets-are-not-visible-under-tcg",
        "s390x",
        ["-M", "s390-ccw-virtio-7.2", "-smp", "4,sockets=4"],
        ["-M", "s390-ccw-virtio-7.2", "-smp", "4,sockets=2,cores=2"],
        {("topology", BREAKS)},
        "the CPU addresses stay 0-3; the counts differ (STSI with KVM)",
    ),
    (
        "arm-boot-cpus-change-core-count",
        "aarch64",
        ["-M", "virt-7.2", "-cpu", "cortex-a57", "-smp", "2,maxcpus=4"],
        ["-M", "virt-7.2", "-cpu", "cortex-a57", "-smp", "3,maxcpus=4"],
        {("cpu-identity", BREAKS), ("slot-identity", BREAKS), ("cpu-present", BREAKS)},
        "L2CTLR's core count is -smp cpus on every CPU",
    ),
    (
        "arm-cpu-model",
        "aarch64",
        ["-M", "virt-7.2", "-smp", "2"],
        ["-M", "virt-7.2", "-cpu", "cortex-a57", "-smp", "2"],
        {("cpu-model", BREAKS), ("cpu-type", BREAKS)},
        "cortex-a15 (the default) against cortex-a57",
    ),
]  # fmt: skip


ON_QEMU_10 = {"pseries-threads-change-the-granularity"}


def start_vm(arch: str, argv: list[str], version: str = "7.2") -> topology.VirtualMachine:
    """The VM the QEMU stand-in starts from ``argv``."""
    return abi.build_vm(argv, version=version, arch=arch)


@pytest.mark.parametrize(
    ("version", "arch", "source", "destination", "expected", "reason"),
    [
        pytest.param("10.0" if row[0] in ON_QEMU_10 else "7.2", *row[1:], id=row[0])
        for row in ABI_TABLE
    ],
)
def test_abi_table(
    version: str,
    arch: str,
    source: list[str],
    destination: list[str],
    expected: set[tuple[str, Severity]],
    reason: str,
) -> None:
    changes = abi.compare(start_vm(arch, source, version), start_vm(arch, destination, version))
    assert {(change.what, change.severity) for change in changes} == expected, reason
    assert abi.compatible(changes) == all(s is HARMLESS for _, s in expected)
    assert (
        abi.compare(start_vm(arch, destination, version), start_vm(arch, destination, version))
        == []
    )


def test_the_6_1_to_6_2_change_names_each_moved_cpu() -> None:
    a = start_vm("x86_64", ["-M", "pc-q35-6.1", "-smp", "4"])
    b = start_vm("x86_64", ["-M", "pc-q35-6.2", "-smp", "4"])
    moved = [c for c in abi.compare(a, b) if c.what == "cpu-identity"]
    assert [(c.where, c.old, c.new) for c in moved] == [
        (f"slot {n}", {"socket-id": n, "core-id": 0}, {"socket-id": 0, "core-id": n})
        for n in (1, 2, 3)
    ]


def test_vcpus_pair_by_cpu_index_when_the_granularity_changes() -> None:
    one = start_vm("ppc64", ["-M", "pseries-8.1", "-smp", "2,maxcpus=4"], "10.0")
    two = start_vm("ppc64", ["-M", "pseries-8.1", "-smp", "2,threads=2,maxcpus=4"], "10.0")
    changes = abi.compare(one, two)
    assert not [c for c in changes if c.what == "cpu-present"]
    moved = {c.where: (c.old, c.new) for c in changes if c.what == "cpu-identity"}
    # vCPU 1: core 1's only thread on one side, thread 1 of core 0 on the other
    # (vCPU ids stay the cpu-index with vsmt = threads; the core and DRC move).
    assert moved == {
        "cpu 1": ({"core-id": 1, "drc-index": 0x10000001}, {"core-id": 0, "drc-index": 0x10000000})
    }
    fewer = start_vm("ppc64", ["-M", "pseries-8.1", "-smp", "1,maxcpus=4"], "10.0")
    missing = [(c.where, c.old, c.new) for c in abi.compare(two, fewer) if c.what == "cpu-present"]
    assert missing == [("cpu 1", True, False)]


def test_a_cpu_plugged_as_another_model_is_a_per_cpu_type_change() -> None:
    # s390x takes max next to qemu (one model on s390-ccw-virtio-7.2 and newer).
    machine = topology.machine("s390x", "s390-ccw-virtio-7.2", qemu_version="7.2")
    same = topology.VirtualMachine.start(machine, "1,maxcpus=2")
    same.plug("qemu-s390x-cpu", {"core-id": 1})
    other = topology.VirtualMachine.start(machine, "1,maxcpus=2")
    other.plug("max-s390x-cpu", {"core-id": 1})
    changes = abi.compare(same, other)
    assert [(c.what, c.where, c.old, c.new, c.severity) for c in changes] == [
        ("cpu-type", "slot 1", "qemu-s390x-cpu", "max-s390x-cpu", BREAKS)
    ]


def test_a_model_name_with_another_pvr_in_another_release_is_a_change() -> None:
    # power10_v2.0 is PVR 0x00800200 on QEMU 7.2 and 0x00801200 on 10.0 (captured).
    argv = ["-M", "pseries-7.2", "-cpu", "power10_v2.0", "-smp", "1"]
    changes = abi.compare(start_vm("ppc64", argv, "7.2"), start_vm("ppc64", argv, "10.0"))
    guest_visible = [(c.what, c.old, c.new) for c in changes if c.severity is not HARMLESS]
    assert guest_visible == [("cpu-identity", {"pvr": "0x00800200"}, {"pvr": "0x00801200"})]


def test_pseries_drc_indexes_in_the_vsmt_change() -> None:
    a = start_vm("ppc64", ["-M", "pseries-4.1", "-smp", "1,maxcpus=2"])
    b = start_vm("ppc64", ["-M", "pseries-4.2", "-smp", "1,maxcpus=2"])
    change = next(c for c in abi.compare(a, b) if c.what == "slot-identity")
    # notes §10: DRC ids 0,8,16,... on pseries-4.1 and 0,1,2,... on 4.2.
    assert change.old == {"vcpu-ids": (8,), "drc-index": 0x10000008}
    assert change.new == {"vcpu-ids": (1,), "drc-index": 0x10000001}


# -- upgrades -------------------------------------------------------------------

UPGRADES: list[tuple[str, str, list[str], str, str | None, set[tuple[str, Any, Any]]]] = [
    # (id, arch, argv on 7.2, new QEMU, new machine type, {(what, old, new)} guest-visible)
    ("q35-7.2-on-10.0", "x86_64", ["-M", "pc-q35-7.2", "-smp", "4,maxcpus=8"], "10.0", None,
     set()),
    ("pseries-7.2-on-10.0", "ppc64", ["-M", "pseries-7.2", "-smp", "2"], "10.0", None,
     {("cpu-model", "power9_v2.0", "power9_v2.2"),
      ("cpu-type", "power9_v2.0-spapr-cpu-core", "power9_v2.2-spapr-cpu-core"),
      ("cpu-identity", (("pvr", "0x004e1200"),), (("pvr", "0x004e1202"),))}),
    ("pseries-7.2-pinned-cpu-on-10.0", "ppc64",
     ["-M", "pseries-7.2", "-cpu", "power9_v2.0", "-smp", "2"], "10.0", None, set()),
    # The same name, another PVR: power10_v2.0 is 0x00800200 on 7.2, 0x00801200 on 10.0.
    ("pseries-7.2-power10-on-10.0", "ppc64",
     ["-M", "pseries-7.2", "-cpu", "power10_v2.0", "-smp", "1"], "10.0", None,
     {("cpu-identity", (("pvr", "0x00800200"),), (("pvr", "0x00801200"),))}),
    # The alias power9 is power9_v2.0 in QEMU 7.2 and power9_v2.2 in 10.0 (notes §10),
    # another model with another PVR (0x004e1200, 0x004e1202; captured).
    ("pseries-7.2-cpu-alias-on-10.0", "ppc64",
     ["-M", "pseries-7.2", "-cpu", "power9", "-smp", "2"], "10.0", None,
     {("cpu-model", "power9_v2.0", "power9_v2.2"),
      ("cpu-type", "power9_v2.0-spapr-cpu-core", "power9_v2.2-spapr-cpu-core"),
      ("cpu-identity", (("pvr", "0x004e1200"),), (("pvr", "0x004e1202"),))}),
    ("pseries-to-newest-type", "ppc64", ["-M", "pseries-7.2", "-smp", "2"], "10.0", "pseries-10.0",
     {("machine-type", "pseries-7.2", "pseries-10.0"),
      ("cpu-model", "power9_v2.0", "power10_v2.0"),
      ("cpu-type", "power9_v2.0-spapr-cpu-core", "power10_v2.0-spapr-cpu-core"),
      ("cpu-identity", (("pvr", "0x004e1200"),), (("pvr", "0x00801200"),))}),
    ("s390x-7.2-on-10.0", "s390x", ["-M", "s390-ccw-virtio-7.2", "-smp", "2,maxcpus=4"], "10.0",
     None, set()),
]  # fmt: skip


def _hashable(value: object) -> object:
    """A change's value as a set member (identities are dicts: their items)."""
    return tuple(value.items()) if isinstance(value, dict) else value


@pytest.mark.parametrize(
    ("arch", "argv", "version", "machine_type", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in UPGRADES],
)
def test_upgrade_table(
    arch: str,
    argv: list[str],
    version: str,
    machine_type: str | None,
    expected: set[tuple[str, Any, Any]],
) -> None:
    changes = abi.upgrade(start_vm(arch, argv), qemu_version=version, machine_type=machine_type)
    seen = {
        (c.what, _hashable(c.old), _hashable(c.new)) for c in changes if c.severity is not HARMLESS
    }
    assert seen == expected
    assert [(c.old, c.new) for c in changes if c.what == "qemu-version"] == [("7.2", version)]


def test_s390x_upgrade_to_10_adds_placement_props_only() -> None:
    vm = start_vm("s390x", ["-M", "s390-ccw-virtio-7.2", "-smp", "1,sockets=2,maxcpus=2"])
    props = [c for c in abi.upgrade(vm, qemu_version="10.0") if c.what == "slot-props"]
    # notes §10: QEMU 10 adds socket-id, book-id and drawer-id to s390x props.
    assert [(c.where, c.new) for c in props] == [
        ("slot 0", {"drawer-id": 0, "book-id": 0, "socket-id": 0, "core-id": 0}),
        ("slot 1", {"drawer-id": 0, "book-id": 0, "socket-id": 1, "core-id": 1}),
    ]
    assert all(c.severity is HARMLESS for c in props)


def test_s390x_placement_is_identity_with_the_topology_facility() -> None:
    kvm = ["-M", "s390-ccw-virtio-8.2", "-accel", "kvm", "-cpu", "host"]
    a = start_vm("s390x", [*kvm, "-smp", "4,sockets=4"], "10.0")
    b = start_vm("s390x", [*kvm, "-smp", "4,sockets=2"], "10.0")
    moved = [c for c in abi.compare(a, b) if c.what == "cpu-identity"]
    assert [(c.where, c.old, c.new) for c in moved] == [
        ("slot 1", {"socket-id": 1}, {"socket-id": 0}),
        ("slot 2", {"socket-id": 2}, {"socket-id": 1}),
        ("slot 3", {"socket-id": 3}, {"socket-id": 1}),
    ]


def test_upgrade_to_a_removed_machine_type_is_a_refused_restart() -> None:
    vm = start_vm("ppc64", ["-M", "pseries-2.12", "-smp", "1"])
    (change,) = abi.upgrade(vm, qemu_version="10.0")
    assert (change.what, change.severity) == ("restart", BREAKS)
    assert 'unsupported machine type: "pseries-2.12"' in change.why


def test_upgrade_reports_a_cpu_that_cannot_be_plugged_again() -> None:
    vm = start_vm(
        "x86_64",
        ["-M", "pc-q35-6.1", "-smp", "1,maxcpus=4",
         "-device", "qemu64-x86_64-cpu,id=hp,socket-id=3,core-id=0,thread-id=0"],
    )  # fmt: skip
    changes = abi.upgrade(vm, qemu_version="7.2", machine_type="pc-q35-6.2")
    replug = [c for c in changes if c.what == "replug"]
    assert [c.where for c in replug] == ["slot 3"]
    assert "Invalid CPU socket-id: 3 must be in range 0:0" in replug[0].why


# -- migration plans ----------------------------------------------------------------


def test_a_boot_cpu_after_a_hole_becomes_a_device_with_its_own_id() -> None:
    vm = start_vm("x86_64", ["-M", "pc-q35-7.2", "-smp", "4"])
    vm.stash[ACPI_LEGACY] = False
    vm.request_unplug("/machine/unattached/device[3]")  # slot 2
    vm.complete_unplug("/machine/unattached/device[3]")
    plan = abi.migration_plan(vm)
    assert plan[plan.index("-smp") + 1] == "cpus=2,sockets=1,cores=4,threads=1,maxcpus=4"
    assert plan[-2:] == ["-device", "qemu64-x86_64-cpu,id=vcpu3,socket-id=0,core-id=3,thread-id=0"]


def test_the_plan_keeps_board_options_and_an_explicit_cluster_level() -> None:
    vm = start_vm("aarch64", ["-M", "virt-7.2,gic-version=3", "-smp", "4,clusters=1"])
    plan = abi.migration_plan(vm)
    assert plan[plan.index("-machine") + 1] == "virt-7.2,gic-version=3"
    # The PPTT has a cluster level only when clusters was given (QEMU 8.0+).
    assert plan[plan.index("-smp") + 1] == "cpus=4,sockets=1,clusters=1,cores=4,threads=1,maxcpus=4"
    plain = abi.migration_plan(start_vm("aarch64", ["-M", "virt-7.2", "-smp", "4"]))
    assert plain[plain.index("-smp") + 1] == "cpus=4,sockets=1,cores=4,threads=1,maxcpus=4"


def test_the_plan_maps_numa_cpus_one_slot_at_a_time_when_the_source_did() -> None:
    vm = start_vm(
        "x86_64",
        ["-M", "pc-q35-7.2", "-m", "512M", "-smp", "2,sockets=2",
         "-object", "memory-backend-ram,id=a,size=256M",
         "-object", "memory-backend-ram,id=b,size=256M",
         "-numa", "node,memdev=a", "-numa", "node,memdev=b",
         "-numa", "cpu,node-id=1,socket-id=0"],
    )  # fmt: skip
    plan = abi.migration_plan(vm)
    numa = [plan[i + 1] for i, arg in enumerate(plan) if arg == "-numa"]
    assert numa == [
        "node,nodeid=0,memdev=a",
        "node,nodeid=1,memdev=b",
        "cpu,node-id=1,socket-id=0,core-id=0,thread-id=0",
        "cpu,node-id=0,socket-id=1,core-id=0,thread-id=0",
    ]
    assert abi.compare(vm, abi.build_vm(plan, version="7.2")) == []


# -- model files ------------------------------------------------------------------

BAD_MODELS: list[tuple[object, str]] = [
    ([], "model file: the document must be a JSON object, not list"),
    ({"format": "other"}, "model file: not a cputopo-vm document of version 1"),
    ({"format": "cputopo-vm", "version": 1}, "model file: 'arch' is missing"),
    (
        {"format": "cputopo-vm", "version": 1, "arch": "x86_64", "qemu-version": "7.2",
         "machine": "pc-q35-7.2", "smp": 2, "cpus": []},
        "model file: 'smp' must be str, not int",
    ),
    (
        {"format": "cputopo-vm", "version": 1, "arch": "x86_64", "qemu-version": "7.2",
         "machine": "pc-q35-7.2", "smp": "2", "cpus": [{"slot": "0"}]},
        "model file: 'cpus[0].slot' must be a slot index",
    ),
    (
        {"format": "cputopo-vm", "version": 1, "arch": "x86_64", "qemu-version": "7.2",
         "machine": "pc-q35-7.2", "smp": "2,sockets=3", "cpus": []},
        "model file: the machine does not start: Invalid CPU topology: product of the "
        "hierarchy must match maxcpus: sockets (3) * dies (1) * cores (0) * threads (1) "
        "!= maxcpus (2)",
    ),
    (
        {"format": "cputopo-vm", "version": 1, "arch": "s390x", "qemu-version": "7.2",
         "machine": "s390-ccw-virtio-7.2", "smp": "2",
         "cpus": [{"slot": 0, "origin": "cold", "qom-path": "/machine/unattached/device[0]"}]},
        "model file: boot CPU in slot 1 cannot be removed: CPU hot unplug not supported on "
        "this machine",
    ),
    (
        {"format": "cputopo-vm", "version": 1, "arch": "x86_64", "qemu-version": "7.2",
         "machine": "pc-q35-7.2", "smp": "1,maxcpus=2",
         "cpus": [{"slot": 0, "origin": "cold", "qom-path": "/machine/unattached/device[9]"}]},
        "model file: CPU in slot 0 is /machine/unattached/device[0], not "
        "/machine/unattached/device[9]",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("document", "message"), BAD_MODELS)
def test_malformed_model_files_are_refused_with_the_reason(document: Any, message: str) -> None:
    with pytest.raises(topology.ModelFileError) as caught:
        abi.load_model(document)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


# -- cputopo diff -------------------------------------------------------------------


def test_cli_diff_of_two_command_lines(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["diff", "--qemu-version", "7.2", "--",
         "qemu-system-x86_64", "-M", "pc-q35-6.1", "-smp", "2", "--",
         "qemu-system-x86_64", "-M", "pc-q35-6.1", "-smp", "2"]
    )  # fmt: skip
    assert status == 0
    assert capsys.readouterr().out.splitlines()[-1] == "verdict: the guest sees no change"
    status = main(
        ["diff", "--qemu-version", "7.2", "--json",
         "--source", "qemu-system-x86_64 -M pc-q35-6.1 -smp 2",
         "--destination", "qemu-system-x86_64 -M pc-q35-6.2 -smp 2"]
    )  # fmt: skip
    assert status == 1
    document = json.loads(capsys.readouterr().out)
    assert document["compatible"] is False
    assert {"what": "topology", "where": "sockets", "old": 2, "new": 1,
            "severity": "breaks-running", "why": document["changes"][3]["why"]} in (
        document["changes"]
    )  # fmt: skip


def test_cli_diff_upgrade_of_a_saved_model(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    vm = start_vm("ppc64", ["-M", "pseries-7.2", "-smp", "2"])
    path = tmp_path / "vm.json"
    path.write_text(json.dumps(abi.save_model(vm)))
    status = main(["diff", "--source-model", str(path), "--destination-version", "10.0"])
    out = capsys.readouterr().out
    assert status == 1
    assert "  cpu-model: power9_v2.0 -> power9_v2.2" in out.splitlines()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "--source-model", "/nonexistent.json"],
         "cputopo: model file /nonexistent.json: No such file or directory"),
        (["diff", "--qemu-version", "7.2", "--", "-M", "pc-q35-7.2", "-smp", "2"],
         "cputopo: no qemu-system-<target> and no architecture given"),
        (["diff", "--qemu-version", "7.2", "--source", "qemu-system-x86_64 -hda x.img"],
         "cputopo: the stand-in does not model QEMU's -hda option"),
        (["diff", "--qemu-version", "7.2", "--source", "qemu-system-x86_64 -smp 4,sockets=3"],
         "cputopo: Invalid CPU topology: product of the hierarchy must match maxcpus: "
         "sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)"),
        (["diff"], "cputopo: no source: give -- ARGV, --source or --source-model"),
    ],
)  # fmt: skip
def test_cli_diff_bad_input_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == message


def test_cli_diff_refuses_a_file_that_is_not_json(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["diff", "--source-model", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"cputopo: model file {path}: not JSON: ")


def test_s390x_entitlement_and_polarization_are_identity() -> None:
    kvm = ["-M", "s390-ccw-virtio-10.0", "-accel", "kvm", "-cpu", "host"]
    a = start_vm("s390x", [*kvm, "-smp", "1,maxcpus=2",
                      "-device", "host-s390x-cpu,core-id=1,entitlement=high"], "10.0")  # fmt: skip
    b = start_vm(
        "s390x", [*kvm, "-smp", "1,maxcpus=2", "-device", "host-s390x-cpu,core-id=1"], "10.0"
    )
    changes = [(c.what, c.where, c.old, c.new) for c in abi.compare(a, b)]
    assert changes == [
        ("cpu-identity", "slot 1", {"entitlement": "high"}, {"entitlement": "medium"})
    ]
    tcg = ["-M", "s390-ccw-virtio-10.0", "-smp", "1,maxcpus=2"]
    assert abi.identity(start_vm("s390x", tcg, "10.0"), 1) == {"cpu-index": 1, "cpu-address": 1}


def test_s390x_plans_and_models_keep_entitlement_and_dedication() -> None:
    machine = topology.machine(
        "s390x", "s390-ccw-virtio-10.0", qemu_version="10.0", accel="kvm", cpu="host"
    )
    vm = topology.VirtualMachine.start(machine, "1,sockets=2,cores=2,maxcpus=4")
    vm.plug(
        "host-s390x-cpu",
        {"core-id": 2, "socket-id": 0, "book-id": 0, "drawer-id": 0, "dedicated": True},
        id="c2",
    )
    plan = abi.migration_plan(vm)
    assert plan[-1] == (
        "host-s390x-cpu,id=c2,drawer-id=0,book-id=0,socket-id=0,core-id=2,"
        "entitlement=high,dedicated=on"
    )
    assert abi.compare(vm, start_vm("s390x", plan, "10.0")) == []
    assert abi.compare(vm, abi.load_model(json.loads(json.dumps(abi.save_model(vm))))) == []
    # Without the plugin's props the CPU would come back in its default socket, medium.
    plain = start_vm("s390x", [*plan[:-1], "host-s390x-cpu,id=c2,core-id=2"], "10.0")
    (change,) = abi.compare(vm, plain)
    assert (change.what, change.old, change.new) == (
        "cpu-identity",
        {"socket-id": 0, "entitlement": "high", "dedicated": True},
        {"socket-id": 1, "entitlement": "medium", "dedicated": False},
    )
