"""The compat rules every versioned machine type follows, in one table.

QEMU keeps what changed between releases in ``hw_compat_X_Y`` arrays and in
each board's ``*_machine_X_Y_options`` functions. Some of those settings are
made by every board the same way; they live here, once, and
:func:`versioned_machine_type` applies them. What only one board does stays in
its plugin.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from topology._resolve.machine import MachineType
from topology._resolve.machine_releases import (
    AGE_DEPRECATION_REASON,
    deprecated_by_age,
    release_key,
)
from topology._versions import QemuVersion

__all__ = ["COMPAT_RULES", "CompatRule", "versioned_machine_type"]


@attrs.frozen(kw_only=True)
class CompatRule:
    """A :class:`~topology.MachineType` field that machine types up to ``until`` set to ``old``.

    ``only_with`` names a field that must be true for the rule to apply (a board
    without NUMA has no NUMA compat setting).
    """

    field: str
    until: str
    old: object
    only_with: str | None = None
    source: str


COMPAT_RULES: Final = (
    CompatRule(
        field="prefer_sockets",
        until="6.1",
        old=True,
        source="smp_props.prefer_sockets in the pc, virt, pseries and s390-ccw 6.1 options",
    ),
    CompatRule(
        field="numa_mem",
        until="5.0",
        old=True,
        only_with="numa",
        source="numa_mem_supported in the pc, virt and pseries 5.0 options",
    ),
)


def versioned_machine_type(
    name: str, *, release: str, version: QemuVersion, **fields: Any
) -> MachineType:
    """The machine type ``name`` of machine-type release ``release`` in QEMU ``version``.

    The compat rules of :data:`COMPAT_RULES` and the deprecation by age apply
    unless ``fields`` sets the field itself.

    >>> old = versioned_machine_type(
    ...     "pc-q35-6.1", release="6.1", version=QemuVersion(9, 1),
    ...     max_cpus=288, default_cpu="qemu64", numa=True,
    ... )
    >>> old.prefer_sockets, old.numa_mem, old.deprecated
    (True, False, True)
    """
    values: dict[str, Any] = {}
    key = release_key(release)
    for rule in COMPAT_RULES:
        if key <= release_key(rule.until) and (
            rule.only_with is None or fields.get(rule.only_with)
        ):
            values[rule.field] = rule.old
    if deprecated_by_age(release, version):
        values["deprecation_reason"] = AGE_DEPRECATION_REASON
    values.update(fields)
    return MachineType(name=name, **values)
