"""What an ARM virt guest knows each CPU by: its MPIDR affinity, and the L2CTLR core count.

MPIDR affinity is the slot's arch id (``virt_cpu_mp_affinity``); ``core-count``
(the L2CTLR register of cortex-a15/a57/a72 and max) is ``-smp`` cpus, not
maxcpus (observed on QEMU 7.2 and 10.0, notes §10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology.plugin import VmView

__all__ = ["cpu_identity"]

_WITH_CORE_COUNT: Final = ("cortex-a15", "cortex-a57", "cortex-a72", "max")


def cpu_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    slot = vm.slots[slot_index]
    identity: dict[str, object] = {"mpidr": slot.arch_id}
    if vm.machine.type.cpu_model(vm.machine.options)[0] in _WITH_CORE_COUNT:
        identity["core-count"] = vm.topology.cpus
    return identity
