"""Names QEMU knows, per binary and version, for the stand-in's checks.

Answers True when nothing was captured for a target or version, so that an
unknown case is let through rather than refused with a made-up error.
"""

from __future__ import annotations

from topology._versions import QemuVersion

__all__ = ["has_machine_property", "is_accelerator", "is_cpu_model"]


def has_machine_property(target: str, machine_name: str, name: str, version: QemuVersion) -> bool:
    """Whether machine type ``machine_name`` has the ``-machine`` property ``name``."""
    try:
        from topology.qemu._catalogue import machine_properties
    except ImportError:
        return True
    known = machine_properties(target, machine_name, str(version))
    return known is None or name in known


def is_accelerator(target: str, name: str, version: QemuVersion) -> bool:
    """Whether ``-accel name`` names an accelerator of that QEMU binary."""
    try:
        from topology.qemu._catalogue import accelerators
    except ImportError:
        return name in ("tcg", "kvm", "qtest", "xen")
    known = accelerators(target, str(version))
    return known is None or name in known


def is_cpu_model(target: str, model: str, version: QemuVersion) -> bool:
    """Whether ``-cpu model`` names a CPU model (or alias) of that QEMU binary."""
    try:
        from topology.qemu._catalogue import cpu_models
    except ImportError:
        return True
    known = cpu_models(target, str(version))
    return known is None or model in known
