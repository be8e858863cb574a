"""The x86 (``qemu-system-x86_64``) plugin: PC machine types and their boot checks."""

from __future__ import annotations

from ._plugin import PLUGIN, X86Plugin

__all__ = ["PLUGIN", "X86Plugin"]
