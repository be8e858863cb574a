"""Benchmark: the VM model at 256 to 16384 CPUs.

Run: ``python benchmarks/bench_model.py``. For an x86 machine with every slot
(APIC IDs included) it times: building the model, ``query-hotpluggable-cpus``,
one plug plus its unplug, and the topology graph; and prints the time per CPU,
which stays flat when cost grows linearly. Goals at 4096 CPUs: build <= 20 ms,
query <= 10 ms, plug <= 50 us, graph <= 100 ms. Not a test: nothing is asserted.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import topology
from arch.x86._hotplug import ACPI_LEGACY

# A pc-q35 type of QEMU 9.2 allows 4096 CPUs; the rules object lets the model go
# further for the linearity figures (x86 machines stop at 4096).
SIZES = (256, 1024, 4096, 16384)


def _machine(size: int) -> topology.Machine:
    # KVM: under TCG, QEMU never reuses a vCPU's context, so endless plug and
    # unplug would (rightly) be refused once maxcpus vCPUs were ever created.
    machine = topology.machine("x86_64", "pc-q35-9.2", qemu_version="9.2", accel="kvm")
    if size <= machine.type.max_cpus:
        return machine
    bigger = topology.MachineType(
        name="bench-x86", levels={"dies", "modules"}, max_cpus=size, default_cpu="qemu64"
    )
    return topology.Machine(
        arch=machine.arch, type=bigger, qemu_version=machine.qemu_version, options=machine.options
    )


def _best(statement: object, number: int) -> float:
    return min(timeit.repeat(statement, number=number, repeat=5)) / number  # type: ignore[arg-type]


def main() -> None:
    header = ("CPUs", "build", "per CPU", "query", "plug+unplug", "graph")
    widths = (6, 10, 9, 10, 12, 10)
    print(" ".join(f"{name:>{width}}" for name, width in zip(header, widths, strict=True)))
    for size in SIZES:
        machine = _machine(size)
        smp = f"{size // 2},sockets={size // 64},cores=32,threads=2,maxcpus={size}"
        build = _best(lambda m=machine, s=smp: topology.VirtualMachine.start(m, s), 3)
        vm = topology.VirtualMachine.start(machine, smp)
        vm.stash[ACPI_LEGACY] = False
        query = _best(lambda v=vm: topology.query_hotpluggable_cpus(v), 3)
        free = vm.slots[-1]

        def plug_and_unplug(v: topology.VirtualMachine = vm, slot: topology.CpuSlot = free) -> None:
            v.plug(slot.type, slot.props.as_qmp(), id="bench")
            v.request_unplug("bench")
            v.complete_unplug("bench")

        plug = _best(plug_and_unplug, 200)
        graph = _best(lambda v=vm: topology.topology_graph(v), 1)
        print(
            f"{size:>6} {build * 1e3:8.2f}ms {build / size * 1e6:7.2f}us {query * 1e3:8.2f}ms "
            f"{plug * 1e6:10.1f}us {graph * 1e3:8.1f}ms"
        )


if __name__ == "__main__":
    main()
