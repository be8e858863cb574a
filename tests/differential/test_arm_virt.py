"""Differential test of the ARM virt plugin against real QEMU 7.2 and 10.0.

Each example draws a virt machine type, board options (``gic-version``,
``virtualization``, ``highmem``, ``highmem-redists``), a ``-cpu`` model (valid,
not valid on virt, unknown), a ``-smp`` (a small topology with clusters, or a
count near a GIC limit: 8/9, 61/62, 123/124, 317/318) and sometimes two NUMA
nodes. It starts QEMU with it and asks, in order: ``query-hotpluggable-cpus``,
``query-cpus-fast``, ``qom-get /machine gic-version``, ``qom-get mp-affinity``
of (up to 24) boot CPUs, a ``device_add`` of an ARM CPU type and a
``device_del`` of a boot CPU. The model must answer each exactly as QEMU does:
the refusal to start (text, hint line, warnings before it), the warnings of a
good start, every reply (``thread-id``, the host thread, left out), and the
``device_del`` that QEMU 7.2 answers by aborting (the model refuses with a
message saying so).

``CPUTOPO_QEMU_EXAMPLES`` / 8 is the number of examples per QEMU version (40 by default).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import arch.arm
import topology
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, QemuRun, run_qemu
from topology import TopologyError, VirtualMachine, query_cpus_fast, query_hotpluggable_cpus
from topology.qemu import QemuSimulator, QemuStartError

pytestmark = pytest.mark.qemu

# An eighth of the suite-wide count, like the other new QEMU-backed files.
EXAMPLES = max(4, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)
PREFIX = "qemu-system-aarch64: "
MiB = 1024 * 1024
# QEMU warns about the size of its ACPI tables at a few hundred CPUs; the model
# does not predict firmware table sizes.
_IGNORED = ("ACPI table size", "Try removing CPUs, NUMA nodes")
_MAX_AFFINITY_READS = 24


@dataclasses.dataclass(frozen=True)
class ArmCase:
    """One virt command line and the hot-plug requests sent to it."""

    machine: str
    options: tuple[tuple[str, str], ...]
    cpu: str | None
    smp: str
    numa: bool
    driver: str
    unplug: bool

    def qemu_args(self) -> list[str]:
        args = ["-machine", ",".join([self.machine, *(f"{k}={v}" for k, v in self.options)])]
        if self.cpu is not None:
            args += ["-cpu", self.cpu]
        args += ["-smp", self.smp]
        if self.numa:
            args += ["-m", "256M"]
            for node in (0, 1):
                args += ["-object", f"memory-backend-ram,id=m{node},size=128M"]
            args += ["-numa", "node,memdev=m0", "-numa", "node,memdev=m1"]
        return args

    def machine_model(self, version: str) -> topology.Machine:
        settings_ = dict(self.options)
        if self.cpu is not None:
            settings_["cpu"] = self.cpu
        return topology.machine(
            "aarch64",
            self.machine,
            qemu_version=version,
            **{k.replace("-", "_"): v for k, v in settings_.items()},
        )


_SMALL_SMP = st.builds(
    lambda sockets, clusters, cores, threads, absent: (
        f"{max(1, sockets * clusters * cores * threads - absent)},sockets={sockets},"
        f"clusters={clusters},cores={cores},threads={threads},"
        f"maxcpus={sockets * clusters * cores * threads}"
    ),
    st.integers(1, 2),
    st.integers(1, 2),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 2),
)
_LIMIT_SMP = st.builds(
    lambda count, hot: f"1,maxcpus={count}" if hot else str(count),
    st.sampled_from([8, 9, 16, 61, 62, 123, 124]),
    st.booleans(),
)
_GIC_V4_SMP = st.sampled_from(["317", "318", "1,maxcpus=318"])


@st.composite
def arm_cases(draw: st.DrawFn) -> ArmCase:
    machine = draw(st.sampled_from(["virt", "virt-2.6", "virt-2.7", "virt-6.1", "virt-7.2"]))
    options: list[tuple[str, str]] = []
    gic = draw(st.sampled_from([None, None, None, "2", "3", "3", "4", "4", "max", "host", "foo"]))
    if gic is not None:
        options.append(("gic-version", gic))
    for name, value in (("virtualization", "on"), ("highmem", "off"), ("highmem-redists", "off")):
        if draw(st.integers(0, 3 if name != "highmem-redists" else 6)) == 0:
            options.append((name, value))
    cpu = draw(
        st.sampled_from([None, None, None, "cortex-a57", "max", "neoverse-v1", "cortex-m3", "foo"])
    )
    if gic == "4" and draw(st.booleans()):
        smp = draw(_GIC_V4_SMP)
    else:
        smp = draw(st.one_of(_SMALL_SMP, _SMALL_SMP, _LIMIT_SMP))
    driver = draw(
        st.sampled_from(
            ["", "max-arm-cpu", "cortex-m3-arm-cpu", "foo-arm-cpu", "qemu64-x86_64-cpu"]
        )
    )
    return ArmCase(
        machine=machine,
        options=tuple(options),
        cpu=cpu,
        smp=smp,
        numa=draw(st.integers(0, 3)) == 0,
        driver=driver,
        unplug=draw(st.booleans()),
    )


def _error(error: TopologyError) -> dict[str, object]:
    kind = "DeviceNotFound" if isinstance(error, topology.DeviceNotFound) else "GenericError"
    return {"error": {"class": kind, "desc": str(error)}}


def _stderr_lines(warnings: tuple[Any, ...], error: TopologyError | None) -> list[str]:
    lines = []
    for item in (*warnings, *([error] if error is not None else [])):
        lines.append(PREFIX + str(item))
        if item.hint is not None:
            lines += item.hint.splitlines()
    return lines


def _qemu_lines(run: QemuRun) -> list[str]:
    lines = []
    for line in run.stderr_lines:
        if line == "**" or line.startswith("ERROR:") or line.startswith("Bail out!"):
            break  # an abort's report: compared separately
        if not any(part in line for part in _IGNORED):
            lines.append(line)
    return lines


def _present_paths(vm: VirtualMachine) -> list[str]:
    paths = [entry["qom-path"] for entry in query_cpus_fast(vm)]
    if len(paths) > _MAX_AFFINITY_READS:
        paths = paths[: _MAX_AFFINITY_READS - 4] + paths[-4:]
    return paths


def _without_thread_id(cpus: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in cpu.items() if k != "thread-id"} for cpu in cpus]


def compare(case: ArmCase, version: str) -> None:
    """Run ``case`` on QEMU ``version`` and on the model; assert they answer alike."""
    require_qemu("aarch64", version)
    context = f"QEMU {version}: qemu-system-aarch64 {' '.join(case.qemu_args())}"
    try:
        machine = case.machine_model(version)
    except TopologyError:
        # topology.machine refuses a property the type does not have at once;
        # QEMU meets it among the -machine properties (smp one of them) in QDict
        # order, which the stand-in follows for a whole command line (so for a
        # machine type the release no longer has).
        run = run_qemu("aarch64", case.qemu_args(), [], version=version)
        argv = ["qemu-system-aarch64", *case.qemu_args()]
        with pytest.raises(QemuStartError) as refused:
            QemuSimulator(argv, version=version)
        assert (run.exit_code, list(run.stderr_lines)) == (
            refused.value.exit_code,
            refused.value.stderr.splitlines(),
        ), context
        return
    try:
        vm = VirtualMachine.start(
            machine,
            case.smp,
            numa=["node,memdev=m0", "node,memdev=m1"] if case.numa else (),
            memory="256M" if case.numa else None,
            memory_backends={"m0": 128 * MiB, "m1": 128 * MiB} if case.numa else None,
        )
    except TopologyError as refusal:
        run = run_qemu("aarch64", case.qemu_args(), [], version=version)
        assert run.exit_code == 1, (context, run.exit_code, run.stderr_lines)
        assert _qemu_lines(run) == _stderr_lines(refusal.warnings, refusal), context
        return
    # What the model answers, in the order the commands are sent.
    paths = _present_paths(vm)
    expected: list[dict[str, object]] = []
    try:
        expected.append({"return": query_hotpluggable_cpus(vm)})
    except TopologyError as error:
        expected.append(_error(error))
    expected.append({"return": _without_thread_id(query_cpus_fast(vm))})
    gic = arch.arm.gic_version(vm.machine.options, vm.topology.max_cpus, vm.machine.qemu_version)
    expected.append({"return": str(gic)})
    by_path = {vm.state(slot.index).qom_path: slot for slot in vm.present()}  # type: ignore[union-attr]
    expected += [{"return": by_path[path].arch_id} for path in paths]
    commands: list[tuple[str, dict[str, object] | None]] = [
        ("query-hotpluggable-cpus", None),
        ("query-cpus-fast", None),
        ("qom-get", {"path": "/machine", "property": "gic-version"}),
    ]
    commands += [("qom-get", {"path": path, "property": "mp-affinity"}) for path in paths]
    driver = case.driver or vm.slots[0].type
    props = {"socket-id": 0, "cluster-id": 0, "core-id": 0, "thread-id": 0}
    commands.append(("device_add", {"driver": driver, "id": "hp0", **props}))
    try:
        vm.plug(driver, props, id="hp0")
        expected.append({"return": {}})
    except TopologyError as error:
        expected.append(_error(error))
    unplug_refusal: TopologyError | None = None
    if case.unplug:
        commands.append(("device_del", {"id": paths[-1]}))
        try:
            vm.request_unplug(paths[-1])
            expected.append({"return": {}})
        except TopologyError as error:
            unplug_refusal = error
            expected.append(_error(error))
    run = run_qemu("aarch64", case.qemu_args(), commands, version=version)
    assert run.greeted, (context, run.stderr_lines)
    replies = list(run.replies)
    if replies and isinstance(replies[1].get("return"), list):
        replies[1] = {"return": _without_thread_id(replies[1]["return"])}
    assert _qemu_lines(run) == _stderr_lines(vm.warnings, None), context
    if unplug_refusal is not None and run.exit_code == -6:
        # QEMU 7.2 aborts on device_del of an ARM CPU; the model aborts alike.
        assert isinstance(unplug_refusal, topology.QemuAbortError), context
        assert list(run.stderr_lines[-2:]) == list(unplug_refusal.stderr_lines), context
        assert replies == expected[:-1], context
        return
    assert run.exit_code == 0, (context, run.stderr_lines)
    assert replies == expected, context


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=arm_cases())
def test_generated_virt_cases_match_qemu(version: str, case: ArmCase) -> None:
    compare(case, version)


# Hand-picked cases, each observed on QEMU 7.2.22 and 10.0.13 (tests/support/qemu_runner.py
# shows how QEMU is started); the model must match both versions on each.
@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(
    "case",
    [
        # 7.2: the redistributor check of the GIC device (boot CPUs only); 10.0: the
        # board's limit on maxcpus, with the hint.
        ArmCase("virt", (("gic-version", "3"), ("highmem", "off")), None, "124", False, "", False),
        ArmCase(
            "virt",
            (("gic-version", "3"), ("highmem", "off")),
            None,
            "1,maxcpus=124",
            False,
            "",
            True,
        ),
        # GICv4: 61 low + 256 high redistributors.
        ArmCase(
            "virt", (("gic-version", "4"), ("virtualization", "on")), None, "318", False, "", False
        ),
        # MPIDR groups of 8 on virt-2.6 even with GICv3.
        ArmCase("virt-2.6", (("gic-version", "3"),), None, "20", False, "", True),
        # 10.0 picks GICv3 above 8 CPUs by itself.
        ArmCase("virt", (), "cortex-a57", "4,maxcpus=20", True, "", True),
        ArmCase("virt", (), "neoverse-v1", "2", False, "max-arm-cpu", False),
        ArmCase("virt", (("highmem-redists", "off"),), None, "2", False, "foo-arm-cpu", False),
    ],
    ids=str,
)
def test_known_virt_cases_match_qemu(version: str, case: ArmCase) -> None:
    compare(case, version)
