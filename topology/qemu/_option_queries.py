"""The options that make QEMU print something and exit 0, and when QEMU answers each.

QEMU first checks that every word of the command line is an option it knows
(``-foo: invalid option`` wins over ``--version``), then reads the options in
order, checking each one's syntax as it goes (:class:`OptionPass`; an option
it refuses there wins over every query after it). ``-version``, ``-machine
help`` (or ``-M TYPE,help``), ``-smp help`` and ``-accel help`` answer at
once, at their place: the first one given wins and nothing after it is
checked. ``-cpu help`` (the last ``-cpu`` given must be ``help`` or ``?``) and
then the first ``-device`` that asks for help are answered after the whole
line was read, before QEMU looks at the machine, the accelerator or anything
else the options name (``-cpu help -M nosuch`` prints the CPU models). All
observed on QEMU 7.2, 10.0 and 11.1.

The texts of ``-cpu help``, ``-device help`` and ``-device TYPE,help`` of CPU
types were captured from each binary (``tools/capture_option_help.py``); the
other device types' properties were not, so the stand-in refuses them as not
modelled, unless QEMU would refuse the name itself (``Device 'x' not found``,
printed on stderr, and still exit 0). Where the stand-in cannot check an
option as QEMU reads it (``-drive``, a ``-display`` other than ``none``), a
query on the line is refused as not modelled rather than answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs

from topology._errors import HelpRequested, OptionSyntaxError, ParameterError, TopologyError
from topology._model.numa import numa_command_line
from topology._parse.command_line import _TAKES_ARGUMENT, UnsupportedOptionError
from topology._parse.identifiers import IDENTIFIER_HINT, is_identifier
from topology._parse.keyval import parse_keyval
from topology._parse.memory import parse_memory
from topology._parse.memory_backend import read_object
from topology._parse.numa import _flag_warning, _opt_items
from topology._parse.smp import parse_smp
from topology._resolve.catalogue import (
    CAPTURED_VERSIONS,
    accelerators,
    format_machine_list,
    machine_property_help,
    machine_types,
    resolve_machine_type,
)
from topology._versions import QemuVersion
from topology._warnings import QemuWarning
from topology.qemu import _discovery

__all__ = [
    "OptionPass",
    "OptionQuery",
    "OptionRefused",
    "answer_at_once",
    "asks_query",
    "first_option_error",
    "known_options_only",
]

#: The year of QEMU_COPYRIGHT per release (``--version``'s second line, observed).
_COPYRIGHT_YEAR: Final = {"7.2": 2022, "10.0": 2025, "11.1": 2026}
#: ``-accel help``'s first line, then one accelerator a line (7.2, 10.0, 11.1).
_ACCEL_HEADER: Final = "Accelerators supported in QEMU binary:\n"
#: QEMU's qemu_uuid_parse wants 36 characters; hex digits in 8-4-4-4-12.
_UUID: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
#: ``-name``'s members (QemuOpts with a schema: others are refused).
_NAME_MEMBERS: Final = ("guest", "process", "debug-threads")
#: The values QEMU's QemuOpts reads as booleans, true ones first.
_BOOLEANS: Final = ("on", "yes", "true", "y", "off", "no", "false", "n")
#: Options read by the monitor options' reader, or that QEMU does not check
#: while it reads the line (it keeps their text for later).
_NOT_CHECKED_HERE: Final = frozenset(
    {"qmp", "qmp-pretty", "monitor", "mon", "chardev", "serial", "parallel", "vga", "pidfile"}
)
_HELP: Final = ("help", "?")
#: Options without an argument that QEMU only notes as it reads the line
#: (``-version`` is answered by :func:`answer_at_once`; ``--preconfig -cpu help``
#: prints the models, observed on 7.2 and 11.1).
_PLAIN_FLAGS: Final = frozenset(
    {
        "S",
        "nodefaults",
        "no-user-config",
        "nographic",
        "no-reboot",
        "no-shutdown",
        "enable-kvm",
        "preconfig",
        "version",
    }
)


class OptionQuery(Exception):
    """The option answers with ``text`` on stdout (and ``stderr_lines``) and exit 0."""

    def __init__(self, text: str, stderr_lines: Sequence[str] = ()) -> None:
        super().__init__(text)
        self.text = text
        self.stderr_lines = tuple(stderr_lines)


class OptionRefused(Exception):
    """QEMU refuses an option as it reads the line: ``lines`` on stderr, exit 1."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)


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


def _options(argv: Sequence[str]) -> list[tuple[str, str | None]]:
    """(name, argument) of each option of a line :func:`known_options_only` accepts."""
    found: list[tuple[str, str | None]] = []
    position = 1
    while position < len(argv):
        word = argv[position]
        name = word[2:] if word.startswith("--") else word[1:]
        value = argv[position + 1] if _TAKES_ARGUMENT[name] else None
        found.append((name, value))
        position += 2 if value is not None else 1
    return found


def asks_query(argv: Sequence[str]) -> bool:
    """Whether a line :func:`known_options_only` accepts has an option query on it.

    Only such a line is read by :class:`OptionPass`; any other goes to the
    simulator, which reports QEMU's refusals itself.
    """
    cpu: str | None = None
    accel_ids: set[str] = set()
    for name, value in _options(argv):
        if name == "cpu":
            cpu = value
        elif name == "accel" and value is not None:
            items = list(_opt_items(value, "accel"))
            if _accel_id_error(items, accel_ids) is not None or _accel_listed(items):
                return True
        elif name == "version" or (value is not None and _asks_at_option(name, value)):
            return True
    return cpu in _HELP


def _asks_at_option(name: str, value: str) -> bool:
    """Whether option ``name`` (not ``-accel``) with ``value`` asks for help."""
    if name in ("machine", "M", "smp"):
        try:
            implied = "cpus" if name == "smp" else "type"
            return parse_keyval(value, option=f"-{name}", implied_key=implied)[1]
        except TopologyError:
            return False  # refused while QEMU reads it: no query
    return name == "device" and _device_help(value) is not None


def _accel_listed(items: Sequence[tuple[str, str, str | None]]) -> bool:
    """Whether an ``-accel`` QEMU could read lists the accelerators: its last
    ``accel`` member is ``help`` or ``?``, or it has none (``-accel thread=single``)."""
    accels = [value for name, value, _ in items if name == "accel"]
    return not accels or accels[-1] in _HELP


def _accel_id_error(
    items: Sequence[tuple[str, str, str | None]], seen: set[str]
) -> list[str] | None:
    """QEMU's lines for an ``-accel`` id it refuses (``seen`` holds the ids so far,
    and gets this one); None when the option is read."""
    ids = [value for name, value, _ in items if name == "id"]
    if not ids:
        return None
    if not is_identifier(ids[0]):
        return ["Parameter 'id' expects an identifier", IDENTIFIER_HINT]
    if ids[0] in seen:
        return [f"Duplicate ID '{ids[0]}' for accel"]
    seen.add(ids[0])
    return None


def _device_help(text: str) -> str | None:
    """The driver of a ``-device TEXT`` that asks for help (``help`` for the list), else None.

    QemuOpts (not JSON) only: the driver is the last ``driver`` member
    (implied first), help is asked by a driver ``help``/``?`` or by a member
    of that name, whatever its value (``nohelp`` too).
    """
    if text.startswith("{"):
        return None
    items = list(_opt_items(text, "driver"))
    drivers = [value for name, value, _ in items if name == "driver"]
    if not drivers:
        return None
    if drivers[-1] in _HELP:
        return "help"
    return drivers[-1] if any(name in _HELP for name, _, _ in items) else None


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


class OptionPass:
    """QEMU reading a line that has an option query on it, one option at a time.

    :meth:`read` checks what QEMU checks as it reads each option (the syntax of
    ``-machine``, ``-smp``, ``-numa``, ``-accel`` and ``-device``, all of
    ``-m``, the schema and id of ``-object``, ``-name`` and ``-uuid``) and
    raises :class:`OptionRefused` with QEMU's lines where it stops; the
    short-form boolean warnings go to ``warnings``, the list the monitor
    options' reader writes to, so that stderr keeps QEMU's order. ``-accel
    help`` raises :class:`OptionQuery` at its place; :meth:`answer_deferred`
    answers ``-cpu help`` and ``-device ...,help`` at the end. An option the
    stand-in cannot check raises :class:`UnsupportedOptionError`.
    """

    def __init__(
        self, program: str, target: str, version: QemuVersion, warnings: list[str]
    ) -> None:
        self._program = program
        self._target = target
        self._version = version
        self._warnings = warnings
        self._numa: list[str] = []
        self._numa_warned = 0
        self._objects: set[str] = set()
        self._devices: set[str] = set()
        self._accels: set[str] = set()
        self._cpu: str | None = None
        # (driver, option as given) of the first -device that asks for help.
        self._device_help: tuple[str, str] | None = None

    def read(self, name: str, spelled: str, value: str | None) -> None:
        """Read one option as QEMU does (its argument ``value``, None for a flag)."""
        if name in _NOT_CHECKED_HERE or (value is None and name in _PLAIN_FLAGS):
            return
        if value is None:
            # -h prints QEMU's usage at once; -preconfig, -daemonize, ... are
            # not modelled at all.
            raise UnsupportedOptionError(
                f"cputopo: {spelled}: the stand-in does not model this option", what=spelled
            )
        try:
            self._check(name, spelled, value)
        except UnsupportedOptionError:
            raise
        except TopologyError as error:
            raise OptionRefused(self._render(error)) from None

    def _check(self, name: str, spelled: str, value: str) -> None:
        where = f"{spelled} {value}"
        if name in ("machine", "M"):
            parse_keyval(value, option=spelled, implied_key="type")
        elif name == "smp":
            parse_keyval(value, option=spelled, implied_key="cpus")
        elif name == "m":
            if any(item in _HELP for item in value.split(",")):
                raise UnsupportedOptionError(
                    f"cputopo: {where}: -m's own help is not modelled", what="help"
                )
            self._warn(parse_memory(value, qemu_version=self._version).warnings)
        elif name == "numa":
            self._read_numa(value)
        elif name == "object":
            self._read_object(value, spelled)
        elif name == "device":
            self._read_device(value, spelled)
        elif name == "accel":
            self._read_accel(value, spelled)
        elif name == "cpu":
            self._cpu = value  # only the last one counts
        elif name == "name":
            self._read_name(value, where)
        elif name == "uuid":
            self._read_uuid(value, where)
        elif not (name == "display" and value == "none"):
            raise UnsupportedOptionError(
                f"cputopo: {where}: the stand-in does not check this option as QEMU "
                "reads it, so it cannot tell whether QEMU answers the query after it",
                what=spelled,
            )

    def _read_numa(self, value: str) -> None:
        try:
            warnings = numa_command_line([*self._numa, value], qemu_version=self._version)
        except OptionSyntaxError as error:
            error.warnings = error.warnings[self._numa_warned :]  # the earlier ones are out
            raise
        self._warn(warnings[self._numa_warned :])
        self._numa.append(value)
        self._numa_warned = len(warnings)

    def _read_object(self, value: str, spelled: str) -> None:
        if value.startswith("{"):
            raise UnsupportedOptionError(
                f"cputopo: {spelled} {value}: -object in JSON is not modelled", what=spelled
            )
        backend = read_object(value, spelled=spelled, version=self._version)
        if backend.id in self._objects:
            raise OptionSyntaxError(
                f"Duplicate ID '{backend.id}' for object", option=spelled, text=value, what="id"
            )
        self._objects.add(backend.id)

    def _read_device(self, value: str, spelled: str) -> None:
        if value.startswith("{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise UnsupportedOptionError(
                    f"cputopo: {spelled} {value}: QEMU's JSON errors for -device are not modelled",
                    what=spelled,
                )
            return  # QEMU checks a JSON device only when it creates it
        items = list(_opt_items(value, "driver"))
        device_id = next((item for name, item, _ in items if name == "id"), None)
        if device_id is not None:
            self._check_id(device_id, "device", self._devices, spelled, value)
        self._warn_flags(items, f"{spelled} {value}")
        driver = _device_help(value)
        if driver is not None and self._device_help is None:
            self._device_help = (driver, f"{spelled} {value}")

    def _read_accel(self, value: str, spelled: str) -> None:
        where = f"{spelled} {value}"
        items = list(_opt_items(value, "accel"))
        error = _accel_id_error(items, self._accels)
        if error is None:
            self._warn_flags(items, where)
            if not _accel_listed(items):
                return
        names = accelerators(self._target, self._version)
        if names is None or self._version not in CAPTURED_VERSIONS:
            raise UnsupportedOptionError(
                f"cputopo: {where}: the accelerators of qemu-system-{self._target} "
                f"{self._version} were not captured",
                what="accel",
            )
        lines: list[str] = []
        if error is not None:
            # QEMU could not read the option: it says why, then lists them anyway.
            message, *hint = error
            lines = [f"{self._program}: {where}: {message}", *hint]
        raise OptionQuery(_ACCEL_HEADER + "".join(f"{name}\n" for name in names), lines)

    def _read_name(self, value: str, where: str) -> None:
        for name, item, flag in _opt_items(value, "guest"):
            if flag is not None:
                # QEMU warns, and "help" prints -name's own help: not modelled.
                raise UnsupportedOptionError(
                    f"cputopo: {where}: flags of -name are not modelled", what=name
                )
            if name not in _NAME_MEMBERS:
                raise ParameterError(f"{where}: Invalid parameter '{name}'", what=name)
            if name == "debug-threads" and item not in _BOOLEANS:
                raise ParameterError(
                    f"{where}: Parameter 'debug-threads' expects 'on' or 'off'", what=name
                )

    def _read_uuid(self, value: str, where: str) -> None:
        if len(value) != 36:
            raise ParameterError(f"{where}: failed to parse UUID string: wrong format")
        if not _UUID.fullmatch(value):
            # QEMU reads each pair of digits with sscanf, which takes more than
            # hex digits (a sign, spaces): not worth modelling.
            raise UnsupportedOptionError(
                f"cputopo: {where}: a -uuid not made of hex digits is not modelled", what="uuid"
            )

    def _check_id(
        self, option_id: str, kind: str, seen: set[str], spelled: str, value: str
    ) -> None:
        if not is_identifier(option_id):
            raise ParameterError(
                f"{spelled} {value}: Parameter 'id' expects an identifier",
                what="id",
                hint=IDENTIFIER_HINT,
            )
        if option_id in seen:
            raise OptionSyntaxError(
                f"Duplicate ID '{option_id}' for {kind}", option=spelled, text=value, what="id"
            )
        seen.add(option_id)

    def answer_deferred(self) -> None:
        """Answer ``-cpu help`` or a ``-device`` help, once the whole line was read.

        Raises :class:`OptionQuery` when one was asked, else returns.
        """
        if self._cpu in _HELP:
            raise OptionQuery(self._captured("-cpu help")["cpu-help"])
        if self._device_help is None:
            return
        driver, where = self._device_help
        help_texts = self._captured(where)
        if driver == "help":
            raise OptionQuery(help_texts["device-help"])
        # Imported here: most lines with a query never need the type list.
        from topology.qemu._qom_types import qom_types

        types = qom_types(self._target, self._version)
        typename = driver
        if typename not in types:
            # QEMU's alias table names another type, which the binary may lack.
            typename = help_texts["aliases"].get(driver, driver)
        if typename not in types:
            message = f"Device '{typename}' not found"
        elif types.is_abstract(typename) or "device" not in types.ancestry(typename):
            message = "Parameter 'typename' expects a non-abstract device type"
        else:
            for entry in help_texts["cpu-devices"]:
                if typename in entry["types"]:
                    raise OptionQuery(f"{typename} options:\n{entry['text']}")
            raise UnsupportedOptionError(
                f"cputopo: {where}: the stand-in has the properties of CPU device types "
                f"only, not of {typename}",
                what=typename,
            )
        raise OptionQuery("", [f"{self._program}: {where}: {message}"])

    def _captured(self, what: str) -> dict[str, Any]:
        return _discovery.captured_file("help", self._target, self._version, what)

    def _warn_flags(self, items: list[tuple[str, str, str | None]], where: str) -> None:
        """QemuOpts' warning for each short-form boolean (``foo``, ``nofoo``) but help."""
        self._warn(
            attrs.evolve(_flag_warning(flag, name, item), where=where)
            for name, item, flag in items
            if flag is not None and flag not in _HELP
        )

    def _warn(self, warnings: Iterable[QemuWarning]) -> None:
        for warning in warnings:
            self._warnings.extend(self._warning_lines(warning))

    def _warning_lines(self, warning: QemuWarning) -> list[str]:
        return [f"{self._program}: {warning}", *(warning.hint or "").splitlines()]

    def _render(self, error: TopologyError) -> list[str]:
        lines = [line for warning in error.warnings for line in self._warning_lines(warning)]
        lines.append(f"{self._program}: {error.message}")
        lines.extend((error.hint or "").splitlines())
        return lines


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
