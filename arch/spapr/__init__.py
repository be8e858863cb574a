"""The pseries (sPAPR, ``qemu-system-ppc64``) plugin: machine types and boot checks."""

from __future__ import annotations

from ._plugin import PLUGIN, SpaprPlugin

__all__ = ["PLUGIN", "SpaprPlugin"]
