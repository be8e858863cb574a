"""Driving a running QEMU through its QMP socket, with the model checking every step.

Needs the ``qemu`` extra (the ``qemu.qmp`` library); ``import topology.qemu``
does not import it. :class:`LiveQemu` is a small synchronous facade over
:class:`qemu.qmp.QMPClient` (which runs in a thread of its own):

1. :meth:`LiveQemu.connect` reads the QEMU it reaches (``query-version``,
   ``query-target``, ``qom-get /machine type`` and ``qom-get /machine smp``,
   which QEMU 7.2 and 10.0 both answer with every level of the topology) and
   starts a model of it: a :class:`topology.qemu.QemuSimulator` for the same
   release, machine type and ``-smp``, with the CPUs QEMU lists as hot-plugged
   (``/machine/peripheral/...``) plugged again in the order QEMU created them.
   QMP does not tell the command line, so options that change the slots
   (``-numa``, ``-cpu``, ``-machine`` properties) must be given as ``argv``;
   without them the model is checked against QEMU's slots and a mismatch
   raises :class:`LiveMismatchError` saying so.
2. :meth:`LiveQemu.execute` runs ``device_add``, ``device_del``, ``qom-set``
   and ``set-cpu-topology`` on the model first: a command the model refuses is
   refused here with the model's reply (:class:`LiveRefusedError`) and is
   never sent. Otherwise it goes to QEMU; QEMU's reply is returned, and if
   QEMU refused what the model accepted, the model is rebuilt from QEMU.
3. QEMU's events are kept (:meth:`LiveQemu.events`) and applied:
   ``DEVICE_DELETED`` for a CPU whose unplug is pending empties its slot in
   the model (x86 after the guest ejected it).

Other commands go to QEMU unchanged (:meth:`LiveQemu.execute` with
``check=False``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from qemu.qmp import EventListener, ExecuteError, QMPClient

from topology._errors import TopologyError
from topology._parse.command_line import UnsupportedOptionError
from topology._registry import hooks
from topology._views.qmp import query_hotpluggable_cpus
from topology.qemu._simulator import QemuSimulator

__all__ = ["LiveMismatchError", "LiveQemu", "LiveRefusedError", "parse_address"]

_T = TypeVar("_T")

#: Commands whose effect the model follows (checked on it before QEMU sees them).
CHECKED_COMMANDS = frozenset({"device_add", "device_del", "qom-set", "set-cpu-topology"})
#: The x86 board state the model keeps for the ACPI CPU hot-plug mode.


class LiveRefusedError(TopologyError):
    """The model refused a command, so it was not sent; ``reply`` is the model's error."""

    def __init__(self, command: str, reply: Mapping[str, Any]) -> None:
        error = reply["error"]
        super().__init__(error["desc"], what=command)
        self.reply = dict(reply)


class LiveMismatchError(TopologyError):
    """The model built for a running QEMU does not have QEMU's slots."""


def parse_address(address: str) -> str | tuple[str, int]:
    """A QMP socket address: a unix socket path, or ``host:port`` for TCP.

    >>> parse_address("/tmp/qmp.sock")
    '/tmp/qmp.sock'
    >>> parse_address("localhost:4444")
    ('localhost', 4444)
    >>> parse_address("unix:/tmp/qmp.sock")
    '/tmp/qmp.sock'
    """
    if address.startswith("unix:"):
        return address.removeprefix("unix:")
    host, colon, port = address.rpartition(":")
    if colon and port.isdigit() and "/" not in address:
        return host.removeprefix("tcp:"), int(port)
    return address


class LiveQemu:
    """A running QEMU, reached over QMP, with a model that mirrors its CPUs.

    Make one with :meth:`connect`; close it with :meth:`close` (or use it as a
    context manager). ``model`` is the :class:`topology.qemu.QemuSimulator`
    whose ``vm`` has QEMU's slots and CPUs.
    """

    def __init__(self, client: QMPClient, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop
        self._listener = EventListener()
        self._client.register_listener(self._listener)
        self._events: list[dict[str, Any]] = []
        self.argv: tuple[str, ...] = ()
        self.version = ""
        self.model: QemuSimulator

    @classmethod
    def connect(
        cls,
        address: str,
        *,
        argv: Sequence[str] | None = None,
        version: str | None = None,
        timeout: float = 10.0,
    ) -> LiveQemu:
        """Connect to the QMP socket at ``address`` and build the model of that QEMU.

        ``argv`` is QEMU's command line if it is known (binary first); without
        it the model starts from the machine type and ``-smp`` QEMU reports.
        ``version`` overrides the release QEMU reports (``"7.2"``).
        """
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="qmp-live", daemon=True)
        thread.start()
        client = QMPClient("cputopo-live")
        live = cls(client, loop)
        try:
            live._await(asyncio.wait_for(client.connect(parse_address(address)), timeout))
            live._build_model(argv, version)
        except BaseException:
            live.close()
            raise
        return live

    def close(self) -> None:
        """Disconnect (QEMU keeps running) and stop the client's thread."""
        try:
            # A QEMU that died or closed the socket leaves its error here; closing still works.
            with contextlib.suppress(Exception):
                self._await(self._client.disconnect())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def __enter__(self) -> LiveQemu:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- QMP ---------------------------------------------------------------------

    def _raw(self, command: str, arguments: Mapping[str, object] | None = None) -> dict[str, Any]:
        reply: dict[str, Any]
        try:
            result = self._await(
                self._client.execute(command, dict(arguments) if arguments else None)
            )
        except ExecuteError as error:
            received: Mapping[str, Any] = error.received
            reply = {"error": dict(received["error"])}
        else:
            reply = {"return": result}
        self._take_events()
        return reply

    def execute(
        self, command: str, arguments: Mapping[str, object] | None = None, *, check: bool = True
    ) -> dict[str, Any]:
        """Run ``command`` on QEMU, checked on the model first; QEMU's reply.

        Raises :class:`LiveRefusedError` (nothing sent) when the model refuses
        a command it follows.
        """
        arguments = dict(arguments or {})
        if not check or command not in CHECKED_COMMANDS:
            return self._raw(command, arguments)
        try:
            model_reply = self.model.qmp(command, arguments)
        except UnsupportedOptionError:
            return self._raw(command, arguments)  # the model cannot judge it: QEMU decides
        self.model.events()  # QEMU's own events are the ones that count
        if model_reply.get("error", {}).get("class") == "CommandNotFound":
            return self._raw(command, arguments)  # not the model's command: QEMU decides
        if "error" in model_reply:
            raise LiveRefusedError(command, model_reply)
        reply = self._raw(command, arguments)
        if "error" in reply:
            self._build_model(self.argv, self.version)  # QEMU refused: the model follows it
        return reply

    def events(self) -> list[dict[str, Any]]:
        """QEMU's events since the last call, oldest first (with timestamps)."""
        self._take_events()
        events, self._events = self._events, []
        return events

    def differences(self) -> list[str]:
        """Where the model's ``query-hotpluggable-cpus`` differs from QEMU's (empty: none)."""
        ours = query_hotpluggable_cpus(self.model.vm)
        theirs = self._raw("query-hotpluggable-cpus").get("return", [])
        if ours == theirs:
            return []
        return [f"model: {ours!r}", f"QEMU:  {theirs!r}"]

    # -- the model ---------------------------------------------------------------

    def _build_model(self, argv: Sequence[str] | None, version: str | None) -> None:
        reported = self._raw("query-version")["return"]["qemu"]
        self.version = version or f"{reported['major']}.{reported['minor']}.{reported['micro']}"
        if argv:
            self.argv = tuple(argv)
        else:
            target = self._raw("query-target")["return"]["arch"]
            machine_type = self._raw("qom-get", {"path": "/machine", "property": "type"})
            smp = self._raw("qom-get", {"path": "/machine", "property": "smp"})["return"]
            self.argv = (
                f"qemu-system-{target}",
                "-machine",
                str(machine_type["return"]).removesuffix("-machine"),
                "-smp",
                ",".join(f"{level}={count}" for level, count in smp.items()),
            )
        model = QemuSimulator(self.argv, version=self.version)
        model.qmp("qmp_capabilities")
        self.model = model
        self._sync_board_state()
        for driver, props, device_id in self._hot_plugged():
            arguments = {"driver": driver, **props}
            if device_id is not None:
                arguments["id"] = device_id
            reply = model.qmp("device_add", arguments)
            if "error" in reply:
                raise LiveMismatchError(
                    f"the model refuses QEMU's CPU {device_id or props}: {reply['error']['desc']}"
                )
        model.events()
        found = self.differences()
        if found:
            raise LiveMismatchError(
                "the model's slots differ from QEMU's; give QEMU's command line as argv "
                "(-numa, -cpu and -machine options are not readable over QMP):\n" + "\n".join(found)
            )

    def _hot_plugged(self) -> list[tuple[str, dict[str, Any], str | None]]:
        """QEMU's hot-plugged CPUs (driver, props, id), in the order QEMU created them."""
        slots = self._raw("query-hotpluggable-cpus")["return"]
        order = [cpu["qom-path"] for cpu in self._raw("query-cpus-fast")["return"]]
        found = []
        for slot in slots:
            path = slot.get("qom-path", "")
            if not path.startswith("/machine/peripheral"):
                continue
            created = min(
                (n for n, cpu_path in enumerate(order) if cpu_path.startswith(path)),
                default=len(order),
            )
            device_id = path.rsplit("/", 1)[1] if path.startswith("/machine/peripheral/") else None
            found.append((created, slot["type"], dict(slot["props"]), device_id))
        return [(driver, props, device_id) for _, driver, props, device_id in sorted(found)]

    def _sync_board_state(self) -> None:
        """Let the plugin read what its stash mirrors of this QEMU (x86: the ACPI mode)."""
        sync = hooks(self.model.vm.machine.arch).sync_live
        if sync is not None:
            sync(self.model.vm, self._raw)

    def _take_events(self) -> None:
        for event in self._listener.clear():
            message = dict(event)
            self._events.append(message)
            if message.get("event") == "DEVICE_DELETED":
                data = message.get("data")
                self._device_deleted(data if isinstance(data, Mapping) else {})

    def _device_deleted(self, data: Mapping[str, Any]) -> None:
        vm = self.model.vm
        for key in ("device", "path"):
            name = data.get(key)
            if not name:
                continue
            try:
                index = vm.find_device(name)
            except TopologyError:
                continue
            state = vm.state(index)
            if state is not None and state.unplug_pending:
                vm.complete_unplug(name)
            return

    def _await(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        future: Future[_T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()
