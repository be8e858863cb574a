"""Guest NUMA: what a machine builds from ``-numa``, ``-m`` and the memory backends.

QEMU checks ``-numa`` in stages, stops at the first error, and so does
:meth:`NumaConfig.from_options`:

A. **The command line** (:func:`numa_command_line`): each option's ``id`` must be
   an identifier and unique (``Duplicate ID 'a' for numa``); short-form booleans
   warn. This beats everything else, ``-smp`` errors included.
B. ``-smp`` and ``-m`` (not here).
C. **Each option in command-line order**, completely before the next: its parse
   (:func:`topology.parse_numa`), then the machine's checks (``hw/core/numa.c``
   ``set_numa_options``), all printed as ``-numa TEXT: MESSAGE``. State carries
   over: node ids, ``mem=``/``memdev=`` style, CPU-to-node assignments, so a
   ``dist`` or ``cpu`` naming a node that a *later* option defines fails.
D. **Completion** (``numa_complete_configuration``), no prefix: the automatic
   node (pseries always; others with memory slots or ``maxmem``, as the machine
   type says), ``numa: Node ID missing: N`` (the highest missing id), the total
   memory, a backend used twice, then the distance table.
E. **CPUs** (``machine_numa_finish_cpu_init``): when no option mapped a CPU,
   every slot takes the board's default node (:meth:`ArchPlugin.default_node`);
   otherwise unmapped slots go to node 0 with two warnings. With HMAT, the
   initiators are checked. ARM virt from QEMU 8.1 also warns for every pair of
   CPUs of one socket and cluster on different nodes.

The board's own checks (``-smp`` limits, pseries memory alignment...) follow,
in the plugin's ``check_board``.

Matching of ``-numa cpu`` (``machine_set_cpu_numa_node``): for each slot, a given
property the slot lacks fails (``<name> is not supported``, checked in the order
thread, core, module (9.1+), cluster, socket, die); slots whose given ids differ
are skipped; a matching slot already on another node fails (``CPU is already
assigned to node-id: N``); no match at all fails. ``drawer-id`` and ``book-id``
are never looked at. ``-numa node,cpus=`` maps each CPU index through the slot
that holds it (a whole pseries core).

Where QEMU's behaviour is undefined, cputopo refuses instead (its message then
starts with ``cputopo:``): a negative ``-numa cpu,node-id``, which QEMU uses as
an array index. HMAT's ``initiator`` of 128 or more makes QEMU print an error,
drop the node and carry on; so does the model (the line is a
:class:`QemuWarning` of severity ``"error"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from topology._errors import NumaError, OptionSyntaxError, ParameterError, TopologyError
from topology._model.hmat import HmatTables
from topology._model.slots import CpuSlot
from topology._parse.cint import as_int32
from topology._parse.memory import RamLayout
from topology._parse.numa import (
    NumaCpu,
    NumaDist,
    NumaHmatCache,
    NumaHmatLb,
    NumaNode,
    NumaOption,
    _opt_items,
    parse_numa,
)
from topology._resolve.topology import LEVELS, CpuTopology
from topology._versions import QemuVersion
from topology._versions import qemu_version as _version
from topology._warnings import QemuWarning

if TYPE_CHECKING:
    from topology._resolve.machine import Machine

__all__ = [
    "MAX_NUMA_NODES",
    "NumaBuilder",
    "NumaConfig",
    "NumaFinding",
    "NumaInput",
    "NumaNodeInfo",
    "numa_command_line",
]

#: MAX_NODES: node ids (and HMAT initiators) go up to 127.
MAX_NUMA_NODES: Final = 128

#: An option as given: its text (``"node,nodeid=0"``) or what :func:`parse_numa` made of it.
NumaInput: TypeAlias = str | NumaOption

# The order machine_set_cpu_numa_node checks for props a slot lacks (module-id from 9.1).
_NOT_SUPPORTED: Final = ("thread-id", "core-id", "module-id", "cluster-id", "socket-id", "die-id")
# cpu_slot_to_string: the props in the warning about unmapped CPUs.
_SLOT_STRING_PROPS: Final = (
    "socket-id", "die-id", "cluster-id", "module-id", "core-id", "thread-id",
)  # fmt: skip
# Never looked at by machine_set_cpu_numa_node: they match every slot.
_IGNORED_PROPS: Final = ("drawer-id", "book-id")
_HMAT_DISABLED: Final = (
    "ACPI Heterogeneous Memory Attribute Table (HMAT) is disabled, enable it with "
    "-machine hmat=on before using any of hmat specific options"
)
_UINT64_MAX: Final = 2**64 - 1
_SINGULAR: Final = {
    "sockets": "socket",
    "dies": "die",
    "clusters": "cluster",
    "modules": "module",
    "cores": "core",
}


@attrs.frozen(kw_only=True)
class NumaNodeInfo:
    """One guest NUMA node.

    Attributes:
        node_id: its id (ids are dense: 0 .. n-1).
        memory: its memory in bytes (0 for a memory-less node).
        memdev: the memory backend behind it, or None (legacy ``mem=``, or none).
        initiator: its HMAT initiator node, or None when not set.
    """

    node_id: int
    memory: int = 0
    memdev: str | None = None
    initiator: int | None = None


@attrs.frozen(kw_only=True)
class NumaFinding:
    """cputopo's own warning, which QEMU does not give: one container spans NUMA nodes.

    A core, die, cluster, module or socket whose CPUs sit in different nodes
    confuses guests that expect a node to hold whole containers (Linux
    builds its scheduling domains from both).

    Attributes:
        level: ``"socket"``, ``"die"``, ``"cluster"``, ``"module"`` or ``"core"``.
        ids: the container's position, ``{"socket": 0, "core": 1}``, as ``(name, id)`` pairs.
        cpus: the CPU indexes in it.
        nodes: the nodes those CPUs are on, ascending.
    """

    level: str
    ids: tuple[tuple[str, int], ...]
    cpus: tuple[int, ...]
    nodes: tuple[int, ...]

    def __str__(self) -> str:
        where = ", ".join(f"{name} {number}" for name, number in self.ids)
        nodes = ", ".join(str(node) for node in self.nodes)
        return f"the CPUs of {self.level} [{where}] are split across NUMA nodes {nodes}"


@attrs.frozen(kw_only=True)
class NumaConfig:
    """A machine's guest NUMA layout, as QEMU builds it at start.

    Attributes:
        nodes: every node, by id; empty when the machine has no NUMA (then
            no slot props carry a ``node-id``).
        slot_nodes: the node of every possible-CPU slot, by slot index (empty
            without NUMA).
        distances: the full distance table (``distances[src][dst]``) when any
            ``-numa dist`` was given, else None (QEMU then builds no SLIT).
        auto: whether QEMU made the single node on its own (no ``-numa node``).
        hmat_lb: the (hierarchy, data type) of each HMAT latency/bandwidth
            table ``-numa hmat-lb`` gave (with ``hmat=on``), in order.
        hmat_caches: how many memory-side caches ``-numa hmat-cache`` gave.
        default_mapping: whether every slot took the board's default node
            (no option mapped a CPU).
        warnings: what QEMU warned about from the ``-numa`` checks on, in order
            (command-line warnings are :func:`numa_command_line`'s).
        findings: cputopo's own warnings (:class:`NumaFinding`), which QEMU does
            not print; kept apart from ``warnings``.

    Build it with :meth:`from_options`.

    >>> import topology
    >>> q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
    >>> topo = q35.resolve("4,sockets=2")
    >>> numa = NumaConfig.from_options(
    ...     q35,
    ...     topo,
    ...     q35.arch.possible_slots(q35.board(topo)),
    ...     ["node,memdev=m0", "node,memdev=m1", "cpu,node-id=1,socket-id=0"],
    ...     memory=512 * 2**20,
    ...     memory_backends={"m0": 256 * 2**20, "m1": 256 * 2**20},
    ... )
    >>> numa.slot_nodes
    (1, 1, 0, 0)
    >>> [str(w) for w in numa.warnings][0][:75]
    'warning: CPU(s) not present in any NUMA nodes: CPU 2 [socket-id: 1, core-id'
    """

    nodes: tuple[NumaNodeInfo, ...]
    slot_nodes: tuple[int, ...]
    distances: tuple[tuple[int, ...], ...] | None = None
    auto: bool = False
    default_mapping: bool = True
    hmat_lb: tuple[tuple[str, str], ...] = ()
    hmat_caches: int = 0
    warnings: tuple[QemuWarning, ...] = attrs.field(default=(), eq=False, repr=False)
    findings: tuple[NumaFinding, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def node_memory(self) -> tuple[int, ...]:
        """Each node's memory in bytes, by node id."""
        return tuple(node.memory for node in self.nodes)

    def distance(self, src: int, dst: int) -> int:
        """The distance from node ``src`` to ``dst``: the table's, else 10 local and 20 remote.

        The defaults are what a guest assumes without a SLIT table.
        """
        if self.distances is not None:
            return self.distances[src][dst]
        return 10 if src == dst else 20

    @classmethod
    def from_options(
        cls,
        machine: Machine,
        topology: CpuTopology,
        slots: Sequence[CpuSlot],
        options: Iterable[NumaInput] = (),
        *,
        memory: int | RamLayout | None = None,
        memory_backends: Mapping[str, int] | None = None,
    ) -> NumaConfig:
        """What ``machine`` makes of ``-numa`` ``options`` (in command-line order).

        ``slots`` are the plugin's possible-CPU slots (without node ids),
        ``memory`` the RAM (bytes, or the :class:`RamLayout` of ``-m`` for memory
        slots and ``maxmem``; None is the machine's default RAM), and
        ``memory_backends`` the ``-object memory-backend-*`` sizes by id.

        Without nodes at the end (x86 and ARM without ``-numa`` and memory
        hot-plug), ``nodes`` is empty. Raises QEMU's error
        (:class:`NumaError`, or the :class:`ParameterError` of a bad option),
        with what QEMU warned about before it in ``warnings``.

        >>> import topology
        >>> q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
        >>> topo = q35.resolve("2")
        >>> slots = q35.arch.possible_slots(q35.board(topo))
        >>> NumaConfig.from_options(q35, topo, slots, ["node,nodeid=3"])
        Traceback (most recent call last):
        ...
        topology.NumaError: numa: Node ID missing: 2
        """
        if isinstance(memory, RamLayout):
            ram = memory
        else:
            size = machine.type.default_ram_size if memory is None else memory
            ram = RamLayout(ram_size=size, max_ram_size=size)
        options = (options,) if isinstance(options, str) else tuple(options)
        builder = NumaBuilder(machine, topology, slots, ram, dict(memory_backends or {}))
        try:
            numa_command_line(options, qemu_version=machine.qemu_version)
        except TopologyError as error:
            error.warnings = (*builder.warnings, *error.warnings)
            raise
        for item in options:
            builder.add(item)
        return builder.configuration()


def _is_flag_warning(warning: QemuWarning) -> bool:
    return warning.message.startswith("short-form boolean option ")


def _option_id(text: str) -> str | None:
    # QemuOpts takes the first id, reading every item (the first one too) as key or flag.
    return next((value for name, value, _ in _opt_items(text, None) if name == "id"), None)


def numa_command_line(
    options: Iterable[NumaInput], *, qemu_version: str | QemuVersion | None = None
) -> tuple[QemuWarning, ...]:
    """QEMU's command-line pass over ``-numa`` options: their warnings, or its error.

    Each option's ``id`` must be an identifier, and no two options may share
    one; short-form booleans (``-numa node,mem``) warn. QEMU does this before
    it looks at ``-smp`` or the machine, so these errors come first.

    >>> numa_command_line(["node,id=a", "node,id=a"])
    Traceback (most recent call last):
    ...
    topology.OptionSyntaxError: -numa node,id=a: Duplicate ID 'a' for numa
    >>> [str(w) for w in numa_command_line(["node,mem"])]
    ["-numa node,mem: warning: short-form boolean option 'mem' deprecated"]
    """
    version = _version(qemu_version)
    warnings: list[QemuWarning] = []
    seen: set[str] = set()
    for item in options:
        if isinstance(item, str):
            opts_id = _option_id(item)
            try:
                found = parse_numa(item, qemu_version=version).warnings
            except OptionSyntaxError as bad_id:
                bad_id.warnings = (*warnings, *bad_id.warnings)
                raise
            except ParameterError as refused:
                found = tuple(refused.warnings)  # reported when QEMU reads the option
            if opts_id is not None:
                if opts_id in seen:
                    duplicate = OptionSyntaxError(
                        f"Duplicate ID '{opts_id}' for numa", option="-numa", text=item, what="id"
                    )
                    duplicate.warnings = tuple(warnings)
                    raise duplicate
                seen.add(opts_id)
            where = f"-numa {item}"
        else:
            found, where = item.warnings, f"-numa {item}"
        warnings += (attrs.evolve(w, where=where) for w in found if _is_flag_warning(w))
    return tuple(warnings)


@attrs.define
class _Node:
    memory: int = 0
    memdev: str | None = None
    initiator: int = MAX_NUMA_NODES  # none


class NumaBuilder:
    """QEMU's NumaState while the options are read, one check at a time.

    :meth:`add` is ``set_numa_options`` for one option (``-numa`` or QMP's
    ``set-numa-node``), :meth:`complete` stages D and E. Like QEMU, an option
    refused halfway keeps what it changed before the refusal (the CPUs of a
    ``cpus=`` list mapped before a bad one). Errors carry the warnings not yet
    taken by :meth:`take_warnings`.
    """

    def __init__(
        self,
        machine: Machine,
        topology: CpuTopology,
        slots: Sequence[CpuSlot],
        memory: RamLayout,
        backends: dict[str, int],
    ) -> None:
        self.machine = machine
        self.type = machine.type
        self.version = machine.qemu_version
        self.topology = topology
        self.slots = slots
        self.memory = memory
        self.backends = backends
        self.hmat = machine.options.get("hmat") == "on"
        self.nodes: dict[int, _Node] = {}
        self.initiators: dict[int, int] = {}
        self.has_cpu: set[int] = set()
        self.max_nodeid = 0
        self.have_mem = False
        self.have_memdevs = False
        self.slot_node: list[int | None] = [None] * len(slots)
        self.slot_of_cpu = {cpu: slot.index for slot in slots for cpu in slot.cpu_indexes}
        self.distance: dict[tuple[int, int], int] = {}
        self.hmat_tables = HmatTables()
        self.warnings: list[QemuWarning] = []
        self.where: str | None = None
        self.auto = False
        self._taken = 0

    def take_warnings(self) -> list[QemuWarning]:
        """The warnings gathered since the last call."""
        new = self.warnings[self._taken :]
        self._taken = len(self.warnings)
        return new

    def add(self, item: NumaInput, *, named: bool = True) -> None:
        """One option, in stage C; ``named``: QEMU's messages name the option
        (``-numa TEXT:``), as for the command line but not for QMP."""
        try:
            self.option(item, named=named)
        except TopologyError as error:
            error.warnings = (*self.warnings[self._taken :], *error.warnings)
            raise

    def configuration(self) -> NumaConfig:
        """Stages D and E: the configuration."""
        try:
            return self.finish()
        except TopologyError as error:
            error.warnings = (*self.warnings[self._taken :], *error.warnings)
            raise

    def assigned(self) -> dict[int, int]:
        """The node of each slot mapped so far, by slot index."""
        return {index: node for index, node in enumerate(self.slot_node) if node is not None}

    # -- stage C ------------------------------------------------------------------

    def fail(self, reason: str, what: str | None = None, value: object = None) -> NumaError:
        return NumaError(reason, option=self.where, what=what, value=value)

    def option(self, item: NumaInput, *, named: bool = True) -> None:
        if isinstance(item, str):
            self.where = f"-numa {item}"
            try:
                option = parse_numa(item, qemu_version=self.version)
            except ParameterError as error:
                error.warnings = tuple(self._late(error.warnings))
                raise
        else:
            option = item
            # QMP's set-numa-node has no option text for QEMU to name.
            self.where = f"-numa {item}" if named else None
        self.warnings += self._late(option.warnings)
        if not self.type.numa:
            raise self.fail("NUMA is not supported by this machine-type", "numa")
        if isinstance(option, NumaNode):
            self.node(option)
        elif isinstance(option, NumaDist):
            self.dist(option)
        elif isinstance(option, NumaCpu):
            self.cpu(option)
        elif not self.hmat:
            raise self.fail(_HMAT_DISABLED, "hmat")
        elif isinstance(option, NumaHmatLb):
            self.hmat_lb_option(option)
        else:
            self.hmat_cache_option(option)

    def _late(self, found: Iterable[QemuWarning]) -> list[QemuWarning]:
        """The parse's warnings after the command-line pass (hex sizes), with their option."""
        return [attrs.evolve(w, where=self.where) for w in found if not _is_flag_warning(w)]

    def node(self, option: NumaNode) -> None:
        nodenr = len(self.nodes) if option.nodeid is None else option.nodeid
        if nodenr >= MAX_NUMA_NODES:
            raise self.fail(f"Max number of NUMA nodes reached: {nodenr}", "nodeid", nodenr)
        if nodenr in self.nodes:
            raise self.fail(f"Duplicate NUMA nodeid: {nodenr}", "nodeid", nodenr)
        node = _Node()
        self.initiators[nodenr] = MAX_NUMA_NODES
        if option.initiator is not None:
            if not self.hmat:
                raise self.fail(_HMAT_DISABLED, "initiator")
            if option.initiator >= MAX_NUMA_NODES:
                # QEMU reports this as an error, but then drops the node and goes on.
                self.warnings.append(
                    QemuWarning(
                        message=f"The initiator id {option.initiator} expects an integer "
                        f"between 0 and {MAX_NUMA_NODES - 1}",
                        what="initiator",
                        where=self.where,
                        severity="error",
                    )
                )
                return
            self.initiators[nodenr] = option.initiator
        for cpu in option.cpus:
            if cpu >= self.topology.max_cpus:
                raise self.fail(
                    f"CPU index ({cpu}) should be smaller than maxcpus "
                    f"({as_int32(self.topology.max_cpus)})",
                    "cpus",
                    cpu,
                )
            # cpu_index_to_instance_props: the slot holding that CPU (a whole pseries core).
            self.assign(self.slot_of_cpu[cpu], nodenr)
        self.have_memdevs = self.have_memdevs or option.memdev is not None
        self.have_mem = self.have_mem or option.mem is not None
        if (option.mem is not None and self.have_memdevs) or (
            option.memdev is not None and self.have_mem
        ):
            raise self.fail(
                "numa configuration should use either mem= or memdev=,mixing both is not allowed",
                "mem",
            )
        if option.mem is not None:
            if not self.type.numa_mem:
                error = self.fail(
                    "Parameter -numa node,mem is not supported by this machine type", "mem"
                )
                error.hint = "Use -numa node,memdev instead"
                raise error
            node.memory = option.mem
            self.warnings.append(
                QemuWarning(
                    message="Parameter -numa node,mem is deprecated, use -numa node,memdev instead",
                    what="mem",
                    where=self.where,
                )
            )
        if option.memdev is not None:
            if option.memdev not in self.backends:
                raise self.fail(f"memdev={option.memdev} is ambiguous", "memdev", option.memdev)
            node.memory = self.backends[option.memdev]
            node.memdev = option.memdev
        node.initiator = self.initiators[nodenr]
        self.nodes[nodenr] = node
        self.max_nodeid = max(self.max_nodeid, nodenr + 1)

    def dist(self, option: NumaDist) -> None:
        src, dst, val = option.src, option.dst, option.val
        if src >= MAX_NUMA_NODES or dst >= MAX_NUMA_NODES:
            name = "src" if src >= MAX_NUMA_NODES else "dst"
            raise self.fail(
                f"Parameter '{name}' expects an integer between 0 and {MAX_NUMA_NODES - 1}", name
            )
        if src not in self.nodes or dst not in self.nodes:
            raise self.fail(
                "Source/Destination NUMA node is missing. Please use '-numa node' option to "
                "declare it first.",
                "src" if src not in self.nodes else "dst",
            )
        if val < 10:
            raise self.fail(
                f"NUMA distance ({val}) is invalid, it shouldn't be less than 10.", "val", val
            )
        if src == dst and val != 10:
            raise self.fail(f"Local distance of node {src} should be 10.", "val", val)
        self.distance[src, dst] = val

    def cpu(self, option: NumaCpu) -> None:
        node_id = option.node_id
        if node_id is None:
            raise self.fail("Missing mandatory node-id property", "node-id")
        if node_id < 0:
            raise self.fail(
                f"cputopo: node-id={node_id} is negative; QEMU reads outside its node table "
                "here (undefined behaviour)",
                "node-id",
                node_id,
            )
        if node_id not in self.nodes:
            raise self.fail(
                f"Invalid node-id={node_id}, NUMA node must be defined with -numa node,nodeid=ID "
                "before it's used with -numa cpu,node-id=ID",
                "node-id",
                node_id,
            )
        props = {name: value for name, value in option.props if name not in _IGNORED_PROPS}
        self.map_cpus(props, node_id)

    def map_cpus(self, props: Mapping[str, int], node_id: int) -> None:
        """``machine_set_cpu_numa_node``: every slot that ``props`` fits goes to ``node_id``."""
        matched = False
        for slot in self.slots:
            for name in _NOT_SUPPORTED:  # module-id is refused by the parse before 9.1
                if name in props and slot.props.get(name) is None:
                    raise self.fail(f"{name} is not supported", name)
            if any(slot.props.get(name) != value for name, value in props.items()):
                continue
            self.assign(slot.index, node_id)
            matched = True
        if not matched:
            raise self.fail("no match found", "props")

    def assign(self, slot_index: int, node_id: int) -> None:
        """One matched slot of ``machine_set_cpu_numa_node``.

        A slot's own props match only that slot, so ``cpus=`` and the final
        default mapping come straight here instead of scanning every slot.
        """
        current = self.slot_node[slot_index]
        if current is not None and current != node_id:
            raise self.fail(f"CPU is already assigned to node-id: {current}", "node-id")
        self.slot_node[slot_index] = node_id
        if self.hmat:
            initiator = self.initiators.get(node_id, MAX_NUMA_NODES)
            if initiator < MAX_NUMA_NODES and initiator != node_id:
                raise self.fail(
                    f"The initiator of CPU NUMA node {node_id} should be itself (got {initiator})",
                    "initiator",
                )
            self.has_cpu.add(node_id)
            self.initiators[node_id] = node_id
            if node_id in self.nodes:
                self.nodes[node_id].initiator = node_id

    def hmat_lb_option(self, option: NumaHmatLb) -> None:
        reason = self.hmat_tables.add_lb(option, present=self.nodes, initiators=self.has_cpu)
        if reason is not None:
            raise self.fail(reason, "hmat-lb")

    def hmat_cache_option(self, option: NumaHmatCache) -> None:
        reason = self.hmat_tables.add_cache(option, node_count=len(self.nodes))
        if reason is not None:
            raise self.fail(reason, "hmat-cache")

    # -- stages D and E -------------------------------------------------------------

    def finish(self) -> NumaConfig:
        self.where = None  # QEMU names no option from here on
        self.complete()
        if not self.nodes:
            return NumaConfig(nodes=(), slot_nodes=(), warnings=tuple(self.warnings))
        default_mapping = all(node is None for node in self.slot_node)
        unmapped: list[str] = []
        for slot in self.slots:
            if self.slot_node[slot.index] is not None:
                continue
            if default_mapping:
                node = self.machine.arch.default_node(
                    self.machine.board(self.topology), slot, len(self.nodes)
                )
            else:
                unmapped.append(f"CPU {slot.index} [{_slot_string(slot)}]")
                node = 0  # the old fallback, with a warning
            self.assign(slot.index, node)
        if self.hmat:
            self.validate_initiators()
        if unmapped:
            self.warnings += [
                QemuWarning(
                    message=f"CPU(s) not present in any NUMA nodes: {', '.join(unmapped)}",
                    what="numa",
                ),
                QemuWarning(
                    message="All CPU(s) up to maxcpus should be described in NUMA config, "
                    "ability to start up with partial NUMA mappings is obsoleted and will be "
                    "removed in future",
                    what="numa",
                ),
            ]
        slot_nodes = tuple(node for node in self.slot_node if node is not None)
        assert len(slot_nodes) == len(self.slots)
        if self.type.numa_cluster_boundary:
            self.warnings += _cluster_boundary_warnings(self.slots, slot_nodes, len(self.nodes))
        return NumaConfig(
            nodes=tuple(
                NumaNodeInfo(
                    node_id=node_id,
                    memory=node.memory,
                    memdev=node.memdev,
                    initiator=None if node.initiator >= MAX_NUMA_NODES else node.initiator,
                )
                for node_id, node in sorted(self.nodes.items())
            ),
            slot_nodes=slot_nodes,
            distances=self.distance_table(),
            auto=self.auto,
            default_mapping=default_mapping,
            hmat_lb=self.hmat_tables.lb_kinds,
            hmat_caches=self.hmat_tables.cache_count,
            warnings=tuple(self.warnings),
            findings=_findings(self.topology, self.slots, slot_nodes),
        )

    def complete(self) -> None:
        """``numa_complete_configuration``."""
        ram = self.memory
        if (
            self.type.numa
            and not self.nodes
            and (
                (ram.slots and self.type.auto_numa_with_memhp)
                or (ram.max_ram_size > ram.ram_size and self.type.auto_numa_with_memdev)
                or self.type.auto_numa
            )
        ):
            self.nodes[0] = _Node(memory=ram.ram_size)
            self.initiators[0] = MAX_NUMA_NODES
            self.max_nodeid = 1
            self.auto = True
        # The highest missing id first, "to make mistakes easier to spot".
        for node_id in range(self.max_nodeid - 1, -1, -1):
            if node_id not in self.nodes:
                raise NumaError(f"numa: Node ID missing: {node_id}", what="nodeid", value=node_id)
        if not self.nodes:
            return
        total = sum(node.memory for node in self.nodes.values()) & _UINT64_MAX
        if total != ram.ram_size:
            raise NumaError(
                f"total memory for NUMA nodes (0x{total:x}) should equal RAM size "
                f"(0x{ram.ram_size:x})",
                what="memory",
                value=total,
            )
        if self.have_memdevs:
            used: set[str] = set()
            for node_id in sorted(self.nodes):
                memdev = self.nodes[node_id].memdev
                if memdev is None:
                    continue
                if memdev in used:
                    raise NumaError(
                        f"memory backend {memdev} can't be used multiple times.",
                        what="memdev",
                        value=memdev,
                    )
                used.add(memdev)
        if self.distance:
            self.validate_distances()

    def validate_distances(self) -> None:
        count = len(self.nodes)
        asymmetric = False
        for src in range(count):
            for dst in range(src, count):
                there, back = self.distance.get((src, dst)), self.distance.get((dst, src))
                if there is None and back is None and src != dst:
                    raise NumaError(
                        f"The distance between node {src} and {dst} is missing, at least one "
                        "distance value between each nodes should be provided.",
                        what="dist",
                    )
                if there is not None and back is not None and there != back:
                    asymmetric = True
        if asymmetric:
            for src in range(count):
                for dst in range(count):
                    if src != dst and (src, dst) not in self.distance:
                        raise NumaError(
                            "At least one asymmetrical pair of distances is given, please "
                            "provide distances for both directions of all node pairs.",
                            what="dist",
                        )

    def distance_table(self) -> tuple[tuple[int, ...], ...] | None:
        if not self.distance:
            return None
        count = len(self.nodes)

        def value(src: int, dst: int) -> int:
            if (src, dst) in self.distance:
                return self.distance[src, dst]
            return 10 if src == dst else self.distance[dst, src]

        return tuple(tuple(value(src, dst) for dst in range(count)) for src in range(count))

    def validate_initiators(self) -> None:
        """``numa_validate_initiator`` (``-machine hmat=on``)."""
        for node_id in range(len(self.nodes)):
            initiator = self.initiators.get(node_id, MAX_NUMA_NODES)
            if initiator >= MAX_NUMA_NODES:
                continue
            if initiator not in self.nodes:
                raise NumaError(
                    f"NUMA node {initiator} is missing, use '-numa node' option to declare it "
                    "first",
                    what="initiator",
                    value=initiator,
                )
            if initiator not in self.has_cpu:
                raise NumaError(
                    f"The initiator of NUMA node {node_id} is invalid",
                    what="initiator",
                    value=initiator,
                )


def _slot_string(slot: CpuSlot) -> str:
    """``cpu_slot_to_string``."""
    props = slot.props
    return ", ".join(
        f"{name}: {value}" for name in _SLOT_STRING_PROPS if (value := props.get(name)) is not None
    )


def _cluster_boundary_warnings(
    slots: Sequence[CpuSlot], slot_nodes: tuple[int, ...], count: int
) -> list[QemuWarning]:
    """``validate_cpu_cluster_to_numa_boundary``: one warning per pair of slots."""
    if count <= 1 or len(slots) <= 1:
        return []
    found = []
    for i, first in enumerate(slots):
        socket, cluster = first.props.socket_id, first.props.cluster_id
        if socket is None or cluster is None:
            continue
        for j in range(i + 1, len(slots)):
            second = slots[j]
            if (
                second.props.socket_id == socket
                and second.props.cluster_id == cluster
                and slot_nodes[i] != slot_nodes[j]
            ):
                found.append(
                    QemuWarning(
                        message=f"CPU-{i} and CPU-{j} in socket-{socket}-cluster-{cluster} have "
                        f"been associated with node-{slot_nodes[i]} and node-{slot_nodes[j]} "
                        "respectively. It can cause OSes like Linux to misbehave",
                        what="numa",
                    )
                )
    return found


def _findings(
    topology: CpuTopology, slots: Sequence[CpuSlot], slot_nodes: tuple[int, ...]
) -> tuple[NumaFinding, ...]:
    """Containers whose CPUs are on more than one node, level by level from the socket.

    Levels of one unit per parent are left out (a die of a one-die socket is
    the socket itself), and so are cores of one thread.
    """
    if len(set(slot_nodes)) <= 1:
        return ()
    path_levels = [
        level
        for level in ("sockets", "dies", "clusters", "modules", "cores")
        if level in ("sockets", "cores") or getattr(topology, level) > 1
    ]
    if topology.threads == 1:
        path_levels.remove("cores")
    cpus = [
        (cpu, node)
        for slot, node in zip(slots, slot_nodes, strict=True)
        for cpu in slot.cpu_indexes
    ]
    found = []
    for level in path_levels:
        # A container's CPUs are consecutive: its index is cpu // (CPUs per container).
        size = 1
        for below in LEVELS[LEVELS.index(level) + 1 :]:
            size *= getattr(topology, below)
        groups: dict[int, list[tuple[int, int]]] = {}
        for cpu, node in cpus:
            groups.setdefault(cpu // size, []).append((cpu, node))
        for members in groups.values():
            nodes = sorted({node for _, node in members})
            if len(nodes) > 1:
                ids = _cpu_ids(topology, members[0][0])
                path = tuple(
                    (_SINGULAR[name], ids[name])
                    for name in path_levels[: path_levels.index(level) + 1]
                )
                found.append(
                    NumaFinding(
                        level=_SINGULAR[level],
                        ids=path,
                        cpus=tuple(sorted(cpu for cpu, _ in members)),
                        nodes=tuple(nodes),
                    )
                )
    return tuple(found)


def _cpu_ids(topology: CpuTopology, cpu_index: int) -> dict[str, int]:
    ids: dict[str, int] = {}
    remaining = cpu_index
    for level in reversed(LEVELS):
        count = getattr(topology, level)
        ids[level] = remaining % count
        remaining //= count
    return ids
