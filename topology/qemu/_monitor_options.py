"""The monitor options of a QEMU command line: ``-qmp``, ``-monitor``, ``-mon``, ``-chardev``.

QEMU handles them in three stages, and so does the stand-in, with QEMU's
messages (observed on 7.2, 10.0 and 11.1):

1. while it reads the command line (:class:`MonitorOptionsReader`, option by
   option): unknown parameters (``Invalid parameter 'bogus'``), duplicate
   chardev ids, booleans that are not ``on``/``off``, the warnings for
   ``server``/``nowait`` short forms and, from 11.1, for ``-mon`` itself;
2. with the early back ends, before ``-smp`` is checked
   (:mod:`topology.qemu._qmp_server` opens them): a missing id, an unknown
   back end, stdio used twice, a socket that cannot be bound or connected;
3. with the late back ends, after the machine options
   (:func:`check_monitors`): ``-mon`` without or with an unknown chardev,
   a chardev used by two monitors, an unknown ``mode``.

``-qmp X`` and ``-monitor X`` are shorthands for a chardev (``compat_monitorN``)
plus a ``-mon``; ``-monitor none`` adds nothing. The stand-in serves QMP on
stdio and on UNIX sockets (a path or an inherited ``fd=``, as a server or a
client); an HMP monitor (``mode=readline``, ``-monitor stdio``), pretty
printing and other back ends (tcp, pty, ...) are refused as not modelled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from topology._parse.identifiers import IDENTIFIER_HINT, is_identifier
from topology._parse.qom_props import parse_qemu_bool
from topology._versions import QemuVersion

__all__ = [
    "Chardev",
    "MonitorNotModelled",
    "MonitorOptionError",
    "MonitorOptionsReader",
    "MonitorSpec",
    "check_monitors",
]

#: QEMU's chardev parameters (``qemu_chardev_opts``): one list for every back end.
_CHARDEV_PARAMETERS: Final = frozenset(
    {
        "backend", "id", "path", "host", "port", "fd", "local", "localaddr", "localport",
        "to", "ipv4", "ipv6", "wait", "server", "delay", "nodelay", "reconnect",
        "reconnect-ms", "telnet", "tn3270", "websocket", "tls-creds", "tls-authz", "width",
        "height", "cols", "rows", "mux", "signal", "name", "debug", "size", "chardev",
        "append", "logfile", "logappend", "abstract", "tight", "input-path",
    }
)  # fmt: skip
#: The parameters the stand-in can serve on a socket; the rest are QEMU's but not modelled.
_SOCKET_PARAMETERS: Final = frozenset({"backend", "id", "path", "fd", "server", "wait"})
_BOOLEAN_PARAMETERS: Final = frozenset(
    {"wait", "server", "delay", "nodelay", "telnet", "tn3270", "websocket", "ipv4", "ipv6",
     "mux", "signal", "append", "logappend", "abstract", "tight", "debug"}
)  # fmt: skip
#: Chardev back ends QEMU knows (Debian's builds); only socket and stdio are served.
_BACKENDS: Final = frozenset(
    {"null", "socket", "udp", "ringbuf", "memory", "file", "stdio", "serial", "tty",
     "parallel", "parport", "pipe", "pty", "braille", "msmouse", "wctablet", "testdev",
     "spicevmc", "spiceport", "vc", "dbus", "qemu-vdagent", "mux", "hub"}
)  # fmt: skip
#: ``-mon``'s parameters (``qemu_mon_opts``; ``id`` as in every QemuOpts group,
#: libvirt gives one); the first word names the chardev.
_MON_PARAMETERS: Final = frozenset({"id", "mode", "chardev", "pretty"})
#: The prefixes ``-qmp``/``-monitor`` know (``qemu_chr_parse_compat``), besides ``unix:``.
_COMPAT_NOT_MODELLED: Final = (
    "null", "vc", "pty", "braille", "msmouse", "wctablet", "file:", "pipe:", "udp:",
    "tcp:", "telnet:", "websocket:", "mon:", "chardev:", "/dev/parport", "/dev/",
    "COM", "con:",
)  # fmt: skip


class MonitorOptionError(Exception):
    """QEMU refuses the monitor options: its stderr lines, exit status 1."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)


class MonitorNotModelled(Exception):
    """QEMU would take these monitor options, but the stand-in cannot serve them (exit 2)."""


@dataclasses.dataclass
class Chardev:
    """A character device a monitor may use, as ``-chardev`` or ``-qmp``/``-monitor`` gave it.

    ``where`` is the option as QEMU names it in messages (``-chardev socket,...``).
    """

    where: str
    id: str | None
    backend: str
    parameters: dict[str, str]
    server: bool = False
    wait: bool | None = None

    @property
    def path(self) -> str | None:
        return self.parameters.get("path")


@dataclasses.dataclass
class MonitorSpec:
    """A monitor: on which chardev, in which mode (``control`` is QMP)."""

    where: str
    chardev: str | None
    mode: str
    pretty: bool


class MonitorOptionsReader:
    """Reads the monitor options one by one, as QEMU's option loop does."""

    def __init__(self, program: str, version: QemuVersion) -> None:
        self._program = program
        self._version = version
        self.chardevs: list[Chardev] = []
        self.monitors: list[MonitorSpec] = []
        #: What QEMU prints on stderr while reading them (deprecation warnings).
        self.warnings: list[str] = []
        self._compat_count = 0
        self._warned_mon = False

    def read(self, spelled: str, value: str) -> None:
        """One option: ``spelled`` as written (``-qmp``, ``--chardev``), its argument."""
        name = spelled.lstrip("-")
        where = f"{spelled} {value}"
        if name == "chardev":
            self._read_chardev(where, value)
        elif name == "mon":
            self._read_mon(where, value)
        elif name in ("qmp", "qmp-pretty", "monitor"):
            self._read_compat(where, name, value)

    def _error(self, where: str, *lines: str) -> MonitorOptionError:
        return MonitorOptionError([f"{self._program}: {where}: {lines[0]}", *lines[1:]])

    def _split(self, where: str, value: str, implied: str, known: frozenset[str]) -> dict[str, str]:
        """QemuOpts syntax: ``implied-value,key=value,flag,noflag``; ``,,`` is a comma."""
        parameters: dict[str, str] = {}
        for index, item in enumerate(_split_commas(value)):
            key, equals, text = item.partition("=")
            if not equals:
                if index == 0:
                    key, text = implied, item
                else:
                    # A bare word is a boolean: "server" is on, "nowait" is wait off.
                    text = "off" if key.startswith("no") and key[2:] in known else "on"
                    key = key[2:] if text == "off" else key
                    self.warnings += [
                        f"{self._program}: {where}: warning: short-form boolean option "
                        f"'{item}' deprecated",
                        f"Please use {key}={text} instead",
                    ]
            if key not in known:
                raise self._error(where, f"Invalid parameter '{key}'")
            parameters[key] = text  # the last one given wins, as in QEMU
        return parameters

    def _check_booleans(self, where: str, parameters: dict[str, str]) -> None:
        for key, text in parameters.items():
            if key in _BOOLEAN_PARAMETERS and parse_qemu_bool(text) is None:
                raise self._error(where, f"Parameter '{key}' expects 'on' or 'off'")

    def _read_chardev(self, where: str, value: str) -> None:
        parameters = self._split(where, value, "backend", _CHARDEV_PARAMETERS)
        self._check_booleans(where, parameters)
        chardev_id = parameters.get("id")
        if chardev_id is not None:
            if not is_identifier(chardev_id):
                raise self._error(where, "Parameter 'id' expects an identifier", IDENTIFIER_HINT)
            if any(chardev.id == chardev_id for chardev in self.chardevs):
                raise self._error(where, f"Duplicate ID '{chardev_id}' for chardev")
        self.chardevs.append(_chardev(where, chardev_id, parameters))

    def _read_mon(self, where: str, value: str) -> None:
        if self._version.at_least("11.1") and not self._warned_mon:
            # Once per run, however many -mon there are (observed on 11.1).
            self._warned_mon = True
            self.warnings.append(
                f"{self._program}: {where}: warning: '-mon' is deprecated, use '-object' with "
                "'monitor-hmp' or 'monitor-qmp' types instead"
            )
        parameters = self._split(where, value, "chardev", _MON_PARAMETERS)
        self._check_booleans(where, {"pretty": parameters.get("pretty", "off")})
        self.monitors.append(
            MonitorSpec(
                where=where,
                chardev=parameters.get("chardev"),
                mode=parameters.get("mode", "readline"),
                pretty=parse_qemu_bool(parameters.get("pretty", "off")) is True,
            )
        )

    def _read_compat(self, where: str, name: str, value: str) -> None:
        mode = "readline" if name == "monitor" else "control"
        if name == "monitor" and value == "none":
            return  # no monitor at all, and none by default either
        chardev_id = f"compat_monitor{self._compat_count}"
        self._compat_count += 1
        if value == "stdio":
            chardev = Chardev(where=where, id=chardev_id, backend="stdio", parameters={})
        elif value.startswith("unix:"):
            parameters = self._compat_socket(where, value)
            chardev = _chardev(where, chardev_id, {**parameters, "id": chardev_id})
        elif value.startswith(_COMPAT_NOT_MODELLED):
            raise MonitorNotModelled(
                f"cputopo: {where}: the stand-in serves monitors on stdio and UNIX sockets only"
            )
        else:
            raise self._error(
                where, f"'{value}' is not a valid char driver", f"{self._program}: {where}: "
                f"parse error: {value}"
            )  # fmt: skip
        self.chardevs.append(chardev)
        self.monitors.append(
            MonitorSpec(where=where, chardev=chardev_id, mode=mode, pretty=name == "qmp-pretty")
        )

    def _compat_socket(self, where: str, value: str) -> dict[str, str]:
        # unix:PATH[,key=value...]: bare words are booleans here with no warning.
        path, *items = _split_commas(value.removeprefix("unix:"))
        parameters = {"backend": "socket", "path": path}
        for item in items:
            key, equals, text = item.partition("=")
            if not equals:
                key, text = (key[2:], "off") if key.startswith("no") else (key, "on")
            if key not in _CHARDEV_PARAMETERS:
                raise self._error(
                    where, f"Invalid parameter '{key}'", f"{self._program}: {where}: "
                    f"parse error: {value}"
                )  # fmt: skip
            parameters[key] = text
        self._check_booleans(where, parameters)
        return parameters


def _chardev(where: str, chardev_id: str | None, parameters: dict[str, str]) -> Chardev:
    wait_text = parameters.get("wait")
    return Chardev(
        where=where,
        id=chardev_id,
        backend=parameters.get("backend", ""),
        parameters=parameters,
        server=parse_qemu_bool(parameters.get("server", "off")) is True,
        wait=None if wait_text is None else parse_qemu_bool(wait_text) is True,
    )


def chardev_problem(chardev: Chardev, program: str) -> MonitorOptionError | None:
    """What QEMU says when it creates ``chardev`` before it touches a socket, if anything."""
    where = chardev.where
    if chardev.id is None:
        return MonitorOptionError([f"{program}: {where}: chardev: no id specified"])
    if chardev.backend not in _BACKENDS:
        return MonitorOptionError(
            [f"{program}: {where}: '{chardev.backend}' is not a valid char driver name"]
        )
    if chardev.backend not in ("socket", "stdio"):
        raise MonitorNotModelled(
            f"cputopo: {where}: the {chardev.backend} back end is not modelled "
            "(the stand-in serves stdio and UNIX sockets)"
        )
    if chardev.backend == "stdio":
        return None
    unserved = sorted(set(chardev.parameters) - _SOCKET_PARAMETERS)
    if unserved:
        raise MonitorNotModelled(
            f"cputopo: {where}: socket parameter {unserved[0]} is not modelled "
            "(the stand-in serves UNIX sockets: path= or fd=, server, wait)"
        )
    if not chardev.path:
        fd_text = chardev.parameters.get("fd", "")
        if not fd_text.isdigit():
            return MonitorOptionError([f"{program}: {where}: Unable to parse FD number {fd_text}"])
    if chardev.wait is not None and not chardev.server:
        message = "'wait' option is incompatible with socket in client connect mode"
        return MonitorOptionError([f"{program}: {where}: {message}"])
    return None


def check_monitors(
    monitors: Sequence[MonitorSpec], chardevs: Sequence[Chardev], program: str, version: QemuVersion
) -> None:
    """The late back ends: each monitor's mode and chardev, QEMU's refusals in its order."""
    by_id = {chardev.id: chardev for chardev in chardevs if chardev.id is not None}
    used: set[str] = set()
    for monitor in monitors:
        where = monitor.where
        if monitor.mode not in ("readline", "control"):
            raise MonitorOptionError(
                [f"{program}: {where}: Parameter 'mode' does not accept value '{monitor.mode}'"]
            )
        if monitor.chardev is None:
            raise MonitorOptionError([f"{program}: {where}: Parameter 'chardev' is missing"])
        if monitor.chardev not in by_id:
            raise MonitorOptionError([f'{program}: {where}: chardev "{monitor.chardev}" not found'])
        if monitor.chardev in used:
            message = (
                f"chardev '{monitor.chardev}' is already in use"
                if version.at_least("10.0")
                else f"Device '{monitor.chardev}' is in use"
            )
            raise MonitorOptionError([f"{program}: {where}: {message}"])
        used.add(monitor.chardev)
    for monitor in monitors:
        if monitor.mode == "readline":
            raise MonitorNotModelled(
                f"cputopo: {monitor.where}: HMP monitors (mode=readline) are not modelled; "
                "the stand-in speaks QMP (mode=control)"
            )
        if monitor.pretty:
            raise MonitorNotModelled(
                f"cputopo: {monitor.where}: pretty-printed QMP is not modelled"
            )


def _split_commas(text: str) -> list[str]:
    """Split QemuOpts text at single commas; ``,,`` stands for a comma in a value."""
    items: list[str] = []
    current: list[str] = []
    position = 0
    while position < len(text):
        character = text[position]
        if character == ",":
            if text.startswith(",,", position):
                current.append(",")
                position += 2
                continue
            items.append("".join(current))
            current = []
        else:
            current.append(character)
        position += 1
    items.append("".join(current))
    return items
