"""Possible CPU slots: where a CPU can sit, and what identifies it.

A slot is addressed by its topology position (its properties), never by a
dense counter: QEMU's own ``cpu_index`` derives from the slot, so CPUs that
are plugged and unplugged leave holes that are perfectly normal.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["PROP_NAMES", "CpuSlot", "SlotProps"]

#: CpuInstanceProperties members, in the order QEMU's HMP prints them.
PROP_NAMES: Final = (
    "node-id",
    "drawer-id",
    "book-id",
    "socket-id",
    "die-id",
    "cluster-id",
    "module-id",
    "core-id",
    "thread-id",
)

_PROP_ATTRIBUTES: Final = tuple((name, name.replace("-", "_")) for name in PROP_NAMES)


@attrs.frozen(kw_only=True)
class SlotProps:
    """A slot's topology properties (QEMU's ``CpuInstanceProperties``); None = absent.

    >>> SlotProps(socket_id=1, core_id=0, thread_id=0).as_qmp()
    {'socket-id': 1, 'core-id': 0, 'thread-id': 0}
    """

    node_id: int | None = None
    drawer_id: int | None = None
    book_id: int | None = None
    socket_id: int | None = None
    die_id: int | None = None
    cluster_id: int | None = None
    module_id: int | None = None
    core_id: int | None = None
    thread_id: int | None = None

    def as_qmp(self) -> dict[str, int]:
        """The present properties with QMP's dashed names, in HMP order."""
        return {
            name: value
            for name, attribute in _PROP_ATTRIBUTES
            if (value := getattr(self, attribute)) is not None
        }

    def get(self, name: str) -> int | None:
        """A property by its QMP name (``"socket-id"``)."""
        value: int | None = getattr(self, name.replace("-", "_"))
        return value


@attrs.frozen(kw_only=True)
class CpuSlot:
    """One possible CPU slot of a machine (QEMU's ``CPUArchId``).

    Attributes:
        index: the slot's position in the machine's possible-CPU list.
        type: the QOM type ``device_add`` needs for this slot.
        vcpus_count: how many vCPUs one plug adds here (threads of a pseries core; else 1).
        arch_id: the architecture's id for the slot (APIC ID, core id, CPU address, MPIDR).
        first_cpu_index: ``cpu_index`` of the slot's first vCPU (the others follow).
        props: the slot's topology properties.
        core_device: whether the device plugged here is a CPU core whose vCPUs are
            its children ``thread[N]`` (a pseries core), even with one thread;
            a slot of more than one vCPU always is one.
        vcpu_type: the QOM type of the vCPUs a core device here creates
            (``power10_v2.0-powerpc64-cpu``); None where the device is the vCPU.
    """

    index: int
    type: str
    vcpus_count: int
    arch_id: int
    first_cpu_index: int
    props: SlotProps
    core_device: bool = False
    vcpu_type: str | None = None

    @property
    def cpu_indexes(self) -> range:
        """The ``cpu_index`` of every vCPU this slot holds when filled."""
        return range(self.first_cpu_index, self.first_cpu_index + self.vcpus_count)
