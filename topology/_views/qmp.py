"""The model seen through QEMU's monitor: query-hotpluggable-cpus, query-cpus-fast, HMP."""

from __future__ import annotations

from typing import Any

from topology._errors import TopologyError
from topology._model.vm import VirtualMachine

__all__ = ["hmp_info_hotpluggable_cpus", "query_cpus_fast", "query_hotpluggable_cpus"]


def query_hotpluggable_cpus(vm: VirtualMachine) -> list[dict[str, Any]]:
    """QEMU's ``query-hotpluggable-cpus`` reply: one entry per slot, the last slot first.

    ``qom-path`` appears only for filled slots.
    """
    if not vm.machine.type.hotpluggable_cpus:
        # The wording changed in QEMU 8.0 (observed on 7.2; notes §5.1 for later).
        message = (
            "machine does not support hot-plugging CPUs"
            if vm.machine.qemu_version.at_least("8.0")
            else "The feature 'query-hotpluggable-cpus' is not enabled"
        )
        raise TopologyError(message, what="query-hotpluggable-cpus")
    entries = []
    state_of = vm.state
    for slot in reversed(vm.slots):
        entry: dict[str, Any] = {
            "props": slot.props.as_qmp(),
            "vcpus-count": slot.vcpus_count,
            "type": slot.type,
        }
        state = state_of(slot.index)
        if state is not None:
            entry["qom-path"] = state.qom_path
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
