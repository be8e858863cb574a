"""Strategies for resolved topologies, whole VMs with NUMA, and QEMU command lines."""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from topology._errors import TopologyError
from topology._model.numa import MAX_NUMA_NODES
from topology._model.vm import GuestPolicy, VirtualMachine
from topology._resolve.machine import Machine
from topology._resolve.topology import CpuTopology
from topology._versions import QemuVersion
from topology.strategies._machines import check_bound, machines
from topology.strategies._smp import _valid_case
from topology.strategies._values import VmSpec

__all__ = ["qemu_command_lines", "topologies", "virtual_machines", "vm_specs"]

MiB: Final = 2**20
# Node memory comes in 256 MiB units: what every board takes (pseries wants
# each node's memory to be a multiple of its 256 MiB memory block).
_NODE_UNIT: Final = 256 * MiB


def topologies(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
    max_cpus: int = 8,
    max_count: int = 4,
) -> st.SearchStrategy[CpuTopology]:
    """Resolved topologies QEMU starts the machine with (see :func:`smp_strings`).

    Shrinks towards one CPU: one socket, one core, one thread.
    """
    from topology.strategies._smp import smp_strings

    def topology(case: object) -> CpuTopology:
        found = getattr(case, "topology", None)
        assert isinstance(found, CpuTopology)
        return found

    return smp_strings(
        machine=machine,
        arch=arch,
        machine_type=machine_type,
        qemu_version=qemu_version,
        max_cpus=max_cpus,
        max_count=max_count,
    ).map(topology)


def vm_specs(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
    max_cpus: int = 8,
    max_count: int = 4,
    max_nodes: int = 3,
    guest: GuestPolicy | None = None,
) -> st.SearchStrategy[VmSpec]:
    """Whole VMs QEMU starts: a machine, ``-smp``, and on boards with NUMA, guest NUMA.

    With NUMA (up to ``max_nodes`` nodes; 0 turns it off), each node has its
    own ``memory-backend-ram`` of 256 or 512 MiB, ``-m`` is their sum, and the
    CPUs go either where the board puts them by default or, with
    ``cpus=``, in contiguous ranges of whole cores (a node may get none).
    ``guest`` fixes the guest's policy for added CPUs; None draws it.
    Every spec is checked with the model: :meth:`VmSpec.start` succeeds.

    Shrinks towards one CPU and no NUMA.
    """
    check_bound("max_nodes", max_nodes, 0, MAX_NUMA_NODES)
    if guest is not None and not isinstance(guest, GuestPolicy):
        raise InvalidArgument(f"guest={guest!r} must be a topology.GuestPolicy or None")
    drawn = machines(
        machine=machine, arch=arch, machine_type=machine_type, qemu_version=qemu_version
    )
    # Checked here, not at the first draw, as Hypothesis's own strategies do.
    check_bound("max_cpus", max_cpus, 1)
    check_bound("max_count", max_count, 1)
    guests = st.just(guest) if guest is not None else st.sampled_from(list(GuestPolicy))

    @st.composite
    def specs(draw: st.DrawFn) -> VmSpec:
        chosen = draw(drawn)
        case = draw(_valid_case(chosen, max_cpus, max_count, literals=True))
        assert case.topology is not None
        policy = draw(guests)
        plain = VmSpec(machine=chosen, smp=case.smp, guest=policy)
        # The same choices whatever the board, so shrinking is not steered by NUMA support.
        nodes = draw(st.integers(0, max_nodes))
        sizes = [_NODE_UNIT * draw(st.integers(1, 2)) for _ in range(nodes)]
        mapped = draw(st.booleans())
        cuts = sorted(draw(st.integers(0, case.topology.max_cpus)) for _ in range(nodes))
        if nodes == 0 or not chosen.type.numa:
            return plain
        backends = tuple((f"mem{node}", size) for node, size in enumerate(sizes))
        options = [f"node,nodeid={node},memdev=mem{node}" for node in range(nodes)]
        numa = VmSpec(
            machine=chosen,
            smp=case.smp,
            memory=f"{sum(sizes) // MiB}M",
            memory_backends=backends,
            numa=tuple(options),
            guest=policy,
        )
        if mapped:
            mapped_spec = _with_cpu_ranges(numa, case.topology, cuts)
            if _starts(mapped_spec):
                return mapped_spec
        # Deterministic fall-backs instead of filtering: default placement, then no NUMA.
        return numa if _starts(numa) else plain

    return specs()


def _with_cpu_ranges(spec: VmSpec, topology: CpuTopology, cuts: list[int]) -> VmSpec:
    """Each node takes the CPUs up to its cut, rounded to whole cores; the last the rest."""
    threads = topology.threads
    bounds = [min(topology.max_cpus, cut // threads * threads) for cut in cuts[1:]]
    bounds.append(topology.max_cpus)
    options = []
    first = 0
    for option, last in zip(spec.numa, bounds, strict=True):
        if last > first:
            span = str(first) if last - first == 1 else f"{first}-{last - 1}"
            option += f",cpus={span}"
            first = last
        options.append(option)
    return VmSpec(
        machine=spec.machine,
        smp=spec.smp,
        memory=spec.memory,
        memory_backends=spec.memory_backends,
        numa=tuple(options),
        guest=spec.guest,
    )


def _starts(spec: VmSpec) -> bool:
    try:
        spec.start()
    except TopologyError:
        return False
    return True


def virtual_machines(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
    max_cpus: int = 8,
    max_count: int = 4,
    max_nodes: int = 3,
    guest: GuestPolicy | None = None,
) -> st.SearchStrategy[VirtualMachine]:
    """Freshly started :class:`VirtualMachine` models of :func:`vm_specs`.

    Each draw is a new object, yours to change. Draw :func:`vm_specs` instead
    when the test needs the command line the VM came from.
    """
    return vm_specs(
        machine=machine,
        arch=arch,
        machine_type=machine_type,
        qemu_version=qemu_version,
        max_cpus=max_cpus,
        max_count=max_count,
        max_nodes=max_nodes,
        guest=guest,
    ).map(VmSpec.start)


def qemu_command_lines(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
    max_cpus: int = 8,
    max_count: int = 4,
    max_nodes: int = 3,
) -> st.SearchStrategy[list[str]]:
    """QEMU command lines (binary first) that start, from :func:`vm_specs`.

    ``qemu-system-<target> -machine TYPE -accel tcg [-cpu MODEL] -smp ... [-m ...
    -object memory-backend-ram,... -numa node,...] -S -nodefaults -no-user-config
    -display none -qmp stdio``: a paused VM answering QMP on stdio, for real
    QEMU or a stand-in. For command lines QEMU refuses, with its message, map
    ``smp_strings(valid=False)`` through :meth:`SmpCase.argv`.
    """
    return vm_specs(
        machine=machine,
        arch=arch,
        machine_type=machine_type,
        qemu_version=qemu_version,
        max_cpus=max_cpus,
        max_count=max_count,
        max_nodes=max_nodes,
        guest=GuestPolicy.MANUAL_ONLINE,
    ).map(VmSpec.argv)
