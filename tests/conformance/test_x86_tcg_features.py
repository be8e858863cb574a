"""x86 TCG CPUID feature warnings against real QEMU 7.2 and 10.0.

Generated command lines draw a CPU model or alias of the release, features
turned on and off on any PC machine type (``feature=on|off`` and ``+feature``/``-feature``, each
feature once), ``-smp`` (with two threads per core at times, for the AMD
warning's place), a ``-device`` CPU and ``device_add`` of a free slot and of
an occupied one; the stand-in's stderr after the commands must equal QEMU's,
line for line, as must the replies. ``CPUTOPO_QEMU_EXAMPLES`` // 8 examples
per release.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from arch.x86._tcg_features import _data
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, QEMU_VERSIONS, run_qemu
from topology._resolve.catalogue import cpu_models
from topology.qemu import QemuSimulator

pytestmark = pytest.mark.qemu

EXAMPLES = max(1, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)


def _feature_names(version: str, model: str) -> list[str]:
    """One name per feature (QEMU warns about aliases mixed); vmx, arch-lbr, intel-pt left out.

    ``vmx=on`` on a model that lists VMX capabilities adds a line per
    capability TCG lacks, ``arch-lbr=on`` on a model with XSAVE its XSS
    component (``CPUID.0DH:ECX [bit 15]``), and ``intel-pt=on`` where the CPUID
    level stays below 0x14 (old PC types that do not raise it) says "Intel PT
    need CPUID leaf 0x14, ..." instead: none of these is modelled.
    """
    data = _data(version)
    on: dict[str, str] = data["features"]  # type: ignore[assignment]
    models: dict[str, list[str]] = data["models"]  # type: ignore[assignment]
    own = [line.split(" [bit ", 1)[0].rsplit(".", 1)[-1] for line in models.get(model, [])]
    by_line = {line: name for name, line in sorted(on.items()) if "_" not in name}
    names = {*by_line.values(), *(name for name in own if name and name not in on)}
    return sorted(names - {"vmx", "arch-lbr", "intel-pt"})


@st.composite
def cases(draw: st.DrawFn, version: str) -> tuple[list[str], list[tuple[str, Any]]]:
    models = cpu_models("x86_64", version)
    assert models is not None
    model = draw(st.sampled_from(sorted(name for name in models if name != "host")))
    names = draw(st.lists(st.sampled_from(_feature_names(version, model)), max_size=4, unique=True))
    features = [
        draw(st.sampled_from([f"{name}=on", f"{name}=off", f"+{name}", f"-{name}"]))
        for name in names
    ]
    pc_types = [m.name for m in topology.machine_types("x86_64", qemu_version=version)]
    machine = draw(st.sampled_from(["q35", "pc", *(n for n in pc_types if n.startswith("pc-"))]))
    threads = draw(st.sampled_from([1, 2]))
    cpus = draw(st.integers(1, 2)) * threads
    smp = f"{cpus},threads={threads},maxcpus={cpus + 2 * threads}"
    args = ["-machine", machine, "-cpu", ",".join([model, *features]), "-smp", smp]
    sim = QemuSimulator(["qemu-system-x86_64", *BASE_ARGS, *args], version=version)
    slots: list[dict[str, Any]] = sim.qmp("query-hotpluggable-cpus")["return"]
    free = [{"driver": slot["type"], **slot["props"]} for slot in slots if "qom-path" not in slot]
    used = [{"driver": slot["type"], **slot["props"]} for slot in slots if "qom-path" in slot]
    if draw(st.booleans()):
        props = free.pop()
        args += [
            "-device",
            ",".join([props["driver"], *(f"{k}={v}" for k, v in props.items() if k != "driver")]),
        ]
    commands: list[tuple[str, Any]] = []
    for index, props in enumerate(draw(st.lists(st.sampled_from(free + used), max_size=2))):
        commands.append(("device_add", {**props, "id": f"cpu{index}"}))
    return args, commands


def _check(version: str, args: list[str], commands: list[tuple[str, Any]]) -> None:
    sim = QemuSimulator(["qemu-system-x86_64", *BASE_ARGS, *args], version=version)
    replies = [sim.qmp(name, arguments) for name, arguments in commands]
    run = run_qemu("x86_64", args, commands, version=version)
    context = f"{' '.join(args)} {commands}"
    assert [("error" in reply) for reply in run.replies] == [
        ("error" in reply) for reply in replies
    ], context
    assert list(run.stderr_lines) == list(sim.stderr_lines), context


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_tcg_feature_warnings_match_qemu(version: str) -> None:
    require_qemu("x86_64", version)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def test(data: st.DataObject) -> None:
        args, commands = data.draw(cases(version), label="case")
        _check(version, args, commands)

    test()
