"""Differential tests: QEMU's look-up of a ``device_add`` driver, stand-in process vs QEMU.

Before any board check, QEMU finds the driver among all its types: an unknown
name or a type that is no device is "not a valid device model name", an
abstract device type (``cpu``, ``device``, ``x86_64-cpu``, ``spapr-cpu-core``)
"expects a non-abstract device type", a device users may not create (a
pseries core's thread type, ARM CPUs when hot-plugged) "expects a pluggable
device type". Each case sends the same ``device_add`` commands, and starts
the same ``-device`` option, on real QEMU 7.2, 10.0 and 11.1 and on the
stand-in process, on each target's usual board and on ``-machine none``, and
compares replies, exit status and stderr. Devices that are no CPU are not
modelled: the stand-in answers ``CputopoNotModelled``.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, Command, QemuJob, run_many
from topology.qemu import NOT_MODELLED

pytestmark = pytest.mark.qemu

#: Per target: its usual board, and drivers QEMU refuses by type alone
#: (abstract types, names it lacks, types that are no device, thread types).
_CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "x86_64": ("pc", ("cpu", "device", "x86_64-cpu", "foo-x86_64-cpu", "memory-backend-ram")),
    "ppc64": (
        "pseries",
        (
            "cpu",
            "spapr-cpu-core",
            "powerpc64-cpu",
            "foo-spapr-cpu-core",
            "power9_v2.0-powerpc64-cpu",
        ),
    ),
    "s390x": ("s390-ccw-virtio", ("cpu", "s390x-cpu", "foo-s390x-cpu", "memory-backend-ram")),
    "aarch64": ("virt", ("cpu", "arm-cpu", "foo-arm-cpu", "device", "cortex-a57-arm-cpu")),
}

#: Devices that are no CPU, per target: QEMU's answers depend on buses and
#: boards the stand-in does not model.
_NOT_CPUS = {
    "x86_64": "pc-dimm",
    "ppc64": "spapr-vty",
    "s390x": "virtio-rng-ccw",
    "aarch64": "pl011",
}


def _standin(target: str, version: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "topology", f"qemu-system-{target}", "--qemu-version", version)


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("target", sorted(_CASES))
@pytest.mark.parametrize("empty", [False, True], ids=["board", "none"])
def test_device_add_driver_lookup_like_qemu(target: str, version: str, empty: bool) -> None:
    require_qemu(target, version)
    board, drivers = _CASES[target]
    args = ["-machine", "none" if empty else board]
    commands: list[Command] = [("device_add", {"driver": driver, "id": "x"}) for driver in drivers]
    real, ours = run_many(
        [
            QemuJob(target, args, commands, version=version),
            QemuJob(target, args, commands, version=version, program=_standin(target, version)),
        ]
    )
    assert real.exit_code == ours.exit_code == 0, (real.stderr_lines, ours.stderr_lines)
    for driver, expected, got in zip(drivers, real.replies, ours.replies, strict=True):
        assert got == expected, driver


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("target", sorted(_CASES))
def test_device_option_driver_lookup_like_qemu(target: str, version: str) -> None:
    # The abstract CPU type as a -device option: refused when QEMU creates it.
    require_qemu(target, version)
    board, drivers = _CASES[target]
    args = ["-machine", board, "-device", f"{drivers[1]},id=x"]
    real, ours = run_many(
        [
            QemuJob(target, args, [], version=version),
            QemuJob(target, args, [], version=version, program=_standin(target, version)),
        ]
    )
    assert (ours.exit_code, ours.stderr_lines) == (real.exit_code, real.stderr_lines)
    assert real.exit_code == 1


@pytest.mark.parametrize("target", sorted(_CASES))
def test_a_device_that_is_no_cpu_is_not_modelled(target: str) -> None:
    # Run on the stand-in only: the point is that it does not answer in QEMU's name.
    board, _drivers = _CASES[target]
    version = QEMU_VERSIONS[-1]
    command: Command = ("device_add", {"driver": _NOT_CPUS[target], "id": "x"})
    (ours,) = run_many(
        [QemuJob(target, ["-machine", board], [command], program=_standin(target, version))]
    )
    message = f"cputopo: device {_NOT_CPUS[target]}: the stand-in models CPU devices only"
    assert ours.replies == ({"error": {"class": NOT_MODELLED, "desc": message}},)
