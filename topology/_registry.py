"""Where architecture plugins are found, and the check each passes when it loads.

The plugin interface itself is public, in :mod:`topology.plugin`. The built-in
plugins (``arch.x86``, ``arch.spapr``, ``arch.s390x``, ``arch.arm``) register in
the entry-point group like any other, and are also listed here so that a bare
source checkout works before the package is installed.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

import attrs

from topology._errors import PluginError, UnknownArchError

if TYPE_CHECKING:
    from topology._warnings import QemuWarning
    from topology.plugin import ArchPlugin, BoardContext, QmpAsk, QmpCommand, VmView

__all__ = ["ENTRY_POINT_GROUP", "PluginHooks", "arch_names", "get_arch", "hooks", "plugin_names"]

#: The entry-point group plugins register in.
ENTRY_POINT_GROUP: Final = "topology.arch"

_BUILTIN: Final = {
    "x86": "arch.x86:PLUGIN",
    "spapr": "arch.spapr:PLUGIN",
    "s390x": "arch.s390x:PLUGIN",
    "arm": "arch.arm:PLUGIN",
}
#: The QEMU targets of the built-in plugins (each plugin's ``targets``; a unit
#: test keeps them equal), so that finding one loads neither the entry points
#: nor the plugins listed before it.
_BUILTIN_TARGETS: Final = {
    "x86_64": "x86",
    "ppc64": "spapr",
    "s390x": "s390x",
    "aarch64": "arm",
}


def _positional_names(function: Callable[..., object], *, bound: bool) -> list[str] | None:
    """The names of ``function``'s parameters, or None when it takes ``*args``."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None
    if not bound:
        parameters = parameters[1:]  # self, in the Protocol's method
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    return [p.name for p in parameters if p.kind is not p.VAR_KEYWORD]


def _verify(name: str, target: str, plugin: object) -> None:
    """Refuse a plugin whose members do not match :mod:`topology.plugin`, as pluggy
    checks a hook implementation against its spec."""
    from topology import plugin as spec

    def refuse(problem: str, hook: str | None = None) -> PluginError:
        return PluginError(
            f"architecture plugin '{name}' ({target}): {problem}", what=name, where=hook or target
        )

    for attribute in ("name", "targets", "capabilities"):
        if not hasattr(plugin, attribute):
            raise refuse(f"lacks '{attribute}'", attribute)
    targets = plugin.targets  # type: ignore[attr-defined]
    if not (isinstance(targets, tuple) and targets and all(isinstance(t, str) for t in targets)):
        raise refuse("'targets' must be a non-empty tuple of QEMU target names", "targets")
    capabilities = plugin.capabilities  # type: ignore[attr-defined]
    if not isinstance(capabilities, frozenset):
        raise refuse("'capabilities' must be a frozenset of optional hook names", "capabilities")
    unknown = sorted(capabilities - set(spec.OPTIONAL_HOOKS))
    if unknown:
        raise refuse(
            f"'capabilities' names unknown hooks {unknown}; optional hooks are "
            f"{', '.join(spec.OPTIONAL_HOOKS)}",
            "capabilities",
        )
    undeclared = [h for h in spec.OPTIONAL_HOOKS if hasattr(plugin, h) and h not in capabilities]
    if undeclared:
        raise refuse(f"defines {', '.join(undeclared)} without declaring it in 'capabilities'")
    checks: list[tuple[str, type]] = [(h, spec.ArchPlugin) for h in spec.REQUIRED_HOOKS]
    checks += [(h, spec.OptionalHooks) for h in spec.OPTIONAL_HOOKS if h in capabilities]
    for hook, protocol in checks:
        implementation = getattr(plugin, hook, None)
        if implementation is None:
            raise refuse(f"lacks the hook '{hook}'", hook)
        if not callable(implementation):
            raise refuse(f"'{hook}' is not callable", hook)
        wanted = _positional_names(getattr(protocol, hook), bound=False)
        found = _positional_names(implementation, bound=True)
        if found is not None and found != wanted:
            raise refuse(
                f"hook '{hook}' takes ({', '.join(found)}), but topology.plugin "
                f"calls it with ({', '.join(wanted or [])})",
                hook,
            )


def _load(name: str, target: str) -> ArchPlugin:
    module_name, _, attribute = target.partition(":")
    try:
        plugin = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:
        raise PluginError(
            f"architecture plugin '{name}' ({target}) failed to load: {error}",
            what=name,
            where=target,
        ) from error
    _verify(name, target, plugin)
    return plugin  # type: ignore[no-any-return]


def _optional(plugin: ArchPlugin, hook: str) -> Any:
    return getattr(plugin, hook) if hook in plugin.capabilities else None


@attrs.frozen
class PluginHooks:
    """A loaded plugin's optional hooks, typed; None where the plugin has none."""

    check_machine_options: Callable[[BoardContext], None] | None
    check_driver: Callable[[BoardContext, str], None] | None
    check_reset: Callable[[BoardContext], Sequence[QemuWarning]] | None
    qmp_commands: Callable[[BoardContext], Mapping[str, QmpCommand]] | None
    qom_links: Callable[[BoardContext], Mapping[str, str]] | None
    reset_unplugs: Callable[[VmView], Sequence[int]] | None
    deleted_devices: Callable[[VmView, int], Sequence[Mapping[str, object]]] | None
    unplug_rejected: Callable[[VmView, int], Sequence[tuple[str, Mapping[str, object]]]] | None
    child_devices: Callable[[VmView, int], Mapping[str, str]] | None
    cpu_identity: Callable[[VmView, int], Mapping[str, object]] | None
    plug_props: Callable[[VmView, int], Mapping[str, object]] | None
    sync_live: Callable[[VmView, QmpAsk], None] | None
    plug_warnings: Callable[[VmView, int], Sequence[QemuWarning]] | None


def hooks(plugin: ArchPlugin) -> PluginHooks:
    """The optional hooks of ``plugin``, for the core to call."""
    found: PluginHooks = _hooks(cast(Hashable, plugin))
    return found


@functools.cache
def _hooks(plugin: Any) -> PluginHooks:
    return PluginHooks(
        **{field.name: _optional(plugin, field.name) for field in attrs.fields(PluginHooks)}
    )


@functools.cache
def _registry() -> dict[str, str]:
    # importlib.metadata costs more than all of a stand-in process's own work:
    # imported only when a name is not a built-in one (or the list is asked for).
    from importlib import metadata

    found = dict(_BUILTIN)
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found and found[entry.name] != entry.value:
            warnings.warn(
                f"architecture plugin '{entry.name}' is registered twice "
                f"({found[entry.name]} and {entry.value}); using {found[entry.name]}",
                stacklevel=2,
            )
            continue
        found[entry.name] = entry.value
    return found


@functools.cache
def _plugin(name: str) -> ArchPlugin:
    return _load(name, _registry()[name])


def _builtin_plugin(name: str) -> ArchPlugin | None:
    """The built-in plugin for a built-in plugin name or target, found without the
    entry points; None when the registry has been read (and perhaps changed since:
    :func:`topology.testing.use_plugin`) or ``name`` is not built in."""
    if _registry.cache_info().currsize:
        return None
    plugin_name = name if name in _BUILTIN else _BUILTIN_TARGETS.get(name)
    if plugin_name is None:
        return None
    # Before the registry is read it is the built-in plugins, then the entry
    # points, which cannot displace a built-in one: the answer is the same.
    return _builtin_loaded(plugin_name)


@functools.cache
def _builtin_loaded(name: str) -> ArchPlugin:
    return _load(name, _BUILTIN[name])


def plugin_names() -> list[str]:
    """The registered plugins' names, the built-in ones first."""
    return list(_registry())


def arch_names() -> list[str]:
    """Every name :func:`get_arch` accepts: plugin names and QEMU target names.

    >>> "x86_64" in arch_names() and "ppc64" in arch_names()
    True
    """
    names: set[str] = set()
    for name in _registry():
        names.add(name)
        names.update(_plugin(name).targets)
    return sorted(names)


def get_arch(name: str) -> ArchPlugin:
    """The plugin for an architecture, by plugin name (``spapr``) or QEMU target (``ppc64``).

    >>> get_arch("ppc64").name
    'spapr'
    >>> get_arch("x86-64")
    Traceback (most recent call last):
    ...
    topology.UnknownArchError: unknown architecture 'x86-64'; did you mean 'x86_64'?
    """
    builtin = _builtin_plugin(name)
    if builtin is not None:
        return builtin
    registry = _registry()
    if name in registry:
        return _plugin(name)
    for plugin_name in registry:
        plugin = _plugin(plugin_name)
        if name in plugin.targets:
            return plugin
    import difflib  # only for a name that is no architecture's

    candidates = arch_names()
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(candidates)}"
    raise UnknownArchError(f"unknown architecture '{name}'{hint}", what=name)
