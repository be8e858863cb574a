"""The memory QMP and HMP answers: ``query-memdev``, ``query-memory-size-summary``
and HMP ``info numa``.

``query-memdev`` lists the memory backends under ``/objects``, which QEMU
creates in this order: each ``-object memory-backend-*`` in command-line
order, the monitors (from QEMU 11.1, which makes them objects), then the
machine's default RAM backend (its ``default-ram-id``) when no NUMA node and no
``-machine memory-backend`` names one. QEMU walks ``/objects``'s children in GLib hash
table order and prepends each to its list, so the reply comes in the reverse
of that order (replayed by :mod:`topology._parse.glib_hash`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from topology._parse.command_line import UnsupportedOptionError
from topology._parse.glib_hash import hash_table_order
from topology._parse.keyval import parse_keyval
from topology._parse.qom_props import parse_qemu_bool
from topology._versions import QemuVersion

__all__ = ["info_numa", "memdev_entry", "query_memdev", "query_memory_size_summary"]

#: The backend properties query-memdev reports, with their defaults
#: (``memory-backend-memfd`` shares its memory unless told not to).
_BOOLEANS: Final = ("merge", "dump", "prealloc", "share", "reserve")
_MIB: Final = 1 << 20


def memdev_entry(backend_id: str, size: int, options: str | None) -> dict[str, Any]:
    """One ``query-memdev`` entry; ``options`` is the ``-object`` text (None: the
    machine's default RAM backend, which has every default)."""
    values: dict[str, object] = {
        "merge": True,
        "dump": True,
        "prealloc": False,
        "share": False,
        "reserve": True,
    }
    # Other policies and host-nodes are refused at start (host-specific).
    policy = "default"
    if options is not None:
        tree, _ = parse_keyval(options, option="-object", implied_key="qom-type")
        if tree.get("qom-type") == "memory-backend-memfd":
            values["share"] = True
        for name in _BOOLEANS:
            text = tree.get(name)
            if text is None:
                continue
            value = parse_qemu_bool(text) if isinstance(text, str) else None
            if value is None:
                raise UnsupportedOptionError(
                    f"cputopo: query-memdev: {backend_id}.{name}={text!s} is not modelled",
                    what=name,
                )
            values[name] = value
    return {
        "id": backend_id,
        "size": size,
        **values,
        "host-nodes": [],
        "policy": policy,
    }


def query_memdev(
    entries: Sequence[dict[str, Any]], children: Sequence[str]
) -> list[dict[str, Any]]:
    """QEMU's order of the backends ``entries``, given every child of ``/objects``
    in the order QEMU created them (the monitors among them, from QEMU 11.1:
    they move the backends in the hash table)."""
    by_id = {entry["id"]: entry for entry in entries}
    return [by_id[key] for key in reversed(hash_table_order(children)) if key in by_id]


def query_memory_size_summary(target: str, version: QemuVersion, ram_size: int) -> dict[str, int]:
    """``base-memory`` is the RAM; ``plugged-memory`` is there where the machine has a
    device-memory region (s390x only from QEMU 10.0, when virtio-mem came to it;
    observed on 7.2, 10.0 and 11.1)."""
    summary = {"base-memory": ram_size}
    if target != "s390x" or version.at_least("10.0"):
        summary["plugged-memory"] = 0
    return summary


def info_numa(node_memory: Sequence[int], cpus_fast: Sequence[dict[str, Any]]) -> str:
    """HMP ``info numa``: each node's present CPUs (by cpu-index), size and plugged
    memory in MiB, lines ending in CRLF as the monitor sends them."""
    lines = [f"{len(node_memory)} nodes"]
    for node, size in enumerate(node_memory):
        members = [
            f" {cpu['cpu-index']}"
            for cpu in cpus_fast
            if cpu.get("props", {}).get("node-id") == node
        ]
        lines.append(f"node {node} cpus:{''.join(members)}")
        lines.append(f"node {node} size: {size // _MIB} MB")
        lines.append(f"node {node} plugged: 0 MB")
    return "".join(f"{line}\r\n" for line in lines)
