"""The topology as a graph: machine, containers, threads, and NUMA nodes.

The graph is built on demand from a :class:`VirtualMachine` (never on the
hot path of an operation) and handed out read-only. Nodes are tuples:

* ``("machine",)``;
* containers ``(level, id, id, ...)``: ``("socket", 0)``, ``("die", 0, 1)``,
  ``("core", 0, 1, 3)`` (the ids of every enclosing level that the machine
  supports, then the container's own), edges from parent to child;
* threads ``("cpu", cpu_index)``, below their core;
* NUMA nodes ``("node", n)`` with an edge to each of their CPUs, and edges
  between nodes carrying ``distance`` when a distance is known.

Each CPU node has the attributes ``slot`` (slot index), ``present``, ``online``
and the ids of its levels.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from topology._errors import ParameterError
from topology._model.vm import VirtualMachine
from topology._resolve.topology import LEVELS

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["cpu_ids", "cpus_of_node", "lowest_shared_level", "siblings", "topology_graph"]

_SINGULAR = {
    "drawers": "drawer",
    "books": "book",
    "sockets": "socket",
    "dies": "die",
    "clusters": "cluster",
    "modules": "module",
    "cores": "core",
}


def cpu_ids(vm: VirtualMachine, cpu_index: int) -> dict[str, int]:
    """Every level's id of the vCPU with ``cpu_index``, from the topology counts.

    >>> import topology
    >>> q35 = topology.machine("x86_64", "q35")
    >>> vm = topology.VirtualMachine.start(q35, "8,sockets=2,threads=2")
    >>> ids = cpu_ids(vm, 5)
    >>> ids["socket"], ids["core"], ids["thread"]
    (1, 0, 1)
    """
    topo = vm.topology
    ids: dict[str, int] = {}
    remaining = cpu_index
    # Finest level first: thread, then core, ... each id is a digit of the index.
    for level in reversed(LEVELS):
        count = getattr(topo, level)
        name = "thread" if level == "threads" else _SINGULAR[level]
        ids[name] = remaining % count
        remaining //= count
    return {name: ids[name] for name in reversed(list(ids))}


def topology_graph(vm: VirtualMachine, *, node_of: dict[int, int] | None = None) -> Any:
    """A read-only ``networkx.DiGraph`` of ``vm``'s topology.

    ``node_of`` maps ``cpu_index`` to a NUMA node; without it, slot props'
    ``node-id`` are used where present.
    """
    import networkx as nx  # imported here: it costs most of ``import topology``

    graph: nx.DiGraph[Any] = nx.DiGraph()
    graph.add_node(("machine",), level="machine")
    topo = vm.topology
    supported = vm.machine.type.levels | {"sockets", "cores"}
    containers = [level for level in LEVELS[:-1] if level in supported]
    present = {cpu for slot in vm.present() for cpu in slot.cpu_indexes}
    states = {cpu: vm.state(slot.index) for slot in vm.present() for cpu in slot.cpu_indexes}
    for slot in vm.slots:
        for cpu in slot.cpu_indexes:
            if cpu >= topo.max_cpus:
                continue
            ids = cpu_ids(vm, cpu)
            parent: tuple[Any, ...] = ("machine",)
            path: list[int] = []
            for level in containers:
                name = _SINGULAR[level]
                path.append(ids[name])
                node = (name, *path)
                if node not in graph:
                    graph.add_node(node, level=name, id=ids[name])
                    graph.add_edge(parent, node)
                parent = node
            state = states.get(cpu)
            graph.add_node(
                ("cpu", cpu),
                level="thread",
                slot=slot.index,
                present=cpu in present,
                online=bool(state and state.online),
                **ids,
            )
            graph.add_edge(parent, ("cpu", cpu))
            node_id = (node_of or {}).get(cpu, slot.props.node_id)
            if node_id is not None:
                graph.add_node(("node", node_id), level="node", id=node_id)
                graph.add_edge(("node", node_id), ("cpu", cpu))
    if vm.numa is not None and node_of is None:
        # Memory-only nodes too, and the distance table when -numa dist gave one.
        for info in vm.numa.nodes:
            graph.add_node(("node", info.node_id), level="node", id=info.node_id)
        if vm.numa.distances is not None:
            for src, row in enumerate(vm.numa.distances):
                for dst, distance in enumerate(row):
                    if src != dst:
                        graph.add_edge(("node", src), ("node", dst), distance=distance)
    return nx.freeze(graph)


def siblings(graph: Any, cpu_index: int, level: str) -> list[int]:
    """The CPUs that share ``level`` (``"core"``, ``"socket"``, ...) with ``cpu_index``.

    >>> import topology
    >>> q35 = topology.machine("x86_64", "q35")
    >>> vm = topology.VirtualMachine.start(q35, "8,sockets=2,threads=2")
    >>> siblings(topology_graph(vm), 5, "core")
    [4, 5]
    """
    container = _container(graph, cpu_index, level)
    import networkx as nx

    return sorted(node[1] for node in nx.descendants(graph, container) if node[0] == "cpu")


def lowest_shared_level(graph: Any, first: int, second: int) -> str:
    """The finest level two CPUs share (``"core"``, ..., ``"machine"``)."""
    ancestors = set(_chain(graph, ("cpu", second)))
    for node in _chain(graph, ("cpu", first)):
        if node in ancestors:
            return str(graph.nodes[node]["level"])
    return "machine"


def cpus_of_node(graph: Any, node_id: int) -> list[int]:
    """The CPUs (``cpu_index``) NUMA node ``node_id`` holds."""
    node = ("node", node_id)
    if node not in graph:
        return []
    return sorted(child[1] for child in graph.successors(node) if child[0] == "cpu")


def _chain(graph: Any, node: tuple[Any, ...]) -> Iterable[tuple[Any, ...]]:
    while True:
        parents = [p for p in graph.predecessors(node) if p[0] != "node"]
        if not parents:
            return
        node = parents[0]
        yield node


def _container(graph: Any, cpu_index: int, level: str) -> tuple[Any, ...]:
    for node in _chain(graph, ("cpu", cpu_index)):
        if graph.nodes[node]["level"] == level:
            return node
    raise ParameterError(
        f"no {level} above CPU {cpu_index} in this machine", what="level", value=level
    )
