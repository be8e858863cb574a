"""The s390x (``qemu-system-s390x``) plugin: machine types and boot checks."""

from __future__ import annotations

from ._plugin import PLUGIN, S390xPlugin

__all__ = ["PLUGIN", "S390xPlugin"]
