"""``cputopo validate`` and :func:`topology.qemu.validate`: verdicts, exit codes, JSON.

The refusals and warnings themselves are the stand-in's (checked against QEMU
in ``tests/conformance/``); ``tests/conformance/test_validate.py`` checks that
the verdict carries them unchanged: QEMU's exit status and every stderr line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from topology import ParameterError, TopologyError
from topology._cli.main import main
from topology.qemu import validate
from topology.qemu._validate import read_plan

Q35_PLUG: dict[str, object] = {
    "driver": "qemu64-x86_64-cpu",
    "socket-id": 0,
    "core-id": 2,
    "thread-id": 0,
    "id": "c2",
}


def test_plan_runs_until_the_first_refusal() -> None:
    plan: list[tuple[str, dict[str, object]]] = [
        ("device_add", Q35_PLUG),
        ("device_add", Q35_PLUG),  # QEMU: the id is taken
        ("device_del", {"id": "c2"}),
    ]
    report = validate(
        ["qemu-system-x86_64", "-M", "pc-q35-7.2", "-smp", "2,maxcpus=4"],
        version="7.2",
        plan=plan,
    )
    assert not report.valid
    assert [step.ok for step in report.steps] == [True, False]
    assert report.refusal == "Duplicate device ID 'c2'"


def test_numa_split_and_unusable_slots_are_findings() -> None:
    split = validate(
        [
            "qemu-system-x86_64",
            "-M", "pc-q35-7.2",
            "-smp", "4,sockets=2",
            "-m", "512M",
            "-object", "memory-backend-ram,id=a,size=256M",
            "-object", "memory-backend-ram,id=b,size=256M",
            "-numa", "node,memdev=a,cpus=0-2",
            "-numa", "node,memdev=b,cpus=3",
        ],
        version="7.2",
    )  # fmt: skip
    assert split.valid
    assert [(f.kind, "socket [socket 1]" in f.message) for f in split.findings] == [
        ("numa-split", True)
    ]
    # virt cannot hot-plug CPUs, so maxcpus beyond cpus is dead weight.
    arm = validate(["qemu-system-aarch64", "-M", "virt", "-smp", "2,maxcpus=4"], version="10.0")
    assert [f.kind for f in arm.findings] == ["unusable-slots"]
    assert "the 2 possible CPUs" in arm.findings[0].message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1", "the plan is not valid JSON"),
        ('{"execute": "quit"}', "the plan must be a JSON list of commands"),
        ("[[]]", "plan step 1: not a JSON object"),
        ('[{"execute": "quit", "args": {}}]', "plan step 1: unknown member 'args'"),
        ('[{"execute": "quit", "arguments": []}]', "plan step 1: 'arguments' must be an object"),
    ],
)
def test_malformed_plans_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        read_plan(text)
    assert str(caught.value).startswith(message)


def test_exit_status_0_valid_1_invalid_2_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = ["validate", "--qemu-version", "7.2", "--", "qemu-system-x86_64", "-smp", "2"]
    assert main(good) == 0
    assert capsys.readouterr().out.startswith("valid")
    bad = ["validate", "--qemu-version", "7.2", "--", "qemu-system-x86_64", "-smp", "4,sockets=3"]
    assert main(bad) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == ["invalid", "QEMU would exit with status 1:"]
    plan = tmp_path / "plan.json"
    plan.write_text("[1")
    assert main(["validate", "--plan", str(plan), "--", "qemu-system-x86_64"]) == 2
    assert "the plan is not valid JSON" in capsys.readouterr().err
    assert main(["validate", "--plan", str(tmp_path / "missing.json"), "--", "qemu-system-x86_64"])
    assert "cannot read the plan" in capsys.readouterr().err
    assert main(["validate", "--", "qemu-system-x86_64", "-drive", "file=disk.img"]) == 2
    assert capsys.readouterr().err == "cputopo: the stand-in does not model QEMU's -drive option\n"
    assert main(["validate", "--", "qemu-img", "info"]) == 2


def test_json_report_for_tools(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["validate", "--json", "--qemu-version", "7.2", "--",
         "qemu-system-x86_64", "-M", "pc-q35-7.2", "-smp", "4,sockets=3"]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["valid"] is False
    assert report["exit-code"] == 1
    assert report["refusal"].startswith("Invalid CPU topology: product of the hierarchy")
    assert report["stderr"] == [f"qemu-system-x86_64: {report['refusal']}"]


def test_input_cputopo_cannot_judge_raises() -> None:
    with pytest.raises(TopologyError, match="not a QEMU system emulator"):
        validate(["qemu-img", "info"], version="7.2")
