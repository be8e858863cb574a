"""What QEMU 11.1 answers differently from 10.0, one observed row each.

Every row was run on QEMU 11.1.3 (Debian 1:11.1.3+ds-1, the sid root of
``.ci/setup-qemu-root sid``) and on 10.0.13 (trixie) with ``-accel tcg -S
-nodefaults -display none -qmp stdio``; the differential suites compare many
more generated cases against both binaries, these rows pin the differences
without QEMU.
"""

from __future__ import annotations

import pytest

from topology import BoardError, VirtualMachine, machine
from topology.qemu import QemuSimulator, QemuStartError


def _started(version: str, *options: str) -> QemuSimulator:
    sim = QemuSimulator(["qemu-system-x86_64", *options], version=version)
    sim.qmp("qmp_capabilities")
    return sim


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # 10.0: the legacy ACPI interface refuses until the firmware switches it.
        ("10.0", "acpi: device unplug request for not supported device type: qemu64-x86_64-cpu"),
        # 11.1: modern from the start, so device_del is a request and succeeds.
        ("11.1", None),
    ],
)
def test_device_del_of_an_x86_cpu_before_the_guest_runs(version: str, expected: str | None) -> None:
    sim = _started(version, "-machine", "q35", "-smp", "1,maxcpus=2")
    cpu = {"driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 1, "thread-id": 0}
    assert sim.qmp("device_add", {**cpu, "id": "cpu1"}) == {"return": {}}
    reply = sim.qmp("device_del", {"id": "cpu1"})
    assert reply.get("error", {}).get("desc") == expected


def test_the_acpi_switch_is_gone_on_11_1() -> None:
    sim = _started("11.1", "-machine", "q35", "-smp", "2,maxcpus=4")
    reply = sim.qmp(
        "qom-set",
        {"path": "/machine/unattached/device[3]", "property": "cpu-hotplug-legacy", "value": False},
    )
    assert reply["error"]["desc"] == "Property 'ICH9-LPC.cpu-hotplug-legacy' not found"
    # Modern mode from the start: one entry per possible CPU.
    entries = sim.qmp("query-acpi-ospm-status")["return"]
    assert [entry["slot"] for entry in entries] == ["0", "1", "2", "3"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [("10.0", "Duplicate device ID '1bad'"), ("11.1", "Invalid qdev ID '1bad'")],
)
def test_a_malformed_device_id_is_refused_from_11_1(version: str, expected: str) -> None:
    # 10.0 took any string as a JSON device_add id: it plugs the first CPU and
    # refuses the second as a duplicate; 11.1 refuses both for the id's form.
    sim = _started(version, "-machine", "q35", "-smp", "1,maxcpus=3")
    cpu = {"driver": "qemu64-x86_64-cpu", "socket-id": 0, "thread-id": 0, "id": "1bad"}
    first = sim.qmp("device_add", {**cpu, "core-id": 1})
    second = sim.qmp("device_add", {**cpu, "core-id": 2})
    replies = [reply.get("error", {}).get("desc") for reply in (first, second)]
    assert replies == ([None, expected] if version == "10.0" else [expected, expected])


def test_query_cpus_fast_names_the_qom_type_from_10_1() -> None:
    old = _started("10.0", "-smp", "1").qmp("query-cpus-fast")["return"][0]
    new = _started("11.1", "-smp", "1").qmp("query-cpus-fast")["return"][0]
    assert "qom-type" not in old
    assert new["qom-type"] == "qemu64-x86_64-cpu"
    pseries = QemuSimulator(
        ["qemu-system-ppc64", "-machine", "pseries", "-smp", "2,threads=2"], version="11.1"
    )
    pseries.qmp("qmp_capabilities")
    threads = pseries.qmp("query-cpus-fast")["return"]
    # pseries-11.1 defaults to POWER11; the core's threads are CPUs, not cores.
    assert {cpu["qom-type"] for cpu in threads} == {"power11_v2.0-powerpc64-cpu"}


@pytest.mark.parametrize(
    ("model", "warned"), [("qemu64", True), ("486-v1", True), ("qemu32", False), ("486", False)]
)
def test_isapc_warns_for_cpu_models_it_deprecates(model: str, warned: bool) -> None:
    sim = _started("11.1", "-machine", "isapc", "-cpu", model, "-smp", "1")
    line = (
        f"qemu-system-x86_64: warning: cpu type {model}-x86_64-cpu is deprecated for isapc machine"
    )
    assert (line in sim.stderr_lines) is warned
    assert not any("isapc" in text for text in _started("10.0", "-machine", "isapc").stderr_lines)


def test_gic_version_x5_on_11_1() -> None:
    sim = QemuSimulator(
        ["qemu-system-aarch64", "-machine", "virt,gic-version=x-5", "-cpu", "max", "-smp", "4"],
        version="11.1",
    )
    assert sim.qmp("qmp_capabilities") == {"return": {}}
    with pytest.raises(QemuStartError) as refused:
        QemuSimulator(
            ["qemu-system-aarch64", "-machine", "virt,gic-version=x-5", "-smp", "4"],
            version="11.1",
        )
    assert refused.value.stderr == (
        "qemu-system-aarch64: Using GICv5 but guest CPU does not support it\n"
    )
    with pytest.raises(QemuStartError) as invalid:
        QemuSimulator(
            ["qemu-system-aarch64", "-machine", "virt,gic-version=5", "-smp", "4"], version="11.1"
        )
    assert invalid.value.stderr == (
        "qemu-system-aarch64: Invalid gic-version value\n"
        "Valid values are 2, 3, 4, x-5, host, and max.\n"
    )


def test_a_boot_apic_id_past_254_without_x2apic() -> None:
    for version, signal in (("10.0", 6), ("11.1", None)):
        with pytest.raises(BoardError) as refused:
            VirtualMachine.start(machine("x86_64", "q35", qemu_version=version), "256")
        assert str(refused.value) == "APIC ID 255 requires x2APIC feature in CPU"
        assert refused.value.hint == "Try x2apic=on in -cpu."
        assert refused.value.crash_signal == signal


def test_a_feature_turned_off_drops_what_depends_on_it_on_11_1() -> None:
    # QEMU 11.1.3: -cpu ClearwaterForest-v3 warns about arch-capabilities and
    # MSR(10Ah).its-no; with arch-capabilities=off about neither (11.1 prints the
    # CPUID word as "CPUID[eax=07h,ecx=00h].EDX", which the capture must read).
    def lines(cpu: str) -> list[str]:
        sim = _started("11.1", "-machine", "q35", "-cpu", cpu, "-smp", "1")
        return [line.split("feature: ")[-1] for line in sim.stderr_lines]

    plain = lines("ClearwaterForest-v3")
    off = lines("ClearwaterForest-v3,arch-capabilities=off")
    dropped = [line for line in plain if line not in off]
    assert dropped == [
        "CPUID[eax=07h,ecx=00h].EDX.arch-capabilities [bit 29]",
        "MSR(10Ah).its-no [bit 62]",
    ]
