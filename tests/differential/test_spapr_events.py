"""Differential tests: pseries unplug events and ``-machine`` option errors, model vs QEMU.

Each generated example starts a pseries VM on QEMU 7.2 or 10.0 (TCG, paused),
hot-adds cores into free slots (with an id or anonymous), then ``device_del``s
some of them and some boot cores, in a drawn order. Replies and the QMP events
(``DEVICE_DELETED``) must match exactly, in order. No core is re-added after an
unplug: TCG never frees the vCPU contexts of an unplugged core and QEMU aborts
(``tcg_register_thread``), which ``test_hotplug.py`` covers.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, run_qemu
from topology import VirtualMachine

pytestmark = pytest.mark.qemu

EXAMPLES = max(4, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)

# (QEMU version, machine type, -smp choices, -cpu choices); threads > 1 needs QEMU 10.
SETUPS = [
    ("7.2", "pseries-7.2", ["1,maxcpus=4", "2,maxcpus=5"], ["", "power8_v2.0", "power10_v2.0"]),
    ("7.2", "pseries-4.0", ["1,maxcpus=3"], [""]),
    ("7.2", "pseries-3.0", ["1,maxcpus=3"], [""]),
    (
        "10.0",
        "pseries-10.0",
        ["2,threads=2,maxcpus=8", "4,threads=4,maxcpus=12"],
        ["", "power9_v2.2"],
    ),
    ("10.0", "pseries-4.1", ["1,maxcpus=3"], ["", "power8_v2.0"]),
    (
        "11.1",
        "pseries-11.1",
        ["2,threads=2,maxcpus=8", "4,threads=4,maxcpus=12"],
        ["", "power10_v2.0"],
    ),
]
IC_MODES = ["", "xics", "xive", "dual"]

Case = tuple[str, str, str, str, list[tuple[str, dict[str, Any]]]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    version, machine_name, smps, cpus = draw(st.sampled_from(SETUPS))
    smp = draw(st.sampled_from(smps))
    cpu = draw(st.sampled_from(cpus))
    legacy = machine_name == "pseries-3.0"
    ic_mode = "" if legacy else draw(st.sampled_from(IC_MODES))
    if ic_mode == "xive" and cpu.startswith("power8"):
        ic_mode = "dual"  # refused at start; test_xive_needs_power9 covers that
    options = {"cpu": cpu} if cpu else {}
    if ic_mode:
        options["ic-mode"] = ic_mode
    vm = VirtualMachine.start(
        topology.machine("ppc64", machine_name, qemu_version=version, **options), smp
    )
    free = [slot for slot in vm.slots if vm.state(slot.index) is None]
    added = draw(st.lists(st.sampled_from(free), unique=True, min_size=1, max_size=3))
    commands: list[tuple[str, dict[str, Any]]] = []
    names: list[str] = []
    anonymous = 0
    for position, slot in enumerate(added):
        arguments: dict[str, Any] = {"driver": slot.type, "core-id": slot.props.core_id}
        if draw(st.booleans()):
            arguments["id"] = f"hp{position}"
            names.append(f"hp{position}")
        else:
            names.append(f"/machine/peripheral-anon/device[{anonymous}]")
            anonymous += 1
        commands.append(("device_add", arguments))
    boot = [state.qom_path for state in vm.snapshot().values()]
    targets = draw(st.lists(st.sampled_from(names + boot), min_size=1, max_size=5))
    commands += [("device_del", {"id": target}) for target in targets]
    return version, machine_name, smp, ",".join(f"{k}={v}" for k, v in options.items()), commands


def _machine_args(machine_name: str, options: str) -> list[str]:
    args = ["-machine", machine_name]
    for item in options.split(",") if options else []:
        key, _, value = item.partition("=")
        if key == "cpu":
            args += ["-cpu", value]
        else:
            args[1] += f",{key}={value}"
    return args


def _model(version: str, machine_name: str, options: str) -> topology.Machine:
    settings_ = dict(item.partition("=")[::2] for item in options.split(",")) if options else {}
    return topology.machine("ppc64", machine_name, qemu_version=version, **settings_)


def check_case(case: Case) -> None:
    """Compare the replies and events of QEMU and the model.

    QEMU 7.2 sometimes crashes after a pseries core unplug, at random: run_qemu
    then runs it again, and leaves the example out if it crashes again.
    """
    version, machine_name, smp, options, commands = case
    require_qemu("ppc64", version)
    run = run_qemu("ppc64", [*_machine_args(machine_name, options), "-smp", smp], commands,
                   version=version)  # fmt: skip
    assert run.exit_code == 0, run.stderr_lines
    vm = VirtualMachine.start(_model(version, machine_name, options), smp)
    for (command, arguments), reply in zip(commands, run.replies, strict=True):
        try:
            if command == "device_add":
                props = {k: v for k, v in arguments.items() if k not in ("driver", "id")}
                vm.plug(arguments["driver"], props, id=arguments.get("id"))
            else:
                vm.request_unplug(arguments["id"])
            ours: dict[str, Any] = {"return": {}}
        except topology.TopologyError as error:
            ours = {"error": str(error)}
        answer: dict[str, Any] = dict(reply)
        theirs = (
            {"error": answer["error"]["desc"]}
            if "error" in answer
            else {"return": answer["return"]}
        )
        assert ours == theirs, (case, command, arguments)
    qemu_events = [
        {"event": e["event"], "data": e["data"]} for e in run.events if e["event"] != "SHUTDOWN"
    ]
    assert vm.take_events() == qemu_events, case


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cases())
def test_unplug_events_match_qemu(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_second_device_del_of_a_pending_core_is_accepted_again(version: str) -> None:
    # qmp_device_del refuses a repeat ("Device %s is already in the process of
    # unplug", system/qdev-monitor.c) only for devices that set
    # pending_deleted_event (PCI); a pseries core never does, so QEMU answers {}.
    machine_name = "pseries-7.2" if version == "7.2" else "pseries-10.0"
    path = "/machine/unattached/device[2]"
    commands: list[tuple[str, dict[str, Any]]] = [("device_del", {"id": path})] * 2
    check_case((version, machine_name, "2,maxcpus=4", "", commands))


# -machine option errors against -smp errors: which one QEMU reports (7.2 and 10.0).
OPTION_ORDER = [
    ("vsmt=abc", "3,maxcpus=2"),
    ("vsmt=-1", "3,maxcpus=2"),
    ("vsmt=0", "3,maxcpus=2"),
    ("vsmt=4294967296", "3,maxcpus=2"),
    ("vsmt=4294967295", "3,maxcpus=2"),
    ("vsmt=18446744073709551616", "3,maxcpus=2"),
    ("vsmt=-4294967295", "3,maxcpus=2"),
    ("vsmt=1.5", "3,maxcpus=2"),
    ("vsmt=", "3,maxcpus=2"),
    ("vsmt=abc", "cpus=x"),
    ("vsmt=abc", "2,foo=3"),
    ("vsmt=abc", ",4"),
    ("vsmt=abc,ic-mode=bad", "2"),
    ("ic-mode=bad,vsmt=abc", "2"),
    ("ic-mode=bad", "3,maxcpus=2"),
    ("ic-mode=XICS", "2"),
    ("ic-mode=xive", "2"),
]


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(("options", "smp"), OPTION_ORDER)
def test_machine_option_errors_come_before_smp_values(version: str, options: str, smp: str) -> None:
    require_qemu("ppc64", version)
    run = run_qemu("ppc64", ["-machine", f"pseries,{options}", "-smp", smp], version=version)
    machine = topology.machine(
        "ppc64",
        qemu_version=version,
        **{k.replace("-", "_"): v for k, v in (o.split("=", 1) for o in options.split(","))},
    )
    try:
        VirtualMachine.start(machine, smp)
        ours = None
    except topology.TopologyError as error:
        ours = f"qemu-system-ppc64: {error}"
    errors = [line for line in run.stderr_lines if "warning" not in line]
    assert (errors[0] if errors else None) == ours


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(
    ("machine_name", "cpu", "expected"),
    [
        ("pseries-3.0", "", "legacy"),
        ("pseries-4.0", "", "xics"),
        ("pseries-4.1", "", "dual"),
        ("pseries-4.1", "power8", "xics"),
    ],
)
def test_ic_mode_defaults(version: str, machine_name: str, cpu: str, expected: str) -> None:
    from arch.spapr._irq import ic_mode

    require_qemu("ppc64", version)
    extra = ["-cpu", cpu] if cpu else []
    run = run_qemu(
        "ppc64",
        ["-machine", machine_name, *extra, "-smp", "1"],
        [("qom-get", {"path": "/machine", "property": "ic-mode"})],
        version=version,
    )
    try:
        machine = topology.machine(
            "ppc64", machine_name, qemu_version=version, **({"cpu": cpu} if cpu else {})
        )
    except topology.UnknownMachineError as error:
        # QEMU 11.1 deleted the types up to 5.1: both refuse them alike.
        assert run.stderr_lines[0] == f"qemu-system-ppc64: {error}"
        return
    assert run.replies[0]["return"] == expected == ic_mode(machine.type, machine.options)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_xive_needs_power9(version: str) -> None:
    # After the vsmt checks, before the memory checks (-m 300M is not 256M-aligned).
    require_qemu("ppc64", version)
    run = run_qemu(
        "ppc64",
        ["-machine", "pseries,ic-mode=xive", "-cpu", "power8", "-smp", "2", "-m", "300M"],
        version=version,
    )
    machine = topology.machine("ppc64", qemu_version=version, ic_mode="xive", cpu="power8")
    with pytest.raises(topology.BoardError) as info:
        VirtualMachine.start(machine, "2", memory="300M")
    assert run.stderr_lines[-1] == f"qemu-system-ppc64: {info.value}"
