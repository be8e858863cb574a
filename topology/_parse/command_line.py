"""Reading a QEMU command line into options, as QEMU's first pass over ``argv`` does.

QEMU reads its options one by one (``qemu_init``), accepting ``-opt`` and
``--opt`` alike. An option it does not know stops it at once
(``-foo: invalid option``), as does one that wants an argument and has none
(``-smp: requires an argument``). The values are checked later, each in its
own stage (see :mod:`topology._model.start`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final

import attrs

from topology._errors import OptionSyntaxError, TopologyError

__all__ = ["CommandLine", "Option", "UnsupportedOptionError", "program_name", "read_command_line"]


class UnsupportedOptionError(TopologyError, ValueError):
    """A QEMU option that QEMU knows but the stand-in does not model (``-drive``)."""


#: Options that matter to CPU topology, by the name QEMU knows them by; True when
#: the option takes an argument. ``-M`` is ``-machine``, ``-enable-kvm`` is ``-accel kvm``.
_MODELLED: Final = {
    "machine": True,
    "M": True,
    "cpu": True,
    "smp": True,
    "numa": True,
    "m": True,
    "object": True,
    "accel": True,
    "enable-kvm": False,
    "device": True,
}

#: Options that change nothing the stand-in answers: accepted and ignored.
_IGNORED: Final = {
    "S": False,
    "nodefaults": False,
    "no-user-config": False,
    "nographic": False,
    "no-reboot": False,
    "no-shutdown": False,
    "display": True,
    "qmp": True,
    "qmp-pretty": True,
    "monitor": True,
    "serial": True,
    "parallel": True,
    "vga": True,
    "name": True,
    "uuid": True,
    "msg": True,
    "pidfile": True,
    "chardev": True,
    "mon": True,
}

#: Other options of QEMU's (``qemu-options.hx``): known to QEMU, not modelled here.
_KNOWN_ELSEWHERE: Final = {
    "drive": True,
    "hda": True,
    "hdb": True,
    "cdrom": True,
    "blockdev": True,
    "netdev": True,
    "nic": True,
    "net": True,
    "kernel": True,
    "initrd": True,
    "append": True,
    "bios": True,
    "boot": True,
    "global": True,
    "fsdev": True,
    "virtfs": True,
    "usb": False,
    "usbdevice": True,
    "rtc": True,
    "icount": True,
    "overcommit": True,
    "incoming": True,
    "preconfig": False,
    "loadvm": True,
    "daemonize": False,
    "readconfig": True,
    "writeconfig": True,
    "snapshot": False,
    "L": True,
    "d": True,
    "D": True,
    "trace": True,
    "sandbox": True,
    "smbios": True,
    "fw_cfg": True,
    "audiodev": True,
    "device-help": False,
    "version": False,
    "h": False,
    "help": False,
}


_TAKES_ARGUMENT: Final = {**_MODELLED, **_IGNORED, **_KNOWN_ELSEWHERE}


@attrs.frozen(kw_only=True)
class Option:
    """One option of the command line, as given.

    Attributes:
        name: QEMU's name for it, without dashes and aliases resolved
            (``-M`` is ``machine``, ``-enable-kvm`` is ``accel`` with ``kvm``).
        value: its argument, or None for an option that takes none.
        spelled: the option as written (``-M``, ``--smp``), which QEMU's
            messages repeat.
        position: its index in ``argv``.
    """

    name: str
    value: str | None
    spelled: str
    position: int


@attrs.frozen(kw_only=True)
class CommandLine:
    """A QEMU command line read into options, binary first.

    Attributes:
        binary: ``argv[0]`` as given (``/usr/bin/qemu-system-x86_64``).
        target: the QEMU target it names (``x86_64``).
        options: the modelled options, in command-line order.
    """

    binary: str
    target: str
    options: tuple[Option, ...]

    @property
    def program(self) -> str:
        """The name QEMU prefixes its messages with (the binary's base name)."""
        return os.path.basename(self.binary)

    def values(self, name: str) -> list[str]:
        """The arguments of every option ``name``, in order."""
        return [
            option.value
            for option in self.options
            if option.name == name and option.value is not None
        ]


def program_name(argv: Sequence[str]) -> str:
    """The name QEMU prefixes its messages with: the base name of ``argv[0]``."""
    if not argv:
        raise UnsupportedOptionError(
            "the command line is empty: it must start with qemu-system-<target>"
        )
    return os.path.basename(argv[0])


def read_command_line(argv: Sequence[str]) -> CommandLine:
    """QEMU's first pass over ``argv``: which options there are, and their arguments.

    ``argv[0]`` must name ``qemu-system-<target>``. A word that is not an
    option is refused: QEMU would take it for a disk image, which the stand-in
    does not model.

    >>> line = read_command_line(["qemu-system-x86_64", "-M", "q35", "-smp", "2", "-S"])
    >>> [(o.name, o.value) for o in line.options]
    [('machine', 'q35'), ('smp', '2')]
    >>> read_command_line(["qemu-system-x86_64", "-smp"])
    Traceback (most recent call last):
    ...
    topology.OptionSyntaxError: -smp: requires an argument
    """
    if not argv:
        raise UnsupportedOptionError(
            "the command line is empty: it must start with qemu-system-<target>"
        )
    binary = argv[0]
    program = os.path.basename(binary)
    if not program.startswith("qemu-system-") or program == "qemu-system-":
        raise UnsupportedOptionError(
            f"'{binary}' is not a QEMU system emulator (qemu-system-<target>)",
            what="argv[0]",
            value=binary,
        )
    target = program.removeprefix("qemu-system-")
    options: list[Option] = []
    position = 1
    while position < len(argv):
        word = argv[position]
        if not word.startswith("-") or word == "-":
            raise UnsupportedOptionError(
                f"cputopo: '{word}' would be a disk image for QEMU; the stand-in models no disks",
                what=word,
            )
        name = word[2:] if word.startswith("--") else word[1:]
        takes = _TAKES_ARGUMENT.get(name)
        if takes is None:
            raise _option_error(word, "invalid option")
        value: str | None = None
        if takes:
            if position + 1 >= len(argv):
                raise _option_error(word, "requires an argument")
            value = argv[position + 1]
        if name in _KNOWN_ELSEWHERE:
            raise UnsupportedOptionError(
                f"cputopo: the stand-in does not model QEMU's {word} option", what=word
            )
        if value is not None and _asks_help(name, value):
            raise UnsupportedOptionError(
                f"cputopo: {word} {value}: help texts are not modelled", what="help"
            )
        if name in _MODELLED:
            if name == "M":
                name = "machine"
            elif name == "enable-kvm":
                name, value = "accel", "kvm"
            options.append(Option(name=name, value=value, spelled=word, position=position))
        position += 2 if takes else 1
    return CommandLine(binary=binary, target=target, options=tuple(options))


def taken_arguments(argv: Sequence[str], name: str) -> list[str | None]:
    """Each occurrence of option ``name`` in a command line ``read_command_line``
    accepted, modelled or not: its argument, or None for a flag (``-S``).

    >>> taken_arguments(["qemu-system-x86_64", "-S", "-name", "vm1"], "name")
    ['vm1']
    """
    return [value for _, value in taken_options(argv, (name,))]


def taken_options(argv: Sequence[str], names: Sequence[str]) -> list[tuple[str, str | None]]:
    """The options among ``names`` in a command line, in order: each one's name
    and argument (None for a flag).

    >>> taken_options(["qemu-system-x86_64", "-qmp", "stdio", "-mon", "chardev=m"], ("qmp", "mon"))
    [('qmp', 'stdio'), ('mon', 'chardev=m')]
    """
    found: list[tuple[str, str | None]] = []
    position = 1
    while position < len(argv):
        word = argv[position]
        spelled = word[2:] if word.startswith("--") else word[1:]
        takes = _TAKES_ARGUMENT.get(spelled, False)
        if spelled in names:
            value = argv[position + 1] if takes and position + 1 < len(argv) else None
            found.append((spelled, value))
        position += 2 if takes else 1
    return found


def without_flags(argv: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    """``argv`` without the flag options among ``names`` (an option's argument that
    happens to spell one stays).

    >>> without_flags(["qemu-system-x86_64", "--preconfig", "-name", "-preconfig"], ("preconfig",))
    ('qemu-system-x86_64', '-name', '-preconfig')
    """
    kept = [argv[0]] if argv else []
    position = 1
    while position < len(argv):
        word = argv[position]
        spelled = word[2:] if word.startswith("--") else word[1:]
        takes = _TAKES_ARGUMENT.get(spelled, False)
        if spelled not in names or takes or not word.startswith("-"):
            kept += argv[position : position + (2 if takes else 1)]
        position += 2 if takes else 1
    return tuple(kept)


def _asks_help(name: str, value: str) -> bool:
    # QEMU lists the CPU models only for a -cpu that is "help" or "?" as a whole
    # (-cpu help,x looks for a model named help), the accelerators for an -accel
    # whose first member is (observed on 7.2, 10.0 and 11.1).
    if name == "cpu":
        return value in ("help", "?")
    return name == "accel" and value.split(",", 1)[0] in ("help", "?")


def _option_error(word: str, reason: str) -> OptionSyntaxError:
    # QEMU names the option alone (``-foo: invalid option``), with no value after it.
    error = OptionSyntaxError(reason, option=word, text="", what=word)
    error.message = f"{word}: {reason}"
    error.args = (error.message,)
    error.where = word
    return error
