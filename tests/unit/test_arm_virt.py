"""The ARM virt plugin without QEMU: a table of observed starts and refusals, and
properties of the slots, the MPIDR numbering and the refused hot-plug.

Every row of the tables was observed on QEMU 7.2.22 (``qemu-system-aarch64``) or
10.0.13 (chroot /opt/cputopo-qemu10) with ``-accel tcg -S -nodefaults
-machine <machine>,<options> [-cpu <cpu>] -smp <smp>``.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import topology
from arch.arm import affinity_group_size, gic_version, mp_affinity, mpidr
from topology import TopologyError, VirtualMachine

V3 = {"gic-version": "3"}
V4 = {"gic-version": "4", "virtualization": "on"}
LOW = {"highmem": "off"}
LIMIT = "Number of SMP CPUs requested ({}) exceeds max CPUs supported by machine 'mach-virt' ({})"
VALUES = "Valid values are 3, 2, host, max."
NOT_FOUND = "Property 'virt-7.2-machine.highmem-redists' not found"
CAP = "Capacity of the redist regions({}) does not match the number of vcpus({})"
MAX = "Invalid SMP CPUs {}. The max CPUs supported by machine '{}' is {}"
TRY = "Try 'highmem-redists=on' for more CPUs"
VALID_10_0 = (
    "The valid models are: cortex-a7, cortex-a15, cortex-a35, cortex-a55, cortex-a72, "
    "cortex-a76, cortex-a710, a64fx, neoverse-n1, neoverse-v1, neoverse-n2, cortex-a53, "
    "cortex-a57, max"
)

GIC4 = {"gic-version": "4"}
HOST = {"gic-version": "host"}
NOVIRT = {
    "7.2": "gic-version=4 requires virtualization enabled",
    "10.0": "tcg does not support GICv4 emulation, is virtualization=on?",
}
MAXV = {"gic-version": "max", "virtualization": "on"}
NOREDIST = {"highmem-redists": "off"}
M3 = {"cpu": "cortex-m3", "gic-version": "host"}

# (QEMU version, machine, options, smp, error or None, hint or None)
CASES = [
    ("7.2", "virt", {}, "9", LIMIT.format(9, 8), None),
    ("7.2", "virt", {}, "1,maxcpus=9", LIMIT.format(9, 8), None),
    ("10.0", "virt", {}, "9", None, None),
    ("10.0", "virt-2.6", {}, "20", None, None),
    ("10.0", "virt", {"gic-version": "2"}, "1,maxcpus=9", LIMIT.format(9, 8), None),
    ("7.2", "virt", {**V3, **LOW}, "123", None, None),
    ("7.2", "virt", {**V3, **LOW}, "123,maxcpus=200", None, None),
    (
        "7.2",
        "virt",
        {**V3, **LOW},
        "124,maxcpus=130",
        CAP.format(123, 124),
        None,
    ),
    ("10.0", "virt", {**V3, **LOW}, "124", LIMIT.format(124, 123), TRY),
    ("10.0", "virt", {**V3, **LOW}, "123,maxcpus=200", LIMIT.format(200, 123), TRY),
    ("10.0", "virt", {**V3, **NOREDIST}, "1,maxcpus=124", LIMIT.format(124, 123), TRY),
    ("10.0", "virt", LOW, "124", LIMIT.format(124, 123), TRY),
    ("10.0", "virt", {"virtualization": "on", **LOW}, "62", None, None),
    ("10.0", "virt", {**MAXV, **LOW}, "62", LIMIT.format(62, 61), TRY),
    ("7.2", "virt", {**V4, **LOW}, "62", CAP.format(61, 62), None),
    ("7.2", "virt", {**V4, **LOW}, "1,maxcpus=318", LIMIT.format(318, 317), None),
    ("7.2", "virt", V4, "317", None, None),
    ("10.0", "virt", V4, "318", LIMIT.format(318, 317), None),
    ("7.2", "virt", V3, "513", MAX.format(513, "virt-7.2", 512), None),
    ("10.0", "virt-2.12", V3, "256", MAX.format(256, "virt-2.12", 255), None),
    ("7.2", "virt", GIC4, "2", NOVIRT["7.2"], None),
    ("10.0", "virt", GIC4, "2", NOVIRT["10.0"], None),
    ("7.2", "virt", HOST, "1,maxcpus=9", "gic-version=host requires KVM", None),
    ("10.0", "virt", {"gic-version": "5"}, "2", "Invalid gic-version value", VALUES),
    ("7.2", "virt", {**V3, **NOREDIST}, "2", NOT_FOUND, None),
    ("7.2", "virt", M3, "2", "mach-virt: CPU type cortex-m3-arm-cpu not supported", None),
    ("10.0", "virt", {"cpu": "pxa250"}, "2", "Invalid CPU model: pxa250", VALID_10_0),
    ("7.2", "virt", {"cpu": "neoverse-v1"}, "2", "unable to find CPU model 'neoverse-v1'", None),
    ("10.0", "virt", {"cpu": "neoverse-v1"}, "2", None, None),
    ("10.0", "virt", {"cpu": "host"}, "2", "unable to find CPU model 'host'", None),
    ("10.0", "virt", {"gic-version": "3", "its": "off"}, "2", None, None),
]


@pytest.mark.parametrize(("version", "name", "options", "smp", "error", "hint"), CASES, ids=str)
def test_observed_starts_and_refusals(
    version: str, name: str, options: dict[str, str], smp: str, error: str | None, hint: str | None
) -> None:
    settings_ = {key.replace("-", "_"): value for key, value in options.items()}
    machine = topology.machine("aarch64", name, qemu_version=version, **settings_)
    if error is None:
        machine.resolve(smp)
        return
    with pytest.raises(TopologyError) as caught:
        machine.resolve(smp)
    assert (caught.value.message, caught.value.hint) == (error, hint)


# (QEMU version, machine, options, maxcpus, gic-version QEMU reports with qom-get /machine)
GICS = [
    ("7.2", "virt", {}, 8, 2),
    ("7.2", "virt", {"gic-version": "max"}, 2, 3),
    ("7.2", "virt", {"gic-version": "max", "virtualization": "on"}, 2, 4),
    ("10.0", "virt", {}, 8, 2),
    ("10.0", "virt", {}, 9, 3),
    ("10.0", "virt", {"virtualization": "on"}, 9, 3),
    ("10.0", "virt", {"virtualization": "on"}, 2, 2),
    ("10.0", "virt", {"gic-version": "max", "virtualization": "on"}, 2, 4),
]


@pytest.mark.parametrize(("version", "name", "options", "max_cpus", "gic"), GICS, ids=str)
def test_gic_version_as_qemu_reports_it(
    version: str, name: str, options: dict[str, str], max_cpus: int, gic: int
) -> None:
    assert gic_version(options, max_cpus, topology.qemu_version(version)) == gic


# mp-affinity read with qom-get on QEMU 7.2 and 10.0 (both gave the same values).
AFFINITIES = [
    ("virt-2.6", {"gic-version": "3"}, 8, 0x100),
    ("virt-2.6", {"gic-version": "3"}, 19, 0x203),
    ("virt-2.7", {"gic-version": "3"}, 15, 0xF),
    ("virt-2.7", {"gic-version": "3"}, 16, 0x100),
    ("virt", {"gic-version": "4", "virtualization": "on"}, 19, 0x103),
    ("virt", {"gic-version": "max"}, 17, 0x101),
    ("virt", {"gic-version": "2"}, 7, 0x7),
]


@pytest.mark.parametrize("version", ["7.2", "10.0"])
@pytest.mark.parametrize(("name", "options", "index", "affinity"), AFFINITIES, ids=str)
def test_observed_mp_affinity(
    version: str, name: str, options: dict[str, str], index: int, affinity: int
) -> None:
    settings_ = {key.replace("-", "_"): value for key, value in options.items()}
    machine = topology.machine("aarch64", name, qemu_version=version, **settings_)
    vm = VirtualMachine.start(machine, "8" if options.get("gic-version") == "2" else "20")
    assert vm.slots[index].arch_id == affinity


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
        assert f"QEMU {version} aborts" in str(unplugged.value)
    assert vm.snapshot() == before
    assert vm.take_events() == []


def test_mp_affinity_rejects_negative_indexes() -> None:
    with pytest.raises(ValueError, match="cpu_index must be >= 0"):
        mp_affinity(-1, 16)
