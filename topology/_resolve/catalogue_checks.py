"""The stand-in's questions to the captured catalogue of QEMU names (:mod:`._catalogue`).

Each answers True when nothing was captured for a target (a third-party
plugin's), so that an unknown case is let through rather than refused with
a made-up error.
"""

from __future__ import annotations

from typing import Final

from topology._resolve import catalogue as _catalogue
from topology._versions import QemuVersion

__all__ = [
    "has_machine_property",
    "is_accelerator",
    "is_cpu_model",
    "is_read_only_machine_property",
]

#: Accelerator options ``-machine`` still takes for old command lines (moved to
#: the accelerator, so they are not machine properties).
_LEGACY_ACCEL_OPTIONS: Final = frozenset({"kernel-irqchip", "kvm-shadow-mem"})


def has_machine_property(target: str, machine_name: str, name: str, version: QemuVersion) -> bool:
    """Whether machine type ``machine_name`` has the ``-machine`` property ``name``."""
    if name in _LEGACY_ACCEL_OPTIONS:
        return True
    known = _catalogue.machine_properties(target, machine_name, str(version))
    return known is None or name in known


def is_read_only_machine_property(
    target: str, machine_name: str, name: str, version: QemuVersion
) -> bool:
    """Whether ``-machine machine_name,name=...`` finds ``name`` but cannot set it."""
    read_only = _catalogue.machine_read_only_properties(target, machine_name, str(version))
    return read_only is not None and name in read_only


def is_accelerator(target: str, name: str, version: QemuVersion) -> bool:
    """Whether ``-accel name`` names an accelerator of that QEMU binary.

    KVM always counts: the stand-in answers as QEMU on a host of the target's
    own architecture, where KVM is built in (the captured lists come from an
    x86 host, whose qemu-system-s390x has no KVM).
    """
    known = _catalogue.accelerators(target, str(version))
    if name == "kvm" or known is None:
        return name in ("tcg", "kvm")
    return name in known


def is_cpu_model(target: str, model: str, version: QemuVersion, accel: str) -> bool:
    """Whether ``-cpu model`` names a CPU model (or alias) of that QEMU binary.

    ``host`` exists wherever KVM does (see :func:`is_accelerator`).
    """
    if model == "host" and accel == "kvm":
        return True
    if _catalogue.cpu_models(target, str(version)) is None:
        return True
    return _catalogue.resolve_cpu_model(target, str(version), model) is not None
