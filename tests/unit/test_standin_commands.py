"""The stand-in's session commands without QEMU: what it answers, what it says it
does not model, and how the run state moves.

The expected values are QEMU's, observed on 7.2, 10.0 and 11.1 (the
differential twin of this file, ``tests/differential/test_standin_commands.py``,
compares them with the real binaries on generated cases).
"""

from __future__ import annotations

from typing import Any

import pytest

from topology.qemu import (
    NOT_MODELLED,
    QemuCrashError,
    QemuNotRunningError,
    QemuSimulator,
    QemuStartError,
    UnsupportedOptionError,
)


def _sim(version: str, *args: str, target: str = "x86_64") -> QemuSimulator:
    sim = QemuSimulator([f"qemu-system-{target}", "-S", *args], version=version)
    sim.qmp("qmp_capabilities")
    return sim


def _hmp(sim: QemuSimulator, line: str) -> dict[str, Any]:
    return sim.qmp("human-monitor-command", {"command-line": line})


def test_a_command_qemu_has_is_not_modelled_and_one_it_lacks_is_not_found() -> None:
    sim = _sim("10.0")
    assert sim.qmp("query-balloon")["error"] == {
        "class": NOT_MODELLED,
        "desc": "cputopo: QEMU 10.0 has the command query-balloon; the stand-in does not model it",
    }
    assert sim.qmp("query-nonsense")["error"] == {
        "class": "CommandNotFound",
        "desc": "The command query-nonsense has not been found",
    }


def test_a_release_without_a_capture_says_so_rather_than_guess() -> None:
    # 9.0 has no binary here: its command list was never captured.
    sim = _sim("9.0")
    reply = sim.qmp("query-commands")
    assert reply["error"]["class"] == NOT_MODELLED
    assert "no reply of qemu-system-x86_64 9.0 was captured" in reply["error"]["desc"]
    # Run state needs no capture.
    assert sim.qmp("query-status") == {"return": {"status": "prelaunch", "running": False}}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("7.2", {"status": "prelaunch", "singlestep": False, "running": False}),
        ("10.0", {"status": "prelaunch", "running": False}),
    ],
)
def test_query_status_has_singlestep_before_9_0(version: str, expected: dict[str, object]) -> None:
    assert _sim(version).qmp("query-status") == {"return": expected}


def test_run_state_moves_as_qemu_s_does() -> None:
    # Observed on 7.2, 10.0 and 11.1 with -S: stop of a VM that does not run
    # changes nothing, cont twice sends one RESUME, a reset of a paused VM
    # leaves it in prelaunch.
    sim = _sim("11.1")
    steps = [
        ("stop", [], "prelaunch"),
        ("cont", ["RESUME"], "running"),
        ("cont", [], "running"),
        ("stop", ["STOP"], "paused"),
        ("system_powerdown", ["POWERDOWN"], "paused"),
        ("system_reset", ["RESET"], "prelaunch"),
    ]
    for command, events, status in steps:
        assert sim.qmp(command) == {"return": {}}
        assert [event["event"] for event in sim.events()] == events, command
        assert sim.qmp("query-status")["return"]["status"] == status, command


def test_without_s_the_vm_runs_from_the_start() -> None:
    sim = QemuSimulator(["qemu-system-x86_64", "-smp", "2"], version="10.0")
    assert sim.qmp("query-status") == {"return": {"status": "running", "running": True}}
    assert _hmp(sim, "info status") == {"return": "VM status: running\r\n"}


def test_hmp_lines_are_read_as_hmp_reads_them() -> None:
    sim = _sim("7.2", "-smp", "2")
    assert _hmp(sim, "info status") == {"return": "VM status: paused (prelaunch)\r\n"}
    assert _hmp(sim, "info cpus x") == {
        "return": "cpus: extraneous characters at the end of line\r\n"
        'Try "help info cpus" for more information\r\n'
    }
    assert _hmp(sim, "info nosuch") == {"return": "unknown command: 'info nosuch'\r\n"}
    assert _hmp(sim, "   ") == {"return": ""}
    # The monitor's CPU is the first one unless cpu-index names another.
    assert _hmp(sim, "info cpus") == {
        "return": "* CPU #0: thread_id=0\r\n  CPU #1: thread_id=1\r\n"
    }
    assert sim.qmp("human-monitor-command", {"command-line": "info cpus", "cpu-index": 2}) == {
        "error": {"class": "GenericError", "desc": "Parameter 'cpu-index' expects a CPU number"}
    }
    # HMP has it; the stand-in does not model it.
    assert _hmp(sim, "info mtree")["error"]["class"] == NOT_MODELLED


def test_query_name_reads_both_spellings_of_name() -> None:
    assert _sim("10.0", "-name", "vm1").qmp("query-name") == {"return": {"name": "vm1"}}
    named = _sim("10.0", "-name", "guest=vm2,debug-threads=on")
    assert named.qmp("query-name") == {"return": {"name": "vm2"}}
    assert _sim("10.0").qmp("query-name") == {"return": {}}


def test_a_failed_command_changes_no_state() -> None:
    sim = _sim("10.0")
    reply = sim.qmp("cont", {"x": 1})
    assert reply["error"] == {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}
    assert sim.events() == []
    assert sim.qmp("query-status")["return"]["status"] == "prelaunch"


@pytest.mark.parametrize(
    ("target", "machine_type"),
    [
        # QEMU 10.0 starts each of these paused (observed); the stand-in does
        # not model them, and must not call them unsupported.
        ("ppc64", "powernv9"),
        ("aarch64", "raspi3b"),
    ],
)
def test_a_machine_type_qemu_has_is_not_modelled_rather_than_refused(
    target: str, machine_type: str
) -> None:
    with pytest.raises(UnsupportedOptionError, match=f"does not model machine type {machine_type}"):
        QemuSimulator([f"qemu-system-{target}", "-S", "-M", machine_type], version="10.0")


def test_a_machine_type_qemu_lacks_is_still_refused_in_its_words() -> None:
    with pytest.raises(QemuStartError) as refused:
        QemuSimulator(["qemu-system-x86_64", "-M", "nosuch"], version="10.0")
    assert refused.value.stderr == (
        'qemu-system-x86_64: unsupported machine type: "nosuch"\n'
        "Use -machine help to list supported machines\n"
    )


def test_preconfig_waits_for_x_exit_preconfig_to_build_the_machine() -> None:
    # QEMU 7.2 observed: --preconfig greets, answers the phase's commands and
    # builds the machine at x-exit-preconfig (tests/differential/test_preconfig.py).
    backend = "memory-backend-ram,id=m0,size=128M"
    argv = ["qemu-system-x86_64", "--preconfig", "-smp", "2", "-object", backend]
    sim = QemuSimulator(argv, version="10.0")
    with pytest.raises(QemuNotRunningError, match="x-exit-preconfig"):
        sim.vm  # noqa: B018
    assert sim.qmp("set-numa-node", {"type": "node", "memdev": "m0"}) == {"return": {}}
    assert sim.qmp("x-exit-preconfig") == {"return": {}}
    assert sim.vm.numa is not None
    assert [node.node_id for node in sim.vm.numa.nodes] == [0]
    assert sim.events() == [{"event": "RESUME"}]


def test_an_error_at_x_exit_preconfig_ends_qemu_with_status_1() -> None:
    sim = QemuSimulator(["qemu-system-x86_64", "--preconfig", "-S"], version="7.2")
    sim.qmp("set-numa-node", {"type": "node", "nodeid": 1})
    with pytest.raises(QemuCrashError) as exited:
        sim.qmp("x-exit-preconfig")
    assert (exited.value.exit_status, exited.value.crash_signal) == (1, None)
    assert sim.stderr_lines == ("numa: Node ID missing: 0",)
    assert not sim.running and sim.exit_code == 1


def test_a_preconfig_flag_given_as_an_option_argument_is_no_preconfig() -> None:
    sim = QemuSimulator(["qemu-system-x86_64", "-name", "--preconfig"], version="7.2")
    assert sim.qmp("query-name") == {"return": {"name": "--preconfig"}}
    assert sim.qmp("x-exit-preconfig")["error"]["desc"] == (
        "The command is permitted only before machine initialization"
    )


def test_a_release_without_a_preconfig_capture_still_quits() -> None:
    # 9.0 has no capture of the commands allowed before machine init: the
    # stand-in says so for each, but quit still works.
    sim = QemuSimulator(["qemu-system-x86_64", "--preconfig"], version="9.0")
    assert sim.qmp("query-status")["error"]["class"] == NOT_MODELLED
    assert sim.qmp("quit") == {"return": {}}
    assert not sim.running
