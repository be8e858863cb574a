"""pseries identities by properties: on any pseries topology and vsmt, vCPU ids and
CPU DRC indexes are unique and aligned to vsmt, and chip ids lie within the
sockets (the hand-worked rows are in ``tests/unit/test_spapr_identity.py``).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import topology
from arch.spapr._identity import CPU_DRC_BASE, core_identities, effective_vsmt, max_server_number
from topology._model.vm import VirtualMachine


@st.composite
def pseries_vms(draw: st.DrawFn) -> VirtualMachine:
    threads = draw(st.sampled_from([1, 2, 4, 8]))
    cores = draw(st.integers(1, 3))
    sockets = draw(st.integers(1, 3))
    max_cpus = sockets * cores * threads
    cpus = threads * draw(st.integers(1, max_cpus // threads))
    name = draw(st.sampled_from(["pseries-4.1", "pseries-4.2", "pseries-10.0"]))
    vsmt = draw(st.none() | st.integers(threads, 16))
    options = {} if vsmt is None else {"vsmt": str(vsmt)}
    machine = topology.machine("ppc64", name, qemu_version="10.0", **options)
    smp = f"{cpus},sockets={sockets},cores={cores},threads={threads},maxcpus={max_cpus}"
    return VirtualMachine.start(machine, smp)


@given(pseries_vms())
def test_identities_are_unique_and_aligned(vm: VirtualMachine) -> None:
    threads = vm.topology.threads
    vsmt = effective_vsmt(vm.machine.type, threads, vm.machine.options)
    cores = core_identities(vm)
    assert len(cores) == vm.topology.max_cpus // threads
    assert len({core.drc_index for core in cores}) == len(cores)
    assert len({core.drc_name for core in cores}) == len(cores)
    ids = [i for core in cores for i in core.vcpu_ids]
    assert len(set(ids)) == len(ids) == vm.topology.max_cpus
    server_max = max_server_number(vm.topology.max_cpus, threads, vsmt)
    for core in cores:
        assert core.vcpu_ids[0] % vsmt == 0
        assert core.drc_index == CPU_DRC_BASE + core.vcpu_ids[0]
        assert core.vcpu_ids == tuple(range(core.vcpu_ids[0], core.vcpu_ids[0] + threads))
        assert max(core.vcpu_ids) < server_max
        assert 0 <= core.chip_ids[0] < vm.topology.sockets
