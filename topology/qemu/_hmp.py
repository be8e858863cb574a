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

from collections.abc import Callable, Mapping

import attrs

from topology._parse.command_line import UnsupportedOptionError

__all__ = ["HmpCommands", "run_hmp_line"]


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
