"""The model seen through QEMU's monitor: query-hotpluggable-cpus, query-cpus-fast, HMP."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from topology._errors import TopologyError
from topology._model.slots import CpuSlot
from topology._model.vm import VirtualMachine, with_node

if TYPE_CHECKING:
    from topology._resolve.machine import Machine

__all__ = [
    "hmp_info_hotpluggable_cpus",
    "hotpluggable_cpu_entries",
    "query_cpus_fast",
    "query_hotpluggable_cpus",
]


def query_hotpluggable_cpus(vm: VirtualMachine) -> list[dict[str, Any]]:
    """QEMU's ``query-hotpluggable-cpus`` reply: one entry per slot, the last slot first.

    ``qom-path`` appears only for filled slots.
    """
    state_of = vm.state

    def qom_path_of(index: int) -> str | None:
        state = state_of(index)
        return None if state is None else state.qom_path

    return hotpluggable_cpu_entries(vm.machine, vm.slots, qom_path_of=qom_path_of)


def hotpluggable_cpu_entries(
    machine: Machine,
    slots: Sequence[CpuSlot],
    *,
    qom_path_of: Callable[[int], str | None],
    node_of: Callable[[int], int | None] | None = None,
) -> list[dict[str, Any]]:
    """``query-hotpluggable-cpus`` for ``slots``: ``qom_path_of`` a slot index gives the
    path of its CPU (None: empty); ``node_of`` overrides the slots' node ids (the
    nodes mapped so far, before the machine exists)."""
    if not machine.type.hotpluggable_cpus:
        # The wording changed in QEMU 8.0 (observed on 7.2; notes §5.1 for later).
        message = (
            "machine does not support hot-plugging CPUs"
            if machine.qemu_version.at_least("8.0")
            else "The feature 'query-hotpluggable-cpus' is not enabled"
        )
        raise TopologyError(message, what="query-hotpluggable-cpus")
    entries = []
    for slot in reversed(slots):
        if node_of is not None and (node := node_of(slot.index)) is not None:
            slot = with_node(slot, node)
        entry: dict[str, Any] = {
            "props": slot.props.as_qmp(),
            "vcpus-count": slot.vcpus_count,
            "type": slot.type,
        }
        path = qom_path_of(slot.index)
        if path is not None:
            entry["qom-path"] = path
        entries.append(entry)
    return entries


def query_cpus_fast(vm: VirtualMachine) -> list[dict[str, Any]]:
    """QEMU's ``query-cpus-fast`` reply: every vCPU in creation order.

    ``thread-id`` is the host thread of the vCPU in QEMU; the model has none
    and reports the ``cpu-index`` there instead.  From QEMU 10.1 each entry
    also names the vCPU's QOM type (``qom-type``). ``props`` is left out for a
    slot without any, as QEMU leaves it out on boards that give CPUs none.
    """
    target = vm.machine.arch.targets[0]
    with_type = vm.machine.qemu_version.at_least("10.1")
    filled = sorted(
        ((state.created, slot) for slot in vm.present() if (state := vm.state(slot.index))),
        key=lambda item: item[0],
    )
    cpus = []
    for _created, slot in filled:
        state = vm.state(slot.index)
        assert state is not None
        for offset, cpu_index in enumerate(slot.cpu_indexes):
            path = state.qom_path
            if slot.vcpus_count > 1 or slot.core_device:
                path = f"{path}/thread[{offset}]"
            entry: dict[str, Any] = {
                "cpu-index": cpu_index,
                "qom-path": path,
                "thread-id": cpu_index,
            }
            if with_type:
                entry["qom-type"] = slot.vcpu_type or state.driver
            # QEMU adds props only where the board maps a CPU index to them
            # (cpu_index_to_instance_props): not loongarch64 virt of 7.2, whose
            # slots have none.
            props = slot.props.as_qmp()
            if props:
                entry["props"] = props
            entry["target"] = target
            entry.update(vm.machine.arch.cpu_status(vm, cpu_index))
            cpus.append(entry)
    return cpus


def hmp_info_hotpluggable_cpus(vm: VirtualMachine) -> str:
    """The text of HMP ``info hotpluggable-cpus``."""
    lines = ["Hotpluggable CPUs:"]
    for entry in query_hotpluggable_cpus(vm):
        lines.append(f'  type: "{entry["type"]}"')
        lines.append(f'  vcpus_count: "{entry["vcpus-count"]}"')
        if "qom-path" in entry:
            lines.append(f'  qom_path: "{entry["qom-path"]}"')
        lines.append("  CPUInstance Properties:")
        for name, value in entry["props"].items():
            lines.append(f'    {name}: "{value}"')
    return "\n".join(lines) + "\n"
