"""The options that make QEMU print something and exit 0: ``--version``, ``-machine help``.

QEMU first checks that every word of the command line is an option it knows
(``-foo: invalid option`` wins over ``--version``), then reads the options in
order: ``-version``, ``-machine help`` (or ``-M TYPE,help``) and ``-smp help``
answer at once, at their place, so the first one given wins and nothing after
it is checked. ``-cpu help``, ``-device help`` and ``-accel help`` are answered
only after the whole line was read; their texts (model descriptions, every
device, property defaults) are not in the stand-in's catalogue, so it refuses
them as not modelled rather than print a wrong text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from topology._errors import HelpRequested, TopologyError
from topology._parse.command_line import _TAKES_ARGUMENT
from topology._parse.smp import parse_smp
from topology._resolve.catalogue import (
    format_machine_list,
    machine_property_help,
    machine_types,
    resolve_machine_type,
)
from topology._versions import QemuVersion

__all__ = [
    "OptionQuery",
    "answer_at_once",
    "deferred_query",
    "first_option_error",
    "known_options_only",
]

#: The year of QEMU_COPYRIGHT per release (``--version``'s second line, observed).
_COPYRIGHT_YEAR: Final = {"7.2": 2022, "10.0": 2025, "11.1": 2026}


class OptionQuery(Exception):
    """The option answers with ``text`` on stdout and exit 0."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def known_options_only(argv: Sequence[str]) -> bool:
    """Whether every word after the binary is a known option with its argument."""
    return _first_bad_word(argv) is None


def first_option_error(argv: Sequence[str]) -> str | None:
    """QEMU's first-pass refusal (``-foo: invalid option``), checked before any query.

    None when every word is a known option, or when the first bad word is no
    option at all (a disk image for QEMU, which the simulator refuses as not
    modelled).
    """
    bad = _first_bad_word(argv)
    if bad is None or not bad[0].startswith("-"):
        return None
    return f"{bad[0]}: {bad[1]}"


def _first_bad_word(argv: Sequence[str]) -> tuple[str, str] | None:
    position = 1
    while position < len(argv):
        word = argv[position]
        name = word[2:] if word.startswith("--") else word[1:]
        takes = _TAKES_ARGUMENT.get(name) if word.startswith("-") and word != "-" else None
        if takes is None:
            return word, "invalid option"
        if takes and position + 1 >= len(argv):
            return word, "requires an argument"
        position += 2 if takes else 1
    return None


def answer_at_once(
    name: str, value: str | None, *, target: str, version: QemuVersion, full_version: str,
    package: str,
) -> None:  # fmt: skip
    """Raise :class:`OptionQuery` if option ``name`` (``value``) is answered at its place."""
    if name == "version":
        full = f"{full_version} ({package})" if package else full_version
        raise OptionQuery(
            f"QEMU emulator version {full}\n"
            f"Copyright (c) 2003-{_COPYRIGHT_YEAR[str(version)]} Fabrice Bellard "
            "and the QEMU Project developers\n"
        )
    if name in ("machine", "M") and value is not None and _asks_help(value):
        raise OptionQuery(_machine_help(value, target, version))
    if name == "smp" and value is not None:
        try:
            parse_smp(value, qemu_version=version)
        except HelpRequested as help_text:
            raise OptionQuery(help_text.message + "\n") from None  # QEMU ends each line
        except TopologyError:
            return  # a bad -smp is reported later, by the simulator


def deferred_query(name: str, value: str | None) -> str | None:
    """For ``-cpu help`` and the like: the stand-in's refusal (not modelled), else None."""
    if value is None or name not in ("cpu", "device", "accel"):
        return None
    # -cpu qemu64,help is a feature named help; -device TYPE,help lists TYPE's properties.
    if _asks_help(value) if name == "device" else value.split(",", 1)[0] in ("help", "?"):
        return f"cputopo: -{name} {value}: this help text is not modelled (exit 2)"
    return None


def _machine_help(value: str, target: str, version: QemuVersion) -> str:
    items = value.split(",")
    first = items[0] if "=" not in items[0] else ""
    named = [item.partition("=")[2] for item in items if item.startswith("type=")]
    machine = named[-1] if named else first
    if machine not in ("", "help", "?"):
        resolved = resolve_machine_type(target, version, machine)
        if resolved is not None:
            text = machine_property_help(target, resolved, version)
            if text is not None:
                return text
    entries = machine_types(target, version)
    if entries is None:
        raise UnknownTarget(target)
    return format_machine_list(entries)


class UnknownTarget(Exception):
    """No catalogue for this target: the stand-in cannot list its machines."""


def _asks_help(value: str) -> bool:
    # QEMU's is_help_option: "help" or "?" as a whole item of the option's text.
    return any(item in ("help", "?") for item in value.split(","))
