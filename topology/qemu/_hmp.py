"""``human-monitor-command``: a line of QEMU's human monitor, read as HMP reads it.

The stand-in answers the HMP commands that touch what it models (``info cpus``,
``info hotpluggable-cpus``, ``info numa``, ``info status``, ``stop``, ``cont``,
``system_reset``, ``system_powerdown``); ``info`` and ``help`` alone print the
binary's own lists (captured). A command the binary has but the stand-in does
not model raises :class:`UnsupportedOptionError`; one it lacks gets HMP's
``unknown command`` line, as QEMU prints it. Every line HMP prints ends in CRLF
in the reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs

from topology._model.slots import PROP_NAMES
from topology._parse.command_line import UnsupportedOptionError

__all__ = ["HmpCommands", "info_cpus", "info_hotpluggable_cpus", "run_hmp_line"]

#: The suffix each target's CPU types carry, which ``info cpus`` drops from the
#: model name (``cpu_model_from_type``).
_CPU_TYPE_SUFFIX: Final = {
    "x86_64": "-x86_64-cpu",
    "ppc64": "-powerpc64-cpu",
    "s390x": "-s390x-cpu",
    "aarch64": "-arm-cpu",
}


@attrs.frozen(kw_only=True)
class HmpCommands:
    """What one VM's human monitor can run.

    Attributes:
        commands: the modelled top-level commands (``stop``), each a function
            returning its text.
        info: the modelled ``info`` topics (``cpus``), likewise.
        known_commands: every top-level command (and alias) the binary has.
        known_info: every ``info`` topic the binary has.
        help_text: what ``help`` alone prints; ``info_text`` what ``info`` alone prints.
    """

    commands: Mapping[str, Callable[[], str]]
    info: Mapping[str, Callable[[], str]]
    known_commands: frozenset[str]
    known_info: frozenset[str]
    help_text: str
    info_text: str


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def run_hmp_line(line: str, hmp: HmpCommands) -> str:
    """The monitor's output for ``line`` (HMP's ``monitor_parse_command``, for
    commands without arguments)."""
    words = line.split()
    if not words:
        return ""
    name, rest = words[0], words[1:]
    if name == "info":
        if not rest:
            return _crlf(hmp.info_text)
        topic, extra = rest[0], rest[1:]
        if topic not in hmp.known_info:
            return _crlf(f"unknown command: 'info {topic}'\n")
        answer = hmp.info.get(topic)
        if answer is None:
            raise UnsupportedOptionError(
                f"cputopo: HMP info {topic} is not modelled by the stand-in", what=topic
            )
        if extra:
            return _extraneous(topic, f"info {topic}")
        return _crlf(answer())
    if name not in hmp.known_commands:
        return _crlf(f"unknown command: '{name}'\n")
    if name in ("help", "?") and not rest:
        return _crlf(hmp.help_text)
    command = hmp.commands.get(name)
    if command is None:
        raise UnsupportedOptionError(
            f"cputopo: HMP {name} is not modelled by the stand-in", what=name
        )
    if rest:
        return _extraneous(name, name)
    return _crlf(command())


def _extraneous(name: str, full_name: str) -> str:
    return _crlf(
        f"{name}: extraneous characters at the end of line\n"
        f'Try "help {full_name}" for more information\n'
    )


def info_cpus(cpus: Sequence[Mapping[str, Any]], current: object, target: str) -> str:
    """``info cpus`` from ``query-cpus-fast``'s entries: ``*`` marks the monitor's
    CPU; from QEMU 10.1 (where the entries name the type) each line names the
    model too."""
    lines = []
    for cpu in cpus:
        mark = "*" if cpu["cpu-index"] == current else " "
        line = f"{mark} CPU #{cpu['cpu-index']}: thread_id={cpu['thread-id']}"
        if "qom-type" in cpu:
            model = str(cpu["qom-type"]).removesuffix(_CPU_TYPE_SUFFIX.get(target, ""))
            line += f" model={model}"
        lines.append(line)
    return "".join(f"{line}\n" for line in lines)


def info_hotpluggable_cpus(slots: Sequence[Mapping[str, Any]]) -> str:
    """``info hotpluggable-cpus`` from ``query-hotpluggable-cpus``'s entries."""
    lines = ["Hotpluggable CPUs:"]
    for slot in slots:
        lines.append(f'  type: "{slot["type"]}"')
        lines.append(f'  vcpus_count: "{slot["vcpus-count"]}"')
        if "qom-path" in slot:
            lines.append(f'  qom_path: "{slot["qom-path"]}"')
        lines.append("  CPUInstance Properties:")
        props = slot["props"]
        lines.extend(f'    {name}: "{props[name]}"' for name in PROP_NAMES if name in props)
    return "".join(f"{line}\n" for line in lines)
