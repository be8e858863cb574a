"""The stand-in remembers the VMs it started: a second start of the same command
line is a copy, independent of every other simulator started from it."""

from __future__ import annotations

import pytest

from topology.qemu import QemuSimulator, QemuStartError

ARGV = ["qemu-system-x86_64", "-M", "pc-q35-7.2", "-smp", "1,maxcpus=3"]
PLUG = {"driver": "qemu64-x86_64-cpu", "socket-id": 0, "core-id": 1, "thread-id": 0, "id": "c1"}


def _present(sim: QemuSimulator) -> list[str]:
    return [cpu["qom-path"] for cpu in sim.qmp("query-cpus-fast")["return"]]


def test_simulators_of_one_command_line_do_not_share_state() -> None:
    first = QemuSimulator(ARGV, version="7.2")
    assert first.qmp("device_add", PLUG) == {"return": {}}
    second = QemuSimulator(ARGV, version="7.2")
    assert _present(first) == ["/machine/unattached/device[0]", "/machine/peripheral/c1"]
    assert _present(second) == ["/machine/unattached/device[0]"]
    # The id is free in the second one, and taken in the first.
    assert second.qmp("device_add", PLUG) == {"return": {}}
    assert first.qmp("device_add", {**PLUG, "core-id": 2})["error"]["desc"] == (
        "Duplicate device ID 'c1'"
    )
    third = QemuSimulator(ARGV, version="7.2")
    assert _present(third) == ["/machine/unattached/device[0]"]
    assert third.events() == []


def test_a_refused_start_is_refused_the_same_way_every_time() -> None:
    # QEMU 7.2 warns about the zero, then refuses the product (observed on 7.2.22);
    # the warning must not pile up when the same start is refused again.
    argv = ["qemu-system-x86_64", "-M", "pc-q35-7.2", "-smp", "4,sockets=0,cores=3,maxcpus=4"]
    expected = (
        "qemu-system-x86_64: warning: Deprecated CPU topology (considered invalid): "
        "CPU topology parameters must be greater than zero\n"
        "qemu-system-x86_64: Invalid CPU topology: product of the hierarchy must match "
        "maxcpus: sockets (1) * dies (1) * cores (3) * threads (1) != maxcpus (4)\n"
    )
    for _ in range(3):
        with pytest.raises(QemuStartError) as refused:
            QemuSimulator(argv, version="7.2")
        assert refused.value.stderr == expected


def test_the_same_command_line_under_another_release_is_another_start() -> None:
    argv = ["qemu-system-ppc64", "-M", "pseries", "-smp", "1"]
    types = {
        version: QemuSimulator(argv, version=version).qmp("query-hotpluggable-cpus")["return"][0]
        for version in ("7.2", "10.0")
    }
    assert types["7.2"]["type"] == "power9_v2.0-spapr-cpu-core"
    assert types["10.0"]["type"] == "power10_v2.0-spapr-cpu-core"
