"""The ARM virt plugin without QEMU: tables of observed starts and refusals, GIC
versions and MPIDR values (the properties are in ``tests/property/test_arm_virt.py``).

Every row of the tables was observed on QEMU 7.2.22 (``qemu-system-aarch64``) or
10.0.13 (chroot /opt/cputopo-qemu10) with ``-accel tcg -S -nodefaults
-machine <machine>,<options> [-cpu <cpu>] -smp <smp>``.
"""

from __future__ import annotations

import pytest

import topology
from arch.arm import gic_version, mp_affinity
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
    if error is None:
        topology.machine("aarch64", name, qemu_version=version, **settings_).resolve(smp)
        return
    # A property the type does not have is refused by machine() already.
    with pytest.raises(TopologyError) as caught:
        topology.machine("aarch64", name, qemu_version=version, **settings_).resolve(smp)
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


def test_mp_affinity_rejects_negative_indexes() -> None:
    with pytest.raises(ValueError, match="cpu_index must be >= 0"):
        mp_affinity(-1, 16)
