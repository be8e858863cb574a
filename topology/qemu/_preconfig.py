"""QEMU between ``--preconfig`` and ``x-exit-preconfig``: the machine is not built yet.

Observed on QEMU 7.2, 10.0 and 11.1:

* QEMU reads the whole command line (``-smp``, ``-m``, the backends, each
  ``-numa`` option) and waits; errors up to there stop it at start as usual;
* a command QEMU has that is not marked for this phase is refused before its
  arguments are read: ``The command 'X' is permitted only after machine
  initialization has completed``. Which are marked was captured per release
  (``tools/capture_preconfig.py``);
* ``query-status`` says ``prelaunch``, with or without ``-S``;
* ``query-hotpluggable-cpus`` lists the possible CPUs without ``qom-path``,
  ``node-id`` only on the slots an option mapped so far;
* ``set-numa-node`` is ``-numa`` in QMP form; once the machine exists it
  answers ``The command is permitted only before the machine has been
  created``;
* ``x-exit-preconfig`` completes the NUMA configuration, builds the board and
  plugs the ``-device`` CPUs; an error there makes QEMU print it and exit with
  status 1, without a reply. Without ``-S`` the VM then runs (``RESUME``).
  Later calls answer ``The command is permitted only before machine
  initialization``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any, Final

from topology._model.start import PendingStart
from topology._versions import QemuVersion
from topology._views.qmp import hotpluggable_cpu_entries

__all__ = [
    "AFTER_INIT",
    "BEFORE_CREATION",
    "BEFORE_INIT",
    "allowed_in_preconfig",
    "pending_hotpluggable_cpus",
]

#: ``set-numa-node`` once the machine exists.
BEFORE_CREATION: Final = "The command is permitted only before the machine has been created"
#: ``x-exit-preconfig`` once the machine exists.
BEFORE_INIT: Final = "The command is permitted only before machine initialization"
#: A command not marked for the preconfig phase (``{}`` is its name).
AFTER_INIT: Final = "The command '{}' is permitted only after machine initialization has completed"

_DATA: Final = os.path.join(os.path.dirname(__file__), "data", "preconfig-commands.json")


@cache
def _captured() -> dict[str, dict[str, list[str]]]:
    with open(_DATA, encoding="utf-8") as stream:
        document: dict[str, dict[str, list[str]]] = json.load(stream)
    return document


def allowed_in_preconfig(target: str, version: QemuVersion) -> frozenset[str] | None:
    """The commands ``qemu-system-<target>`` of ``version`` answers in the phase;
    None where that was not captured."""
    names = _captured().get(target, {}).get(f"{version.major}.{version.minor}")
    return None if names is None else frozenset(names)


def pending_hotpluggable_cpus(pending: PendingStart) -> list[dict[str, Any]]:
    """``query-hotpluggable-cpus`` before the machine exists: no CPU yet, and
    ``node-id`` only where an option put a slot on a node."""
    nodes = pending.slot_nodes()
    return hotpluggable_cpu_entries(
        pending.machine, pending.slots, node_of=nodes.get, qom_path_of=lambda _index: None
    )
