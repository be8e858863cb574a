"""pseries FORM1 NUMA affinity: the layouts QEMU stops at when the guest boots.

pseries describes NUMA to the guest in one of two forms. FORM2 (offered from
pseries-6.2; ``pre_6_2_numa_affinity`` on older types) carries any distance
table; FORM1 only encodes distances as shared associativity levels. Which form
is used is decided when the guest negotiates at boot (CAS, ``ibm,client-
architecture-support``): FORM1 on pseries-6.1 and older, or when the guest
does not ask for FORM2 (Linux before 5.15). With FORM1, QEMU then exits on
two layouts (``hw/ppc/spapr_numa.c`` spapr_numa_FORM1_affinity_check, called
from spapr_numa_associativity_reset):

* a node with neither memory nor a present vCPU:
  ``Memory-less/cpu-less nodes are not supported with FORM1 NUMA (node %d)``
  (nodes checked in id order);
* a distance table that is not symmetric:
  ``Asymmetrical NUMA topologies aren't supported in the pSeries machine using FORM1 NUMA``.

Neither shows while the VM is paused before boot: QEMU 7.2 and 10.0 start both
layouts under ``-S`` on pseries-6.1 and on the newest type (observed).
"""

from __future__ import annotations

from topology import NumaError, VirtualMachine
from topology.plugin import release_key

__all__ = ["check_form1", "uses_form1"]


def uses_form1(machine_name: str, *, guest_form2: bool) -> bool:
    """Whether the guest gets FORM1: pseries-6.1 or older, or a guest without FORM2.

    >>> uses_form1("pseries-6.1", guest_form2=True), uses_form1("pseries-6.2", guest_form2=True)
    (True, False)
    """
    return not guest_form2 or release_key(machine_name.removeprefix("pseries-")) <= (6, 1)


def check_form1(vm: VirtualMachine) -> None:
    """Raise QEMU's error if ``vm`` booting a FORM1 guest would make QEMU exit.

    Looks at the vCPUs present now (hot-added ones count, as in QEMU).

    >>> import topology
    >>> m = topology.machine("ppc64", "pseries-6.1", qemu_version="7.2")
    >>> vm = VirtualMachine.start(
    ...     m, "2", numa=["node,memdev=a,cpus=0-1", "node"],
    ...     memory="256M", memory_backends={"a": 256 * 2**20})
    >>> check_form1(vm)
    Traceback (most recent call last):
      ...
    topology.NumaError: Memory-less/cpu-less nodes are not supported with FORM1 NUMA (node 1)
    """
    numa = vm.numa
    if numa is None:
        return
    with_cpus = {slot.props.node_id for slot in vm.present()}
    for node in numa.nodes:
        if node.memory == 0 and node.node_id not in with_cpus:
            raise NumaError(
                "Memory-less/cpu-less nodes are not supported with FORM1 NUMA "
                f"(node {node.node_id})",
                what="numa",
                value=node.node_id,
            )
    table = numa.distances
    if table is None:
        return
    for src, row in enumerate(table):
        for dst, distance in enumerate(row):
            if distance != table[dst][src]:
                raise NumaError(
                    "Asymmetrical NUMA topologies aren't supported in the pSeries machine "
                    "using FORM1 NUMA",
                    what="dist",
                    value=(src, dst),
                )
