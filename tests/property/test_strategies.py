"""The strategies of ``topology.strategies`` are themselves tested (STYLE.md point 10).

* every drawn example is what it claims: a valid ``-smp`` resolves to the drawn
  topology, an invalid one is refused with the drawn error and message, a VM
  spec starts, a hot-plug sequence replays step by step with the drawn outcomes;
* interesting cases are reachable (SMT, several NUMA nodes, each optional
  level, holes in the present CPUs, each architecture);
* the minimal example of each strategy is the smallest topology;
* ``st.from_type`` works through the ``hypothesis`` entry point.

Bad arguments, packaging and ``clone_vm`` are checked on single examples in
``tests/unit/test_strategies.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import topology
from topology import CpuTopology, SlotProps, SmpConfig, TopologyError, VirtualMachine
from topology import strategies as ts
from topology.plugin import StashKey
from topology.strategies._hypothesis_hook import _hypothesis_setup_hook
from topology.strategies._values import clone_vm

MiB = 2**20
_FIND = settings(max_examples=2000, database=None, suppress_health_check=list(HealthCheck))
# Reachability needs no shrinking, which is where find spends its time.
_REACH = settings(_FIND, phases=[Phase.generate])
_SMALL = settings(max_examples=60, deadline=None, database=None)

ONE = CpuTopology(cpus=1, max_cpus=1)


# -- every example is what it claims ------------------------------------------------


@_SMALL
@given(ts.smp_strings(valid=None))
def test_smp_cases_are_what_the_model_says(case: ts.SmpCase) -> None:
    try:
        resolved = case.machine.resolve(case.smp)
    except TopologyError as error:
        assert not case.valid
        assert type(error) is case.error_type
        assert str(error) == case.message
        return
    assert case.valid and case.message is None
    assert resolved == case.topology


@_SMALL
@given(ts.smp_strings(valid=True, max_cpus=6, max_count=3))
def test_valid_smp_strings_stay_within_the_bounds(case: ts.SmpCase) -> None:
    assert case.topology is not None
    assert case.topology.max_cpus <= 6
    assert all(case.topology.counts()[level] <= 6 for level in topology.LEVELS)


@_SMALL
@given(ts.smp_strings(valid=False))
def test_invalid_smp_strings_are_refused(case: ts.SmpCase) -> None:
    assert case.error_type is not None and case.message
    with pytest.raises(case.error_type) as caught:
        case.machine.resolve(case.smp)
    assert str(caught.value) == case.message


@_SMALL
@given(ts.smp_configs(valid=None))
def test_smp_configs_parse_and_resolve_as_their_text(case: ts.SmpCase) -> None:
    assert case.config is not None
    assert case.config == SmpConfig.parse(case.smp, qemu_version=case.machine.qemu_version)
    try:
        resolved = case.machine.resolve(case.config)
    except TopologyError as error:
        assert str(error) == case.message
    else:
        assert resolved == case.topology


@_SMALL
@given(ts.vm_specs())
def test_vm_specs_start_with_numa_memory_that_adds_up(spec: ts.VmSpec) -> None:
    vm = spec.start()
    assert vm.topology == spec.machine.resolve(spec.smp)
    sizes = dict(spec.memory_backends)
    if spec.numa:
        assert vm.numa is not None and len(vm.numa.nodes) == len(spec.numa)
        assert spec.memory == f"{sum(sizes.values()) // MiB}M"
        assert vm.memory.ram_size == sum(sizes.values())
        assert all(size % (256 * MiB) == 0 for size in sizes.values())
    argv = spec.argv()
    assert argv[0] == f"qemu-system-{spec.machine.arch.targets[0]}"
    assert argv[argv.index("-smp") + 1] == spec.smp
    assert argv[-7:] == [
        "-S",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-qmp",
        "stdio",
    ]
    assert argv.count("-numa") == len(spec.numa)


@_SMALL
@given(ts.topologies(arch="aarch64", max_cpus=4))
def test_topologies_are_resolved(topo: CpuTopology) -> None:
    assert isinstance(topo, CpuTopology) and topo.max_cpus <= 4


@_SMALL
@given(ts.qemu_command_lines(arch="s390x"))
def test_command_lines_name_the_binary_and_the_accelerator(argv: list[str]) -> None:
    assert argv[:2] == ["qemu-system-s390x", "-machine"]
    assert argv[argv.index("-accel") + 1] == "tcg"


_HOTPLUG_VMS = [
    ("ppc64", "pseries-10.0", "10.0", "2,threads=2,maxcpus=8"),
    ("x86_64", "pc-q35-9.2", "9.2", "2,sockets=2,cores=2,maxcpus=4"),
    ("s390x", "s390-ccw-virtio-9.2", "9.2", "1,maxcpus=4"),
    ("aarch64", "virt-10.0", "10.0", "2,maxcpus=4"),
]


def _start(setup: tuple[str, str, str, str]) -> VirtualMachine:
    arch, name, version, smp = setup
    return VirtualMachine.start(topology.machine(arch, name, qemu_version=version), smp)


@pytest.mark.parametrize("setup", _HOTPLUG_VMS, ids=lambda setup: setup[1])
@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_hotplug_steps_replay_with_their_outcomes(
    setup: tuple[str, str, str, str], data: st.DataObject
) -> None:
    model = _start(setup)
    model.stash[StashKey[bool]("x86.acpi-cpu-hotplug-legacy")] = data.draw(st.booleans())
    before = model.snapshot()
    steps = data.draw(ts.hotplug_sequences(model))
    assert model.snapshot() == before, "the user's model is never changed"
    replay = clone_vm(model)
    for step in steps:
        try:
            step.apply(replay)
        except TopologyError as error:
            assert (type(error), str(error)) == (step.error_type, step.message)
        else:
            assert step.ok, step
        assert tuple(replay.present_cpu_indexes()) == step.present


@pytest.mark.parametrize("valid", [True, False])
@settings(max_examples=20, deadline=None, database=None)
@given(data=st.data())
def test_hotplug_validity_switch(valid: bool, data: st.DataObject) -> None:
    steps = data.draw(ts.hotplug_sequences(_start(_HOTPLUG_VMS[0]), valid=valid))
    assert all(step.ok is valid for step in steps)
    if not valid:
        assert all(step.message for step in steps)


# -- reachability ---------------------------------------------------------------


def _found(strategy: st.SearchStrategy[Any], condition: Any) -> Any:
    return find(strategy, condition, settings=_REACH)


def _minimal(strategy: st.SearchStrategy[Any], condition: Any = lambda _: True) -> Any:
    return find(strategy, condition, settings=_FIND)


@pytest.mark.parametrize("arch", ["x86_64", "ppc64", "s390x", "aarch64"])
def test_each_architecture_is_reachable(arch: str) -> None:
    case = _found(ts.smp_strings(), lambda c: c.machine.arch.targets[0] == arch)
    assert case.valid


@pytest.mark.parametrize(
    ("level", "arch", "version", "machine_type"),
    [
        ("dies", "x86_64", "7.2", None),
        ("modules", "x86_64", "9.1", None),
        ("clusters", "aarch64", "7.2", None),
        # Only the newest s390x type of a release takes books and drawers (one
        # of 26 in 8.2): drawing the type as well made the search flaky.
        ("books", "s390x", "8.2", "s390-ccw-virtio-8.2"),
        ("drawers", "s390x", "10.0", "s390-ccw-virtio-10.0"),
        ("threads", "ppc64", "10.0", None),
        ("threads", "x86_64", "7.2", None),
    ],
)
def test_levels_above_one_are_reachable(
    level: str, arch: str, version: str, machine_type: str | None
) -> None:
    strategy = ts.topologies(arch=arch, machine_type=machine_type, qemu_version=version)
    topo = _found(strategy, lambda t: getattr(t, level) > 1)
    assert getattr(topo, level) > 1


def test_several_numa_nodes_with_cpu_ranges_are_reachable() -> None:
    spec = _found(ts.vm_specs(), lambda s: len(s.numa) >= 2 and all("cpus=" in o for o in s.numa))
    assert spec.start().numa is not None


def test_sparse_present_sets_are_reachable() -> None:
    model = _start(_HOTPLUG_VMS[1])

    def has_a_hole(steps: tuple[ts.HotplugStep, ...]) -> bool:
        present = steps[-1].present if steps else ()
        return bool(present) and list(present) != list(range(len(present)))

    steps = _minimal(ts.hotplug_sequences(model, valid=True), has_a_hole)
    assert len(steps) == 1 and steps[0].operation == "plug"  # one plug past a free slot


@pytest.mark.parametrize(
    ("message", "arch"),
    [
        ("product of the hierarchy must match maxcpus", None),
        ("maxcpus must be equal to or greater than smp", None),
        ("must be greater than zero", None),
        ("is unexpected", None),
        ("expects integer", None),
        ("not supported by this machine's CPU topology", None),
        ("Invalid SMP CPUs", None),
        ("Invalid parameter ''", None),
        ("threads/core on a pseries machine", "ppc64"),
        ("exceeds max CPUs supported by machine 'mach-virt'", "aarch64"),
        ("S390 does not support more than 1 threads.", "s390x"),
    ],
)
def test_each_kind_of_refusal_is_reachable(message: str, arch: str | None) -> None:
    strategy = ts.smp_strings(arch=arch, valid=False)
    case = _found(strategy, lambda c: message in str(c.message))
    assert not case.valid


# -- shrinking ------------------------------------------------------------------


def test_minimal_examples_are_the_smallest_topology() -> None:
    case = _minimal(ts.smp_strings())
    assert (case.smp, case.topology) == ("1", ONE)
    assert case.machine.arch.targets[0] == "x86_64"  # the first machine
    assert _minimal(ts.smp_strings(valid=None, arch="ppc64")).valid
    # The others on one QEMU release, to keep the test fast.
    q35: dict[str, Any] = {"arch": "x86_64", "qemu_version": "9.2"}
    assert _minimal(ts.smp_configs(**q35)).config == SmpConfig(cpus=1)
    assert _minimal(ts.topologies(**q35)) == ONE
    spec = _minimal(ts.vm_specs(**q35))
    assert (spec.smp, spec.numa, spec.memory) == ("1", (), None)
    assert _minimal(ts.virtual_machines(**q35)).topology == ONE
    assert _minimal(ts.qemu_command_lines(**q35))[4:7] == ["tcg", "-smp", "1"]
    assert _minimal(ts.hotplug_sequences(_start(_HOTPLUG_VMS[0]))) == ()


def test_minimal_invalid_example_is_one_cpu_too_many_for_maxcpus() -> None:
    case = _minimal(ts.smp_strings(valid=False, arch="s390x"))
    assert case.message.startswith("Invalid CPU topology: product of the hierarchy")
    assert case.smp == "cpus=1,sockets=1,cores=1,threads=1,maxcpus=2"


# -- the hypothesis entry point ---------------------------------------------------


@pytest.mark.parametrize("value_type", [CpuTopology, SmpConfig, SlotProps, VirtualMachine])
def test_the_hook_registers_from_type(value_type: type) -> None:
    _hypothesis_setup_hook()
    found = _minimal(st.from_type(value_type))
    # and the minimal one is the smallest topology's
    if isinstance(found, CpuTopology):
        assert found == ONE
    assert isinstance(found, value_type)
