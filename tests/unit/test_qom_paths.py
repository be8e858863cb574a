"""QOM paths in the stand-in: links followed as QEMU follows them, without QEMU.

The expected replies were observed on QEMU 7.2.22, 10.0.13 and 11.1.3 (TCG,
paused); ``tests/differential/test_qom_links.py`` compares the same commands
with a running QEMU.
"""

from __future__ import annotations

from typing import Any

import pytest

from topology._model.qom import resolve_qom_path
from topology.qemu import NOT_MODELLED, QemuSimulator


def _sim(version: str, *args: str) -> QemuSimulator:
    sim = QemuSimulator(["qemu-system-x86_64", *args], version=version)
    sim.qmp("qmp_capabilities")
    return sim


def _get(path: str, prop: str) -> tuple[str, dict[str, Any]]:
    return "qom-get", {"path": path, "property": prop}


# (version, command line, command, QEMU's reply)
OBSERVED = [
    ("7.2", "-machine pc -smp 1,maxcpus=2", _get("/machine", "acpi-device"),
     {"return": "/machine/unattached/device[18]"}),
    ("10.0", "-machine pc -smp 1,maxcpus=2", _get("/machine", "acpi-device"),
     {"return": "/machine/unattached/device[3]/pm"}),
    ("11.1", "-machine pc -smp 1,maxcpus=2", _get("/machine", "acpi-device"),
     {"return": "/machine/unattached/device[3]/pm"}),
    ("7.2", "-machine q35 -smp 2,maxcpus=4", _get("/machine", "acpi-device"),
     {"return": "/machine/unattached/device[3]"}),
    ("7.2", "-machine q35 -cpu 486 -smp 1,maxcpus=2", _get("/machine", "acpi-device"),
     {"return": "/machine/unattached/device[1]"}),
    ("7.2", "-machine pc -smp 1,maxcpus=2", _get("/machine/acpi-device", "type"),
     {"return": "PIIX4_PM"}),
    ("10.0", "-machine q35 -smp 2,maxcpus=4", _get("/machine/acpi-device/", "type"),
     {"return": "ICH9-LPC"}),
    ("10.0", "-machine q35 -smp 2,maxcpus=4", _get("/machine/acpi-device", "cpu-hotplug-legacy"),
     {"return": True}),
    ("11.1", "-machine q35 -smp 2,maxcpus=4", _get("/machine/acpi-device", "cpu-hotplug-legacy"),
     {"error": {"class": "GenericError",
                "desc": "Property 'ICH9-LPC.cpu-hotplug-legacy' not found"}}),
    ("11.1", "-machine pc -smp 1,maxcpus=2",
     ("qom-set", {"path": "/machine/acpi-device", "property": "cpu-hotplug-legacy",
                  "value": False}),
     {"error": {"class": "GenericError",
                "desc": "Property 'PIIX4_PM.cpu-hotplug-legacy' not found"}}),
    ("7.2", "-machine pc,acpi=off -smp 1,maxcpus=2", _get("/machine", "acpi-device"),
     {"error": {"class": "GenericError",
                "desc": "Property 'pc-i440fx-7.2-machine.acpi-device' not found"}}),
    ("10.0", "-machine microvm -smp 2", _get("/machine", "acpi-device"),
     {"error": {"class": "GenericError",
                "desc": "Property 'microvm-machine.acpi-device' not found"}}),
    ("10.0", "-machine microvm -smp 2", _get("/machine/acpi-device/", "type"),
     {"error": {"class": "DeviceNotFound", "desc": "Device '/machine/acpi-device/' not found"}}),
    ("11.1", "-machine pc,acpi=off -smp 1,maxcpus=2",
     ("qom-set", {"path": "/machine/acpi-device", "property": "cpu-hotplug-legacy",
                  "value": False}),
     {"error": {"class": "DeviceNotFound", "desc": "Device '/machine/acpi-device' not found"}}),
]  # fmt: skip


@pytest.mark.parametrize(("version", "line", "command", "reply"), OBSERVED)
def test_replies_through_the_link_are_qemus(
    version: str, line: str, command: tuple[str, dict[str, Any]], reply: dict[str, Any]
) -> None:
    assert _sim(version, *line.split()).qmp(*command) == reply


def test_the_switch_set_through_the_link_reads_back_through_the_canonical_path() -> None:
    # Observed on 7.2: qom-set through the link, qom-get on the device's own path.
    sim = _sim("7.2", "-machine", "q35", "-smp", "2,maxcpus=4")
    switch = {"property": "cpu-hotplug-legacy"}
    assert sim.qmp("qom-set", {"path": "/machine/acpi-device", **switch, "value": False}) == {
        "return": {}
    }
    assert sim.qmp("qom-get", {"path": "/machine/unattached/device[3]", **switch}) == {
        "return": False
    }


@pytest.mark.parametrize(
    ("path", "resolved"),
    [
        ("/machine/acpi-device", "/machine/unattached/device[3]"),
        ("//machine///acpi-device//", "/machine/unattached/device[3]"),
        ("/machine/acpi-device/child", "/machine/unattached/device[3]/child"),
        ("/machine/nosuch/acpi-device", "/machine/nosuch/acpi-device"),
        ("/", "/"),
        ("acpi-device", None),
    ],
)
def test_resolve_qom_path(path: str, resolved: str | None) -> None:
    links = {"/machine/acpi-device": "/machine/unattached/device[3]"}
    assert resolve_qom_path(path, links) == resolved


@pytest.mark.parametrize(
    "command",
    [
        # QEMU resolves partial paths anywhere in the tree; the stand-in does not.
        _get("acpi-device", "type"),
        # Children of the ACPI device and of CPUs, other properties: not modelled.
        _get("/machine/acpi-device/isa.0", "type"),
        _get("/machine/acpi-device", "gpe0_blk"),
        _get("/machine/unattached/device[0]", "apic-id"),
        _get("/machine/unattached/device[0]/lapic", "id"),
        _get("/machine", "smp"),
    ],
)
def test_what_the_stand_in_does_not_model_is_refused_as_such(
    command: tuple[str, dict[str, Any]],
) -> None:
    reply = _sim("7.2", "-machine", "q35", "-smp", "2,maxcpus=4").qmp(*command)
    assert reply["error"]["class"] == NOT_MODELLED
    assert reply["error"]["desc"].startswith("cputopo: ")
