"""Differential tests: what ``topology.machine(...)`` and the model refuse in ``-machine``,
``-cpu`` and ``-accel``, against real QEMU 7.2, 10.0 and 11.1.

Each case starts real QEMU (TCG, paused) and builds the same machine with
``topology.machine(arch, name, **options)``, then resolves ``-smp``: QEMU's
refusal (its last stderr line, exit status 1) must be the model's error, and a
start QEMU accepts must be accepted. The stand-in, which reports the same
errors in QEMU's order among the other options, is compared with the same
command lines too.
"""

from __future__ import annotations

import pytest

import topology
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, run_qemu
from topology.qemu import QemuSimulator, QemuStartError

pytestmark = pytest.mark.qemu

# (target, -machine value, -machine properties, -cpu or None)
CASES = [
    ("x86_64", "q35", {"nosuchprop": "1"}, None),
    ("x86_64", "pc", {"foo_bar": "1"}, None),
    ("ppc64", "pseries", {"vfio-no-msix-emulation": "on"}, None),
    ("x86_64", "q35", {}, "Nosuch"),
    ("x86_64", "q35", {}, "Nosuch,+x2apic"),
    ("ppc64", "pseries", {}, "Nosuch"),
    ("s390x", "s390-ccw-virtio", {}, "Nosuch"),
    ("aarch64", "virt", {}, "Nosuch"),
    ("ppc64", "pseries", {}, "host"),
    ("s390x", "s390-ccw-virtio", {}, "host"),
    ("aarch64", "virt", {}, "host"),
    ("x86_64", "q35", {}, "host"),
    ("x86_64", "pc", {}, "host"),
    ("x86_64", "microvm", {}, "host"),
    ("x86_64", "q35", {}, "max"),
]


def _args(name: str, properties: dict[str, str], cpu: str | None) -> list[str]:
    value = ",".join([name, *(f"{k}={v}" for k, v in properties.items())])
    return ["-machine", value, *(["-cpu", cpu] if cpu else []), "-smp", "2"]


def _model_error(
    arch: str, name: str, properties: dict[str, str], cpu: str | None, version: str
) -> str | None:
    options = dict(properties, **({"cpu": cpu} if cpu else {}))
    try:
        topology.machine(arch, name, qemu_version=version, **options).resolve("2")
    except topology.TopologyError as error:
        return error.message
    return None


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize(("arch", "name", "properties", "cpu"), CASES)
def test_refusals_are_qemus(
    arch: str, name: str, properties: dict[str, str], cpu: str | None, version: str
) -> None:
    require_qemu(arch, version)
    args = _args(name, properties, cpu)
    run = run_qemu(arch, args, version=version)
    ours = _model_error(arch, name, properties, cpu, version)
    if ours is None:
        assert run.exit_code == 0, run.stderr_lines
    else:
        assert run.exit_code == 1
        assert run.stderr_lines[-1] == f"qemu-system-{arch}: {ours}"
    try:
        QemuSimulator([f"qemu-system-{arch}", *args], version=version)
        stand_in: tuple[int, list[str]] = (0, [])
    except QemuStartError as refused:
        stand_in = (refused.exit_code, refused.stderr.splitlines()[-1:])
    qemu = (run.exit_code, list(run.stderr_lines[-1:]) if run.exit_code else [])
    assert stand_in == qemu
