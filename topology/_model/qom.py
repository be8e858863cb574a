"""QOM paths as QEMU resolves them, and QEMU's ``device_del`` lookup of a device.

QEMU names every object by its path in the composition tree (``/machine/
peripheral/hp0``). A path's parts are child or link properties of the object
before them, and a link stands for the object it points to, so
``/machine/acpi-device`` (a link of the PC machine) is the ACPI device wherever
it sits (``object_resolve_path``, ``qom/object.c``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology._errors import (
    BoardError,
    GlibAssertion,
    ParameterError,
    QemuAbortError,
    TopologyError,
)
from topology._versions import QemuVersion, as_observed_in

__all__ = [
    "CONTAINERS",
    "device_del_path",
    "no_hotplug_handler",
    "not_a_device",
    "resolve_qom_path",
]

#: Objects every machine has that are no device: the root and the machine's
#: containers (``device_del`` of one: ``... is not a device``).
CONTAINERS: Final = frozenset(
    {"/", "/machine", "/machine/peripheral", "/machine/peripheral-anon", "/machine/unattached"}
)

#: Where ``qdev_unplug``'s assertion is, as Debian's 7.2.22 build prints it
#: (observed); 8.x-9.x builds are taken to print the same (not observed).
_QDEV_UNPLUG_AT: Final = {"7.2": "../../softmmu/qdev-monitor.c:926"}


def resolve_qom_path(path: str, links: Mapping[str, str]) -> str | None:
    """The canonical path of the object an absolute QOM ``path`` names, as QEMU finds
    it (``object_resolve_path``): empty parts are skipped (``/machine//x/`` is
    ``/machine/x``) and each part is a child or a link of the object before it,
    a link standing for the object it points to (``links``: link path to target).
    None for a partial path (no leading ``/``), which the stand-in does not resolve.

    >>> resolve_qom_path("/machine/acpi-device/", {"/machine/acpi-device": "/machine/x/pm"})
    '/machine/x/pm'
    >>> resolve_qom_path("acpi-device", {}) is None
    True
    """
    if not path.startswith("/"):
        return None
    resolved = ""
    for part in path.split("/"):
        if part:
            resolved = f"{resolved}/{part}"
            resolved = links.get(resolved, resolved)
    return resolved or "/"


def device_del_path(name: str, links: Mapping[str, str]) -> str:
    """The canonical path of the object ``device_del id=NAME`` acts on.

    QEMU (``find_device_state``) resolves an absolute ``name`` as a QOM path
    and any other one from ``/machine/peripheral`` (so ``hp0`` and
    ``hp0/thread[0]`` work, and a trailing ``/`` changes nothing; observed on
    QEMU 7.2, 10.0 and 11.1).

    >>> device_del_path("hp0/thread[1]", {})
    '/machine/peripheral/hp0/thread[1]'
    >>> device_del_path("/machine/peripheral/hp0/", {})
    '/machine/peripheral/hp0'
    """
    path = name if name.startswith("/") else f"/machine/peripheral/{name}"
    resolved = resolve_qom_path(path, links)
    assert resolved is not None  # an absolute path always resolves to one
    return resolved


def not_a_device(name: str, version: QemuVersion) -> ParameterError:
    """``device_del`` of an object that is no device (a container, ``/machine``).

    Observed: ``%s is not a hotpluggable device`` on 7.2, ``%s is not a device``
    on 10.0 and 11.1. The word went in a change posted in March 2024, during
    9.0's freeze, so 9.1 is taken as the first release without it (not observed).
    """
    text = "is not a device" if version.at_least("9.1") else "is not a hotpluggable device"
    return ParameterError(f"{name} {text}", what="id", value=name)


def no_hotplug_handler(qom_type: str, version: QemuVersion) -> TopologyError:
    """``device_del`` of a device that no hotplug handler takes (a pseries thread
    or its interrupt presenter, an ARM CPU).

    From 10.0 QEMU refuses it (``qdev_hotplug_unplug_allowed_common``: ``Device
    '%s' can not be hotplugged on this machine``, observed on 10.0 and 11.1;
    the check was added in January 2025, after 9.2). Before, ``qdev_unplug``
    asserts that there is a handler and QEMU aborts (observed on 7.2).

    >>> from topology._versions import qemu_version
    >>> print(no_hotplug_handler("icp", qemu_version("10.0")))
    Device 'icp' can not be hotplugged on this machine
    >>> no_hotplug_handler("icp", qemu_version("7.2")).stderr_lines[1]
    'ERROR:../../softmmu/qdev-monitor.c:926:qdev_unplug: assertion failed: (hotplug_ctrl)'
    """
    if version.at_least("10.0"):
        return BoardError(
            f"Device '{qom_type}' can not be hotplugged on this machine", what="id", value=qom_type
        )
    location = as_observed_in(_QDEV_UNPLUG_AT, version)
    return QemuAbortError(
        GlibAssertion(location, "qdev_unplug", "hotplug_ctrl"),
        reason=(
            f"QEMU {version} aborts on device_del of a device no hotplug handler takes "
            f"({qom_type}); QEMU 10.0 and later refuse it"
        ),
        what="id",
        value=qom_type,
    )
