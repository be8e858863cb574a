"""The refusals QEMU gives while it reads ``-machine`` and ``-cpu`` for the virt board.

They come after ``-smp`` is parsed and before any ``-numa`` check (observed on
QEMU 7.2 and 10.0: ``gic-version=foo`` or ``-cpu foo`` with a bad ``-numa``
reports the option, ``-cpu cortex-m3`` or ``gic-version=host`` reports NUMA).
"""

from __future__ import annotations

from collections.abc import Mapping

from arch.arm._cpus import check_cpu_model, cpu_models
from arch.arm._gic import check_gic_properties
from topology import MachineType, QemuVersion

__all__ = ["check_properties"]


def check_properties(
    machine_type: MachineType, options: Mapping[str, str], version: QemuVersion
) -> None:
    """``gic-version`` values, properties this QEMU lacks, and unknown CPU models."""
    check_gic_properties(options, machine_type.name, version)
    model = machine_type.cpu_model(options)[0]
    kvm_host = model == "host" and options.get("accel", "tcg") == "kvm"
    if model not in cpu_models(version) and not kvm_host:
        check_cpu_model(model, options, version)  # unable to find CPU model
