"""Differential tests: the QMP a management tool sends beyond CPU hot-plug, stand-in vs QEMU.

Run state (``query-status``, ``stop``, ``cont``, ``system_reset``,
``system_powerdown`` and their events), discovery (``query-commands``,
``query-machines``, ``query-cpu-definitions``, ``query-kvm``, ``query-target``,
``query-name``), memory (``query-memdev``, ``query-memory-size-summary``), HMP
through ``human-monitor-command`` and ``qom-list`` of the device containers:
each case runs the same command line and commands on real QEMU 7.2, 10.0 and
11.1 and on :class:`topology.qemu.QemuSimulator`, and every reply, every event
(timestamps aside) and every stderr line must be equal. Host thread ids are
the one difference allowed (``thread-id``, ``thread_id=``): the stand-in has
no threads.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.test_hotplug import EXAMPLES
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, QEMU_VERSIONS, Command, run_qemu
from topology.qemu import NOT_MODELLED, QemuSimulator

pytestmark = pytest.mark.qemu

_THREAD_ID = re.compile(r"thread_id=\d+")


def _hmp(line: str) -> Command:
    return ("human-monitor-command", {"command-line": line})


def _without_host_values(value: Any) -> Any:
    """``value`` with the host's thread ids blanked out."""
    if isinstance(value, dict):
        return {
            key: 0 if key == "thread-id" and "cpu-index" in value else _without_host_values(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_host_values(item) for item in value]
    if isinstance(value, str):
        return _THREAD_ID.sub("thread_id=0", value)
    return value


def _compare(target: str, args: list[str], commands: list[Command], version: str) -> None:
    """Run ``commands`` on both and compare everything they answer and print."""
    require_qemu(target, version)
    run = run_qemu(target, args, commands, version=version)
    assert run.exit_code == 0, run.stderr_lines
    sim = QemuSimulator([f"qemu-system-{target}", *BASE_ARGS, *args], version=version)
    sim.qmp("qmp_capabilities")
    for (command, arguments), reply in zip(commands, run.replies, strict=True):
        ours = sim.qmp(command, arguments)
        assert _without_host_values(ours) == _without_host_values(reply), (
            version,
            args,
            command,
            arguments,
        )
    sim.qmp("quit")
    events = [{k: v for k, v in event.items() if k != "timestamp"} for event in run.events]
    assert sim.events() == events
    assert sim.stderr_lines == run.stderr_lines


#: Commands every target answers alike, after the run-state commands of each case.
_QUERIES: list[Command] = [
    ("query-name", None),
    ("query-kvm", None),
    ("query-target", None),
    ("query-commands", None),
    ("query-machines", None),
    ("query-cpu-definitions", None),
    ("query-memdev", None),
    ("query-memory-size-summary", None),
    ("query-status", None),
    _hmp("info cpus"),
    _hmp("info hotpluggable-cpus"),
    _hmp("info numa"),
    _hmp("info status"),
    _hmp("info"),
    _hmp("help"),
    _hmp("  info   cpus  "),
    _hmp("info cpus x"),
    _hmp("info nosuch"),
    _hmp("nosuch"),
    _hmp(""),
    ("human-monitor-command", {"command-line": "info cpus", "cpu-index": 1}),
    ("human-monitor-command", {"command-line": "info cpus", "cpu-index": 9}),
    ("qom-list", {"path": "/machine/peripheral"}),
    ("qom-list", {"path": "/machine/peripheral-anon"}),
    ("qom-list", {"path": "/machine/peripheral/nosuch"}),
    ("nosuch-command", None),
]

_RUN_STATE: list[Command] = [
    ("query-status", None),
    ("stop", None),
    ("cont", None),
    ("cont", None),
    ("query-status", None),
    ("stop", None),
    ("stop", None),
    ("system_reset", None),
    ("query-status", None),
    ("system_powerdown", None),
    ("system_reset", {"x": 1}),
]

#: (target, command line, commands before the common ones): memory backends of
#: every kind, NUMA nodes, CPUs given with -device (with and without an id),
#: machine types whose CPU definitions differ from the newest one's, and
#: pseries' reset completing a pending unplug (QEMU's device-plug-test).
CASES: list[tuple[str, list[str], list[Command]]] = [
    ("x86_64", ["-M", "q35", "-smp", "2,maxcpus=4", "-name", "guest=vm1,debug-threads=on"],
     _RUN_STATE),
    (
        "x86_64",
        [
            "-M", "pc", "-smp", "2,maxcpus=4", "-m", "256M", "-name", "vm2",
            "-object", "memory-backend-ram,id=m1,size=128M",
            "-object", "memory-backend-memfd,id=m0,size=128M,share=off,prealloc=on",
            "-object", "memory-backend-ram,id=spare,size=64M,merge=off,dump=off,policy=default",
            "-numa", "node,memdev=m0,cpus=0-1", "-numa", "node,memdev=m1,cpus=2-3",
            "-device", "qemu64-x86_64-cpu,socket-id=0,core-id=2,thread-id=0",
            "-device", "qemu64-x86_64-cpu,socket-id=0,core-id=3,thread-id=0,id=cpu3",
        ],
        _RUN_STATE,
    ),
    ("x86_64", ["-M", "pc-i440fx-5.2", "-smp", "1,maxcpus=2"], []),
    ("ppc64", ["-M", "pseries", "-smp", "2,maxcpus=4"], _RUN_STATE),
    ("s390x", ["-smp", "2,maxcpus=4", "-m", "256M"],
     [("query-status", None), ("system_reset", None)]),
    ("s390x", ["-M", "s390-ccw-virtio-7.1", "-smp", "1"], []),
    ("aarch64", ["-M", "virt", "-smp", "2"], _RUN_STATE),
    ("aarch64", ["-M", "virt", "-cpu", "max", "-smp", "2,maxcpus=4"], []),
]  # fmt: skip


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(
    ("target", "args", "first"), CASES, ids=[f"{t} {' '.join(a)}" for t, a, _ in CASES]
)
def test_session_commands_answer_as_qemu(
    version: str, target: str, args: list[str], first: list[Command]
) -> None:
    _compare(target, args, [*first, *_QUERIES], version)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_reset_completes_a_pending_pseries_core_unplug(version: str) -> None:
    # QEMU's device-plug-test: a core given with -device is one the guest has
    # (its DRC is configured), so device_del waits for the guest, and a reset
    # releases it: DEVICE_DELETED events, then RESET, and the capabilities'
    # warnings printed once more.
    require_qemu("ppc64", version)
    core_type = _sim_core_type(version)
    args = ["-M", "pseries", "-smp", "1,maxcpus=2", "-device", f"{core_type},core-id=1,id=dev0"]
    commands: list[Command] = [
        ("device_del", {"id": "dev0"}),
        ("query-hotpluggable-cpus", None),
        ("system_reset", None),
        ("query-hotpluggable-cpus", None),
        ("qom-list", {"path": "/machine/peripheral"}),
        ("device_del", {"id": "dev0"}),
    ]
    _compare("ppc64", args, commands, version)


def _sim_core_type(version: str) -> str:
    sim = QemuSimulator(
        ["qemu-system-ppc64", "-M", "pseries", "-smp", "1,maxcpus=2"], version=version
    )
    slots = sim.qmp("query-hotpluggable-cpus")["return"]
    return str(slots[0]["type"])


#: Each generated case starts real QEMU once per release: a sixteenth of the
#: hot-plug differential's examples.
_GENERATED = settings(
    max_examples=max(EXAMPLES // 16, 4),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_STATE_COMMANDS: list[Command] = [
    ("stop", None),
    ("cont", None),
    ("system_reset", None),
    ("system_powerdown", None),
    ("query-status", None),
    _hmp("info status"),
    _hmp("stop"),
    _hmp("c"),
    _hmp("system_reset"),
]


@_GENERATED
@given(
    target=st.sampled_from(["x86_64", "ppc64", "aarch64"]),
    commands=st.lists(st.sampled_from(_STATE_COMMANDS), min_size=1, max_size=10),
)
@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_run_state_sequences_match_qemu(version: str, target: str, commands: list[Command]) -> None:
    # s390x is left out: its firmware finds no boot device once the VM runs and
    # stops it (GUEST_PANICKED), which the stand-in does not model.
    args = ["-M", "virt", "-smp", "1"] if target == "aarch64" else ["-smp", "1"]
    _compare(target, args, [*commands, ("query-status", None)], version)


_BACKEND_ID = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,6}", fullmatch=True)


@_GENERATED
@given(
    ids=st.lists(_BACKEND_ID, min_size=1, max_size=7, unique=True),
    kinds=st.lists(st.sampled_from(["ram", "memfd"]), min_size=7, max_size=7),
    numa=st.booleans(),
)
@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_query_memdev_lists_backends_in_qemu_order(
    version: str, ids: list[str], kinds: list[str], numa: bool
) -> None:
    # The order comes from GLib's hash table of /objects' children.
    args = ["-M", "q35", "-smp", "1", "-m", f"{64 * len(ids)}M"]
    for backend_id, kind in zip(ids, kinds, strict=False):
        args += ["-object", f"memory-backend-{kind},id={backend_id},size=64M"]
    if numa:
        for backend_id in ids:
            args += ["-numa", f"node,memdev={backend_id}"]
    _compare("x86_64", args, [("query-memdev", None), _hmp("info numa")], version)


@_GENERATED
@given(data=st.data())
@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_qom_list_follows_plugs_and_unplugs(version: str, data: st.DataObject) -> None:
    # Unplugged children leave tombstones in GLib's table, which move later ones.
    # At most five plugs: each makes a TCG thread that unplug does not give
    # back, and the sixth would exhaust QEMU's contexts (maxcpus) and abort it.
    core_type = _sim_core_type(version)
    commands: list[Command] = []
    plugged: dict[int, str] = {}
    plugs_left = 5
    for _ in range(data.draw(st.integers(1, 10))):
        if not plugged and not plugs_left:
            break
        free = [core for core in range(1, 6) if core not in plugged]
        if plugged and (not free or not plugs_left or data.draw(st.booleans())):
            core = data.draw(st.sampled_from(sorted(plugged)))
            commands.append(("device_del", {"id": plugged.pop(core)}))
        else:
            core = data.draw(st.sampled_from(free))
            device_id = data.draw(_BACKEND_ID)
            if device_id in plugged.values():
                continue
            plugged[core] = device_id
            plugs_left -= 1
            commands.append(("device_add", {"driver": core_type, "core-id": core, "id": device_id}))
        commands.append(("qom-list", {"path": "/machine/peripheral"}))
    _compare("ppc64", ["-M", "pseries", "-smp", "1,maxcpus=6"], commands, version)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_commands_qemu_has_but_the_stand_in_does_not_model_say_so(version: str) -> None:
    # Never CommandNotFound for a command QEMU has: a tool must tell "not
    # modelled" from "QEMU lacks this".
    require_qemu("x86_64", version)
    sim = QemuSimulator(["qemu-system-x86_64", *BASE_ARGS], version=version)
    sim.qmp("qmp_capabilities")
    names = [entry["name"] for entry in sim.qmp("query-commands")["return"]]
    unmodelled = sorted(set(names) - sim.commands())
    assert "query-balloon" in unmodelled and "query-status" not in unmodelled
    for name in unmodelled:
        if name in ("quit", "x-exit-preconfig"):
            continue
        reply = sim.qmp(name)
        assert reply["error"]["class"] == NOT_MODELLED, name
    run = run_qemu("x86_64", [], [("query-commands", None)], version=version)
    assert run.replies[0]["return"] == sim.qmp("query-commands")["return"]
