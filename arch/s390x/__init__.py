"""The s390x (``qemu-system-s390x``) plugin, the topology facility, STSI and the LPAR profile.

See ``docs/explanation/s390x.md``.
"""

from __future__ import annotations

from arch.s390x._facility import (
    CommandNotFound,
    CpuPlacement,
    Entitlement,
    Polarization,
    TopologyState,
    cpu_placements,
    default_placement,
    guest_reset,
    guest_set_polarization,
    has_topology,
    placement_of,
    qmp_commands,
    topology_state,
)
from arch.s390x._identity import CpuIdentity, cpu_identities, lpar_identities
from arch.s390x._lpar import LparCore, LparCpu, LparError, LparProfile
from arch.s390x._plugin import PLUGIN, S390xPlugin
from arch.s390x._stsi import (
    ContainerEntry,
    CpuEntry,
    Sysib151,
    build_sysib,
    entries_text,
    stsi_15_1,
)

__all__ = [
    "PLUGIN",
    "CommandNotFound",
    "ContainerEntry",
    "CpuEntry",
    "CpuIdentity",
    "CpuPlacement",
    "Entitlement",
    "LparCore",
    "LparCpu",
    "LparError",
    "LparProfile",
    "Polarization",
    "S390xPlugin",
    "Sysib151",
    "TopologyState",
    "build_sysib",
    "cpu_identities",
    "cpu_placements",
    "default_placement",
    "entries_text",
    "guest_reset",
    "guest_set_polarization",
    "has_topology",
    "lpar_identities",
    "placement_of",
    "qmp_commands",
    "stsi_15_1",
    "topology_state",
]
