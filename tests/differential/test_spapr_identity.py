"""pseries identities against real QEMU 7.2 and 10.0.

pseries starts on QEMU 7.2 (threads 1 only: TCG 7.2 refuses SMT) and 10.0; for
every possible core, the CPU DRC objects under ``/machine``
(``dr-connector[<index>]`` of type ``spapr-drc-cpu``, properties ``index`` and
``id``) and ``qom-get /machine vsmt`` must be the model's; refusals compare
QEMU's last stderr line with ``str()`` of the model's error. The formulas and
their sources are in ``tests/unit/test_spapr_identity.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

import topology
from arch.spapr._identity import core_identities, effective_vsmt
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import run_qemu
from topology._model.vm import VirtualMachine

# (QEMU version, machine type, vsmt option or None, -smp).
QEMU_CASES = [
    ("7.2", "pseries-4.1", None, "2,maxcpus=4"),
    ("7.2", "pseries-4.1", "3", "2,maxcpus=4"),
    ("7.2", "pseries-4.2", None, "1,maxcpus=3"),
    ("7.2", "pseries-7.2", None, "2,sockets=2,cores=2,maxcpus=4"),
    ("7.2", "pseries-7.2", "2", "1,maxcpus=4"),
    ("7.2", "pseries-7.2", "5", "2,maxcpus=3"),
    ("7.2", "pseries-2.7", "1", "1,maxcpus=2"),
    ("10.0", "pseries-4.1", None, "2,threads=2,maxcpus=6"),
    ("10.0", "pseries-4.1", None, "8,threads=8,maxcpus=16"),
    ("10.0", "pseries-4.1", "3", "2,threads=2,maxcpus=4"),
    ("10.0", "pseries-4.2", None, "4,threads=4,maxcpus=8"),
    ("10.0", "pseries-10.0", None, "2,maxcpus=4"),
    ("10.0", "pseries-10.0", None, "8,threads=8,maxcpus=16"),
    ("10.0", "pseries-10.0", "3", "2,threads=2,maxcpus=6"),
    ("10.0", "pseries-10.0", "6", "4,sockets=2,cores=1,threads=4,maxcpus=8"),
    ("10.0", "pseries-10.0", "8", "2,threads=2,maxcpus=8"),
    ("10.0", "pseries-10.0", "4", "1,maxcpus=3"),
    # The 10.0 rows again on 11.1, whose newest type defaults to POWER11.
    ("11.1", "pseries-11.1", None, "2,maxcpus=4"),
    ("11.1", "pseries-11.1", None, "8,threads=8,maxcpus=16"),
    ("11.1", "pseries-11.1", "3", "2,threads=2,maxcpus=6"),
    ("11.1", "pseries-11.1", "6", "4,sockets=2,cores=1,threads=4,maxcpus=8"),
    ("11.1", "pseries-11.1", "4", "1,maxcpus=3"),
]

# Refusals: (QEMU version, machine type, vsmt option, -smp, -m or None).
QEMU_REFUSALS = [
    ("10.0", "pseries-10.0", "1", "4,threads=2", None),
    ("10.0", "pseries-10.0", "3", "4,threads=4", None),
    ("10.0", "pseries-4.1", "4", "8,threads=8", None),
    # Order: vsmt before the RAM alignment and before cpus % threads.
    ("10.0", "pseries-10.0", "1", "4,threads=2", "300M"),
    ("10.0", "pseries-10.0", "1", "1,threads=2,maxcpus=4", None),
    # Order: the power-of-2 and TCG checks come first.
    ("10.0", "pseries-10.0", "1", "6,threads=3", None),
    ("10.0", "pseries-10.0", "1", "16,threads=16", None),
    ("11.1", "pseries-11.1", "1", "4,threads=2", "300M"),
    ("11.1", "pseries-11.1", "1", "6,threads=3", None),
    ("7.2", "pseries-7.2", "1", "2,threads=2", None),
]


def _case_id(case: tuple[Any, ...]) -> str:
    return "-".join(str(part) for part in case if part is not None)


def _machine_arg(machine_name: str, vsmt: str | None) -> str:
    return machine_name if vsmt is None else f"{machine_name},vsmt={vsmt}"


def _qom_get(path: str, prop: str) -> tuple[str, dict[str, object]]:
    return ("qom-get", {"path": path, "property": prop})


@pytest.mark.qemu
@pytest.mark.parametrize("case", QEMU_CASES, ids=_case_id)
def test_drcs_match_qemu(case: tuple[str, str, str | None, str]) -> None:
    version, machine_name, vsmt, smp = case
    require_qemu("ppc64", version)
    options = {} if vsmt is None else {"vsmt": vsmt}
    machine = topology.machine("ppc64", machine_name, qemu_version=version, **options)
    vm = VirtualMachine.start(machine, smp)
    cores = core_identities(vm)
    paths = [f"/machine/dr-connector[{core.drc_index}]" for core in cores]
    commands: list[tuple[str, dict[str, object]]] = [
        ("qom-list", {"path": "/machine"}),
        _qom_get("/machine", "vsmt"),
    ]
    for path in paths:
        commands += [_qom_get(path, "index"), _qom_get(path, "id")]
    run = run_qemu(
        "ppc64",
        ["-machine", _machine_arg(machine_name, vsmt), "-smp", smp],
        commands,
        version=version,
    )
    assert run.greeted, run.stderr_lines
    replies = [reply.get("return", reply.get("error")) for reply in run.replies]
    children, qemu_vsmt, *props = replies
    assert isinstance(children, list)
    qemu_drcs = sorted(
        child["name"] for child in children if child["type"] == "child<spapr-drc-cpu>"
    )
    assert qemu_drcs == sorted(path.removeprefix("/machine/") for path in paths)
    assert qemu_vsmt == effective_vsmt(machine.type, vm.topology.threads, machine.options)
    expected: list[object] = []
    for core in cores:
        expected += [core.drc_index, core.vcpu_ids[0]]
    assert props == expected


@pytest.mark.qemu
@pytest.mark.parametrize("case", QEMU_REFUSALS, ids=_case_id)
def test_refusals_match_qemu(case: tuple[str, str, str, str, str | None]) -> None:
    version, machine_name, vsmt, smp, memory = case
    require_qemu("ppc64", version)
    machine = topology.machine("ppc64", machine_name, qemu_version=version, vsmt=vsmt)
    with pytest.raises(topology.TopologyError) as info:
        VirtualMachine.start(machine, smp, memory=memory)
    args = ["-machine", _machine_arg(machine_name, vsmt), "-smp", smp]
    if memory is not None:
        args += ["-m", memory]
    run = run_qemu("ppc64", args, version=version)
    assert run.exit_code == 1
    assert run.stderr_lines[-1] == f"qemu-system-ppc64: {info.value}"
