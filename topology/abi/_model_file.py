"""Saving a VM model as JSON and building it again by replaying its plugs.

The format (``"format": "cputopo-vm"``, ``"version": 1``)::

    {
      "format": "cputopo-vm", "version": 1,
      "arch": "x86_64", "qemu-version": "7.2", "machine": "pc-q35-7.2",
      "options": {"cpu": "qemu64"},          # -machine/-cpu/-accel settings
      "smp": "2,maxcpus=4",                  # the -smp text the VM started with
      "memory": "128M",                      # -m
      "memory-backends": {"m0": 134217728},  # -object memory-backend-*, bytes
      "numa": ["node,nodeid=0,memdev=m0"],   # -numa, in order
      "guest": "manual",                     # GuestPolicy
      "board-state": {},                     # plugin stash (JSON values only)
      "cpus": [                              # present CPUs, in creation order
        {"slot": 0, "origin": "cold", "qom-path": "/machine/unattached/device[0]",
         "online": true, "unplug-pending": false},
        {"slot": 3, "origin": "hot", "id": "hp", "driver": "qemu64-x86_64-cpu",  # device_add
         "props": {"socket-id": 0, "core-id": 3, "thread-id": 0},
         "qom-path": "/machine/peripheral/hp", "online": false, "unplug-pending": false}
      ]
    }

:func:`load_model` starts the machine, removes the boot CPUs the file lacks
(``device_del`` and the guest's eject), plugs the others (entries with a
``driver``: ``-device`` options when their origin is cold, ``device_add`` when
hot) with their props and ids in order, then sets each CPU's online and
pending state. The result must put every CPU in its slot with its QOM path,
or the file is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from topology._errors import ModelFileError, TopologyError
from topology._model.stash import StashKey
from topology._model.vm import GuestPolicy, UnplugResult, VirtualMachine
from topology._resolve.machine import machine
from topology.abi._migration import device_props, from_smp, memory_text, numa_arguments

__all__ = ["FORMAT", "load_model", "save_model"]

FORMAT: Final = "cputopo-vm"
_VERSION: Final = 1
_ANONYMOUS: Final = re.compile(r"/machine/peripheral-anon/device\[(\d+)\]")


def _cpu_props(vm: VirtualMachine, index: int) -> dict[str, object]:
    props = device_props(vm, index)
    props.pop("node-id", None)  # taken from the slot when left out
    return props


def save_model(vm: VirtualMachine) -> dict[str, Any]:
    """``vm`` as a JSON-able document (see the module docstring for the format).

    >>> import topology
    >>> vm = topology.VirtualMachine.start(
    ...     topology.machine("s390x", "s390-ccw-virtio-7.2", qemu_version="7.2"), "1,maxcpus=2")
    >>> _ = vm.plug("qemu-s390x-cpu", {"core-id": 1}, id="c1")
    >>> doc = save_model(vm)
    >>> [cpu["qom-path"] for cpu in doc["cpus"]]
    ['/machine/unattached/device[0]', '/machine/peripheral/c1']
    >>> load_model(doc).present_cpu_indexes()
    [0, 1]
    """
    backends, numa = numa_arguments(vm)
    cpus = []
    for index, state in sorted(vm.snapshot().items(), key=lambda item: item[1].created):
        entry: dict[str, Any] = {"slot": index, "origin": state.origin.value}
        if not from_smp(state):
            if state.device_id is not None:
                entry["id"] = state.device_id
            entry["driver"] = vm.slots[index].type
            entry["props"] = _cpu_props(vm, index)
        entry["qom-path"] = state.qom_path
        entry["online"] = state.online
        entry["unplug-pending"] = state.unplug_pending
        cpus.append(entry)
    # Plugin state that JSON can hold; a richer value is rebuilt by the replay.
    board_state = {
        key.name: vm.stash[key]
        for key in vm.stash
        if vm.stash[key] is None or isinstance(vm.stash[key], bool | int | float | str)
    }
    return {
        "format": FORMAT,
        "version": _VERSION,
        "arch": vm.machine.arch.targets[0],
        "qemu-version": str(vm.machine.qemu_version),
        "machine": vm.machine.name,
        "options": dict(vm.machine.options),
        "smp": vm.smp if vm.smp is not None else _explicit_smp(vm),
        "memory": memory_text(vm),
        "memory-backends": backends,
        "numa": numa,
        "guest": vm.guest.value,
        "board-state": board_state,
        "cpus": cpus,
    }


def _explicit_smp(vm: VirtualMachine) -> str:
    from topology.abi._migration import smp_text

    return smp_text(vm, vm.topology.cpus)


def _bad(message: str, what: str | None = None) -> ModelFileError:
    return ModelFileError(f"model file: {message}", what=what)


def _field(document: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in document:
        raise _bad(f"'{name}' is missing", name)
    value = document[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _bad(f"'{name}' must be {names}, not {type(value).__name__}", name)
    return value


def _str_map(value: Any, name: str, kind: type | tuple[type, ...]) -> dict[str, Any]:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, kinds) and (bool in kinds or not isinstance(v, bool))
        for k, v in value.items()
    ):
        names = " or ".join(k.__name__ for k in kinds)
        raise _bad(f"'{name}' must map names to {names}", name)
    return value


def load_model(document: Mapping[str, Any]) -> VirtualMachine:
    """The VM a :func:`save_model` document describes, rebuilt by replaying its plugs.

    Raises :class:`ModelFileError` when the document is malformed or its CPUs do
    not come out as it says.

    >>> load_model({"format": "cputopo-vm", "version": 1})
    Traceback (most recent call last):
    ...
    topology.ModelFileError: model file: 'arch' is missing
    """
    vm, failures = replay(document, strict=True)
    assert not failures
    return vm


def replay(
    document: Mapping[str, Any],
    *,
    strict: bool,
    qemu_version: str | None = None,
    machine_type: str | None = None,
) -> tuple[VirtualMachine, list[tuple[int, TopologyError]]]:
    """Replay ``document``, optionally under another QEMU release or machine type.

    With ``strict``, any difference raises :class:`ModelFileError`; without it,
    each source CPU the replay could not recreate comes back as (slot, error).
    """
    if not isinstance(document, Mapping):
        raise _bad(f"the document must be a JSON object, not {type(document).__name__}")
    if document.get("format") != FORMAT or document.get("version") != _VERSION:
        raise _bad(f"not a {FORMAT} document of version {_VERSION}", "format")
    arch = _field(document, "arch", str)
    version = qemu_version or _field(document, "qemu-version", str)
    name = machine_type or _field(document, "machine", str)
    options = _str_map(document.get("options", {}), "options", str)
    smp = _field(document, "smp", str)
    memory = document.get("memory")
    if memory is not None and not isinstance(memory, str):
        raise _bad("'memory' must be str", "memory")
    backends = _str_map(document.get("memory-backends", {}), "memory-backends", int)
    numa = document.get("numa", [])
    if not isinstance(numa, list) or not all(isinstance(item, str) for item in numa):
        raise _bad("'numa' must be a list of option texts", "numa")
    try:
        guest = GuestPolicy(document.get("guest", GuestPolicy.MANUAL_ONLINE.value))
    except ValueError:
        raise _bad(f"'guest' must be one of {[p.value for p in GuestPolicy]}", "guest") from None
    board_state = document.get("board-state", {})
    if not isinstance(board_state, dict):
        raise _bad("'board-state' must be an object", "board-state")
    cpus = _field(document, "cpus", list)
    entries = [_cpu_entry(entry, position) for position, entry in enumerate(cpus)]
    try:
        chosen = machine(arch, name, qemu_version=version, **options)
        vm = VirtualMachine.start(
            chosen, smp, numa=numa, memory=memory, memory_backends=backends, guest=guest
        )
    except TopologyError as error:
        if strict:
            raise _bad(f"the machine does not start: {error}", error.what) from error
        raise
    for name, value in board_state.items():
        vm.stash[StashKey(name)] = value
    failures: list[tuple[int, TopologyError]] = []
    kept = {entry["slot"] for entry in entries if "driver" not in entry}
    for slot in vm.present():
        state = vm.state(slot.index)
        if state is not None and from_smp(state) and slot.index not in kept:
            try:
                if vm.request_unplug(state.qom_path) is UnplugResult.PENDING:
                    vm.complete_unplug(state.qom_path)
            except TopologyError as error:
                if strict:
                    raise _bad(
                        f"boot CPU in slot {slot.index} cannot be removed: {error}"
                    ) from error
                failures.append((slot.index, error))
    for entry in entries:
        if "driver" not in entry:
            continue  # created by -smp
        anonymous = _ANONYMOUS.fullmatch(entry["qom-path"])
        if anonymous and strict:
            vm._anonymous = int(anonymous.group(1))  # the source's numbering had gaps
        try:
            cold = entry["origin"] == "cold"  # a -device option
            slot = vm.plug(entry["driver"], entry["props"], id=entry.get("id"), cold=cold)
        except TopologyError as error:
            if strict:
                raise _bad(f"CPU {entry['qom-path']} cannot be plugged again: {error}") from error
            failures.append((entry["slot"], error))
            continue
        if strict and slot.index != entry["slot"]:
            raise _bad(f"CPU {entry['qom-path']} lands in slot {slot.index}, not {entry['slot']}")
    for entry in entries:
        index = entry["slot"]
        state = vm.state(index) if index < len(vm.slots) else None
        if state is None:
            if strict:
                raise _bad(f"no CPU in slot {index} after the replay", "cpus")
            if "driver" not in entry:
                failures.append((index, ModelFileError(f"slot {index} does not exist here")))
            continue
        if strict and state.qom_path != entry["qom-path"]:
            raise _bad(f"CPU in slot {index} is {state.qom_path}, not {entry['qom-path']}")
        if entry["unplug-pending"] and not state.unplug_pending:
            try:
                vm.request_unplug(state.qom_path)
            except TopologyError as error:
                if strict:
                    raise _bad(f"unplug of slot {index} cannot be pending: {error}") from error
        if state.online != entry["online"]:
            vm.set_online(vm.slots[index].first_cpu_index, entry["online"])
    return vm, failures


def _cpu_entry(entry: Any, position: int) -> dict[str, Any]:
    where = f"cpus[{position}]"
    if not isinstance(entry, dict):
        raise _bad(f"'{where}' must be an object", where)
    slot = entry.get("slot")
    if not isinstance(slot, int) or isinstance(slot, bool) or slot < 0:
        raise _bad(f"'{where}.slot' must be a slot index", where)
    if entry.get("origin") not in ("cold", "hot"):
        raise _bad(f"'{where}.origin' must be 'cold' or 'hot'", where)
    if not isinstance(entry.get("qom-path"), str):
        raise _bad(f"'{where}.qom-path' must be str", where)
    for flag in ("online", "unplug-pending"):
        if not isinstance(entry.get(flag, False), bool):
            raise _bad(f"'{where}.{flag}' must be true or false", where)
    if entry["origin"] == "hot" or "driver" in entry:
        if not isinstance(entry.get("driver"), str):
            raise _bad(f"'{where}.driver' must be str", where)
        _str_map(entry.get("props", {}), f"{where}.props", (int, str, bool))
        if "id" in entry and not isinstance(entry["id"], str):
            raise _bad(f"'{where}.id' must be str", where)
    return {
        "online": True,
        "unplug-pending": False,
        "props": {},
        **entry,
    }
