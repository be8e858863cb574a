"""QEMU's QOM types, from one captured ``qom-list-types`` per binary: the QMP
command, and the type checks of ``-device TYPE,help``.

QEMU answers ``qom-list-types`` by walking its table of types, skipping the
types the arguments leave out and putting each one it keeps at the front of
the reply. Every reply of a binary is therefore the reply to ``abstract:
true`` (all types) with entries left out, in the same order: observed on QEMU
7.2, 10.0 and 11.1 for the argument combinations
``tests/differential/test_standin_qom_types.py`` tries (and, by hand on x86,
unchanged after a CPU hot-plug, with other displays and with ``-nodefaults``
left out). The list is the same on every machine type but one (aarch64 7.2's
``z2`` registers types of its own) and, on QEMU 7.2, under KVM as under TCG
(10.0 and 11.1 could not be run under KVM here: they build TCG in, where 7.2
loads it as a module and still gives the same list); the stand-in answers on
the machine types the capture saw give it, under any accelerator.

``implements`` keeps the types that QEMU can cast to the named type. For a
class that is a walk up the ``parent`` chain the list gives. An interface is
different: which classes implement it is not in the list, and QEMU refuses
the cast where a class has two interfaces that both derive from it, so the
implementers of each interface type were captured as they are
(``tools/capture_qmp_discovery.py``). A name QEMU has no type for gets an
empty list, as from QEMU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import attrs

from topology._errors import DeviceTypeError
from topology._parse.command_line import UnsupportedOptionError
from topology._versions import QemuVersion
from topology.qemu import _discovery

__all__ = ["QomTypes", "device_lookup", "qom_types"]

#: The root of QEMU's interface types; every interface type derives from it.
_INTERFACE: Final = "interface"


@attrs.frozen(kw_only=True)
class QomTypes:
    """The QOM types of one binary, in the order ``qom-list-types`` lists them.

    Attributes:
        names: every type's name.
        parents: each type's parent (None for the roots, ``object`` and
            ``interface``).
        abstract: whether each type is abstract.
        implementers: for each interface type, the positions (in ``names``) of
            the types QEMU finds implementing it.
        machines: the machine types the list was seen on.
    """

    names: tuple[str, ...]
    parents: tuple[str | None, ...]
    abstract: tuple[bool, ...]
    implementers: Mapping[str, tuple[int, ...]] = attrs.field(eq=False, hash=False)
    machines: frozenset[str]
    _position: Mapping[str, int] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        position = {name: index for index, name in enumerate(self.names)}
        object.__setattr__(self, "_position", position)

    def __contains__(self, name: object) -> bool:
        return name in self._position

    def ancestry(self, name: str) -> Iterator[str]:
        """``name`` and its ancestors, nearest first."""
        current: str | None = name
        while current is not None:
            yield current
            index = self._position.get(current)
            current = None if index is None else self.parents[index]

    def is_interface(self, name: str) -> bool:
        """Whether ``name`` is an interface type (``interface`` or below it)."""
        return name in self and _INTERFACE in self.ancestry(name)

    def is_abstract(self, name: str) -> bool:
        """Whether the type ``name`` (which must be known) is abstract."""
        return self.abstract[self._position[name]]

    def list_types(self, implements: str | None, abstract: bool) -> list[dict[str, object]]:
        """``qom-list-types``' reply to ``implements`` and ``abstract``.

        Raises :class:`UnsupportedOptionError` for an interface whose
        implementers were not captured.
        """
        if implements is None:
            kept: range | tuple[int, ...] = range(len(self.names))
        elif implements not in self:
            return []  # QEMU finds no type to cast to, so nothing casts
        elif self.is_interface(implements):
            found = self.implementers.get(implements)
            if found is None:
                raise UnsupportedOptionError(
                    f"cputopo: qom-list-types implements={implements}: which types "
                    "implement this interface was not captured",
                    what="implements",
                )
            kept = found
        else:
            kept = tuple(
                index for index, name in enumerate(self.names) if implements in self.ancestry(name)
            )
        return [self._entry(index) for index in kept if abstract or not self.abstract[index]]

    def _entry(self, index: int) -> dict[str, object]:
        # QEMU gives "abstract" only when it is true, and "parent" where there is one.
        entry: dict[str, object] = {"name": self.names[index]}
        if self.abstract[index]:
            entry["abstract"] = True
        parent = self.parents[index]
        if parent is not None:
            entry["parent"] = parent
        return entry


def _from_document(document: Mapping[str, Any]) -> QomTypes:
    types = document["types"]
    return QomTypes(
        names=tuple(entry["name"] for entry in types),
        parents=tuple(entry.get("parent") for entry in types),
        abstract=tuple(bool(entry.get("abstract", False)) for entry in types),
        implementers={name: tuple(found) for name, found in document["implementers"].items()},
        machines=frozenset(document["machines"]),
    )


_LOADED: dict[tuple[str, QemuVersion], QomTypes] = {}

#: The QOM types whose devices are CPUs (``TYPE_CPU``) or CPU cores (pseries).
_CPU_DEVICE_ROOTS: Final = frozenset({"cpu", "cpu-core"})


def device_lookup(target: str, version: QemuVersion) -> Callable[[str], None] | None:
    """QEMU's look-up of a ``device_add``/``-device`` driver in its type list
    (``qdev_get_device_class``), or None where no list of that binary was captured.

    A name QEMU has no type for, or a type that is no device, gets
    ``'X' is not a valid device model name``; an abstract device type ``Parameter
    'driver' expects a non-abstract device type`` (observed on 7.2, 10.0 and
    11.1 for every target: ``cpu``, ``device``, ``x86_64-cpu``,
    ``spapr-cpu-core``). A device that is no CPU raises
    :class:`UnsupportedOptionError`: what QEMU does with it is not modelled.
    The list loads on the first look-up, so a start without one pays nothing.
    """
    if not _discovery.has_capture("qom-types", target, version):
        return None

    def lookup(driver: str) -> None:
        types = qom_types(target, version)
        ancestry = frozenset(types.ancestry(driver))
        if driver not in types or "device" not in ancestry:
            raise DeviceTypeError(
                f"'{driver}' is not a valid device model name", what="driver", value=driver
            )
        if types.is_abstract(driver):
            raise DeviceTypeError(
                "Parameter 'driver' expects a non-abstract device type",
                what="driver",
                value=driver,
            )
        if _CPU_DEVICE_ROOTS.isdisjoint(ancestry):
            raise UnsupportedOptionError(
                f"cputopo: device {driver}: the stand-in models CPU devices only",
                what=driver,
            )

    return lookup


def qom_types(target: str, version: QemuVersion) -> QomTypes:
    """The QOM types of ``qemu-system-<target>`` of QEMU ``version``.

    Raises :class:`UnsupportedOptionError` where no capture exists.
    """
    key = (target, version)
    table = _LOADED.get(key)
    if table is None:
        document = _discovery.captured_file("qom-types", target, version, "qom-list-types")
        table = _LOADED[key] = _from_document(document)
    return table
