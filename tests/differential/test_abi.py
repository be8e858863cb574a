"""topology.abi against real QEMU 7.2 and 10.0.

* Migration plans: a VM is driven into a generated reachable state in the model
  (plugs, unplug requests, guest ejects, some refused); QEMU started with its
  plan must answer ``query-hotpluggable-cpus`` and ``query-cpus-fast`` exactly
  as the model of the destination, which equals the source but for the QOM
  paths the plan documents (tests/property/test_abi.py checks that part).
* The keep/break table of tests/unit/test_abi.py: QEMU started with each side must
  answer as the model of that side, and show the identities compare looks at
  where QMP can read them (x86 ``apic-id``; pseries CPU DRC indexes and each
  core's PVR, from HMP ``info registers``; ARM ``mp-affinity`` and ``core-count``).
* The upgrade table: QEMU 7.2 and 10.0 started with the same options answer as
  the source model and as the restarted model that ``upgrade`` compares.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import topology
from tests.property.test_abi import expected_paths, reachable_vms
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import Command, run_qemu
from tests.unit.test_abi import ABI_TABLE, ON_QEMU_10, UPGRADES, start_vm
from topology import abi
from topology.abi._model_file import replay

pytestmark = pytest.mark.qemu

EXAMPLES = int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8


def _qemu_args(argv: list[str]) -> list[str]:
    """The options for run_qemu: no binary, no -accel (the runner gives -accel tcg)."""
    args = argv[1:] if argv and not argv[0].startswith("-") else list(argv)
    while "-accel" in args:
        index = args.index("-accel")
        del args[index : index + 2]
    return args


def _views(vm: topology.VirtualMachine) -> list[Command]:
    commands: list[Command] = [("query-cpus-fast", None)]
    if vm.machine.type.hotpluggable_cpus:
        commands.append(("query-hotpluggable-cpus", None))
    return commands


def _without_host_threads(cpus: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in cpu.items() if k != "thread-id"} for cpu in cpus]


def _check_views(vm: topology.VirtualMachine, replies: list[dict[str, Any]], context: str) -> None:
    assert _without_host_threads(replies[0]["return"]) == _without_host_threads(
        topology.query_cpus_fast(vm)
    ), context
    if vm.machine.type.hotpluggable_cpus:
        assert replies[1]["return"] == topology.query_hotpluggable_cpus(vm), context


def _run(vm: topology.VirtualMachine, argv: list[str], extra: tuple[Command, ...] = ()) -> Any:
    target = vm.machine.arch.targets[0]
    version = str(vm.machine.qemu_version)
    require_qemu(target, version)
    run = run_qemu(target, _qemu_args(argv), [*_views(vm), *extra], version=version)
    assert run.exit_code == 0 and run.greeted, (argv, run.stderr_lines)
    return run


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(reachable_vms())
def test_qemu_started_with_the_plan_answers_like_the_source(vm: topology.VirtualMachine) -> None:
    plan = abi.migration_plan(vm)
    destination = abi.build_vm(plan, version=str(vm.machine.qemu_version))
    run = _run(vm, plan)
    replies: list[dict[str, Any]] = list(run.replies)
    _check_views(destination, replies, " ".join(plan))
    if vm.machine.type.hotpluggable_cpus:
        # The source's answer with the paths the plan had to change.
        paths = expected_paths(vm)
        source = topology.query_hotpluggable_cpus(vm)
        by_props = {
            tuple(sorted(slot.props.as_qmp().items())): paths[slot.index] for slot in vm.present()
        }
        for entry in source:
            key = tuple(sorted(entry["props"].items()))
            if key in by_props:
                entry["qom-path"] = by_props[key]
        assert replies[1]["return"] == source, " ".join(plan)


def _identity_commands(vm: topology.VirtualMachine) -> list[Command]:
    arch = vm.machine.arch.name
    commands: list[Command] = []
    for slot in vm.present():
        state = vm.state(slot.index)
        assert state is not None
        if arch == "x86":
            commands.append(("qom-get", {"path": state.qom_path, "property": "apic-id"}))
        elif arch == "arm":
            commands.append(("qom-get", {"path": state.qom_path, "property": "mp-affinity"}))
            commands.append(("qom-get", {"path": state.qom_path, "property": "core-count"}))
    if arch == "spapr":
        commands.append(("qom-list", {"path": "/machine"}))
        # The PVR is in no QOM property; HMP shows it, per vCPU.
        for slot in vm.present():
            info = {"command-line": "info registers", "cpu-index": slot.first_cpu_index}
            commands.append(("human-monitor-command", info))
    return commands


def _check_identities(vm: topology.VirtualMachine, replies: list[dict[str, Any]]) -> None:
    arch = vm.machine.arch.name
    identities = [abi.identity(vm, slot.index) for slot in vm.present()]
    if arch == "x86":
        assert [r["return"] for r in replies] == [i["apic-id"] for i in identities]
    elif arch == "arm":
        pairs = [(i["mpidr"], i["core-count"]) for i in identities]
        read = zip(replies[::2], replies[1::2], strict=True)
        assert [(a["return"], b["return"]) for a, b in read] == pairs
    elif arch == "spapr":
        names = {entry["name"] for entry in replies[0]["return"]}
        cpu_drcs = {
            int(name[len("dr-connector[") : -1])
            for name in names
            if name.startswith("dr-connector[") and 0x10000000 <= int(name[13:-1]) < 0x20000000
        }
        assert cpu_drcs == {abi.identity(vm, s.index)["drc-index"] for s in vm.slots}
        pvrs = [re.search(r"PVR ([0-9a-f]+)", str(r["return"])) for r in replies[1:]]
        assert [f"0x{int(m[1], 16):08x}" if m else None for m in pvrs] == [
            i.get("pvr") for i in identities
        ]


@pytest.mark.parametrize(
    ("version", "arch", "source", "destination"),
    [
        pytest.param("10.0" if row[0] in ON_QEMU_10 else "7.2", *row[1:4], id=row[0])
        for row in ABI_TABLE
    ],
)
def test_each_side_of_the_abi_table_is_what_qemu_starts(
    version: str, arch: str, source: list[str], destination: list[str]
) -> None:
    for argv in (source, destination):
        vm = start_vm(arch, argv, version)
        run = _run(vm, argv, tuple(_identity_commands(vm)))
        replies: list[dict[str, Any]] = list(run.replies)
        views = len(_views(vm))
        _check_views(vm, replies[:views], " ".join(argv))
        _check_identities(vm, replies[views:])


@pytest.mark.parametrize(
    ("arch", "argv", "version", "machine_type"),
    [pytest.param(*row[1:5], id=row[0]) for row in UPGRADES],
)
def test_both_sides_of_an_upgrade_are_what_qemu_starts(
    arch: str, argv: list[str], version: str, machine_type: str | None
) -> None:
    source = start_vm(arch, argv, "7.2")
    restarted, failures = replay(
        abi.save_model(source),
        strict=False,
        qemu_version=version,
        machine_type=machine_type or source.machine.name,
    )
    assert failures == []
    after = list(argv)
    if machine_type is not None:
        after[after.index("-M") + 1] = machine_type
    for vm, args in ((source, argv), (restarted, after)):
        run = _run(vm, args, tuple(_identity_commands(vm)))
        replies: list[dict[str, Any]] = list(run.replies)
        views = len(_views(vm))
        _check_views(vm, replies[:views], " ".join(args))
        _check_identities(vm, replies[views:])
