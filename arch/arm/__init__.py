"""The ARM ``virt`` (``qemu-system-aarch64``) plugin: machine types and boot checks."""

from __future__ import annotations

from ._plugin import PLUGIN, ArmPlugin

__all__ = ["PLUGIN", "ArmPlugin"]
