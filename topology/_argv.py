"""A small reader of QEMU command lines, enough to build the VM a plan describes.

It knows ``-machine``/``-M``, ``-accel``, ``-cpu``, ``-smp``, ``-m``, ``-numa``,
``-object memory-backend-*``, ``-device`` (CPUs) and the options that do not
touch the CPUs of a paused VM (``-S``, ``-nodefaults``, ``-display``...).
Anything else is refused with cputopo's own message rather than ignored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final

import attrs

from ._errors import ParameterError
from ._machine import machine
from ._numa_options import _strtosz
from ._versions import QemuVersion, qemu_version
from ._vm import VirtualMachine

__all__ = ["CommandLine", "build_vm", "read_command_line"]

_IGNORED_FLAGS: Final = frozenset({"-S", "-nodefaults", "-no-user-config", "-nographic"})
_IGNORED_WITH_VALUE: Final = frozenset({"-display", "-qmp", "-serial", "-monitor", "-name"})


@attrs.frozen(kw_only=True)
class CommandLine:
    """What a QEMU command line says about the VM's CPUs, NUMA and memory."""

    target: str | None
    machine: str | None
    options: dict[str, str]
    smp: str
    memory: str | None
    numa: tuple[str, ...]
    backends: dict[str, int]
    devices: tuple[tuple[str, str | None, dict[str, object]], ...]


def _split(text: str) -> list[str]:
    """QemuOpts items: split at commas, a doubled comma being a literal one."""
    items, current, index = [], "", 0
    while index < len(text):
        char = text[index]
        if char == ",":
            if text[index + 1 : index + 2] == ",":
                current += ","
                index += 2
                continue
            items.append(current)
            current = ""
        else:
            current += char
        index += 1
    items.append(current)
    return items


def _value(text: str) -> object:
    """A ``-device`` property as QMP would carry it: integer, boolean, or text."""
    try:
        return int(text, 0)
    except ValueError:
        pass
    # QEMU's boolean property parser (qapi_bool_parse).
    if text in ("on", "yes", "true", "y"):
        return True
    if text in ("off", "no", "false", "n"):
        return False
    return text


def _fail(message: str, what: str | None = None) -> ParameterError:
    return ParameterError(message, what=what)


def read_command_line(argv: Sequence[str], version: QemuVersion) -> CommandLine:
    """Read ``argv`` (with or without the ``qemu-system-<target>`` binary first)."""
    args = list(argv)
    target = None
    if args and not args[0].startswith("-"):
        binary = os.path.basename(args.pop(0))
        if not binary.startswith("qemu-system-"):
            raise _fail(f"expected qemu-system-<target> first, not {binary!r}", "binary")
        target = binary.removeprefix("qemu-system-")
    machine_name: str | None = None
    options: dict[str, str] = {}
    smp, memory = "", None
    numa: list[str] = []
    backends: dict[str, int] = {}
    devices: list[tuple[str, str | None, dict[str, object]]] = []
    index = 0
    while index < len(args):
        option = args[index]
        if option.startswith("--"):
            option = option[1:]
        if option in _IGNORED_FLAGS:
            index += 1
            continue
        if index + 1 >= len(args):
            raise _fail(f"option {option} needs a value", option)
        value = args[index + 1]
        index += 2
        if option in _IGNORED_WITH_VALUE:
            continue
        if option in ("-machine", "-M"):
            for position, item in enumerate(_split(value)):
                key, equals, setting = item.partition("=")
                if not equals and position == 0:
                    machine_name = key
                elif key == "type":
                    machine_name = setting
                else:
                    options[key] = setting if equals else "on"
        elif option == "-accel":
            first = _split(value)[0]
            options["accel"] = first.removeprefix("accel=")
        elif option == "-cpu":
            options["cpu"] = value
        elif option == "-smp":
            smp = value
        elif option == "-m":
            memory = value
        elif option == "-numa":
            numa.append(value)
        elif option == "-object":
            items = _split(value)
            settings = dict(item.partition("=")[::2] for item in items[1:])
            if not items[0].startswith("memory-backend-") or "id" not in settings:
                raise _fail(f"-object {value}: only memory backends with an id are read", "-object")
            size = _strtosz(settings.get("size", "0"), "B", version).value
            if size is None:
                raise _fail(f"-object {value}: bad size", "size")
            backends[settings["id"]] = size
        elif option == "-device":
            items = _split(value)
            driver = items[0].removeprefix("driver=")
            device_id: str | None = None
            props: dict[str, object] = {}
            for item in items[1:]:
                key, _, setting = item.partition("=")
                if key == "id":
                    device_id = setting
                else:
                    props[key] = _value(setting)
            devices.append((driver, device_id, props))
        else:
            raise _fail(f"option {option} is not one cputopo reads", option)
    return CommandLine(
        target=target,
        machine=machine_name,
        options=options,
        smp=smp,
        memory=memory,
        numa=tuple(numa),
        backends=backends,
        devices=tuple(devices),
    )


def build_vm(
    argv: Sequence[str], *, version: str | QemuVersion, arch: str | None = None
) -> VirtualMachine:
    """The VM QEMU ``version`` starts from ``argv``, ``-device`` CPUs plugged in order.

    ``arch`` is needed when ``argv`` does not start with the binary.
    """
    release = qemu_version(version)
    line = read_command_line(argv, release)
    target = line.target or arch
    if target is None:
        raise _fail("no qemu-system-<target> and no architecture given", "arch")
    chosen = machine(target, line.machine, qemu_version=release, **line.options)
    vm = VirtualMachine.start(
        chosen,
        line.smp,
        numa=line.numa,
        memory=line.memory,
        memory_backends=line.backends,
    )
    for driver, device_id, props in line.devices:
        vm.plug(driver, props, id=device_id)
    return vm
