"""The destination command line that reproduces a running guest (:func:`migration_plan`).

QEMU's rules that shape it:

* ``-smp cpus=N`` creates the CPUs of the first N possible-CPU slots, in slot
  order (``x86_cpus_init``, ``spapr_init_cpus``, ``s390_init_cpus``); no slot
  in that range can be left empty.
* ``-device <cpu type>,<props>`` on the command line cold-plugs a CPU into any
  free slot, after the boot CPUs exist, in command-line order; with ``id=X``
  its QOM path is ``/machine/peripheral/X`` (observed on QEMU 7.2 for x86,
  pseries and s390x), without one ``/machine/peripheral-anon/device[N]``,
  N counting anonymous devices from 0.
* On x86 the guest's CPU count in fw_cfg follows the CPUs present, not
  ``-smp cpus``: every plug, ``-device`` ones included, increments it and
  every unplug decrements it (``x86_cpu_plug``, ``x86_cpu_unplug_cb``).

So the plan keeps ``-smp cpus`` at the longest run of source boot CPUs that
is still whole from slot 0 (their QOM paths then match), and adds a
``-device`` for every other present CPU in the order the source created them.
A boot CPU that follows an unplugged one is such a ``-device``; its source path
``/machine/unattached/device[N]`` cannot be made on the command line, so it
gets ``id=vcpuI`` (I its cpu_index, libvirt's naming). Anonymous hot-plugged
CPUs stay anonymous; their paths match when the source's numbers were dense
(no refused anonymous ``device_add`` in between). Neither path is guest-visible.
"""

from __future__ import annotations

from typing import Final

from topology._errors import TopologyError
from topology._model.vm import PlugOrigin, SlotState, VirtualMachine
from topology._parse.smp import parse_smp
from topology._registry import hooks
from topology._resolve.topology import LEVELS

__all__ = [
    "boot_prefix",
    "device_ids",
    "device_props",
    "from_smp",
    "memory_text",
    "migration_plan",
    "numa_arguments",
    "smp_text",
]

_ALWAYS: Final = ("sockets", "cores", "threads")
_UNITS: Final = (("T", 2**40), ("G", 2**30), ("M", 2**20), ("K", 2**10))


def _escape(value: str) -> str:
    # QemuOpts: a comma inside a value is written twice.
    return value.replace(",", ",,")


def size_text(size: int) -> str:
    """A size in QEMU's suffix form, exact (``512M``, ``1G``, ``12345B``)."""
    for suffix, unit in _UNITS:
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return f"{size}B"


def from_smp(state: SlotState) -> bool:
    """Whether QEMU created this CPU from ``-smp`` (not from a ``-device`` or ``device_add``)."""
    return state.origin is PlugOrigin.COLD and not state.qom_path.startswith("/machine/peripheral")


def boot_prefix(vm: VirtualMachine) -> int:
    """How many slots from slot 0 hold the source's own boot CPUs, unbroken."""
    count = 0
    for slot in vm.slots:
        state = vm.state(slot.index)
        if state is None or not from_smp(state):
            break
        count += 1
    return count


def smp_text(vm: VirtualMachine, cpus: int) -> str:
    """``-smp`` with ``cpus`` and every count explicit, so no fill-in rule applies.

    An optional level is written when the source's ``-smp`` gave it or when it
    is above 1, and only if the machine supports it: ARM virt's ACPI PPTT has a
    cluster level only when ``clusters`` was given (QEMU 8.0+), and QEMU 9.0
    warns about unsupported levels given as 1.
    """
    topology = vm.topology
    given: set[str] = set()
    if vm.smp is not None:
        try:
            config = parse_smp(vm.smp, qemu_version=vm.machine.qemu_version)
        except TopologyError:
            config = None
        if config is not None:
            given = {level for level in LEVELS if getattr(config, level) is not None}
    parts = [f"cpus={cpus}"]
    for level in LEVELS:
        count = getattr(topology, level)
        if level in _ALWAYS or (level in vm.machine.type.levels and (count > 1 or level in given)):
            parts.append(f"{level}={count}")
    parts.append(f"maxcpus={topology.max_cpus}")
    return ",".join(parts)


def memory_text(vm: VirtualMachine) -> str:
    """``-m`` for the VM's RAM, memory hot-plug slots and maximum."""
    memory = vm.memory
    text = size_text(memory.ram_size)
    if memory.slots:
        text += f",slots={memory.slots}"
    if memory.max_ram_size != memory.ram_size or memory.slots:
        text += f",maxmem={size_text(memory.max_ram_size)}"
    return text


def numa_arguments(vm: VirtualMachine) -> tuple[dict[str, int], list[str]]:
    """The memory backends (id to size) and the ``-numa`` options of the VM's NUMA layout.

    Nothing when the machine has no NUMA or made its single node on its own.
    CPUs are mapped one slot at a time unless every slot took the board's
    default node; distances are given for every pair when the source had a table.
    """
    numa = vm.numa
    if numa is None or numa.auto:
        return {}, []
    backends: dict[str, int] = {}
    options = []
    for node in numa.nodes:
        text = f"node,nodeid={node.node_id}"
        if node.memdev is not None:
            backends[node.memdev] = node.memory
            text += f",memdev={node.memdev}"
        elif node.memory:
            text += f",mem={size_text(node.memory)}"  # legacy mem= (types up to 5.0)
        if node.initiator is not None:
            text += f",initiator={node.initiator}"
        options.append(text)
    if not numa.default_mapping:
        for slot in vm.slots:
            props = slot.props.as_qmp()
            props.pop("node-id", None)
            ids = "".join(f",{name}={value}" for name, value in props.items())
            options.append(f"cpu,node-id={numa.slot_nodes[slot.index]}{ids}")
    if numa.distances is not None:
        for src, row in enumerate(numa.distances):
            for dst, value in enumerate(row):
                if src != dst:
                    options.append(f"dist,src={src},dst={dst},val={value}")
    return backends, options


def device_ids(vm: VirtualMachine) -> dict[int, str | None]:
    """The ``id`` of the ``-device`` that recreates each present CPU outside the boot
    prefix, by slot index (None: anonymous), in the order the source created them."""
    prefix = boot_prefix(vm)
    taken = {state.device_id for state in vm.snapshot().values() if state.device_id}
    found: dict[int, str | None] = {}
    later = sorted(
        (state.created, index) for index, state in vm.snapshot().items() if index >= prefix
    )
    for _created, index in later:
        state = vm.state(index)
        assert state is not None
        if from_smp(state):
            name = f"vcpu{vm.slots[index].first_cpu_index}"
            while name in taken:
                name += "_"
            taken.add(name)
            found[index] = name
        else:
            found[index] = state.device_id
    return found


def migration_plan(vm: VirtualMachine) -> list[str]:
    """The QEMU command line of a destination that reproduces ``vm`` (binary first).

    ``-machine`` (with the board options), ``-accel``, ``-cpu`` (the model in
    use, also when it was the machine's default), ``-m``, the memory backends,
    ``-smp`` with every count explicit, ``-numa``, then a ``-device`` per CPU
    that is not one of the unbroken run of boot CPUs, with the source's id and
    its slot's props. Guest-side state (online vCPUs, a pending unplug) travels
    with the migration, not on the command line.

    >>> import topology
    >>> q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
    >>> vm = topology.VirtualMachine.start(q35, "2,maxcpus=4")
    >>> _ = vm.plug("qemu64-x86_64-cpu", {"socket-id": 0, "core-id": 3, "thread-id": 0}, id="hp")
    >>> print(" ".join(migration_plan(vm)))  # doctest: +NORMALIZE_WHITESPACE
    qemu-system-x86_64 -machine pc-q35-7.2 -accel tcg -cpu qemu64 -m 128M
    -smp cpus=2,sockets=1,cores=4,threads=1,maxcpus=4
    -device qemu64-x86_64-cpu,id=hp,socket-id=0,core-id=3,thread-id=0
    """
    machine = vm.machine
    prefix = boot_prefix(vm)
    if prefix == 0:
        raise TopologyError(
            "cputopo: the VM has no CPU in slot 0, which QEMU always creates at start",
            what="slot 0",
        )
    argv = [f"qemu-system-{machine.arch.targets[0]}"]
    board = [machine.name]
    board += [
        f"{key}={_escape(value)}"
        for key, value in machine.options.items()
        if key not in ("cpu", "accel")
    ]
    argv += ["-machine", ",".join(board)]
    argv += ["-accel", machine.options.get("accel", "tcg")]
    model, features = machine.type.cpu_model(machine.options)
    argv += ["-cpu", ",".join([model, *features])]
    argv += ["-m", memory_text(vm)]
    backends, numa = numa_arguments(vm)
    for memdev, size in backends.items():
        argv += ["-object", f"memory-backend-ram,id={memdev},size={size_text(size)}"]
    cpus = sum(slot.vcpus_count for slot in vm.slots[:prefix])
    argv += ["-smp", smp_text(vm, cpus)]
    for option in numa:
        argv += ["-numa", option]
    for index, device_id in device_ids(vm).items():
        slot = vm.slots[index]
        parts = [slot.type]
        if device_id is not None:
            parts.append(f"id={device_id}")
        parts += [f"{name}={_prop_text(value)}" for name, value in device_props(vm, index).items()]
        argv += ["-device", ",".join(parts)]
    return argv


def device_props(vm: VirtualMachine, index: int) -> dict[str, object]:
    """The props that recreate the CPU in slot ``index``: the slot's, then the plugin's
    (its optional ``plug_props``, e.g. an s390x entitlement)."""
    props: dict[str, object] = dict(vm.slots[index].props.as_qmp())
    extra = hooks(vm.machine.arch).plug_props
    if extra is not None:
        props.update(extra(vm, index))
    return props


def _prop_text(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return _escape(str(value))
