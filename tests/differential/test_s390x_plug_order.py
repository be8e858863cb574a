"""Differential tests: which error QEMU gives first for an s390x ``device_add`` wrong in
several ways, and which CPU models TCG refuses, stand-in vs QEMU 7.2, 10.0, 11.1.

A hot-plugged CPU of another model than the boot CPUs is refused (``Mixed CPU
models are not supported on s390x.``), but not first: QEMU looks the driver
up (``host`` needs KVM), registers the id, sets the properties, and when it
realizes the CPU refuses a model with features TCG lacks (``Some features
requested in the CPU model are not available in the [current] configuration:
...``) before a mixed model, which it refuses before a core-id out of range or
taken. The same features refusal stops a start with ``-cpu <model>``; which
features a model has depends on the machine type (4.0 and newer, 3.0-3.1,
2.10-2.12, older; on the oldest some models warn first).
Every reply and every refusal must be QEMU's.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, run_qemu
from topology.qemu import QemuSimulator, QemuStartError

pytestmark = pytest.mark.qemu

#: device_add arguments, each wrong in one or several ways.
PLUGS: list[dict[str, Any]] = [
    {"driver": "z14-s390x-cpu", "core-id": 1},
    {"driver": "z14-s390x-cpu", "core-id": 9},
    {"driver": "z14-s390x-cpu", "core-id": 0},
    {"driver": "z14-s390x-cpu", "core-id": 1, "foo": 1},
    {"driver": "z14-s390x-cpu", "core-id": 1, "id": "cold"},
    {"driver": "z13-base-s390x-cpu", "core-id": 1},
    {"driver": "z900-s390x-cpu", "core-id": 1},
    {"driver": "z900-s390x-cpu", "core-id": 9},
    {"driver": "z900-s390x-cpu", "core-id": 0},
    {"driver": "z900-s390x-cpu", "core-id": "x"},
    {"driver": "z900-s390x-cpu", "core-id": 1, "foo": 1},
    {"driver": "z900-s390x-cpu", "core-id": 1, "id": "cold"},
    {"driver": "z900-s390x-cpu", "core-id": 1, "id": "1bad"},
    {"driver": "host-s390x-cpu", "core-id": 1},
    {"driver": "nosuch-s390x-cpu", "core-id": 1},
    {"driver": "max-s390x-cpu", "core-id": 9},
    {"driver": "max-s390x-cpu", "core-id": 1},
    {"driver": "qemu-s390x-cpu", "core-id": 1},
]


def _machines(version: str) -> list[list[str]]:
    """The newest type (qemu and max are one model), an older one (they are not),
    and a z900 machine (every other model is mixed)."""
    older = "s390-ccw-virtio-6.2" if version == "11.1" else "s390-ccw-virtio-7.1"
    cold = ["-smp", "1,maxcpus=3", "-device", "qemu-s390x-cpu,core-id=2,id=cold"]
    return [
        ["-machine", "s390-ccw-virtio", *cold],
        ["-machine", older, *cold],
        ["-machine", "s390-ccw-virtio", "-cpu", "z900", "-smp", "1,maxcpus=3"],
    ]


def _cases() -> list[Any]:
    return [
        pytest.param(version, args, id=f"{version}-{' '.join(args[1:4])}")
        for version in QEMU_VERSIONS
        for args in _machines(version)
    ]


@pytest.mark.parametrize(("version", "args"), _cases())
def test_the_first_error_of_a_bad_plug_is_qemus(version: str, args: list[str]) -> None:
    require_qemu("s390x", version)
    commands = [("device_add", plug) for plug in PLUGS]
    run = run_qemu("s390x", args, commands, version=version)
    sim = QemuSimulator(["qemu-system-s390x", *args], version=version)
    sim.qmp("qmp_capabilities")
    for (command, arguments), reply in zip(commands, run.replies, strict=True):
        assert sim.qmp(command, arguments) == reply, (version, args, arguments)


#: (release, machine types of each features group, models): the groups of
#: tools/capture_s390x_tcg_refusals.py, and models on both sides of TCG's line.
START_MODELS = ["z14", "z13-base", "z196.2", "z890-base", "z900", "z800-base", "qemu", "max"]


def _start_cases() -> list[Any]:
    groups = {
        "7.2": [
            "s390-ccw-virtio",
            "s390-ccw-virtio-3.1",
            "s390-ccw-virtio-2.11",
            "s390-ccw-virtio-2.4",
        ],
        "10.0": [
            "s390-ccw-virtio",
            "s390-ccw-virtio-3.0",
            "s390-ccw-virtio-2.12",
            "s390-ccw-virtio-2.9",
        ],
        "11.1": ["s390-ccw-virtio", "s390-ccw-virtio-5.2"],
    }
    return [
        pytest.param(version, machine_type, model, id=f"{version}-{machine_type}-{model}")
        for version, machine_types in groups.items()
        for machine_type in machine_types
        for model in START_MODELS
    ]


@pytest.mark.parametrize(("version", "machine_type", "model"), _start_cases())
def test_models_tcg_refuses_at_start(version: str, machine_type: str, model: str) -> None:
    require_qemu("s390x", version)
    args = ["-machine", machine_type, "-cpu", model, "-smp", "1"]
    run = run_qemu("s390x", args, version=version)
    try:
        sim = QemuSimulator(["qemu-system-s390x", *args], version=version)
        ours = (0, sim.stderr.splitlines())
    except QemuStartError as refused:
        ours = (refused.exit_code, refused.stderr.splitlines())
    assert ours == (run.exit_code, list(run.stderr_lines))
