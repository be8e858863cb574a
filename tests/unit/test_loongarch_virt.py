"""The LoongArch ``virt`` plugin (``arch.loongarch``) without QEMU.

The plugin is the proof that :mod:`topology.plugin` is enough for a third
party: it is found through the ``topology.arch`` entry point only, and it
imports nothing from cputopo but ``topology`` and ``topology.plugin``. The
expected values below are QEMU's, each table saying which release it was
observed on (run as ``tests/support/qemu_runner.py`` runs QEMU: TCG, paused,
no devices); ``tests/differential/test_loongarch_virt.py`` compares the same
kinds of cases with a running QEMU.

The tests need the package installed with its entry points (``pip install -e .``).
"""

from __future__ import annotations

import ast
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import pytest

import arch.loongarch
import topology
from tests.support.plugins import require_entry_point
from topology import _registry
from topology.qemu import QemuSimulator

ROOT: Final = Path(__file__).resolve().parents[2]
PACKAGE: Final = ROOT / "arch" / "loongarch"
LA464: Final = "la464-loongarch-cpu"


@pytest.fixture(autouse=True)
def _registered() -> None:
    require_entry_point("loongarch")


def _vm(version: str, smp: str, **options: str) -> topology.VirtualMachine:
    return topology.VirtualMachine.start(
        topology.machine("loongarch64", "virt", qemu_version=version, **options), smp
    )


def _reply(vm: topology.VirtualMachine, driver: str, **props: Any) -> str:
    """What ``device_add`` answers: ``{}`` or QEMU's error text."""
    try:
        vm.plug(driver, props)
    except topology.TopologyError as error:
        return str(error)
    return "{}"


# -- registration -----------------------------------------------------------------


def test_found_through_the_entry_point_only() -> None:
    entry_points = {e.name: e.value for e in metadata.entry_points(group="topology.arch")}
    assert entry_points.get("loongarch") == "arch.loongarch:PLUGIN", (
        "the installed metadata lacks the loongarch entry point: run pip install -e ."
    )
    assert "loongarch" not in _registry._BUILTIN
    assert topology.get_arch("loongarch64") is arch.loongarch.PLUGIN
    assert topology.get_arch("loongarch") is arch.loongarch.PLUGIN
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert declared["topology.arch"]["loongarch"] == "arch.loongarch:PLUGIN"


def test_passes_the_load_check() -> None:
    _registry._verify("loongarch", "arch.loongarch:PLUGIN", arch.loongarch.PLUGIN)
    assert arch.loongarch.PLUGIN.capabilities == frozenset()


def _cputopo_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name.split(".")[0] == "topology"]


def test_imports_only_the_public_plugin_interface() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 5 and (PACKAGE / "py.typed").exists()
    imported = {name for path in files for name in _cputopo_imports(path)}
    assert imported == {"topology", "topology.plugin"}


# -- machine types ------------------------------------------------------------------

# qemu-system-loongarch64 -machine help and query-machines (name, alias, cpu-max,
# hotpluggable-cpus, numa-mem-supported, is-default) on QEMU 7.2.22, 10.0.13, 11.1.3.
OBSERVED_MACHINE_TYPES: Final[dict[str, list[tuple[str, tuple[str, ...], int, bool, bool]]]] = {
    "7.2": [("virt", (), 4, False, False)],
    "10.0": [("virt", (), 256, True, True)],
    "11.1": [("virt-11.1", ("virt",), 256, True, True)],
}


@pytest.mark.parametrize("version", sorted(OBSERVED_MACHINE_TYPES))
def test_machine_types_are_qemus(version: str) -> None:
    found = [
        (t.name, t.aliases, t.max_cpus, t.hotpluggable_cpus, t.numa_mem)
        for t in topology.machine_types("loongarch64", qemu_version=version)
    ]
    assert found == OBSERVED_MACHINE_TYPES[version]
    default = arch.loongarch.PLUGIN.default_machine(topology.qemu_version(version))
    assert default == OBSERVED_MACHINE_TYPES[version][0][0]


@pytest.mark.parametrize("version", ["8.0", "8.1", "8.2", "9.0", "9.1", "9.2"])
def test_releases_not_modelled_are_refused(version: str) -> None:
    with pytest.raises(topology.UnsupportedVersionError) as refused:
        topology.machine("loongarch64", "virt", qemu_version=version)
    assert str(refused.value) == (
        f"cputopo: qemu-system-loongarch64 of QEMU {version} is not modelled "
        "(7.2 and 10.0 to 11.1 are)"
    )


def test_the_releases_between_10_0_and_11_1_are_10_0s_board() -> None:
    for version in ("10.1", "10.2", "11.0"):
        virt = topology.machine("loongarch64", "virt", qemu_version=version)
        assert (virt.name, virt.type.max_cpus, virt.type.hotpluggable_cpus) == ("virt", 256, True)


# -- slots and physical ids -----------------------------------------------------------

# query-hotpluggable-cpus on QEMU 11.1.3 (and 10.0.13, the same) with -smp
# 2,sockets=2,cores=2,threads=2,maxcpus=8 after device_add of socket 1, core 1,
# thread 1 with id x (tools/notes/qemu11-observations.md section 7).
OBSERVED_SLOTS: Final = [
    {"props": {"core-id": 1, "thread-id": 1, "socket-id": 1}, "vcpus-count": 1,
     "qom-path": "/machine/peripheral/x", "type": LA464},
    {"props": {"core-id": 1, "thread-id": 0, "socket-id": 1}, "vcpus-count": 1, "type": LA464},
    {"props": {"core-id": 0, "thread-id": 1, "socket-id": 1}, "vcpus-count": 1, "type": LA464},
    {"props": {"core-id": 0, "thread-id": 0, "socket-id": 1}, "vcpus-count": 1, "type": LA464},
    {"props": {"core-id": 1, "thread-id": 1, "socket-id": 0}, "vcpus-count": 1, "type": LA464},
    {"props": {"core-id": 1, "thread-id": 0, "socket-id": 0}, "vcpus-count": 1, "type": LA464},
    {"props": {"core-id": 0, "thread-id": 1, "socket-id": 0}, "vcpus-count": 1,
     "qom-path": "/machine/unattached/device[1]", "type": LA464},
    {"props": {"core-id": 0, "thread-id": 0, "socket-id": 0}, "vcpus-count": 1,
     "qom-path": "/machine/unattached/device[0]", "type": LA464},
]  # fmt: skip


@pytest.mark.parametrize("version", ["10.0", "11.1"])
def test_slots_are_qemus(version: str) -> None:
    vm = _vm(version, "2,sockets=2,cores=2,threads=2,maxcpus=8")
    vm.plug(LA464, {"socket-id": 1, "core-id": 1, "thread-id": 1}, id="x")
    assert topology.query_hotpluggable_cpus(vm) == OBSERVED_SLOTS
    # The plugged CPU's cpu-index is its slot's position, 7 (query-cpus-fast).
    assert vm.present_cpu_indexes() == [0, 1, 7]


# The physical id QEMU names when it refuses a taken slot ("... with arch-id A
# exists"), observed on 10.0.13 and 11.1.3: the ids sit in power-of-two fields.
@pytest.mark.parametrize(
    ("smp", "ids", "arch_id"),
    [
        ("1,sockets=2,cores=2,threads=2,maxcpus=8", (1, 0, 1), 5),
        ("1,sockets=2,cores=3,threads=3,maxcpus=18", (1, 2, 2), 26),
        ("2,maxcpus=4", (0, 2, 0), 2),
    ],
)
def test_physical_ids_are_qemus(smp: str, ids: tuple[int, int, int], arch_id: int) -> None:
    vm = _vm("11.1", smp)
    socket_id, core_id, thread_id = ids
    props = {"socket-id": socket_id, "core-id": core_id, "thread-id": thread_id}
    vm.plug(LA464, props)
    assert _reply(vm, LA464, **props) == (
        f"cpu(id-1={socket_id}:{core_id}:{thread_id}) with arch-id {arch_id} exists"
    )


def test_the_board_refuses_cpu_ids_past_256() -> None:
    # Observed on 10.0.13 and 11.1.3: 4 sockets x 128 cores rounded up > 256.
    with pytest.raises(topology.BoardError) as refused:
        topology.machine("loongarch64", "virt", qemu_version="10.0").resolve(
            "1,sockets=3,cores=65,maxcpus=195"
        )
    assert str(refused.value) == "Exceeding max cpuid 256 with sockets[3] cores[65] threads[1]"
    # 2 x 128 fits, as QEMU starts it.
    topology.machine("loongarch64", "virt", qemu_version="10.0").resolve(
        "1,sockets=2,cores=65,maxcpus=130"
    )


# -- device_add and device_del ---------------------------------------------------------

# device_add on -smp 1,sockets=2,cores=2,threads=2,maxcpus=8, one at a time from
# the same state: QEMU 10.0.13 and 11.1.3 answered each the same.
OBSERVED_PLUG_ERRORS: Final = [
    ({"thread-id": -1, "core-id": 9},
     "Invalid thread-id 4294967295 specified, must be in range 1:1"),
    ({"core-id": -2, "socket-id": 7},
     "Invalid core-id 4294967294 specified, must be in range 1:1"),
    ({"socket-id": 2}, "Invalid socket-id 2 specified, must be in range 1:1"),
    ({"socket-id": 2147483648}, "Parameter 'socket-id' expects int32_t"),
    ({"socket-id": "1"}, "Invalid parameter type for 'socket-id', expected: integer"),
    ({"cluster-id": 0}, f"Property '{LA464}.cluster-id' not found"),
    ({"lsx": 1}, "Invalid parameter type for 'lsx', expected: boolean"),
    ({}, "cpu(id-1=0:0:0) with arch-id 0 exists"),
    ({"socket-id": 1, "node-id": 1}, "invalid node-id, must be 0"),
]  # fmt: skip


@pytest.mark.parametrize("version", ["10.0", "11.1"])
@pytest.mark.parametrize(("props", "reply"), OBSERVED_PLUG_ERRORS, ids=str)
def test_device_add_refusals_are_qemus(version: str, props: dict[str, Any], reply: str) -> None:
    vm = _vm(version, "1,sockets=2,cores=2,threads=2,maxcpus=8")
    assert _reply(vm, LA464, **props) == reply
    assert vm.present_cpu_indexes() == [0]


@pytest.mark.parametrize("version", ["10.0", "11.1"])
def test_any_loongarch_cpu_type_plugs(version: str) -> None:
    # Observed on 10.0.13 and 11.1.3: the board does not compare the type with the
    # boot CPUs'; a boolean property of that type is taken; the abstract type and
    # other targets' types are not device models to plug.
    vm = _vm(version, "1,sockets=2,cores=2,maxcpus=4")
    assert _reply(vm, "la132-loongarch-cpu", **{"socket-id": 1}) == "{}"
    assert _reply(vm, "max-loongarch-cpu", **{"socket-id": 1, "core-id": 1, "lsx": False}) == "{}"
    assert _reply(vm, "la132-loongarch-cpu", lsx=True) == (
        "Property 'la132-loongarch-cpu.lsx' not found"
    )
    assert _reply(vm, "loongarch-cpu") == "Parameter 'driver' expects a non-abstract device type"
    assert _reply(vm, "qemu64-x86_64-cpu") == (
        "'qemu64-x86_64-cpu' is not a valid device model name"
    )


@pytest.mark.parametrize("version", ["10.0", "11.1"])
def test_device_del(version: str) -> None:
    # Observed on 10.0.13 and 11.1.3: only CPU 0 is refused; the others (a boot
    # CPU included) get {} and stay, since a paused guest never ejects them.
    vm = _vm(version, "2,maxcpus=4")
    vm.plug(LA464, {"core-id": 2}, id="x")
    assert vm.request_unplug("x") is topology.UnplugResult.PENDING
    assert vm.request_unplug("x") is topology.UnplugResult.PENDING
    assert vm.request_unplug("/machine/unattached/device[1]") is topology.UnplugResult.PENDING
    with pytest.raises(topology.BoardError) as refused:
        vm.request_unplug("/machine/unattached/device[0]")
    assert str(refused.value) == "hot-unplug of boot cpu(id0=0:0:0) not supported"
    assert vm.present_cpu_indexes() == [0, 1, 2]


def test_qemu_7_2_has_no_cpu_hotplug() -> None:
    # Observed on 7.2.22: no props in query-cpus-fast, a loongarch CPU type is
    # not pluggable, other names are no device model, and device_del aborts.
    vm = _vm("7.2", "2,maxcpus=4")
    assert topology.query_cpus_fast(vm) == [
        {"thread-id": 0, "qom-path": "/machine/unattached/device[0]", "cpu-index": 0,
         "target": "loongarch64"},
        {"thread-id": 1, "qom-path": "/machine/unattached/device[1]", "cpu-index": 1,
         "target": "loongarch64"},
    ]  # fmt: skip
    assert _reply(vm, LA464, **{"socket-id": 1}) == (
        "Parameter 'driver' expects a pluggable device type"
    )
    assert (
        _reply(vm, "la132-loongarch-cpu")
        == "'la132-loongarch-cpu' is not a valid device model name"
    )
    with pytest.raises(topology.TopologyError) as crash:
        vm.request_unplug("/machine/unattached/device[1]")
    assert crash.value.crash_signal == 6


# -- the board at start -------------------------------------------------------------------

# (QEMU release, -smp, -cpu, -m) -> QEMU's last stderr line, observed on 7.2.22,
# 10.0.13 and 11.1.3 (qemu-system-loongarch64: prefix left out).
OBSERVED_START_ERRORS: Final = [
    ("7.2", "5", None, None, "Invalid SMP CPUs 5. The max CPUs supported by machine 'virt' is 4"),
    ("11.1", "1,maxcpus=257", None, None,
     "Invalid SMP CPUs 257. The max CPUs supported by machine 'virt-11.1' is 256"),
    ("7.2", "2,dies=2", None, None, "dies not supported by this machine's CPU topology"),
    ("10.0", "2,clusters=2", None, None,
     "clusters > 1 not supported by this machine's CPU topology"),
    ("7.2", "1", "la132", None, "unable to find CPU model 'la132'"),
    ("10.0", "1", "LA464", None, "unable to find CPU model 'LA464'"),
    ("11.1", "1", "la464,+lsx", None, "Expected key=value format, found +lsx."),
    ("7.2", "1", "la464,lsx=off", None,
     "can't apply global la464-loongarch-cpu.lsx=off: "
     "Property 'la464-loongarch-cpu.lsx' not found"),
    ("10.0", "1", "la132,lsx=off", None,
     "can't apply global la132-loongarch-cpu.lsx=off: "
     "Property 'la132-loongarch-cpu.lsx' not found"),
    ("11.1", "1", "la464,lsx=maybe", None,
     "can't apply global la464-loongarch-cpu.lsx=maybe: Parameter 'lsx' expects 'on' or 'off'"),
    ("10.0", "1,sockets=3,cores=65,maxcpus=195", "la464,foo=on", None,
     "Exceeding max cpuid 256 with sockets[3] cores[65] threads[1]"),
    ("10.0", "1", "la464,foo=on", "1G,slots=257,maxmem=2G",
     "can't apply global la464-loongarch-cpu.foo=on: Property 'la464-loongarch-cpu.foo' not found"),
    ("7.2", "1", "la464,foo=on", "256M", "ram_size must be greater than 1G."),
    ("7.2", "1", None, "1023M", "ram_size must be greater than 1G."),
    ("7.2", "1", None, "1G,slots=257,maxmem=2147484672", "unsupported amount of memory slots: 257"),
    ("7.2", "2", None, "1G,slots=4,maxmem=2147487744",
     "maximum memory size must by aligned to multiple of 16384 bytes"),
    ("11.1", "2", None, "1G,slots=4,maxmem=2147484672",
     "maximum memory size must by aligned to multiple of 4096 bytes"),
]  # fmt: skip


@pytest.mark.parametrize(("version", "smp", "cpu", "memory", "error"), OBSERVED_START_ERRORS)
def test_start_refusals_are_qemus(
    version: str, smp: str, cpu: str | None, memory: str | None, error: str
) -> None:
    argv = ["qemu-system-loongarch64", "-smp", smp, *(["-cpu", cpu] if cpu else [])]
    argv += ["-m", memory] if memory else []
    with pytest.raises(topology.qemu.QemuStartError) as refused:
        QemuSimulator(argv, version=version)
    assert refused.value.stderr.splitlines()[-1] == f"qemu-system-loongarch64: {error}"


@pytest.mark.parametrize(
    ("version", "warnings"),
    [("7.2", []), ("10.0", ["No kernel provided, booting from flash drive."])],
)
def test_the_warning_of_a_start_without_kernel(version: str, warnings: list[str]) -> None:
    # Every start of 10.0.13 and 11.1.3 warns; 7.2.22's never does.
    assert [w.message for w in _vm(version, "1").warnings] == warnings


def test_numa_nodes_follow_the_socket() -> None:
    # -smp 4,sockets=4 with two -numa node,mem=128M on 10.0.13 and 11.1.3:
    # node-id 0, 1, 0, 1 (virt_get_default_cpu_node_id: socket modulo nodes).
    vm = topology.VirtualMachine.start(
        topology.machine("loongarch64", "virt", qemu_version="11.1"),
        "4,sockets=4",
        numa=["node,mem=128M", "node,mem=128M"],
        memory="256M",
    )
    assert [slot.props.node_id for slot in vm.slots] == [0, 1, 0, 1]
    assert [w.message for w in vm.warnings][:2] == [
        "Parameter -numa node,mem is deprecated, use -numa node,memdev instead"
    ] * 2


def test_qemu_7_2_has_no_numa() -> None:
    with pytest.raises(topology.TopologyError, match="NUMA is not supported by this machine-type"):
        topology.VirtualMachine.start(
            topology.machine("loongarch64", "virt", qemu_version="7.2"), "1", numa=["node"]
        )


def test_topology_ids_as_cpu_features_are_not_modelled() -> None:
    # QEMU 10.0 and 11.1 take -cpu la464,socket-id=1, making it every CPU's default.
    with pytest.raises(topology.qemu.UnsupportedOptionError, match="not modelled"):
        QemuSimulator(["qemu-system-loongarch64", "-cpu", "la464,socket-id=1"], version="11.1")


def test_wrapped_counts_crash_qemu_on_a_missing_slot() -> None:
    # -smp 1,sockets=1,cores=4294967295,threads=4294967295 starts (the counts
    # multiply to 1 modulo 2^32); a device_add whose ids give a physical id no
    # slot has makes QEMU 10.0.13 and 11.1.3 crash with SIGSEGV.
    vm = _vm("11.1", "1,sockets=1,cores=4294967295,threads=4294967295")
    assert _reply(vm, LA464) == "cpu(id-1=0:0:0) with arch-id 0 exists"
    with pytest.raises(topology.TopologyError) as crash:
        vm.plug(LA464, {"thread-id": 5})
    assert crash.value.crash_signal == 11


# -smp 1,sockets=2,maxcpus=2 -device la464-loongarch-cpu,socket-id=...: QEMU's
# stderr, observed on 7.2.22, 10.0.13 and 11.1.3 (-device CPUs go through the
# same checks as device_add, after the board's warning).
_KERNEL_WARNING: Final = (
    "qemu-system-loongarch64: warning: No kernel provided, booting from flash drive."
)


@pytest.mark.parametrize(
    ("version", "stderr"),
    [
        ("7.2", ["qemu-system-loongarch64: -device la464-loongarch-cpu,socket-id=3: "
                 "Parameter 'driver' expects a pluggable device type"]),
        ("10.0", [_KERNEL_WARNING, "qemu-system-loongarch64: -device la464-loongarch-cpu,"
                  "socket-id=3: Invalid socket-id 3 specified, must be in range 1:1"]),
        ("11.1", [_KERNEL_WARNING, "qemu-system-loongarch64: -device la464-loongarch-cpu,"
                  "socket-id=3: Invalid socket-id 3 specified, must be in range 1:1"]),
    ],
)  # fmt: skip
def test_device_option_cpus(version: str, stderr: list[str]) -> None:
    argv = ["qemu-system-loongarch64", "-smp", "1,sockets=2,maxcpus=2", "-device"]
    with pytest.raises(topology.qemu.QemuStartError) as refused:
        QemuSimulator([*argv, "la464-loongarch-cpu,socket-id=3"], version=version)
    assert refused.value.stderr.splitlines() == stderr
    if version != "7.2":
        started = QemuSimulator([*argv, "la464-loongarch-cpu,socket-id=1,id=d1"], version=version)
        cpus = started.qmp("query-cpus-fast")["return"]
        assert [(cpu["cpu-index"], cpu["qom-path"]) for cpu in cpus] == [
            (0, "/machine/unattached/device[0]"),
            (1, "/machine/peripheral/d1"),
        ]
