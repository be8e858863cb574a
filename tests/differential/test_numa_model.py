"""The NUMA model against real QEMU 7.2 and 10.0.

* The table of cases (``tests/unit/test_numa_model.py``) holds on QEMU again
  (``test_rows_hold_on_qemu``).
* Hypothesis draws a machine (x86 q35 new, ≤ 6.1 and 5.0, pseries, ARM virt),
  ``-smp``, ``-m``, memory backends and ``-numa node/cpu/dist`` options, valid
  and invalid (the strategy of ``tests/property/test_numa_model.py``), and
  compares QEMU's whole stderr (its refusal line with the prefix QEMU prints,
  or its warnings) and, when it starts, its CPU listing (every slot's props,
  node-id included), with the model's. ``CPUTOPO_QEMU_NUMA_MODEL_EXAMPLES`` sets
  the number of QEMU 7.2 examples (default 150; QEMU 10.0 runs 2/5 of it).
* ``device_add`` with right and wrong ``node-id`` on NUMA machines.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.property.test_numa_model import numa_cases
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, QemuRun, run_qemu
from tests.unit.test_numa_model import (
    _IGNORED,
    _ROW_VERSIONS,
    ROWS,
    VIRT,
    Case,
    Outcome,
    _check_row,
    _listing,
    _ppc,
    _x86,
    model_outcome,
    start_model,
)
from topology import TopologyError, query_hotpluggable_cpus

EXAMPLES = int(os.environ.get("CPUTOPO_QEMU_NUMA_MODEL_EXAMPLES", "150"))


def qemu_outcome(case: Case, version: str) -> Outcome:
    require_qemu(case.arch, version)
    command = "query-cpus-fast" if case.arch == "aarch64" else "query-hotpluggable-cpus"
    run: QemuRun = run_qemu(case.arch, case.qemu_args(), [(command, None)], version=version)
    lines = tuple(line for line in run.stderr_lines if _IGNORED not in line)
    if run.exit_code != 0 or not run.replies:
        assert run.exit_code == 1, (str(case), run.exit_code, run.stderr_lines)
        return Outcome(lines)
    reply: Any = run.replies[0]["return"]
    return Outcome(lines, _listing(case.arch, reply))


@pytest.mark.qemu
@pytest.mark.parametrize(("name", "version"), _ROW_VERSIONS)
def test_rows_hold_on_qemu(name: str, version: str) -> None:
    _check_row(ROWS[name], qemu_outcome(ROWS[name].case, version))


QEMU_SETUPS: dict[str, list[tuple[str, str, str, tuple[tuple[str, str], ...]]]] = {
    "7.2": [
        ("7.2", "x86_64", "pc-q35-7.2", ()),
        ("7.2", "x86_64", "pc-q35-6.1", ()),  # prefers sockets
        ("7.2", "x86_64", "pc-q35-5.0", ()),  # still takes mem=
        ("7.2", "ppc64", "pseries-7.2", ()),
        ("7.2", "ppc64", "pseries-5.0", ()),
        ("7.2", "aarch64", "virt-7.2", VIRT),
        ("7.2", "aarch64", "virt-6.2", VIRT),
    ],
    "10.0": [
        ("10.0", "x86_64", "pc-q35-10.0", ()),
        ("10.0", "x86_64", "pc-q35-6.1", ()),  # deprecated in 10.0
        ("10.0", "ppc64", "pseries-10.0", ()),
        ("10.0", "ppc64", "pseries-7.2", ()),
        ("10.0", "aarch64", "virt-10.0", VIRT),
        ("10.0", "aarch64", "virt-6.2", VIRT),
    ],
    "11.1": [
        ("11.1", "x86_64", "pc-q35-11.1", ()),
        ("11.1", "x86_64", "pc-q35-6.1", ()),  # deprecated in 11.1
        ("11.1", "ppc64", "pseries-11.1", ()),
        ("11.1", "ppc64", "pseries-7.2", ()),
        ("11.1", "aarch64", "virt-11.1", VIRT),
        ("11.1", "aarch64", "virt-6.2", VIRT),
    ],
}


def _differential(drawn: tuple[str, Case]) -> None:
    version, case = drawn
    expected = qemu_outcome(case, version)
    found = model_outcome(case, version)
    assert found.lines == expected.lines, str(case)
    assert found.cpus == expected.cpus, str(case)


@pytest.mark.qemu
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(numa_cases(QEMU_SETUPS["7.2"]))
def test_model_matches_qemu_7_2(drawn: tuple[str, Case]) -> None:
    _differential(drawn)


@pytest.mark.qemu
@settings(
    max_examples=max(1, EXAMPLES * 2 // 5),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(numa_cases(QEMU_SETUPS["10.0"]))
def test_model_matches_qemu_10_0(drawn: tuple[str, Case]) -> None:
    _differential(drawn)


@pytest.mark.qemu
@settings(
    max_examples=max(1, EXAMPLES * 2 // 5),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(numa_cases(QEMU_SETUPS["11.1"]))
def test_model_matches_qemu_11_1(drawn: tuple[str, Case]) -> None:
    _differential(drawn)


@pytest.mark.qemu
@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(
    "case",
    [
        _x86("2,sockets=2,cores=2,maxcpus=4", "node,memdev=m0", "node,memdev=m1"),
        _x86("1,maxcpus=3", "node,memdev=m0,cpus=0-1", "node,memdev=m1,cpus=2"),
        _x86("1,maxcpus=2", memory="512M,slots=2,maxmem=1G", backends=()),
        _x86("1,maxcpus=2", memory="512M", backends=()),  # no NUMA: node-id 0 passes
        _ppc("2,sockets=2,maxcpus=4", "node,memdev=m0", "node,memdev=m1"),
    ],
    ids=str,
)
def test_device_add_node_id_matches_qemu(case: Case, version: str) -> None:
    """``device_add`` with a wrong, then the right (or no) node-id, in every free slot."""
    vm = start_model(case, version)
    nodes = max(len(vm.numa.nodes) if vm.numa else 1, 2)
    commands: list[tuple[str, dict[str, Any]]] = []
    for slot in vm.slots:
        if vm.state(slot.index) is not None:
            continue
        props = {k: v for k, v in slot.props.as_qmp().items() if k != "node-id"}
        node = slot.props.node_id or 0
        for node_id in ((node + 1) % nodes, node):
            commands.append(("device_add", {"driver": slot.type, **props, "node-id": node_id}))
    require_qemu(case.arch, version)
    run = run_qemu(
        case.arch,
        case.qemu_args(),
        [*commands, ("query-hotpluggable-cpus", None)],
        version=version,
    )
    assert len(run.replies) == len(commands) + 1, run.stderr_lines
    replies: list[Any] = list(run.replies)
    for (_, arguments), reply in zip(commands, replies, strict=False):
        props = {k: v for k, v in arguments.items() if k != "driver"}
        try:
            vm.plug(arguments["driver"], props)
            ours: dict[str, Any] = {"return": {}}
        except TopologyError as error:
            ours = {"error": str(error)}
        theirs = {"error": reply["error"]["desc"]} if "error" in reply else {"return": {}}
        assert ours == theirs, (str(case), arguments)
    assert query_hotpluggable_cpus(vm) == replies[-1]["return"]
