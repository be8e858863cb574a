"""x86 ``-cpu`` features as QEMU reads and applies them, against real QEMU 7.2, 10.0 and 11.1.

Generated ``-cpu`` strings mix real feature names (of every kind the CPU type
has), misspelt ones, values a boolean does not take, ``+name`` and ``-name``
(alone and mixed with ``name=value``, which QEMU warns about), ``tsc-freq``
sizes and ``enforce``; the stand-in must start or refuse as QEMU does, with the
same stderr and exit status. A string cputopo says it cannot judge
(UnsupportedOptionError) is left out of the comparison and counted: at most a
quarter of the examples may be (integer properties QEMU checks as it realizes
the vCPU are not judged). Where a feature turned on has warnings cputopo does
not model (``unmodelled_features``: it depends on another, or turns on more
feature words), only the exit status is compared. ``CPUTOPO_QEMU_EXAMPLES`` // 8
examples per release.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arch.x86._cpu_option import cpu_properties
from arch.x86._tcg_features import unmodelled_features
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, QEMU_VERSIONS, run_qemu
from topology import qemu_version
from topology.plugin import UnsupportedOptionError, cpu_device_properties
from topology.qemu import QemuSimulator, QemuStartError

pytestmark = pytest.mark.qemu

EXAMPLES = max(10, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)

MODELS = ["qemu64", "host", "Skylake-Client", "EPYC", "486", "max"]
VALUES = ["on", "off", "yes", "n", "maybe", "", "1", "12", "-1", "0x10", "GenuineIntel"]
SIZES = ["1G", "2.5G", "1000", "1k", "abc", "1X", ""]


def _names(version: str) -> list[str]:
    listed = cpu_device_properties("x86_64", qemu_version(version))
    assert listed is not None
    return sorted(cpu_properties("max", listed, qemu_version(version)))


@st.composite
def cpu_options(draw: st.DrawFn, version: str) -> str:
    names = _names(version)
    name = st.one_of(
        st.sampled_from(names),
        st.sampled_from(["foo", "x2apic_", "sse4_1", "hv_relaxed", "check", "enforce"]),
    )
    items: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["set", "bare", "plus", "minus", "tsc"]))
        if kind == "set":
            items.append(f"{draw(name)}={draw(st.sampled_from(VALUES))}")
        elif kind == "bare":
            items.append(draw(name))
        elif kind == "tsc":
            items.append(f"tsc-freq={draw(st.sampled_from(SIZES))}")
        else:
            items.append(("+" if kind == "plus" else "-") + draw(name))
    return ",".join([draw(st.sampled_from(MODELS)), *items])


@pytest.mark.parametrize("version", QEMU_VERSIONS)
def test_cpu_features_start_as_in_qemu(version: str) -> None:
    require_qemu("x86_64", version)
    unjudged: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def test(data: st.DataObject) -> None:
        cpu = data.draw(cpu_options(version), label="cpu")
        args = ["-machine", "q35", "-smp", "2", "-cpu", cpu]
        try:
            sim = QemuSimulator(["qemu-system-x86_64", *BASE_ARGS, *args], version=version)
            ours = (0, list(sim.stderr_lines))
        except UnsupportedOptionError:
            unjudged.append(cpu)
            return
        except QemuStartError as refused:
            ours = (refused.exit_code, refused.stderr.splitlines())
        run = run_qemu("x86_64", args, version=version)
        if unmodelled_features(cpu.split(",")[1:], qemu_version(version)):
            assert ours[0] == run.exit_code, (cpu, run.stderr_lines)
        else:
            assert ours == (run.exit_code, list(run.stderr_lines)), cpu

    test()
    assert len(unjudged) <= EXAMPLES // 4, unjudged
