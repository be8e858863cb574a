"""The LoongArch ``virt`` (``qemu-system-loongarch64``) plugin.

Written only against cputopo's public plugin interface (:mod:`topology.plugin`
and the :mod:`topology` facade) and registered only through the
``topology.arch`` entry point, as a plugin from another package would be: the
worked example of ``docs/how-to/write-a-plugin.md``.

QEMU's loongarch64 ``virt`` board has CPU hot-plug from QEMU 10.0: one slot
per thread, addressed by ``socket-id``, ``core-id`` and ``thread-id``. Each
slot's ``arch_id`` is the CPU's physical id, the ids packed into power-of-two
fields (:func:`arch_id`); QEMU 7.2's board has neither hot-plug nor NUMA, and
QEMU 8.0 to 9.2 are not modelled (:func:`virt_release` refuses them).
``docs/explanation/loongarch.md`` has the rules and where each came from.

>>> import topology
>>> m = topology.machine("loongarch64", "virt", qemu_version="11.1")
>>> m.name
'virt-11.1'
>>> vm = topology.VirtualMachine.start(m, "2,sockets=2,cores=3,maxcpus=6")
>>> vm.plug("la464-loongarch-cpu", {"socket-id": 1, "core-id": 2}, id="cpu5").arch_id
6
>>> vm.plug("la464-loongarch-cpu", {"socket-id": 1, "core-id": 2})
Traceback (most recent call last):
...
topology.BoardError: cpu(id-1=1:2:0) with arch-id 6 exists
"""

from __future__ import annotations

from arch.loongarch._cpus import CPU_TYPE_SUFFIX, cpu_type
from arch.loongarch._plugin import PLUGIN, LoongArchPlugin
from arch.loongarch._releases import VirtRelease, modelled, virt_release
from arch.loongarch._slots import MAX_CPU_IDS, arch_id, rounded_up

__all__ = [
    "CPU_TYPE_SUFFIX",
    "MAX_CPU_IDS",
    "PLUGIN",
    "LoongArchPlugin",
    "VirtRelease",
    "arch_id",
    "cpu_type",
    "modelled",
    "rounded_up",
    "virt_release",
]
