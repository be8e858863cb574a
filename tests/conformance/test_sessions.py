"""Differential conformance: the stand-in (``topology.qemu.QemuSimulator``) against real QEMU.

Hypothesis draws a QEMU command line for one target and one QEMU release
(x86_64, ppc64, s390x, aarch64; 7.2 and 10.0): a machine type of that release,
``-smp`` (valid or not), sometimes ``-cpu``, ``-m`` with ``memory-backend-ram``
objects and ``-numa``, cold-plugged CPUs with ``-device`` (a free slot's props,
or mutated ones), and sometimes a bad option (unknown option, unknown
``-machine`` property, unknown CPU model, unknown accelerator, a bad or
duplicate ``-object``, a duplicate ``-device`` id). Then a sequence of QMP
commands: the CPU queries, ``device_add`` (a free slot's props, mutated props,
values of the wrong JSON type), ``device_del`` (ids, QOM paths, unknown),
``query-version``, the x86 ACPI switch (``qom-set`` of ``cpu-hotplug-legacy``)
and ``query-acpi-ospm-status``, unknown commands, bad arguments and a second
``qmp_capabilities``.

The same command line and commands go to real QEMU (``tests/support/qemu_runner.py``,
which ends with ``quit``) and to the stand-in, and everything must be equal:
the exit status, every stderr line, every reply (``query-cpus-fast``'s
``thread-id`` is a host thread id and is left out), every event (without its
timestamp). Where QEMU dies deterministically (re-adding a CPU after an unplug
under TCG, the ACPI switch set back to legacy mode), the stand-in must raise
:class:`topology.qemu.QemuCrashError` at that command and report the same
signal. QEMU 7.2's pseries heap corruption after a core unplug strikes at
random: ``run_qemu`` runs such a case again, and leaves it out (with a warning,
counted at the end of the session) if QEMU crashes at random again.

``CPUTOPO_CONFORMANCE_EXAMPLES`` sets the examples per target and release
(default 40, 320 examples in all: the file takes well under a minute on two
cores). Run it larger on demand: ``CPUTOPO_HYPOTHESIS_PROFILE=conformance
python3 -m pytest -m conformance`` (1000 per target and release, see
``tests/conftest.py``), or set ``CPUTOPO_CONFORMANCE_EXAMPLES``.

A second test keeps the cases the generated runs once found different. The rows
captured from QEMU (``tests/data/option_cases.json``) go through the stand-in in
``test_option_rows.py``, without QEMU.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arch.x86._acpi import acpi_device
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, run_qemu
from topology import strategies as ts
from topology._resolve.catalogue import cpu_models
from topology.qemu import (
    QemuCrashError,
    QemuSimulator,
    QemuStartError,
    UnsupportedOptionError,
)

pytestmark = [pytest.mark.qemu, pytest.mark.conformance]


def _examples() -> int:
    """Examples per target and release: the env var, else the conformance profile, else 15."""
    given = os.environ.get("CPUTOPO_CONFORMANCE_EXAMPLES")
    if given:
        return int(given)
    if os.environ.get("CPUTOPO_HYPOTHESIS_PROFILE") == "conformance":
        return int(settings.get_profile("conformance").max_examples)
    return 40


EXAMPLES: Final = _examples()
TARGETS: Final = ("x86_64", "ppc64", "s390x", "aarch64")
VERSIONS: Final = ("7.2", "10.0", "11.1")

#: What ``query-version`` of the reference QEMU builds says (Debian bookworm's
#: 7.2.22, trixie's 10.0.13 and sid's 11.1.3, as ``tests/support/qemu_runner.py`` runs them).
RELEASES: Final = {
    "7.2": ("7.2.22", "Debian 1:7.2+dfsg-7+deb12u18+b3"),
    "10.0": ("10.0.13", "Debian 1:10.0.13+ds-0+deb13u1"),
    "11.1": ("11.1.3", "Debian 1:11.1.3+ds-1"),
}

#: CPU models drawn for -cpu. x86: every model and alias of the release
#: (:func:`_cpu_models`), each vCPU printing the CPUID features TCG lacks, but
#: "host" (KVM only). s390x: the models TCG runs, and z14 and z13-base, which
#: TCG refuses for the features it lacks (arch/s390x/data/tcg-refusals.json).
CPU_MODELS: Final = {
    "ppc64": ("POWER7", "POWER8", "POWER9", "POWER10", "power9_v2.0", "power8_v2.0"),
    "s390x": ("qemu", "max", "z900", "z800-base", "z14", "z13-base"),
    "aarch64": ("cortex-a57", "cortex-a72", "cortex-a15", "max", "a64fx", "cortex-a8"),
}

Command = tuple[str, dict[str, Any] | None]

#: What VmSpec.argv() ends with: BASE_ARGS without its "-accel tcg".
_STARTUP_TAIL: Final = BASE_ARGS[2:]


def _cpu_models(arch: str, version: str) -> Sequence[str]:
    if arch != "x86_64":
        return CPU_MODELS[arch]
    models = cpu_models(arch, version)
    assert models is not None
    return sorted(name for name in models if name != "host")


@st.composite
def _base_args(draw: st.DrawFn, arch: str, version: str) -> list[str]:
    """Machine, -smp, and where drawn -m/-object/-numa: the model's strategies."""
    if draw(st.booleans()):
        spec = draw(ts.vm_specs(arch=arch, qemu_version=version, max_cpus=8, max_nodes=2))
        argv = spec.argv()
    else:
        case = draw(ts.smp_strings(arch=arch, qemu_version=version, valid=None, max_cpus=8))
        argv = ts.VmSpec(machine=case.machine, smp=case.smp).argv()
    # The binary, "-accel tcg" and the start-up tail are the runner's BASE_ARGS.
    args = argv[1 : len(argv) - len(_STARTUP_TAIL)]
    assert argv[len(argv) - len(_STARTUP_TAIL) :] == list(_STARTUP_TAIL)
    position = args.index("-accel")
    del args[position : position + 2]
    return args


def _probe(arch: str, version: str, args: Sequence[str]) -> QemuSimulator | None:
    try:
        return QemuSimulator([f"qemu-system-{arch}", *BASE_ARGS, *args], version=version)
    except (QemuStartError, UnsupportedOptionError):
        return None


def _slot_args(slot: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in slot["props"].items() if k != "node-id"}
    return {"driver": slot["type"], **props}


@st.composite
def _device_props(draw: st.DrawFn, free: list[dict[str, Any]]) -> dict[str, Any]:
    """A free slot's device_add arguments, sometimes mutated."""
    slot = draw(st.sampled_from(free))
    arguments = _slot_args(slot)
    mutation = draw(st.integers(0, 7))
    keys = sorted(k for k in arguments if k != "driver")
    if mutation == 0 and keys:
        del arguments[draw(st.sampled_from(keys))]
    elif mutation == 1 and keys:
        arguments[draw(st.sampled_from(keys))] = draw(st.sampled_from([-1, 9, 64]))
    elif mutation == 2:
        arguments["driver"] = draw(st.sampled_from(["foo", "qemu64-x86_64-cpu", "max-s390x-cpu"]))
    elif mutation == 3:
        arguments["cluster-id"] = 0
    elif mutation == 4 and "node-id" in slot["props"]:
        arguments["node-id"] = slot["props"]["node-id"] + draw(st.integers(0, 1))
    return arguments


@st.composite
def _cold_plugs(draw: st.DrawFn, arch: str, version: str, args: list[str]) -> list[str]:
    probe = _probe(arch, version, args)
    if probe is None or arch == "aarch64":
        return []
    reply = probe.qmp("query-hotpluggable-cpus")
    slots = reply.get("return", [])
    free = [slot for slot in slots if "qom-path" not in slot]
    extra: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        if not free:
            break
        arguments = draw(_device_props(free))
        driver = arguments.pop("driver")
        text = ",".join([driver, *(f"{k}={v}" for k, v in arguments.items())])
        if draw(st.booleans()):
            text += f",id=cold{draw(st.integers(0, 1))}"
        extra += ["-device", text]
    return extra


_BAD_OPTIONS: Final = (
    ["-foo"],
    ["-cpu", "nosuchmodel"],
    ["-accel", "foo"],
    ["-object", "memory-backend-ram,id=bad"],
    [
        "-object",
        "memory-backend-ram,id=m9,size=64M",
        "-object",
        "memory-backend-ram,id=m9,size=64M",
    ],
    ["-object", "nosuchtype,id=x"],
    ["-object", "memory-backend-ram,id=9x,size=1M"],
    ["-m", "1x"],
    ["-smp", "2,foo=1"],
    ["-numa", "node,nodeid=5,foo=1"],
)


@st.composite
def command_lines(draw: st.DrawFn, arch: str, version: str) -> list[str]:
    args = draw(_base_args(arch, version))
    if draw(st.integers(0, 3)) == 0:
        args += ["-cpu", draw(st.sampled_from(_cpu_models(arch, version)))]
    if draw(st.integers(0, 2)) == 0:
        args += draw(_cold_plugs(arch, version, args))
    if draw(st.integers(0, 5)) == 0:
        bad = draw(st.sampled_from(_BAD_OPTIONS))
        position = draw(st.integers(0, len(args) // 2)) * 2
        args[position:position] = bad
    elif draw(st.integers(0, 7)) == 0:
        # An unknown -machine property, on the -machine option already there.
        position = args.index("-machine") + 1
        args[position] += ",nosuchprop=1"
    return args


def _acpi_path(sim: QemuSimulator) -> str:
    """Where the stand-in has the ACPI device with cpu-hotplug-legacy (QEMU must agree).

    Without one (microvm, isapc, i440fx with acpi=off), a path that names nothing.
    """
    device = acpi_device(sim.vm)
    return "/machine/nope" if device is None else device[0]


@st.composite
def qmp_sequences(draw: st.DrawFn, arch: str, version: str, args: list[str]) -> list[Command]:
    probe = _probe(arch, version, args)
    if probe is None:
        return [("query-hotpluggable-cpus", None)]
    slots: list[dict[str, Any]] = probe.qmp("query-hotpluggable-cpus").get("return", [])
    cpus = [cpu["qom-path"] for cpu in probe.qmp("query-cpus-fast")["return"]]
    if arch == "ppc64":
        # The cores' own paths, and a thread's (query-cpus-fast lists threads):
        # device_del of a thread makes 7.2 abort (qdev_unplug: assertion failed:
        # (hotplug_ctrl)), 10.0 says "Device '<model>-powerpc64-cpu' can not be
        # hotplugged on this machine".
        cores = [slot["qom-path"] for slot in slots if "qom-path" in slot]
        cpus = [*cores[:2], *cpus[-1:]]
    free = [slot for slot in slots if "qom-path" not in slot]
    micro, package = RELEASES[version]
    commands: list[Command] = []
    for step in range(draw(st.integers(1, 7))):
        kind = draw(st.integers(0, 12))
        if kind <= 3 and (free or slots):
            arguments = draw(_device_props(free or slots))
            if draw(st.integers(0, 4)) == 0:
                # Values of other JSON types: 7.2 reads them through QemuOpts.
                keys = sorted(k for k in arguments if k != "driver")
                if keys:
                    key = draw(st.sampled_from(keys))
                    value = arguments[key]
                    arguments[key] = draw(st.sampled_from([str(value), True, None, f"0x{value}"]))
            if draw(st.booleans()):
                arguments["id"] = draw(st.sampled_from([f"hp{step}", "hp0", "1bad"]))
            commands.append(("device_add", arguments))
        elif kind <= 5:
            target = draw(st.sampled_from(["hp0", "hp1", "nope", "cold0", *cpus[:3]]))
            commands.append(("device_del", {"id": target}))
        elif kind == 6:
            commands.append(
                (draw(st.sampled_from(["query-hotpluggable-cpus", "query-cpus-fast"])), None)
            )
        elif kind == 7:
            commands.append(("query-version", None))
        elif kind == 8:
            commands.append(
                draw(
                    st.sampled_from(
                        [
                            ("nosuch-command", None),
                            ("qmp_capabilities", None),
                            ("query-cpus-fast", {"x": 1}),
                            ("device_del", {}),
                            ("device_del", {"id": 1}),
                            ("device_add", {"id": "x"}),
                            ("query-acpi-ospm-status", None),
                        ]
                    )
                )
            )
        elif kind >= 9 and arch == "x86_64":
            path = _acpi_path(probe)
            choice = draw(st.integers(0, 6))
            if choice <= 2:
                commands.append(
                    ("qom-set", {"path": path, "property": "cpu-hotplug-legacy", "value": False})
                )
            elif choice == 3:
                commands.append(("query-acpi-ospm-status", None))
            elif choice == 4:
                commands.append(
                    (
                        "qom-set",
                        {
                            "path": draw(st.sampled_from([cpus[0], "/machine/nope", path])),
                            "property": draw(st.sampled_from(["cpu-hotplug-legacy", "foo"])),
                            "value": draw(st.sampled_from([False, True, "off", 0])),
                        },
                    )
                )
            elif choice == 5:
                commands.append(("qom-set", {"path": path, "property": "cpu-hotplug-legacy"}))
            else:
                commands.append(
                    ("qom-set", {"path": path, "property": "cpu-hotplug-legacy", "value": True})
                )
        else:
            commands.append(("query-hotpluggable-cpus", None))
    del micro, package
    return commands


def _strip_reply(command: str, reply: dict[str, Any]) -> dict[str, Any]:
    if command == "query-cpus-fast" and isinstance(reply.get("return"), list):
        return {
            "return": [
                {k: v for k, v in cpu.items() if k != "thread-id"} for cpu in reply["return"]
            ]
        }
    return reply


def _strip_event(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "timestamp"}


def _differ(what: str, context: str, qemu: object, ours: object) -> str:
    return f"{what} differ for {context}\n  QEMU: {qemu}\n  ours: {ours}"


def check(arch: str, version: str, args: list[str], commands: list[Command]) -> None:
    """Run on both and compare everything (run_qemu reruns a random QEMU crash)."""
    require_qemu(arch, version)
    micro, package = RELEASES[version]
    argv = [f"qemu-system-{arch}", *BASE_ARGS, *args]
    context = f"{' '.join(argv)}\n{commands}"
    try:
        sim = QemuSimulator(argv, version=micro, package=package, strict_negotiation=True)
    except UnsupportedOptionError:
        pytest.fail(f"the generator drew an option the stand-in does not model: {context}")
    except QemuStartError as refused:
        run = run_qemu(arch, args, commands, version=version)
        ours = (refused.exit_code, refused.stderr.splitlines())
        qemu = (run.exit_code, list(run.stderr_lines))
        assert qemu == ours, _differ("refusal", context, qemu, ours)
        return
    run = run_qemu(arch, args, commands, version=version)
    assert sim.qmp("qmp_capabilities") == {"return": {}}
    replies: list[dict[str, Any]] = []
    crashed: QemuCrashError | None = None
    for command, arguments in commands:
        try:
            replies.append(_strip_reply(command, sim.qmp(command, arguments)))
        except QemuCrashError as crash:
            crashed = crash
            break
    if crashed is None:
        assert sim.qmp("quit") == {"return": {}}
    qemu_replies = [
        _strip_reply(command, dict(reply))
        for (command, _), reply in zip(commands, run.replies, strict=False)
    ]
    assert qemu_replies == replies, _differ("replies", context, qemu_replies, replies)
    if crashed is not None:
        assert crashed.crash_signal is not None
        assert run.exit_code == -crashed.crash_signal, _differ(
            "crash", context, run.exit_code, crashed
        )
        qemu_lines = list(run.stderr_lines[: len(sim.stderr_lines)])
        assert qemu_lines == list(sim.stderr_lines), _differ(
            "stderr", context, run.stderr_lines, sim.stderr_lines
        )
        return
    assert run.exit_code == 0, _differ("exit", context, run.stderr_lines, 0)
    assert list(run.stderr_lines) == list(sim.stderr_lines), _differ(
        "stderr", context, run.stderr_lines, sim.stderr_lines
    )
    qemu_events = [_strip_event(dict(e)) for e in run.events]
    events = sim.events()
    assert qemu_events == events, _differ("events", context, qemu_events, events)


def _conformance_test(arch: str, version: str) -> Any:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(st.data())
    def test(data: st.DataObject) -> None:
        args = data.draw(command_lines(arch, version), label="args")
        commands = data.draw(qmp_sequences(arch, version, args), label="commands")
        check(arch, version, args, commands)

    return test


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("arch", TARGETS)
def test_generated_cases_match_qemu(arch: str, version: str) -> None:
    require_qemu(arch, version)
    _conformance_test(arch, version)()


#: Cases the generated runs once found different, kept so they stay fixed (each
#: observed on real QEMU 7.2 and 10.0 through ``check``).
FOUND_CASES: list[tuple[str, list[str], list[Command]]] = [
    # isapc has no ACPI device: even the boot CPU is "not supported without ACPI".
    (
        "x86_64",
        ["-machine", "isapc", "-smp", "1", "-cpu", "486"],
        [("device_del", {"id": "/machine/unattached/device[0]"})],
    ),
    # microvm takes the newest version of an unversioned x86 model (EPYC-Rome-v2 on
    # 7.2, -v4 on 10.0), so its TCG feature warnings are not q35's.
    ("x86_64", ["-machine", "microvm", "-smp", "1", "-cpu", "EPYC-Rome"], []),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("arch", "args", "commands"), FOUND_CASES)
def test_cases_found_once_stay_fixed(
    arch: str, args: list[str], commands: list[Command], version: str
) -> None:
    check(arch, version, args, commands)
