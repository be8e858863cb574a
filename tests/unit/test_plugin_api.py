"""The plugin interface (:mod:`topology.plugin`): a third-party plugin, and the load check."""

from __future__ import annotations

import ast
import pathlib
import sys
import types
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import topology
import topology.abi
from topology import _registry
from topology.plugin import (
    BoardContext,
    CpuSlot,
    MachineType,
    QemuVersion,
    QemuWarning,
    SlotProps,
    UnplugResult,
    VmView,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]


class RiscvPlugin:
    """A minimal plugin, written as a third party would: public names only."""

    name = "riscv"
    targets = ("riscv64",)
    capabilities: frozenset[str] = frozenset()

    def machine_types(self, version: QemuVersion) -> list[MachineType]:
        return [MachineType(name="virt", max_cpus=512, default_cpu="rv64")]

    def default_machine(self, version: QemuVersion) -> str | None:
        return "virt"

    def check_board(self, board: BoardContext) -> list[QemuWarning]:
        return []

    def possible_slots(self, board: BoardContext) -> list[CpuSlot]:
        topo = board.cpu_topology
        return [
            CpuSlot(
                index=i,
                type="rv64-riscv-cpu",
                vcpus_count=1,
                arch_id=i,
                first_cpu_index=i,
                props=SlotProps(socket_id=i // topo.cores, core_id=i % topo.cores),
            )
            for i in range(topo.max_cpus)
        ]

    def default_node(self, board: BoardContext, slot: CpuSlot, nodes: int) -> int:
        return 0

    def boot_qom_path(self, board: BoardContext, slot: CpuSlot, position: int) -> str:
        return f"/machine/soc/harts[{position}]"

    def select_slot(self, vm: VmView, driver: str, props: Mapping[str, object]) -> int:
        return next(s.index for s in vm.slots if vm.state(s.index) is None)

    def request_unplug(self, vm: VmView, slot_index: int) -> UnplugResult:
        return UnplugResult.REMOVED

    def cpu_status(self, vm: VmView, cpu_index: int) -> dict[str, object]:
        return {}

    def legacy_cpu_add(self, vm: VmView, cpu_id: int) -> tuple[str, dict[str, object]]:
        raise topology.BoardError("Not supported")


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Register an object as the plugin ``name`` for one test."""

    def add(name: str, plugin: object) -> None:
        module = types.ModuleType(f"cputopo_test_{name}")
        module.PLUGIN = plugin  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setitem(_registry._registry(), name, f"{module.__name__}:PLUGIN")

    _registry._plugin.cache_clear()
    yield add
    _registry._plugin.cache_clear()


def test_a_third_party_plugin_is_used(register: Any) -> None:
    register("riscv", RiscvPlugin())
    assert isinstance(topology.get_arch("riscv64"), topology.ArchPlugin)
    assert topology.machine("riscv64").resolve("4,sockets=2").cores == 2
    # The core's VM model works for it unchanged.
    vm = topology.VirtualMachine.start(topology.machine("riscv64"), "2,sockets=2,maxcpus=4")
    vm.plug("rv64-riscv-cpu", id="h0")
    vm.request_unplug("/machine/soc/harts[0]")
    assert vm.present_cpu_indexes() == [1, 2]


def test_a_broken_plugin_fails_with_its_name(register: Any) -> None:
    register("broken", object())
    with pytest.raises(topology.PluginError, match=r"'broken'.*lacks 'name'") as caught:
        topology.get_arch("broken")
    assert caught.value.what == "broken"


def _riscv_with(**members: Any) -> object:
    plugin = RiscvPlugin()
    for name, value in members.items():
        setattr(plugin, name, value)
    return plugin


def test_a_hook_with_the_wrong_signature_is_refused_at_load(register: Any) -> None:
    def check_board(machine_type: object, topology: object, options: object) -> list[object]:
        return []

    register("riscv", _riscv_with(check_board=check_board))
    with pytest.raises(topology.PluginError) as caught:
        topology.get_arch("riscv")
    assert str(caught.value) == (
        "architecture plugin 'riscv' (cputopo_test_riscv:PLUGIN): hook 'check_board' takes "
        "(machine_type, topology, options), but topology.plugin calls it with (board)"
    )
    assert (caught.value.what, caught.value.where) == ("riscv", "check_board")


def test_a_missing_required_hook_is_refused(register: Any) -> None:
    class NoSlots(RiscvPlugin):
        possible_slots = None  # type: ignore[assignment]

    register("riscv", NoSlots())
    with pytest.raises(topology.PluginError, match="lacks the hook 'possible_slots'"):
        topology.get_arch("riscv")


def test_optional_hooks_must_be_declared(register: Any) -> None:
    def plug_props(vm: VmView, slot_index: int) -> dict[str, object]:
        return {}

    register("riscv", _riscv_with(plug_props=plug_props))
    with pytest.raises(
        topology.PluginError, match="defines plug_props without declaring it in 'capabilities'"
    ):
        topology.get_arch("riscv")


def test_a_declared_optional_hook_must_exist(register: Any) -> None:
    register("riscv", _riscv_with(capabilities=frozenset({"plug_props"})))
    with pytest.raises(topology.PluginError, match="lacks the hook 'plug_props'"):
        topology.get_arch("riscv")


def test_unknown_capabilities_are_refused(register: Any) -> None:
    register("riscv", _riscv_with(capabilities=frozenset({"plug_propz"})))
    with pytest.raises(topology.PluginError, match=r"unknown hooks \['plug_propz'\]"):
        topology.get_arch("riscv")


def test_a_declared_optional_hook_is_called(register: Any) -> None:
    asked: list[int] = []

    def plug_props(vm: VmView, slot_index: int) -> dict[str, object]:
        asked.append(slot_index)
        return {"cpu-attr": 1}

    register("riscv", _riscv_with(capabilities=frozenset({"plug_props"}), plug_props=plug_props))
    vm = topology.VirtualMachine.start(topology.machine("riscv64"), "1,maxcpus=2")
    vm.plug("rv64-riscv-cpu", id="h1")
    plan = topology.abi.migration_plan(vm)
    assert asked == [1]
    assert "cpu-attr=1" in " ".join(plan)


def test_the_builtin_plugins_pass_the_load_check() -> None:
    for name in ("x86", "spapr", "s390x", "arm"):
        _registry._verify(name, "built-in", topology.get_arch(name))


def _private_imports(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "topology" and any(part.startswith("_") for part in parts[1:]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
    return found


def test_the_builtin_plugins_import_only_public_names() -> None:
    found = [
        line for path in sorted((ROOT / "arch").rglob("*.py")) for line in _private_imports(path)
    ]
    assert found == []
    # The check sees private imports when they are there.
    assert _private_imports(ROOT / "topology" / "plugin.py")


def test_plugin_module_exports_every_type_a_hook_names() -> None:
    import typing

    from topology import plugin

    for protocol in (plugin.ArchPlugin, plugin.OptionalHooks):
        for hook in (*plugin.REQUIRED_HOOKS, *plugin.OPTIONAL_HOOKS):
            method = getattr(protocol, hook, None)
            if method is None:
                continue
            hints = typing.get_type_hints(method, vars(plugin))
            named = [
                arg
                for hint in hints.values()
                for arg in (hint, *typing.get_args(hint))
                if getattr(arg, "__module__", "").startswith("topology")
            ]
            assert named, hook
            for arg in named:
                assert arg.__name__ in plugin.__all__, (hook, arg)
