"""Regenerate ``topology/qemu/data/discovery-<target>-<version>.json`` from real QEMU.

Run from a checkout, as root (QEMU 10.0 and 11.1 run by ``chroot``)::

    python3 -m tools.capture_qmp_discovery [--target T ...] [--version V ...]

The stand-in answers QEMU's discovery commands from these files. Each holds,
for one binary (``qemu-system-<target>``) of one release, the replies of QEMU
started paused under TCG:

* ``query-commands``: the commands the binary has, in QEMU's order;
* ``query-machines``: the machine types, with their ``cpu-max``, default CPU
  and RAM ids;
* ``query-kvm``: ``present`` is whether the binary was built with KVM (only
  where the host is the target), ``enabled`` false under TCG;
* ``hmp-help`` and ``hmp-info``: HMP's ``help`` and ``info`` texts, the
  commands and ``info`` topics the human monitor has;
* ``query-cpu-definitions``, which can depend on the machine type (s390x CPU
  models that older machine types cannot have): it is asked of every machine
  type the binary lists, and each distinct reply is kept once, with the
  machine types that gave it. A machine type QEMU would not start with no
  other option is left out, and the stand-in then does not answer for it.

Beside it, ``qom-types-<target>-<version>.json.gz`` holds ``qom-list-types``
with ``abstract: true``, the list every other ``qom-list-types`` reply is a
part of, in the same order (QEMU walks its table of types the same way for
each, and filters): asked of every machine type along with the CPU
definitions, and kept once with the machine types that gave it (all but
aarch64 7.2's ``z2``, which registers types of its own). ``implements`` of a
class is a walk up the ``parent`` chain the list gives, but an interface's
implementers are not in it: for each interface type the reply to
``implements: <interface>, abstract: true`` is kept, as positions in the list.
The file is gzipped (the lists are long and repetitive), written with no
timestamp so that the same replies give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any, Final

from tests.support.qemu_runner import QEMU_VERSIONS, QemuJob, run_many
from topology._resolve.catalogue import TARGETS

OUT_DIR: Final = Path("topology/qemu/data")
# A machine type every binary starts with no other option (aarch64 has no default).
_PROBE_MACHINE: Final = {"aarch64": ("-machine", "virt")}


def _one_reply(target: str, version: str, args: tuple[str, ...], command: str) -> Any:
    (run,) = run_many([QemuJob(target, args, ((command, None),), 30.0, version)])
    if run.exit_code != 0 or len(run.replies) != 1 or "return" not in run.replies[0]:
        raise RuntimeError(f"{target} {version} {command}: {run}")
    return run.replies[0]["return"]


def _hmp_text(target: str, version: str, args: tuple[str, ...], command_line: str) -> str:
    command = (("human-monitor-command", {"command-line": command_line}),)
    (run,) = run_many([QemuJob(target, args, command, 30.0, version)])
    if run.exit_code != 0 or len(run.replies) != 1 or "return" not in run.replies[0]:
        raise RuntimeError(f"{target} {version} HMP {command_line}: {run}")
    text = run.replies[0]["return"]
    assert isinstance(text, str)
    return text


def capture(target: str, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The discovery replies of ``qemu-system-<target>`` of QEMU ``version``, and its
    ``qom-list-types`` (see the module's docstring)."""
    probe = _PROBE_MACHINE.get(target, ())
    document: dict[str, Any] = {
        "query-commands": _one_reply(target, version, probe, "query-commands"),
        "query-machines": _one_reply(target, version, probe, "query-machines"),
        "query-kvm": _one_reply(target, version, probe, "query-kvm"),
        "hmp-help": _hmp_text(target, version, probe, "help"),
        "hmp-info": _hmp_text(target, version, probe, "info"),
    }
    names = [machine["name"] for machine in document["query-machines"]]
    commands = (("query-cpu-definitions", None), ("qom-list-types", {"abstract": True}))
    runs = run_many(
        [QemuJob(target, ("-machine", name), commands, 30.0, version) for name in names]
    )
    replies: list[tuple[list[str], list[dict[str, Any]]]] = []
    type_lists: list[tuple[list[str], list[dict[str, Any]]]] = []
    for name, run in zip(names, runs, strict=True):
        if run.exit_code != 0 or len(run.replies) != 2 or "return" not in run.replies[0]:
            continue  # QEMU needs more options for it (a kernel, a firmware): not captured
        reply: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
        _add_variant(replies, name, reply)
        _add_variant(type_lists, name, run.replies[1]["return"])  # type: ignore[arg-type]
    document["query-cpu-definitions"] = _as_changes(replies)
    return document, _qom_types(target, version, probe, type_lists)


def _add_variant(
    variants: list[tuple[list[str], list[dict[str, Any]]]], name: str, reply: list[dict[str, Any]]
) -> None:
    """Add machine type ``name`` to the variant that has ``reply``, or a new one."""
    for machines, known in variants:
        if known == reply:
            machines.append(name)
            return
    variants.append(([name], reply))


def _qom_types(
    target: str,
    version: str,
    probe: tuple[str, ...],
    type_lists: list[tuple[list[str], list[dict[str, Any]]]],
) -> dict[str, Any]:
    """``qom-list-types`` (``abstract: true``) most machine types give, and the
    implementers of each interface type in it, as positions in that list."""
    machines, types = max(type_lists, key=lambda variant: len(variant[0]))
    for others, other_types in type_lists:
        if others is not machines:
            print(f"  qom-list-types differs on {others}: {len(other_types)} types")
    parents = {entry["name"]: entry.get("parent") for entry in types}

    def is_interface(name: str | None) -> bool:
        while name is not None:
            if name == "interface":
                return True
            name = parents.get(name)
        return False

    interfaces = [entry["name"] for entry in types if is_interface(entry["name"])]
    commands = tuple(
        ("qom-list-types", {"implements": name, "abstract": True}) for name in interfaces
    )
    (run,) = run_many([QemuJob(target, probe, commands, 60.0, version)])
    if run.exit_code != 0 or len(run.replies) != len(interfaces):
        raise RuntimeError(f"{target} {version} qom-list-types implements: {run}")
    position = {entry["name"]: index for index, entry in enumerate(types)}
    implementers: dict[str, list[int]] = {}
    for name, reply in zip(interfaces, run.replies, strict=True):
        entries: list[dict[str, Any]] = reply["return"]  # type: ignore[assignment]
        found = [position[entry["name"]] for entry in entries]
        if found != sorted(found):
            raise RuntimeError(f"{target} {version} implements {name}: not in the list's order")
        implementers[name] = found
    return {"machines": machines, "types": types, "implementers": implementers}


def _as_changes(
    replies: list[tuple[list[str], list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """The first reply whole, the others as the models whose entry differs from it.

    The replies differ in a few models only (x86 machine types before 4.1 name
    no versioned model; s390x ones before 7.2 lack the newest features), and
    keeping each whole would take a megabyte.
    """
    (base_machines, base), *others = replies
    variants: list[dict[str, Any]] = [{"machines": base_machines, "reply": base}]
    base_names = [entry["name"] for entry in base]
    for machines, reply in others:
        by_name = {entry["name"]: entry for entry in reply}
        if [entry["name"] for entry in reply] != base_names:
            variants.append({"machines": machines, "reply": reply})
            continue
        changed = {e["name"]: by_name[e["name"]] for e in base if by_name[e["name"]] != e}
        variants.append({"machines": machines, "changed": changed})
    return variants


def _dump(document: dict[str, Any]) -> str:
    """One top-level member per line: small diffs when QEMU's answers change."""
    lines = [f"{json.dumps(key)}:{json.dumps(value)}" for key, value in document.items()]
    return "{" + ",\n".join(lines) + "}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=TARGETS)
    parser.add_argument("--version", action="append", choices=QEMU_VERSIONS)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for target in args.target or TARGETS:
        for version in args.version or QEMU_VERSIONS:
            document, qom_types = capture(target, version)
            path = args.out / f"discovery-{target}-{version}.json"
            path.write_text(_dump(document))
            qom_path = args.out / f"qom-types-{target}-{version}.json.gz"
            qom_path.write_bytes(gzip.compress(_dump(qom_types).encode(), 9, mtime=0))
            print(path, len(document["query-cpu-definitions"]), "cpu-definitions variants")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
