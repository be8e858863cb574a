"""The pseries (sPAPR, ``qemu-system-ppc64``) plugin: machine types and boot checks."""

from __future__ import annotations

from arch.spapr._identity import (
    CoreIdentity,
    chip_id,
    core_identities,
    drc_index,
    drc_name,
    max_server_number,
    vcpu_id,
)
from arch.spapr._plugin import PLUGIN, SpaprPlugin

__all__ = [
    "PLUGIN",
    "CoreIdentity",
    "SpaprPlugin",
    "chip_id",
    "core_identities",
    "drc_index",
    "drc_name",
    "max_server_number",
    "vcpu_id",
]
