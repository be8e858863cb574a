"""Differential tests: QOM paths through links (``/machine/acpi-device``), stand-in vs QEMU.

Tools address the PC's ACPI device, which holds ``cpu-hotplug-legacy``, as
``/machine/acpi-device``: a link property of the machine, which QEMU's path
lookup follows. Each case starts the same command line on real QEMU (7.2,
10.0, 11.1) and on the stand-in (:class:`topology.qemu.QemuSimulator`) and
sends the same ``qom-get``/``qom-set`` commands; every reply must be equal.
The stand-in must answer each of them (none is "not modelled"), and what
``qom-list /machine`` shows of the link (``link<hotplug-handler>``, or no such
property) must be what the x86 plugin's ``qom_links`` declares.
"""

from __future__ import annotations

from typing import Any

import pytest

from arch.x86._acpi import qom_links
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, Command, run_qemu
from topology.qemu import QemuSimulator

pytestmark = pytest.mark.qemu

LINK = "/machine/acpi-device"

#: Command lines: machines with an ACPI device (q35's ICH9-LPC, i440fx's PIIX4_PM,
#: whose canonical path moved in 8.2), one with a CPU model without an APIC
#: (the device is one object lower), and machines without one.
CONFIGS = [
    ["-machine", "q35", "-smp", "2,maxcpus=4"],
    ["-machine", "pc", "-smp", "1,maxcpus=3"],
    ["-machine", "pc", "-smp", "3,maxcpus=4"],
    ["-machine", "q35", "-cpu", "486", "-smp", "1,maxcpus=2"],
    ["-machine", "pc-q35-6.2", "-smp", "4"],
    ["-machine", "pc,acpi=off", "-smp", "1,maxcpus=2"],
    ["-machine", "microvm", "-smp", "2"],
]

#: Paths that name the ACPI device through the link, spelled as QEMU accepts them.
SPELLINGS = [LINK, f"{LINK}/", "//machine//acpi-device"]


def _commands() -> list[Command]:
    commands: list[Command] = [
        ("qom-get", {"path": "/machine", "property": "acpi-device"}),
        ("qom-get", {"path": "/machine", "property": "type"}),
    ]
    for path in SPELLINGS:
        commands += [
            ("qom-get", {"path": path, "property": "type"}),
            ("qom-get", {"path": path, "property": "cpu-hotplug-legacy"}),
        ]
    commands += [
        ("qom-set", {"path": LINK, "property": "nosuch", "value": False}),
        ("qom-set", {"path": LINK, "property": "cpu-hotplug-legacy", "value": "off"}),
        ("qom-set", {"path": LINK, "property": "cpu-hotplug-legacy", "value": False}),
        ("qom-get", {"path": f"{LINK}/", "property": "cpu-hotplug-legacy"}),
        ("qom-set", {"path": f"{LINK}/", "property": "cpu-hotplug-legacy", "value": False}),
        ("qom-get", {"path": "/machine/nosuch/acpi-device", "property": "type"}),
    ]
    return commands


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("args", CONFIGS, ids=" ".join)
def test_qom_get_and_set_follow_the_acpi_device_link(version: str, args: list[str]) -> None:
    require_qemu("x86_64", version)
    commands = _commands()
    run = run_qemu("x86_64", args, commands, version=version)
    assert run.exit_code == 0, run.stderr_lines
    sim = QemuSimulator(["qemu-system-x86_64", *args], version=version)
    sim.qmp("qmp_capabilities")
    for (command, arguments), reply in zip(commands, run.replies, strict=True):
        assert sim.qmp(command, arguments) == reply, (version, args, command, arguments)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("args", CONFIGS, ids=" ".join)
def test_qom_list_shows_the_links_the_plugin_declares(version: str, args: list[str]) -> None:
    require_qemu("x86_64", version)
    run = run_qemu("x86_64", args, [("qom-list", {"path": "/machine"})], version=version)
    listing: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
    types = {entry["name"]: entry["type"] for entry in listing}
    sim = QemuSimulator(["qemu-system-x86_64", *args], version=version)
    declared = qom_links(sim.vm.board)
    if declared:
        assert set(declared) == {LINK}
        assert types.get("acpi-device") == "link<hotplug-handler>"
    else:
        assert "acpi-device" not in types


@pytest.mark.parametrize("version", ["7.2", "10.0"])
@pytest.mark.parametrize("machine_name", ["q35", "pc"])
def test_switching_through_the_link_makes_device_del_a_request(
    version: str, machine_name: str
) -> None:
    # Up to 10.0 the guest's firmware (or a tool) switches ACPI CPU hot-plug to
    # its modern interface through the link; device_del of a CPU is then
    # accepted. (11.x has no legacy interface: the suites of QEMU 11.1 cover it.)
    require_qemu("x86_64", version)
    args = ["-machine", machine_name, "-smp", "1,maxcpus=2"]
    plug = {"driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 1, "thread-id": 0}
    commands: list[Command] = [
        ("device_add", {**plug, "id": "hp"}),
        ("device_del", {"id": "hp"}),
        ("qom-set", {"path": LINK, "property": "cpu-hotplug-legacy", "value": False}),
        ("device_del", {"id": "hp"}),
        ("query-acpi-ospm-status", None),
    ]
    run = run_qemu("x86_64", args, commands, version=version)
    sim = QemuSimulator(["qemu-system-x86_64", *args], version=version)
    sim.qmp("qmp_capabilities")
    replies = [sim.qmp(command, arguments) for command, arguments in commands]
    assert replies == list(run.replies)
    assert "error" in replies[1] and replies[3] == {"return": {}}
