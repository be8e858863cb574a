"""QEMU's first pass over a command line: each option's syntax, in command-line order.

QEMU reads ``-machine``, ``-smp`` and ``-numa`` syntax, all of ``-m``, the
schema of ``-object`` and the ids of ``-object`` and ``-device`` before it
looks at any machine (``system/vl.c`` qemu_init; observed on 7.2 and 10.0 with
two faults on one command line). What it keeps is a :class:`StartPlan`.
"""

from __future__ import annotations

import attrs

from topology._errors import OptionSyntaxError
from topology._model.numa import numa_command_line
from topology._parse.command_line import CommandLine, UnsupportedOptionError
from topology._parse.device import DeviceOption, read_device
from topology._parse.keyval import KeyvalTree, parse_keyval
from topology._parse.memory import parse_memory
from topology._parse.memory_backend import MemoryBackend, read_object
from topology._parse.smp import parse_smp
from topology._versions import QemuVersion

__all__ = ["StartPlan", "plan_start"]


@attrs.frozen(kw_only=True)
class StartPlan:
    """What the first pass found: the options QEMU goes on with."""

    machine_tree: KeyvalTree
    smp: str
    memory: str | None
    numa: tuple[str, ...]
    backends: tuple[MemoryBackend, ...]
    accels: tuple[tuple[str, str], ...]  # (accelerator, where) of each -accel, in order
    cpu: str | None
    devices: tuple[DeviceOption, ...]


def plan_start(line: CommandLine, version: QemuVersion) -> StartPlan:
    """Step 1: QEMU's first pass over the options (errors in command-line order)."""
    machine_tree: KeyvalTree = {}
    smp_members: list[str] = []
    memory: str | None = None
    numa: list[str] = []
    backends: list[MemoryBackend] = []
    accels: list[tuple[str, str]] = []
    cpu: str | None = None
    devices: list[DeviceOption] = []
    device_ids: set[str] = set()
    for option in line.options:
        value = option.value
        assert value is not None or option.name == "accel"
        text = value or ""
        if option.name == "machine":
            tree, wants_help = parse_keyval(text, option=option.spelled, implied_key="type")
            if wants_help:
                raise UnsupportedOptionError(
                    f"cputopo: {option.spelled} {text}: help texts are not modelled", what="help"
                )
            smp_tree = tree.pop("smp", None)
            machine_tree.update(tree)  # later options override earlier ones, key by key
            if isinstance(smp_tree, dict):
                smp_members.extend(f"{k}={v}" for k, v in smp_tree.items() if isinstance(v, str))
        elif option.name == "smp":
            tree, wants_help = parse_keyval(text, option=option.spelled, implied_key="cpus")
            if wants_help:
                parse_smp(text, qemu_version=version)  # raises HelpRequested with QEMU's text
            smp_members.extend(_smp_items(text))
        elif option.name == "m":
            parse_memory(text, qemu_version=version)
            memory = text
        elif option.name == "numa":
            numa.append(text)
            numa_command_line(numa, qemu_version=version)
        elif option.name == "object":
            backend = read_object(text, spelled=option.spelled, version=version)
            if any(earlier.id == backend.id for earlier in backends):
                # Found while reading the command line (observed on 7.2 and 10.0:
                # before -machine, -smp and -cpu errors that come later).
                raise OptionSyntaxError(
                    f"Duplicate ID '{backend.id}' for object",
                    option=option.spelled,
                    text=text,
                    what="id",
                )
            backends.append(backend)
        elif option.name == "accel":
            name = text.split(",", 1)[0]
            where = f"{option.spelled} {text}" if value is not None else option.spelled
            accels.append((name, where))
        elif option.name == "cpu":
            cpu = text
        elif option.name == "device":
            device = read_device(text, spelled=option.spelled)
            if device.id is not None:
                if device.id in device_ids:
                    raise OptionSyntaxError(
                        f"Duplicate ID '{device.id}' for device",
                        option=option.spelled,
                        text=text,
                        what="id",
                    )
                device_ids.add(device.id)
            devices.append(device)
    return StartPlan(
        machine_tree=machine_tree,
        smp=",".join(smp_members),
        memory=memory,
        numa=tuple(numa),
        backends=tuple(backends),
        accels=tuple(accels),
        cpu=cpu,
        devices=tuple(devices),
    )


def _smp_items(text: str) -> list[str]:
    """``-smp`` as ``key=value`` items (the implied ``cpus`` spelled out), to merge options."""
    if text == "":
        return []
    first, _, rest = text.partition(",")
    items = [first if "=" in first else f"cpus={first}"]
    return items + ([rest] if rest else [])
