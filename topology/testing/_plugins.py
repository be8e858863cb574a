"""Register a plugin object for a while, as if it were installed (for tests).

cputopo finds plugins only through the ``topology.arch`` entry points; this is
the one way to put a plugin object in their place at run time, for a test of a
plugin before it is installed, or of a deliberately altered one.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator

from topology import _registry
from topology._errors import PluginError
from topology.plugin import ArchPlugin

__all__ = ["use_plugin"]


def _forget_loaded_plugins() -> None:
    """Drop what was computed with the plugins loaded so far."""
    # Imported here: the stand-in and the strategies are only needed once used.
    from topology.qemu import _simulator
    from topology.strategies import _machines

    _registry._plugin.cache_clear()
    # Started VMs and drawn machines hold the plugin object they were made with.
    _simulator._STARTED.clear()
    _machines._machine_from_key.cache_clear()
    _machines._probe.cache_clear()


@contextlib.contextmanager
def use_plugin(plugin: object, *, name: str | None = None) -> Iterator[ArchPlugin]:
    """Register ``plugin`` as the architecture plugin ``name`` until the block ends.

    ``name`` defaults to ``plugin.name``. A plugin already registered under that
    name (a built-in one, or one installed through the ``topology.arch`` entry
    points) is out of use meanwhile, and comes back afterwards. A new name goes
    after the registered ones, and a QEMU target goes to the first plugin that
    serves it: to stand in for a registered architecture, take its plugin's
    name. ``plugin`` goes through the load check every plugin passes
    (:class:`topology.PluginError` when it fails, raised here), and the block
    gets it as loaded.

    Not thread-safe: the registry is the process's.

    >>> import topology
    >>> x86 = topology.get_arch("x86")
    >>> class Renamed:
    ...     name = "x86"
    ...     targets = ("x86_64",)
    ...     capabilities = x86.capabilities
    ...     def __getattr__(self, hook):
    ...         return getattr(x86, hook)
    >>> with use_plugin(Renamed()) as loaded:
    ...     topology.get_arch("x86_64") is loaded
    True
    >>> topology.get_arch("x86_64") is x86
    True
    """
    if name is None:
        name = getattr(plugin, "name", None)
        if not isinstance(name, str):
            raise PluginError(
                f"{plugin!r} has no 'name'; pass use_plugin(plugin, name=...)", what="name"
            )
    module = types.ModuleType(f"use_plugin.{name}")
    module.PLUGIN = plugin  # type: ignore[attr-defined]
    registry = _registry._registry()
    before = registry.get(name)
    replaced_module = sys.modules.get(module.__name__)
    sys.modules[module.__name__] = module
    registry[name] = f"{module.__name__}:PLUGIN"
    _forget_loaded_plugins()
    try:
        yield _registry.get_arch(name)  # the load check: PluginError here
    finally:
        if before is None:
            registry.pop(name, None)
        else:
            registry[name] = before
        if replaced_module is None:
            sys.modules.pop(module.__name__, None)
        else:
            sys.modules[module.__name__] = replaced_module
        _forget_loaded_plugins()
