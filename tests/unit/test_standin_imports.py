"""The stand-in process imports only what its command line needs.

A test suite may start ``cputopo qemu-system-<target>`` hundreds of times, and
its start is mostly imports: these tests run a whole QMP session in a fresh
interpreter and look at ``sys.modules`` as the process exits (no timing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from topology import _registry

ROOT = Path(__file__).resolve().parents[2]

#: Runs the ``cputopo`` command's main() on argv, a QMP session on stdin, and
#: prints the modules loaded when the stand-in exits (it ends with os._exit).
SESSION = """
import os, sys
from topology._cli.main import main
exit_now = os._exit
def report(status):
    sys.stderr.write("MODULES " + " ".join(sorted(sys.modules)) + "\\n")
    sys.stderr.flush()
    exit_now(status)
os._exit = report
main(sys.argv[1:])
"""
QMP_SESSION = (
    b'{"execute": "qmp_capabilities"}\n'
    b'{"execute": "query-hotpluggable-cpus"}\n'
    b'{"execute": "quit"}\n'
)
#: Modules of other commands, of the plugin registry's entry points and of
#: data-file access that the stand-in does without.
NOT_NEEDED = (
    "argparse",
    "importlib.metadata",
    "importlib.resources",
    "zipfile",
    "tempfile",
    "networkx",
    "hypothesis",
    "topology.abi",
    "topology._cli.diff",
    "topology._cli.validate",
    "topology.strategies",
)
PLUGINS = {
    "x86_64": "arch.x86",
    "ppc64": "arch.spapr",
    "s390x": "arch.s390x",
    "aarch64": "arch.arm",
}
MACHINES = {"aarch64": ["-machine", "virt"]}


def _modules_of_a_session(target: str) -> set[str]:
    argv = [f"qemu-system-{target}", "--qemu-version", "7.2", "-S", "-nodefaults"]
    argv += ["-display", "none", "-qmp", "stdio", "-smp", "2", *MACHINES.get(target, [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SESSION, *argv],
        input=QMP_SESSION,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = [line for line in done.stderr.decode().splitlines() if line.startswith("MODULES ")]
    assert len(lines) == 1, done.stderr.decode()
    return set(lines[0].split()[1:])


@pytest.mark.parametrize("target", sorted(PLUGINS))
def test_a_stand_in_session_imports_only_what_it_needs(target: str) -> None:
    modules = _modules_of_a_session(target)
    assert "topology.qemu._stdio" in modules  # the session did run
    assert sorted(modules.intersection(NOT_NEEDED)) == []
    # Only the target's plugin: finding a built-in target loads no other one.
    others = {plugin for plugin in PLUGINS.values() if plugin != PLUGINS[target]}
    assert PLUGINS[target] in modules
    assert sorted(others.intersection(modules)) == []


def test_the_builtin_target_table_matches_the_plugins() -> None:
    found = {
        target: name
        for name in _registry._BUILTIN
        for target in _registry._load(name, _registry._BUILTIN[name]).targets
    }
    assert found == _registry._BUILTIN_TARGETS
