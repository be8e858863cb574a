"""The conformance kit (:mod:`topology.testing.conformance`): the stand-in against a QEMU.

Against the real QEMU 7.2 (skipped when it is missing, unless
CPUTOPO_REQUIRE_QEMU=1): the built-in x86 plugin conforms, an x86 plugin made
wrong on purpose is caught, and the toy RISC-V plugin of
docs/how-to/write-a-plugin.md conforms to qemu-system-riscv64. The kit's
machinery is also checked without QEMU, against the stand-in's own process
(``python -m topology qemu-system-x86_64``) in the place of QEMU: that one
keeps the real x86 plugin while the kit's in-process stand-in gets the wrong one.
"""

from __future__ import annotations

import doctest
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import attrs
import pytest

import topology
from tests.support.qemu import require_qemu
from topology.plugin import ArchPlugin, BoardContext, CpuSlot
from topology.testing.conformance import (
    ConformanceSetupError,
    main,
    run_conformance,
    use_plugin,
)

ROOT: Final = Path(__file__).resolve().parents[2]
#: The stand-in as a process, run from this checkout, answering as QEMU 7.2.
STANDIN: Final = (
    "env",
    f"PYTHONPATH={ROOT}",
    sys.executable,
    "-m",
    "topology",
    "qemu-system-x86_64",
    "--qemu-version",
    "7.2",
)
#: Cases per run against real QEMU (CPUTOPO_CONFORMANCE_EXAMPLES runs more).
EXAMPLES: Final = int(os.environ.get("CPUTOPO_CONFORMANCE_EXAMPLES") or 30)


class SwappedIds:
    """The x86 plugin, but each slot has its socket-id and core-id swapped."""

    def __init__(self, x86: ArchPlugin) -> None:
        self._x86 = x86
        self.name = x86.name
        self.targets = x86.targets
        self.capabilities = x86.capabilities

    def __getattr__(self, hook: str) -> Any:
        return getattr(self._x86, hook)

    def possible_slots(self, board: BoardContext) -> list[CpuSlot]:
        return [
            attrs.evolve(
                slot,
                props=attrs.evolve(
                    slot.props, socket_id=slot.props.core_id, core_id=slot.props.socket_id
                ),
            )
            for slot in self._x86.possible_slots(board)
        ]


@pytest.fixture
def wrong_x86() -> SwappedIds:
    return SwappedIds(topology.get_arch("x86"))


@pytest.mark.qemu
def test_x86_64_conforms_to_qemu_7_2() -> None:
    qemu = require_qemu("x86_64")
    report = run_conformance(target="x86_64", qemu=qemu, version="7.2", examples=EXAMPLES, seed=1)
    assert report.ok, str(report)
    assert report.cases == EXAMPLES
    assert report.started > 0 and report.refused > 0 and report.commands > 2 * report.started
    assert report.qemu_release.startswith("7.2.")


@pytest.mark.qemu
def test_a_wrong_plugin_is_caught_by_qemu_7_2(wrong_x86: SwappedIds) -> None:
    qemu = require_qemu("x86_64")
    with use_plugin(wrong_x86):
        report = run_conformance(target="x86_64", qemu=qemu, version="7.2", examples=20, seed=4)
    assert not report.ok
    assert report.mismatched >= len(report.mismatches) > 0
    first = report.mismatches[0]
    assert first.difference.startswith("reply to command"), str(first)
    assert first.qemu.exchanges != first.standin.exchanges
    assert "Mismatch 1 of" in str(report)
    # The plugin is back.
    assert run_conformance(target="x86_64", qemu=qemu, version="7.2", examples=3, seed=4).ok


def test_the_kit_runs_against_the_standin_process() -> None:
    report = run_conformance(target="x86_64", qemu=STANDIN, version="7.2", examples=6, seed=2)
    assert report.ok, str(report)
    assert (report.cases, report.unstable) == (6, 0)
    assert report.qemu_release == "7.2.0"


def test_a_wrong_plugin_is_caught_without_qemu(wrong_x86: SwappedIds) -> None:
    # Seed 2 draws a VM of more than one socket or core among the first cases.
    with use_plugin(wrong_x86):
        report = run_conformance(target="x86_64", qemu=STANDIN, version="7.2", examples=6, seed=2)
    assert report.mismatched > 0
    transcripts = str(report.mismatches[0])
    assert "QEMU: $ env PYTHONPATH=" in transcripts
    assert "stand-in: $ qemu-system-x86_64 " in transcripts


def test_the_command_line_exit_status(wrong_x86: SwappedIds, capsys: Any) -> None:
    words = ["--target", "x86_64", "--qemu", shlex.join(STANDIN), "--examples", "2"]
    assert main([*words, "--version", "7.2", "--seed", "2"]) == 0
    assert ": conforms," in capsys.readouterr().out
    with use_plugin(wrong_x86):
        assert main([*words, "--version", "7.2", "--seed", "2"]) == 1
    assert "Mismatch 1 of" in capsys.readouterr().out
    assert main([*words, "--version", "10.0"]) == 2
    assert capsys.readouterr().err == (
        f"python -m topology.testing.conformance: {shlex.join(STANDIN)} is QEMU 7.2.0, not 10.0\n"
    )


def test_python_m_runs_the_kit() -> None:
    command = [sys.executable, "-m", "topology.testing.conformance", "--target", "x86_64"]
    command += ["--qemu", shlex.join(STANDIN), "--version", "7.2", "--examples", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("x86_64 as QEMU 7.2 against env PYTHONPATH=")


def test_what_the_kit_cannot_run_with(tmp_path: Path) -> None:
    with pytest.raises(ConformanceSetupError, match="unknown architecture 'x86-64'"):
        run_conformance(target="x86-64", version="7.2")
    missing = tmp_path / "qemu-system-x86_64"
    with pytest.raises(ConformanceSetupError, match=f"cannot run {missing}"):
        run_conformance(target="x86_64", qemu=str(missing), version="7.2")
    with pytest.raises(ValueError, match="examples=0"):
        run_conformance(target="x86_64", version="7.2", examples=0)


def test_use_plugin_checks_the_plugin_and_restores_the_registry() -> None:
    x86 = topology.get_arch("x86_64")
    with pytest.raises(topology.PluginError) as caught, use_plugin(object(), name="x86"):
        pass
    assert str(caught.value) == "architecture plugin 'x86' (use_plugin.x86:PLUGIN): lacks 'name'"
    assert topology.get_arch("x86_64") is x86
    with pytest.raises(topology.PluginError, match="has no 'name'"), use_plugin(object()):
        pass


def _guide_plugin() -> object:
    """The toy RISC-V plugin of docs/how-to/write-a-plugin.md, run from the page itself."""
    text = (ROOT / "docs" / "how-to" / "write-a-plugin.md").read_text()
    namespace: dict[str, Any] = {}
    for example in doctest.DocTestParser().get_examples(text):
        exec(compile(example.source, "write-a-plugin.md", "exec"), namespace)
        if "PLUGIN" in namespace:
            return namespace["PLUGIN"]
    raise AssertionError("the guide defines no PLUGIN")


@pytest.mark.qemu
def test_the_guides_toy_plugin_conforms_to_qemu_7_2() -> None:
    binary = require_qemu("riscv64")
    with use_plugin(_guide_plugin()):
        report = run_conformance(
            target="riscv64", qemu=binary, version="7.2", examples=EXAMPLES, seed=3
        )
    assert report.ok, str(report)
    assert report.cases == EXAMPLES
