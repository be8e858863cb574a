"""QEMU's run state, as ``query-status``, ``cont``, ``stop`` and ``system_reset`` see it.

Observed on QEMU 7.2, 10.0 and 11.1 (paused with ``-S``, no guest code run):

* a VM started with ``-S`` is ``prelaunch``, otherwise ``running``;
* ``cont`` sends ``RESUME`` and runs it, unless it runs already (no event);
* ``stop`` sends ``STOP`` and pauses a running VM (``paused``); a VM that does
  not run stays as it is, with no event;
* ``system_reset`` sends ``RESET``; a VM that does not run is ``prelaunch``
  afterwards (QEMU's main loop puts it back there after the reset);
* ``system_powerdown`` sends ``POWERDOWN`` and changes nothing else (no guest
  acts on the ACPI button).

Each event goes out before the command's reply.
"""

from __future__ import annotations

import attrs

from topology._versions import QemuVersion

__all__ = ["RunState"]

_RESET_EVENT = {"event": "RESET", "data": {"guest": False, "reason": "host-qmp-system-reset"}}


@attrs.frozen
class RunState:
    """The VM's ``RunState`` name (``prelaunch``, ``running``, ``paused``)."""

    status: str

    @property
    def running(self) -> bool:
        """Whether the vCPUs run."""
        return self.status == "running"

    def query_status(self, version: QemuVersion) -> dict[str, object]:
        """``query-status``; QEMU before 9.0 also reports ``singlestep`` (always false
        here: one instruction per block is a TCG debugging switch)."""
        reply: dict[str, object] = {"status": self.status}
        if not version.at_least("9.0"):
            reply["singlestep"] = False
        reply["running"] = self.running
        return reply

    def info_status(self) -> str:
        """HMP ``info status``: ``paused (prelaunch)`` names a state other than
        ``paused`` in which the vCPUs do not run."""
        if self.running:
            return "VM status: running\n"
        if self.status == "paused":
            return "VM status: paused\n"
        return f"VM status: paused ({self.status})\n"

    def cont(self) -> tuple[RunState, list[dict[str, object]]]:
        """The state after ``cont``, and the events it sends."""
        if self.running:
            return self, []
        return RunState("running"), [{"event": "RESUME"}]

    def stop(self) -> tuple[RunState, list[dict[str, object]]]:
        """The state after ``stop``, and the events it sends."""
        if not self.running:
            return self, []
        return RunState("paused"), [{"event": "STOP"}]

    def reset(self) -> tuple[RunState, list[dict[str, object]]]:
        """The state after ``system_reset``, and its ``RESET`` event."""
        after = self if self.running else RunState("prelaunch")
        return after, [dict(_RESET_EVENT)]
