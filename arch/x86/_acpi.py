"""The PC's ACPI CPU hot-plug switch and its QMP commands (``qom-get``, ``qom-set``,
``query-acpi-ospm-status``).

Up to QEMU 10.0 at least, a PC starts with the legacy ACPI CPU hot-plug
interface; the guest's firmware switches it to the modern one by setting the
ACPI device's ``cpu-hotplug-legacy`` property to false, which a management
tool can do over QMP too. Setting it back to true is not supported: QEMU asserts
(``ich9_pm_set_cpu_hotplug_legacy`` / ``piix4_set_cpu_hotplug_legacy``:
``Assertion `!value' failed``) and dies with SIGABRT. QEMU 11.1 has only the
modern interface: the property is gone (``Property 'ICH9-LPC.cpu-hotplug-legacy'
not found``) and ``device_del`` of a CPU is a request from the start.

Where the ACPI device is, observed on QEMU 7.2.22 and 10.0.13 with 1 to 4 boot
CPUs and several machine versions: q35's ``ICH9-LPC`` is
``/machine/unattached/device[cpus + 1]`` (it stays with ``acpi=off``);
i440fx's ``PIIX4_PM`` is ``/machine/unattached/device[cpus + 17]`` on 7.2 and
``/machine/unattached/device[cpus + 2]/pm`` (a child of the PIIX3 south
bridge) on 10.0; ``acpi=off`` removes it. With one boot CPU of a model without
an APIC (``base``, ``486``) each is one lower. The PIIX south bridge was
consolidated in QEMU 8.2 (``hw/isa/piix.c``), taken here as where the path moved.
Wherever it is, the machine's link property ``acpi-device`` points to it, so
tools address it as ``/machine/acpi-device`` (QOM path lookup follows links;
observed on 7.2, 10.0 and 11.1, which also resolve the partial path
``acpi-device``, not modelled).

``query-acpi-ospm-status`` (``hw/acpi/cpu.c`` acpi_cpu_ospm_status): ``[]``
in legacy mode; in modern mode one entry per possible CPU slot, ``source`` and
``status`` 0 while the guest reported nothing, ``device`` only for a CPU
plugged with an id. Machines without an ACPI device (isapc, i440fx with
``acpi=off``) answer ``command is not supported, missing ACPI device``;
microvm's GED device answers ``[]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from arch.x86._hotplug import ACPI_LEGACY, acpi_legacy, has_legacy_switch
from topology import ParameterError, QemuVersion, TopologyError
from topology.plugin import BoardContext, QmpAsk, VmView

if TYPE_CHECKING:
    from topology.qemu.live import LiveQemu

__all__ = [
    "acpi_device",
    "board_acpi_device",
    "qmp_commands",
    "qom_links",
    "switch_acpi_to_modern",
    "sync_live",
]

_SWITCH: Final = "cpu-hotplug-legacy"
#: The machine's link property to its ACPI device (``acpi-device``).
_LINK: Final = "/machine/acpi-device"
#: CPU models without the APIC feature (observed: the ACPI device moves down by
#: one with -cpu base or 486 and one boot CPU, on 7.2 and 10.0).
_NO_APIC: Final = frozenset({"486", "base"})


def acpi_device(vm: VmView) -> tuple[str, str] | None:
    """The QOM path and type of the VM's ACPI device with the CPU hot-plug switch."""
    return board_acpi_device(vm.board)


def board_acpi_device(board: BoardContext) -> tuple[str, str] | None:
    """The canonical QOM path and type of the board's ACPI device (None without one)."""
    name = board.machine_type.name
    cpus = board.cpu_topology.cpus
    model = board.machine_type.cpu_model(board.options)[0]
    if cpus == 1 and (model in _NO_APIC or model.startswith("486-")):
        # One object fewer before it: the one a boot CPU with an APIC brings
        # (x86_cpu_apic_create: a model with the APIC feature, or SMP).
        cpus = 0
    if name.startswith("pc-q35-"):
        return f"/machine/unattached/device[{cpus + 1}]", "ICH9-LPC"
    if name.startswith("pc-i440fx-") and board.options.get("acpi") != "off":
        if board.version.at_least("8.2"):
            return f"/machine/unattached/device[{cpus + 2}]/pm", "PIIX4_PM"
        return f"/machine/unattached/device[{cpus + 17}]", "PIIX4_PM"
    return None


def qom_links(board: BoardContext) -> Mapping[str, str]:
    """The machine's link to its ACPI device, ``/machine/acpi-device``, when it has one.

    Tools address the ACPI device through it: its target moves with the
    number of boot CPUs and the release, the link does not (pc and q35 on
    7.2, 10.0 and 11.1; ``qom-list /machine`` shows it as
    ``link<hotplug-handler>``; microvm and i440fx with ``acpi=off`` have none).
    """
    device = board_acpi_device(board)
    return {} if device is None else {_LINK: device[0]}


def sync_live(vm: VmView, ask: QmpAsk) -> None:
    """The guest's ACPI CPU hot-plug mode, read from the running QEMU's ACPI device."""
    device = acpi_device(vm)
    if device is None:
        return
    reply = ask("qom-get", {"path": _LINK, "property": _SWITCH})
    if "return" in reply:
        vm.stash[ACPI_LEGACY] = bool(reply["return"])


def switch_acpi_to_modern(live: LiveQemu) -> dict[str, Any]:
    """Do to a running x86 QEMU what the guest's firmware does at boot: switch ACPI
    CPU hot-plug to modern mode. Only then does QEMU accept ``device_del`` of an
    x86 CPU (as a request). The model, checked, follows. QEMU 11.1 starts in
    modern mode and has no switch: nothing is sent and the answer is QEMU's
    success, ``{"return": {}}``."""
    vm = live.model.vm
    device = acpi_device(vm)
    if device is not None and not acpi_legacy(vm):
        return {"return": {}}
    if device is None:
        raise TopologyError("this QEMU has no ACPI device with cpu-hotplug-legacy", what=_SWITCH)
    return live.execute("qom-set", {"path": _LINK, "property": _SWITCH, "value": False})


def qom_set(vm: VmView, arguments: Mapping[str, object]) -> object:
    """``qom-set`` of the ACPI device; NotImplemented for any other path.

    The arguments were checked by the caller (path and property are strings),
    and the path resolved to the object's canonical path (through
    ``/machine/acpi-device``).
    """
    device = acpi_device(vm)
    if device is None or arguments["path"] != device[0]:
        return NotImplemented
    prop = arguments["property"]
    if prop != _SWITCH or not has_legacy_switch(vm.machine.qemu_version):
        raise ParameterError(f"Property '{device[1]}.{prop}' not found", what="property")
    value = arguments["value"]
    if not isinstance(value, bool):
        raise ParameterError(
            f"Invalid parameter type for '{_SWITCH}', expected: boolean", what="value"
        )
    if value:
        function = "ich9_pm" if device[1] == "ICH9-LPC" else "piix4"
        raise TopologyError(
            f"{function}_set_cpu_hotplug_legacy: Assertion `!value' failed.",
            what=_SWITCH,
            crash_signal=6,
        )
    vm.stash[ACPI_LEGACY] = False
    return {}


def qom_get(vm: VmView, arguments: Mapping[str, object]) -> object:
    """``qom-get`` of the ACPI device's ``cpu-hotplug-legacy`` and ``type``, and of
    ``/machine``'s ``acpi-device`` where the machine has no ACPI device;
    NotImplemented for anything else (the link itself is the core's).

    The path was resolved to the object's canonical path by the caller.
    """
    device = acpi_device(vm)
    path, prop = arguments["path"], arguments["property"]
    if device is None and path == "/machine" and prop == "acpi-device":
        # Only PC machines with ACPI add the link (microvm, isapc and
        # i440fx with acpi=off answer this; observed on 7.2, 10.0 and 11.1).
        raise ParameterError(
            f"Property '{vm.machine.name}-machine.acpi-device' not found", what="property"
        )
    if device is None or path != device[0]:
        return NotImplemented
    if prop == "type":
        return device[1]
    if prop == _SWITCH:
        if not has_legacy_switch(vm.machine.qemu_version):
            raise ParameterError(f"Property '{device[1]}.{prop}' not found", what="property")
        return acpi_legacy(vm)
    return NotImplemented


def query_acpi_ospm_status(vm: VmView, arguments: Mapping[str, object]) -> object:
    """``query-acpi-ospm-status``: each possible CPU slot once the interface is modern."""
    for name in arguments:
        raise ParameterError(f"Parameter '{name}' is unexpected", what=name)
    name = vm.machine.name
    if name == "isapc" or (name.startswith("pc-i440fx-") and acpi_device(vm) is None):
        raise TopologyError("command is not supported, missing ACPI device", what="acpi")
    if acpi_legacy(vm) or acpi_device(vm) is None:
        return []
    entries: list[dict[str, object]] = []
    for index in range(len(vm.slots)):
        state = vm.state(index)
        entry: dict[str, object] = {}
        if state is not None and state.device_id is not None:
            entry["device"] = state.device_id
        entry |= {"source": 0, "status": 0, "slot": str(index), "slot-type": "CPU"}
        entries.append(entry)
    return entries


def qmp_commands(
    version: QemuVersion,
) -> Mapping[str, Callable[[VmView, Mapping[str, object]], object]]:
    """The x86 plugin's answers to ``qom-get`` and ``qom-set`` (its ACPI device) and
    ``query-acpi-ospm-status``.

    >>> from topology import qemu_version
    >>> sorted(qmp_commands(qemu_version("7.2")))
    ['qom-get', 'qom-set', 'query-acpi-ospm-status']
    """
    return {
        "qom-get": qom_get,
        "qom-set": qom_set,
        "query-acpi-ospm-status": query_acpi_ospm_status,
    }
