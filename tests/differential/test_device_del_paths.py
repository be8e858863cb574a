"""Differential tests: what ``device_del`` finds by a path, stand-in vs QEMU 7.2, 10.0, 11.1.

QEMU looks ``device_del``'s id up as a QOM path when it starts with ``/`` and
from ``/machine/peripheral`` otherwise (``hp0/thread[0]``; a trailing ``/``
changes nothing). A pseries core's threads and their interrupt presenters are
devices no hotplug handler takes: QEMU 7.2 aborts on them
(``qdev_unplug: assertion failed: (hotplug_ctrl)``), 10.0 and 11.1 answer
``Device '<type>' can not be hotplugged on this machine``. Containers are no
devices at all. Each case runs on real QEMU and on the stand-in; the replies,
the events, the exit status and stderr must be equal (on an abort: the stand-in
raises :class:`topology.qemu.QemuCrashError` at the same command, with QEMU's
last lines).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, Command, run_qemu
from topology.qemu import QemuCrashError, QemuSimulator

pytestmark = pytest.mark.qemu

#: The default CPU model of each release's newest pseries type.
CORE = {
    "7.2": "power9_v2.0-spapr-cpu-core",
    "10.0": "power10_v2.0-spapr-cpu-core",
    "11.1": "power11_v2.0-spapr-cpu-core",
}

#: device_del targets, once a core "hp0" was hot-added: the boot core is
#: device[0] with XICS only and device[1] with XIVE.
TARGETS = [
    "{boot}/thread[0]",
    "hp0/thread[0]",
    "/machine/peripheral/hp0/thread[0]/",
    "hp0/thread[0]/icp",
    "hp0/thread[0]/xive-tctx",
    "{boot}/thread[0]/icp",
    "hp0/thread[{threads}]",
    "/machine/peripheral",
    "/machine",
    "hp0/nosuch",
    "hp0/",
    "//machine//peripheral/hp0",
]


def _smp(version: str) -> tuple[str, int]:
    # pseries SMT under TCG needs QEMU 10 (7.2: "TCG cannot support more than 1 thread/core").
    return ("1,maxcpus=3", 1) if version == "7.2" else ("2,threads=2,maxcpus=6", 2)


def _run(version: str, args: list[str], commands: list[Command]) -> None:
    require_qemu("ppc64", version)
    run = run_qemu("ppc64", args, commands, version=version)
    sim = QemuSimulator(["qemu-system-ppc64", *args], version=version)
    sim.qmp("qmp_capabilities")
    replies: list[dict[str, Any]] = []
    crashed: QemuCrashError | None = None
    for command, arguments in commands:
        try:
            replies.append(sim.qmp(command, arguments))
        except QemuCrashError as crash:
            crashed = crash
            break
    context = (version, args, commands)
    assert replies == list(run.replies), context
    if crashed is None:
        sim.qmp("quit")
        assert run.exit_code == 0, (context, run.stderr_lines)
        events = [{k: v for k, v in e.items() if k != "timestamp"} for e in run.events]
        assert sim.events() == events, context
    else:
        assert run.exit_code == -6, (context, run.stderr_lines)
    assert list(sim.stderr_lines) == list(run.stderr_lines), context


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("ic_mode", ["xics", "dual"])
@pytest.mark.parametrize("target", TARGETS)
def test_device_del_by_path_answers_as_qemu(version: str, ic_mode: str, target: str) -> None:
    smp, threads = _smp(version)
    boot = "/machine/unattached/device[1]" if ic_mode == "dual" else "/machine/unattached/device[0]"
    path = target.format(boot=boot, threads=threads)
    args = ["-machine", f"pseries,ic-mode={ic_mode}", "-smp", smp]
    commands: list[Command] = [
        ("device_add", {"driver": CORE[version], "core-id": threads, "id": "hp0"}),
        ("device_del", {"id": path}),
        ("query-hotpluggable-cpus", None),
    ]
    _run(version, args, commands)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_device_del_of_a_thread_of_a_boot_core_answers_as_qemu(version: str) -> None:
    smp, threads = _smp(version)
    args = ["-machine", "pseries", "-smp", smp]
    path = f"/machine/unattached/device[1]/thread[{threads - 1}]"
    _run(version, args, [("device_del", {"id": path}), ("query-hotpluggable-cpus", None)])
