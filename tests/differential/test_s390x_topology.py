"""s390x topology under TCG: the model against real QEMU 7.2 and 10.0.

What TCG shows (observed with ``tests/support/qemu_runner.py``, ``-accel tcg``):

* QEMU 10.0 accepts ``socket-id``/``book-id``/``drawer-id``/``entitlement``/
  ``dedicated`` on ``device_add`` without any topology check (one of three ids,
  an unavailable socket, ``dedicated=true,entitlement=low`` all pass) and keeps
  them on the CPU object exactly as given (``qom-get`` reads ``high``, ``true``,
  and -1 for an id left out), while ``query-hotpluggable-cpus``/``query-cpus-fast``
  keep showing the ids computed from core-id and no ``entitlement``/``dedicated``.
* ``set-cpu-topology`` and ``query-s390x-cpu-polarization`` answer
  ``CommandNotFound`` in both versions (7.2 has no such command; 10.0 builds it
  only with KVM, which a QEMU for an x86 host lacks).
* ``-cpu qemu,ctop=on`` (or ``max,ctop=on``) does not start: TCG cannot offer
  the facility.
* Property errors: ``Parameter 'entitlement' does not accept value 'bogus'``,
  ``Invalid parameter type for 'dedicated', expected: boolean``, ``Invalid
  parameter type for 'entitlement', expected: string``; a non-integer core-id
  gives ``Parameter 'core-id' expects uint64`` on 10.0 and ``... expects
  integer`` on 7.2, which has none of the placement properties (``Property
  'qemu-s390x-cpu.socket-id' not found``).

With two bad properties in one ``device_add``, QEMU reports the first in its
QDict hash order (``topology._parse.qom_props.qdict_order``); the generated
commands carry up to two.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from arch.s390x import qmp_commands
from tests.differential.test_hotplug import _qemu_reply, _without_host_threads
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, run_qemu
from topology._model.vm import VirtualMachine
from topology._views.qmp import query_cpus_fast, query_hotpluggable_cpus

pytestmark = pytest.mark.qemu

EXAMPLES = max(2, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)

SETUPS = {
    "7.2": [("s390-ccw-virtio-7.2", "2,maxcpus=5")],
    "10.0": [
        ("s390-ccw-virtio-10.0", "1,sockets=2,cores=2,maxcpus=4"),
        ("s390-ccw-virtio-10.0", "2,drawers=2,books=1,sockets=2,cores=1,maxcpus=4"),
        ("s390-ccw-virtio-8.2", "1,books=2,sockets=1,cores=2,maxcpus=4"),
    ],
    "11.1": [
        ("s390-ccw-virtio-11.1", "1,sockets=2,cores=2,maxcpus=4"),
        ("s390-ccw-virtio-11.1", "2,drawers=2,books=1,sockets=2,cores=1,maxcpus=4"),
        ("s390-ccw-virtio-8.2", "1,books=2,sockets=1,cores=2,maxcpus=4"),
    ],
}

GOOD: dict[str, list[Any]] = {
    "socket-id": [0, 1, 5, -1],
    "book-id": [0, 1, -1],
    "drawer-id": [0, 3],
    "entitlement": ["auto", "low", "medium", "high"],
    "dedicated": [True, False],
}
BAD: dict[str, list[Any]] = {
    "core-id": [-1, "x", 1.5, 2**32],
    "socket-id": ["a", 2**31],
    "entitlement": ["bogus", 3],
    "dedicated": ["x", 1],
    "thread-id": [0],
}


@st.composite
def commands(draw: st.DrawFn, max_cpus: int) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for step in range(draw(st.integers(1, 5))):
        kind = draw(st.integers(0, 7))
        if kind == 0:
            name = draw(st.sampled_from(["set-cpu-topology", "query-s390x-cpu-polarization"]))
            found.append((name, {"core-id": 0} if name == "set-cpu-topology" else {}))
            continue
        props: dict[str, Any] = {"core-id": draw(st.integers(0, max_cpus))}
        for name in draw(st.lists(st.sampled_from(sorted(GOOD)), unique=True, max_size=4)):
            props[name] = draw(st.sampled_from(GOOD[name]))
        for name in draw(st.lists(st.sampled_from(sorted(BAD)), unique=True, max_size=2)):
            props[name] = draw(st.sampled_from(BAD[name]))
        arguments = {"driver": "qemu-s390x-cpu", **props}
        if draw(st.booleans()):
            arguments["id"] = f"cpu{draw(st.integers(0, step))}"
        found.append(("device_add", arguments))
    return found


def _model_reply(vm: VirtualMachine, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
    try:
        if command == "device_add":
            props = {k: v for k, v in arguments.items() if k not in ("driver", "id")}
            vm.plug(arguments["driver"], props, id=arguments.get("id"))
            return {"return": {}}
        handler = qmp_commands(vm.machine.qemu_version).get(command)
        if handler is None:
            return {"error": f"The command {command} has not been found"}
        return {"return": handler(vm, arguments)}
    except topology.TopologyError as error:
        return {"error": str(error)}


def check(version: str, machine_name: str, smp: str, sequence: list[tuple[str, Any]]) -> None:
    require_qemu("s390x", version)
    vm = VirtualMachine.start(topology.machine("s390x", machine_name, qemu_version=version), smp)
    run = run_qemu(
        "s390x",
        ["-machine", machine_name, "-smp", smp],
        [*sequence, ("query-hotpluggable-cpus", None), ("query-cpus-fast", None)],
        version=version,
    )
    assert run.exit_code == 0, run.stderr_lines
    context = f"{version} {machine_name} -smp {smp}"
    for (command, arguments), reply in zip(sequence, run.replies, strict=False):
        board, slots = vm.stash.copy(), vm.snapshot()
        ours = _model_reply(vm, command, arguments)
        assert ours == _qemu_reply(reply), f"{context}: {command} {arguments}"
        if "error" in ours:
            assert (vm.stash, vm.snapshot()) == (board, slots)
    hotpluggable, cpus_fast = run.replies[len(sequence) :]
    assert query_hotpluggable_cpus(vm) == hotpluggable["return"], context
    qemu_cpus: list[dict[str, Any]] = cpus_fast["return"]  # type: ignore[assignment]
    assert _without_host_threads(query_cpus_fast(vm)) == _without_host_threads(qemu_cpus)


@st.composite
def scenarios(draw: st.DrawFn, version: str) -> tuple[str, str, list[tuple[str, Any]]]:
    machine_name, smp = draw(st.sampled_from(SETUPS[version]))
    max_cpus = topology.machine("s390x", machine_name, qemu_version=version).resolve(smp).max_cpus
    return machine_name, smp, draw(commands(max_cpus))


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_placement_props_and_commands_match_qemu(version: str, data: st.DataObject) -> None:
    check(version, *data.draw(scenarios(version)))


@pytest.mark.parametrize(
    ("version", "machine_name", "sequence"),
    [
        # The observation of the brief: placement properties accepted as given.
        (
            "10.0",
            "s390-ccw-virtio-10.0",
            [
                (
                    "device_add",
                    {
                        "driver": "qemu-s390x-cpu",
                        "core-id": 3,
                        "socket-id": 0,
                        "entitlement": "high",
                        "dedicated": True,
                    },
                ),
                ("set-cpu-topology", {"core-id": 3, "socket-id": 1}),
                ("query-s390x-cpu-polarization", {}),
                ("device_add", {"driver": "qemu-s390x-cpu", "core-id": 2, "socket-id": 9}),
            ],
        ),
        (
            "7.2",
            "s390-ccw-virtio-7.2",
            [
                ("device_add", {"driver": "qemu-s390x-cpu", "core-id": 3, "entitlement": "high"}),
                ("set-cpu-topology", {"core-id": 0}),
            ],
        ),
    ],
)
def test_tcg_ignores_placement(version: str, machine_name: str, sequence: list[Any]) -> None:
    check(version, machine_name, "2,sockets=2,cores=2,maxcpus=4", sequence)


def test_qemu10_keeps_the_given_values_on_the_cpu_object() -> None:
    """Recorded for the ABI compare: QOM shows what was given, not the placement."""
    require_qemu("s390x", "10.0")
    path = "/machine/peripheral/c3"
    run = run_qemu(
        "s390x",
        ["-machine", "s390-ccw-virtio-10.0", "-smp", "2,sockets=2,cores=2,maxcpus=4"],
        [
            (
                "device_add",
                {
                    "driver": "qemu-s390x-cpu",
                    "id": "c3",
                    "core-id": 3,
                    "socket-id": 0,
                    "entitlement": "low",
                    "dedicated": True,
                },
            ),
            *(
                ("qom-get", {"path": path, "property": name})
                for name in ("socket-id", "book-id", "entitlement", "dedicated")
            ),
            ("qom-get", {"path": "/machine/unattached/device[0]", "property": "entitlement"}),
        ],
        version="10.0",
    )
    assert [reply.get("return") for reply in run.replies] == [{}, 0, -1, "low", True, "auto"]


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("cpu", ["qemu,ctop=on", "max,ctop=on", "qemu,ctop=off"])
def test_ctop_under_tcg(version: str, cpu: str) -> None:
    require_qemu("s390x", version)
    machine_name = f"s390-ccw-virtio-{version}"
    args = ["-machine", machine_name, "-cpu", cpu, "-smp", "1"]
    run = run_qemu("s390x", args, [], version=version)
    machine = topology.machine("s390x", machine_name, qemu_version=version, cpu=cpu)
    try:
        machine.resolve("1")
    except topology.TopologyError as error:
        expected = [f"qemu-system-s390x: {error}"] + ([error.hint] if error.hint else [])
        assert list(run.stderr_lines) == expected
        assert run.exit_code == 1
    else:
        assert run.exit_code == 0, run.stderr_lines
