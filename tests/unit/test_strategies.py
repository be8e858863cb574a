"""The strategies of ``topology.strategies`` on single examples (STYLE.md point 10):
bad arguments raise ``InvalidArgument``, ``import topology`` never imports
Hypothesis, the ``hypothesis`` entry point is declared and works after a plain
install, and a cloned VM is independent. What the strategies draw is tested in
``tests/property/test_strategies.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis.errors import InvalidArgument

import topology
from topology import strategies as ts
from topology.strategies._machines import _machine_list
from topology.strategies._values import clone_vm
from topology.testing.conformance import use_plugin

ROOT = Path(__file__).resolve().parents[2]


def test_clone_is_independent() -> None:
    pseries = topology.machine("ppc64", "pseries-10.0", qemu_version="10.0")
    vm = topology.VirtualMachine.start(pseries, "2,threads=2,maxcpus=8")
    twin = clone_vm(vm)
    twin.plug(vm.slots[2].type, {"core-id": 4}, id="a")
    assert [s.index for s in vm.present()] == [0]
    assert [s.index for s in twin.present()] == [0, 2]


# -- arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "arguments"),
    [
        (ts.smp_strings, {"valid": "yes"}),
        (ts.smp_strings, {"max_cpus": 0}),
        (ts.smp_strings, {"arch": "x86-64"}),
        (ts.smp_strings, {"machine_type": "q35"}),
        (ts.smp_configs, {"arch": "x86_64", "machine_type": "pc-q35-1.0"}),
        (ts.topologies, {"qemu_version": "6.2"}),
        (ts.vm_specs, {"max_nodes": 129}),
        (ts.vm_specs, {"guest": "auto"}),
        (ts.vm_specs, {"machine": "q35"}),
        (ts.qemu_command_lines, {"max_count": True}),
    ],
)
def test_bad_arguments_raise_invalid_argument(strategy: Any, arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        strategy(**arguments)


class _SomeReleasesOnly:
    """The s390x plugin, serving every release but 8.0 (as loongarch64 leaves out 8.0-9.2)."""

    def __init__(self, s390x: Any) -> None:
        self._s390x = s390x
        self.name, self.targets, self.capabilities = s390x.name, s390x.targets, s390x.capabilities

    def __getattr__(self, hook: str) -> Any:
        return getattr(self._s390x, hook)

    def machine_types(self, version: topology.QemuVersion) -> Any:
        if str(version) == "8.0":
            raise topology.UnsupportedVersionError("cputopo: not modelled", value=str(version))
        return self._s390x.machine_types(version)


def test_machines_skip_the_releases_a_plugin_does_not_serve() -> None:
    with use_plugin(_SomeReleasesOnly(topology.get_arch("s390x"))):
        drawn = _machine_list(None, None, None)
        s390x = {str(m.qemu_version) for m in drawn if m.arch.name == "s390x"}
        assert "8.0" not in s390x and {"7.2", "8.1"} <= s390x
        assert {str(m.qemu_version) for m in _machine_list("s390x", None, None)} == s390x
        assert _machine_list(None, None, "8.0")  # the other plugins still serve 8.0
        # Asked for that one release of that plugin, the refusal is the answer.
        with pytest.raises(InvalidArgument, match="cputopo: not modelled"):
            _machine_list("s390x", None, "8.0")
        with pytest.raises(InvalidArgument, match="cputopo: not modelled"):
            ts.virtual_machines(arch="s390x", qemu_version="8.0")


def test_machine_excludes_the_other_selectors() -> None:
    q35 = topology.machine("x86_64", "q35", qemu_version="9.2")
    with pytest.raises(InvalidArgument):
        ts.smp_strings(machine=q35, arch="x86_64")
    with pytest.raises(InvalidArgument):
        ts.hotplug_sequences(q35)  # type: ignore[arg-type]


# -- packaging --------------------------------------------------------------------


def test_import_topology_does_not_import_hypothesis() -> None:
    code = (
        "import sys, topology; topology.machine('x86_64').resolve('2'); "
        "print('hypothesis' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_hypothesis_entry_point_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    hook = project["entry-points"]["hypothesis"]["cputopo"]
    assert hook == "topology.strategies._hypothesis_hook:_hypothesis_setup_hook"
    assert "hypothesis" in project["optional-dependencies"]


@pytest.mark.skipif(
    os.environ.get("CPUTOPO_VENV_TEST") != "1",
    reason="builds a venv (5-10 s); CPUTOPO_VENV_TEST=1 runs it",
)
def test_from_type_works_after_a_plain_install(tmp_path: Path) -> None:
    # A real install (not editable: that needs the `editables` package), used
    # from another directory: Hypothesis finds the hook through the entry point.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The new venv sees this environment's packages (Hypothesis, attrs, networkx,
    # hatchling), whether that is the system's or a venv's (CI runs in one),
    # behind its own: a path entry, so this environment's .pth files (an
    # editable cputopo) are not read.
    purelib = sysconfig.get_paths()["purelib"]
    (site_packages,) = (venv / "lib").glob("python*/site-packages")
    (site_packages / "outer-environment.pth").write_text(purelib + "\n")
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, str(ROOT)], check=True, capture_output=True)
    code = (
        "from hypothesis import find, strategies as st; import topology; "
        f"print(topology.__file__.startswith({str(venv)!r})); "
        "print(find(st.from_type(topology.CpuTopology), lambda _: True))"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == [
        "True",
        "CpuTopology(cpus=1, drawers=1, books=1, sockets=1, dies=1, clusters=1, "
        "modules=1, cores=1, threads=1, max_cpus=1)",
    ]
