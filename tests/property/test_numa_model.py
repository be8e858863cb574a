"""The NUMA model by properties, on generated configurations (x86 q35, pseries, ARM
virt, s390x; ``-smp``, ``-m``, memory backends and ``-numa node/cpu/dist``
options, valid and invalid): every slot gets exactly one node, a refusal is
always a ``TopologyError``, node memory adds up, distances are sane, and
findings name real splits.

The strategy is also the differential test's (``tests/differential/test_numa_model.py``);
the table of cases QEMU answered is in ``tests/unit/test_numa_model.py``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_numa_model import VIRT, Case, MiB, start_model
from topology import QemuWarning, TopologyError

PROPERTY_SETUPS: list[tuple[str, str, str, tuple[tuple[str, str], ...]]] = [
    ("7.2", "x86_64", "pc-q35-7.2", ()),
    ("7.2", "x86_64", "pc-q35-5.0", ()),
    ("7.2", "ppc64", "pseries-7.2", ()),
    ("7.2", "aarch64", "virt-7.2", VIRT),
    ("10.0", "x86_64", "pc-q35-10.0", ()),
    ("10.0", "ppc64", "pseries-10.0", ()),
    ("10.0", "aarch64", "virt-10.0", VIRT),
    ("10.0", "s390x", "s390-ccw-virtio-10.0", ()),
]


# -numa cpu props drawn per architecture: those the slots have and some they lack.
_PROPS: dict[str, tuple[str, ...]] = {
    "x86_64": ("socket-id", "die-id", "core-id", "thread-id", "cluster-id"),
    "ppc64": ("core-id", "socket-id", "thread-id"),
    "aarch64": ("socket-id", "cluster-id", "core-id", "thread-id", "die-id"),
    "s390x": ("core-id",),
}
_PROPS_10: tuple[str, ...] = ("module-id", "book-id", "drawer-id")
# Of those, the ones the board's slots lack (with modules=1 on x86).
_UNSUPPORTED: dict[str, tuple[str, ...]] = {
    "x86_64": ("cluster-id", "die-id", "module-id"),
    "ppc64": ("socket-id", "thread-id"),
    "aarch64": ("die-id",),
    "s390x": (),
}


def _rare(draw: st.DrawFn, odds: int) -> bool:
    """True about once in ``odds`` draws (False shrinks first, and Hypothesis favours it)."""
    return draw(st.sampled_from([False] * (odds - 1) + [True]))


@st.composite
def smp_texts(draw: st.DrawFn, arch: str, version: str) -> tuple[str, int]:
    """A -smp text and its maxcpus."""
    sockets = draw(st.integers(1, 3))
    dies = draw(st.integers(1, 2)) if arch == "x86_64" else 1
    clusters = draw(st.integers(1, 2)) if arch == "aarch64" else 1
    modules = draw(st.integers(1, 2)) if arch == "x86_64" and version != "7.2" else 1
    cores = draw(st.integers(1, 3))
    if arch == "ppc64" and version == "7.2":
        threads = 2 if _rare(draw, 8) else 1  # 2: refused under TCG
    elif arch == "s390x":
        threads = 1
    else:
        threads = draw(st.integers(1, 2))
    max_cpus = sockets * dies * clusters * modules * cores * threads
    if arch == "ppc64":
        cpus = threads * draw(st.integers(1, max_cpus // threads))
    else:
        cpus = draw(st.integers(1, max_cpus))
    if _rare(draw, 5):
        return f"{cpus},maxcpus={max_cpus}", max_cpus  # the machine's fill-in policy
    levels = [f"sockets={sockets}"]
    if dies > 1:
        levels.append(f"dies={dies}")
    if clusters > 1:
        levels.append(f"clusters={clusters}")
    if modules > 1:
        levels.append(f"modules={modules}")
    levels += [f"cores={cores}", f"threads={threads}"]
    return f"{cpus},{','.join(levels)},maxcpus={max_cpus}", max_cpus


def _legacy_mem(machine: str) -> bool:
    return machine.endswith("-5.0")


@st.composite
def numa_cases(
    draw: st.DrawFn,
    setups: list[tuple[str, str, str, tuple[tuple[str, str], ...]]] = PROPERTY_SETUPS,
) -> tuple[str, Case]:
    """A QEMU version and a command line with -smp, -m, backends and -numa options.

    Mostly configurations QEMU takes, with one or two mistakes now and then:
    bad node ids, missing or shared backends, CPU indexes past maxcpus, CPUs
    mapped twice, props the board lacks, distances missing or out of range.
    """
    version, arch, machine, options = draw(st.sampled_from(setups))
    smp, max_cpus = draw(smp_texts(arch, version))
    unit = 256 * MiB if arch == "ppc64" else 64 * MiB
    if arch == "ppc64" and _rare(draw, 12):
        unit = 128 * MiB  # not a whole pseries memory block
    count = draw(st.sampled_from([2, 1, 3, 0, 4]))
    backends = [(f"m{i}", unit * draw(st.integers(1, 2))) for i in range(count)]
    legacy = (_legacy_mem(machine) and draw(st.booleans())) or _rare(draw, 25)
    nodes: list[str] = []
    total = 0
    next_cpu = 0
    explicit_cpus = draw(st.booleans())
    for index in range(count):
        parts = ["node"]
        if _rare(draw, 4):
            nodeid = index + 1 if _rare(draw, 3) else (200 if _rare(draw, 4) else index)
            parts.append(f"nodeid={nodeid}")
        if legacy:
            size = backends[index][1]
            parts.append(f"mem={size // MiB}M")
            total += size
        elif _rare(draw, 12):
            pass  # a memory-less node
        elif _rare(draw, 15):
            parts.append(f"memdev={draw(st.sampled_from(['m0', 'nope']))}")
            total += backends[0][1]
        else:
            parts.append(f"memdev={backends[index][0]}")
            total += backends[index][1]
        if explicit_cpus and not _rare(draw, 4):
            # Consecutive ranges, sometimes overlapping or past maxcpus.
            first = next_cpu - 1 if next_cpu and _rare(draw, 8) else next_cpu
            last = draw(st.integers(first, first + max(1, max_cpus // max(count, 1))))
            if last >= max_cpus and not _rare(draw, 6):
                last = max_cpus - 1
            if first <= last:
                parts.append(f"cpus={first}" if first == last else f"cpus={first}-{last}")
                next_cpu = last + 1
        if _rare(draw, 40):
            parts.append("initiator=0")
        nodes.append(",".join(parts))
    others: list[str] = []
    props = _PROPS[arch] + (_PROPS_10 if version == "10.0" and arch == "x86_64" else ())
    supported = tuple(name for name in props if name not in _UNSUPPORTED[arch])
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        parts = ["cpu"]
        if not _rare(draw, 12):
            parts.append(f"node-id={draw(st.integers(0, max(count - 1, 0) + _rare(draw, 6)))}")
        names = props if _rare(draw, 5) else supported
        for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)):
            parts.append(f"{name}={draw(st.integers(0, 3 if _rare(draw, 5) else 1))}")
        others.append(",".join(parts))
    if count > 1 and draw(st.booleans()):
        for src in range(count):
            for dst in range(count):
                if (src < dst and not _rare(draw, 12)) or (src > dst and _rare(draw, 4)):
                    value = draw(st.sampled_from([20, 21, 30]))
                    others.append(f"dist,src={src},dst={dst},val={value}")
    if _rare(draw, 12):
        src = draw(st.integers(0, count))
        dst = draw(st.sampled_from([src, count, 0, 200]))
        others.append(f"dist,src={src},dst={dst},val={draw(st.sampled_from([5, 10, 15]))}")
    numa = [*nodes, *draw(st.permutations(others))]
    if _rare(draw, 12):
        numa = draw(st.permutations(numa))
    mem: str | None
    if count == 0:
        size = unit * draw(st.integers(1, 4))
        mem = f"{size // MiB}M"
        extra = draw(st.sampled_from(["", "", ",slots=2", ",maxmem"]))
        if extra == ",slots=2":
            mem += f",slots=2,maxmem={2 * size // MiB}M"
        elif extra == ",maxmem":
            mem += f",maxmem={2 * size // MiB}M"
    else:
        if _rare(draw, 12):
            total += unit
        mem = f"{total // MiB}M" if total else draw(st.sampled_from([None, "256M"]))
    used = {name for name, _ in backends if any(f"memdev={name}" in o for o in numa)}
    return version, Case(
        arch,
        machine,
        smp,
        tuple(numa),
        mem,
        tuple((name, size) for name, size in backends if name in used),
        options,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numa_cases())
def test_every_slot_gets_one_node_or_a_topology_error(drawn: tuple[str, Case]) -> None:
    version, case = drawn
    try:
        vm = start_model(case, version)
    except TopologyError as error:
        assert str(error)
        assert all(isinstance(w, QemuWarning) for w in error.warnings)
        return
    numa = vm.numa
    if numa is None:
        assert all(slot.props.node_id is None for slot in vm.slots)
        return
    assert len(numa.slot_nodes) == len(vm.slots)
    assert [slot.props.node_id for slot in vm.slots] == list(numa.slot_nodes)
    assert {node.node_id for node in numa.nodes} == set(range(len(numa.nodes)))
    assert set(numa.slot_nodes) <= set(range(len(numa.nodes)))
    assert sum(numa.node_memory) == vm.memory.ram_size
    if numa.distances is not None:
        for src in range(len(numa.nodes)):
            assert numa.distance(src, src) == 10
            for dst in range(len(numa.nodes)):
                assert numa.distance(src, dst) >= 10
    # Findings name containers that really span nodes.
    node_of = {
        cpu: node
        for slot, node in zip(vm.slots, numa.slot_nodes, strict=True)
        for cpu in slot.cpu_indexes
    }
    for finding in numa.findings:
        assert len({node_of[cpu] for cpu in finding.cpus}) > 1
        assert finding.nodes == tuple(sorted({node_of[cpu] for cpu in finding.cpus}))
