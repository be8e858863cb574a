"""cputopo: QEMU guest CPU topologies and CPU hot-plug, answered in-process.

The public API lives here; modules whose names start with ``_`` are private.

General layout, in the order data flows through it:

* ``_parse``: option texts (``-smp``, ``-numa``, ``-m``) read as QEMU reads them;
* ``_resolve``: machine types per release and the ``-smp`` fill-in;
* ``_model``: the VM (slots, hot-plug state, NUMA), QEMU's start order, the graph;
* ``_views``: the model as QMP and HMP show it;
* ``abi``: comparing VMs, migration plans, upgrades, model files (public);
* ``qemu``: the stand-in that answers a QEMU command line and QMP (public);
* ``strategies`` and ``testing``: Hypothesis strategies and a test kit (public);
* ``plugin``: what an architecture plugin is given and returns (public);
  ``_registry`` finds plugins through the ``topology.arch`` entry points;
* ``_cli``: the ``cputopo`` command.

>>> import topology
>>> topo = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2").resolve("8,sockets=2")
>>> topo.sockets, topo.cores, topo.threads, topo.max_cpus
(2, 4, 1, 8)
"""

from __future__ import annotations

import types as _types

from topology._errors import (
    BoardError,
    CpuCountError,
    DeviceTypeError,
    GlibAssertion,
    HelpRequested,
    InvalidTopologyError,
    ModelFileError,
    NumaError,
    OptionSyntaxError,
    ParameterError,
    PluginError,
    QemuAbortError,
    TcgContextsExhaustedError,
    TopologyError,
    UnknownArchError,
    UnknownMachineError,
    UnsupportedVersionError,
)
from topology._model.graph import (
    cpu_ids,
    cpus_of_node,
    lowest_shared_level,
    siblings,
    topology_graph,
)
from topology._model.numa import (
    MAX_NUMA_NODES,
    NumaConfig,
    NumaFinding,
    NumaInput,
    NumaNodeInfo,
    numa_command_line,
)
from topology._model.slots import CpuSlot, SlotProps
from topology._model.vm import (
    DeviceNotFound,
    GuestPolicy,
    PlugOrigin,
    SlotState,
    UnplugResult,
    VirtualMachine,
)
from topology._parse.memory import MemoryConfig, RamLayout, parse_memory
from topology._parse.numa import (
    NumaCpu,
    NumaDist,
    NumaHmatCache,
    NumaHmatLb,
    NumaNode,
    NumaOption,
    numa_cpu_members,
    parse_numa,
)
from topology._parse.smp import SMP_MEMBERS, SmpConfig, parse_smp
from topology._registry import arch_names, get_arch
from topology._resolve.machine import Machine, MachineType, machine, machine_types
from topology._resolve.smp import resolve_smp
from topology._resolve.smp_rules import SmpRules
from topology._resolve.topology import LEVELS, OPTIONAL_LEVELS, CpuTopology
from topology._versions import NEWEST_QEMU, SUPPORTED_QEMU_VERSIONS, QemuVersion, qemu_version
from topology._views.qmp import hmp_info_hotpluggable_cpus, query_cpus_fast, query_hotpluggable_cpus
from topology._warnings import QemuWarning
from topology.plugin import ArchPlugin, VmView

__all__ = [
    "LEVELS",
    "MAX_NUMA_NODES",
    "NEWEST_QEMU",
    "OPTIONAL_LEVELS",
    "SMP_MEMBERS",
    "SUPPORTED_QEMU_VERSIONS",
    "ArchPlugin",
    "BoardError",
    "CpuCountError",
    "CpuSlot",
    "CpuTopology",
    "DeviceNotFound",
    "DeviceTypeError",
    "GlibAssertion",
    "GuestPolicy",
    "HelpRequested",
    "InvalidTopologyError",
    "Machine",
    "MachineType",
    "MemoryConfig",
    "ModelFileError",
    "NumaConfig",
    "NumaCpu",
    "NumaDist",
    "NumaError",
    "NumaFinding",
    "NumaHmatCache",
    "NumaHmatLb",
    "NumaInput",
    "NumaNode",
    "NumaNodeInfo",
    "NumaOption",
    "OptionSyntaxError",
    "ParameterError",
    "PlugOrigin",
    "PluginError",
    "QemuAbortError",
    "QemuVersion",
    "QemuWarning",
    "RamLayout",
    "SlotProps",
    "SlotState",
    "SmpConfig",
    "SmpRules",
    "TcgContextsExhaustedError",
    "TopologyError",
    "UnknownArchError",
    "UnknownMachineError",
    "UnplugResult",
    "UnsupportedVersionError",
    "VirtualMachine",
    "VmView",
    "arch_names",
    "cpu_ids",
    "cpus_of_node",
    "get_arch",
    "hmp_info_hotpluggable_cpus",
    "lowest_shared_level",
    "machine",
    "machine_types",
    "numa_command_line",
    "numa_cpu_members",
    "parse_memory",
    "parse_numa",
    "parse_smp",
    "qemu_version",
    "query_cpus_fast",
    "query_hotpluggable_cpus",
    "resolve_smp",
    "siblings",
    "topology_graph",
]

# Show public names as topology.X in reprs, tracebacks and pickles; their
# methods follow, so that doctest also finds the examples in their docstrings.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        _obj.__module__ = __name__
    if isinstance(_obj, type):
        for _member in vars(_obj).values():
            _function = getattr(_member, "__func__", getattr(_member, "fget", _member))
            if isinstance(_function, _types.FunctionType):
                _function.__module__ = __name__
del _name, _obj, _member, _function
