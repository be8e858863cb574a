"""One QMP session of the process stand-in: a monitor on stdio or one socket connection.

Each session has its own negotiation, its own ``oob`` capability and its own
JSON reader, as each QEMU monitor does; all share one :class:`QemuSimulator`.
What a command prints and the events it causes are handed back to the server
(:mod:`topology.qemu._qmp_server`), which sends events to every negotiated
session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from topology._errors import TopologyError
from topology._parse.qdict import qdict_order
from topology.qemu._qmp_args import check_arguments
from topology.qemu._qmp_json import JsonError, JsonValue, QmpJsonStream, qmp_json
from topology.qemu._simulator import QemuSimulator

__all__ = ["QmpSession", "greeting"]


def greeting(version: str, package: str) -> dict[str, object]:
    """The message QEMU sends first on each new QMP connection."""
    parts = version.split(".")
    numbers = [int(part) if part.isdigit() else 0 for part in parts[:3]] + [0, 0, 0]
    return {
        "QMP": {
            "version": {
                "qemu": {"major": numbers[0], "minor": numbers[1], "micro": numbers[2]},
                "package": package,
            },
            "capabilities": ["oob"],
        }
    }


class QmpSession:
    """The QMP state of one connection; ``write`` sends bytes to its peer."""

    def __init__(self, simulator: QemuSimulator, write: Callable[[bytes], None]) -> None:
        self._simulator = simulator
        self._write = write
        self._stream = QmpJsonStream(simulator.version)
        self.negotiated = False
        self._oob = False

    def send(self, message: Mapping[str, object]) -> None:
        self._write((qmp_json(dict(message)) + "\r\n").encode("utf-8", "replace"))

    def requests(self, chunk: bytes) -> list[JsonValue | JsonError]:
        """The complete requests in ``chunk`` and what came before it."""
        return list(self._stream.feed(chunk))

    def answer(self, request: JsonValue | JsonError) -> dict[str, Any]:
        """The reply to one request (with its ``id``); the simulator runs the command.

        Raises what the simulator raises where QEMU would not answer (a crash,
        something not modelled); the server handles those.
        """
        has_id = isinstance(request, dict) and "id" in request
        request_id = request.get("id") if isinstance(request, dict) else None
        if isinstance(request, JsonError):
            reply = _error("GenericError", request.message)
        else:
            reply = self._dispatch(request)
        if has_id:
            reply["id"] = request_id
        return reply

    def _dispatch(self, request: JsonValue) -> dict[str, Any]:
        """``qmp_dispatch``: check the request's members, then run the command."""
        if not isinstance(request, dict):
            return _error("GenericError", "QMP input must be a JSON object")
        exec_key: str | None = None
        for key in qdict_order(list(request)):
            value = request[key]
            if key == "execute" or (key == "exec-oob" and self._oob):
                if not isinstance(value, str):
                    return _error("GenericError", f"QMP input member '{key}' must be a string")
                if exec_key is not None:
                    return _error(
                        "GenericError", f"QMP input member '{key}' clashes with '{exec_key}'"
                    )
                exec_key = key
            elif key == "arguments":
                if not isinstance(value, dict):
                    return _error("GenericError", "QMP input member 'arguments' must be an object")
            elif key != "id":
                return _error("GenericError", f"QMP input member '{key}' is unexpected")
        if exec_key is None:
            return _error("GenericError", "QMP input lacks member 'execute'")
        command = request[exec_key]
        assert isinstance(command, str)
        arguments = request.get("arguments", {})
        assert isinstance(arguments, dict)
        if exec_key == "exec-oob":
            # None of the commands the stand-in answers allows out-of-band use.
            if command in self._simulator.commands():
                return _error("GenericError", f"The command {command} does not support OOB")
            return _error("CommandNotFound", f"The command {command} has not been found")
        return self._run(command, arguments)

    def _run(self, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        # Negotiation is per monitor in QEMU, so the session keeps it, not the
        # simulator (which one session negotiating would close for the others).
        if command == "qmp_capabilities":
            if self.negotiated:
                return _error(
                    "CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored",
                )
            refused = _check_capabilities(arguments)
            if refused is not None:
                return refused
            try:
                check_arguments(arguments, {"enable": (list, False)})
            except TopologyError as error:
                return _error(error.qmp_class, error.message)
            self.negotiated = True
            self._oob = "oob" in arguments.get("enable", [])
            return {"return": {}}
        if not self.negotiated:
            return _error(
                "CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'"
            )
        return self._simulator.qmp(command, arguments)


def _check_capabilities(arguments: Mapping[str, object]) -> dict[str, Any] | None:
    """QEMU's checks of ``qmp_capabilities``'s ``enable`` (QMPCapability has one member)."""
    enable = arguments.get("enable")
    if not isinstance(enable, list):
        return None  # check_arguments reports it
    for index, capability in enumerate(enable):
        if not isinstance(capability, str):
            return _error(
                "GenericError", f"Invalid parameter type for 'enable[{index}]', expected: string"
            )
        if capability != "oob":
            # QEMU 7.2 and 10.0 name the parameter 'null' here.
            return _error("GenericError", f"Parameter 'null' does not accept value '{capability}'")
    return None


def _error(error_class: str, description: str) -> dict[str, Any]:
    return {"error": {"class": error_class, "desc": description}}
