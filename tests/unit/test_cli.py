"""The cputopo command: output, JSON, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from topology._cli.main import EXAMPLE_SMP, main


def test_builtin_example_resolves(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve"]) == 0
    out = capsys.readouterr().out
    assert EXAMPLE_SMP in out
    assert "8 present of 24 possible (16 hot-pluggable)" in out


def test_json_for_tools(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["resolve", "--json", "-M", "pc-q35-6.1", "--qemu-version", "7.2", "8,maxcpus=16"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["machine"] == "pc-q35-6.1"
    assert document["topology"]["sockets"] == 16  # 6.1 types fill sockets first
    assert document["warnings"] == []


def test_refusal_is_one_line_on_stderr_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve", "--qemu-version", "7.2", "-M", "q35", "289"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "cputopo: Invalid SMP CPUs 289. The max CPUs supported by machine 'pc-q35-7.2' is 288\n"
    )


def test_bad_arch_and_machine_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve", "--arch", "x86-64", "4"]) == 2
    assert "did you mean 'x86_64'" in capsys.readouterr().err
    assert main(["resolve", "-M", "pc-q35-1.0", "4"]) == 2


def test_help_option_prints_qemu_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve", "--qemu-version", "7.2", "help"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        # qemu-system-x86_64 -smp help, QEMU 7.2.22
        "smp-opts options:",
        "  clusters=<num>",
        "  cores=<num>",
        "  cpus=<num>",
        "  dies=<num>",
        "  maxcpus=<num>",
        "  sockets=<num>",
        "  threads=<num>",
    ]


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "topology", "resolve", "--arch", "s390x", "4"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The newest supported release answers without --qemu-version.
    assert "machine s390-ccw-virtio-11.1 (QEMU 11.1)" in done.stdout


def test_slots_lists_every_possible_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["slots", "--qemu-version", "7.2", "-M", "pc-q35-7.2", "2,cores=3,maxcpus=6"]
    assert main(args) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if "-id=" in line]
    assert len(rows) == 6
    # Slot 3 is socket 1: with 3 cores the core field takes 2 bits, so APIC ID 4.
    assert rows[3][:4] == ["3", "4", "3", "free"]
    assert [row[3] for row in rows] == ["present"] * 2 + ["free"] * 4


def test_slots_json_is_query_hotpluggable_cpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slots", "--json", "--arch", "ppc64", "--qemu-version", "7.2", "2,maxcpus=4"]) == 0
    entries = json.loads(capsys.readouterr().out)
    # The last slot first, as QEMU lists them (observed on QEMU 7.2).
    assert [entry["props"]["core-id"] for entry in entries] == [3, 2, 1, 0]
    assert ["qom-path" in entry for entry in entries] == [False, False, True, True]


def test_a_reader_that_leaves_early_is_not_an_error() -> None:
    # cputopo slots | head -1: the pipe closes while cputopo still writes.
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "topology", "slots", "--qemu-version", "9.2", "-M", "q35"),
            *("--cpu", "qemu64,x2apic=on", "4096"),  # more output than a pipe buffers
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""


@pytest.mark.parametrize(
    ("words", "error"),
    [
        # QEMU 7.2.22, 10.0.13 and 11.1.3 print the same texts (after "qemu-system-<target>: ").
        (["--cpu", "Nosuch"], "unable to find CPU model 'Nosuch'"),
        (["--arch", "ppc64", "--cpu", "host"], "unable to find CPU model 'host'"),
        (["--cpu", "host"], "CPU model 'host' requires KVM or HVF"),
    ],
)
def test_a_cpu_model_qemu_refuses_is_refused(
    words: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["resolve", *words, "4"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"cputopo: {error}\n")
