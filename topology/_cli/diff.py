"""``cputopo diff``: what a guest sees change between two configurations.

Each side is a QEMU command line (``-- ARGV... -- ARGV...``, or ``--source`` /
``--destination`` as one shell-quoted string) or a saved model file
(``--source-model`` / ``--destination-model``, see :func:`topology.abi.save_model`).
Without a destination, the source is restarted under ``--destination-version``
and ``--destination-machine`` (an upgrade check). Exit status: 0 when the
guest sees no change, 1 when it does, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Sequence
from typing import Any

from topology._errors import ModelFileError
from topology._model.build import build_vm
from topology._model.vm import VirtualMachine
from topology.abi._compare import AbiChange, Severity, _show, compare, compatible
from topology.abi._model_file import load_model
from topology.abi._upgrade import upgrade

__all__ = ["add_parser", "run"]

_HEADINGS = {
    Severity.BREAKS_RUNNING: "breaks a running guest",
    Severity.FRESH_BOOT: "seen at the next boot",
    Severity.HARMLESS: "harmless",
}


def add_parser(commands: Any) -> None:
    """Add the ``diff`` sub-command to the ``cputopo`` parser's sub-commands."""
    diff = commands.add_parser(
        "diff",
        help="what a guest sees change between two configurations (migration, upgrade)",
        description="Compare two VMs given as QEMU command lines or saved model files. "
        "Exit 0: the guest sees no change; 1: it does; 2: bad input.",
    )
    diff.add_argument("--arch", help="QEMU target when a command line has no qemu-system-X")
    diff.add_argument("--qemu-version", help="QEMU release of both sides (default: the newest)")
    diff.add_argument("--source-version", help="QEMU release of the source")
    diff.add_argument("--destination-version", help="QEMU release of the destination")
    diff.add_argument(
        "--destination-machine", help="machine type to restart the source with (no destination)"
    )
    diff.add_argument("--source", help="the source's QEMU command line, shell-quoted")
    diff.add_argument("--destination", help="the destination's QEMU command line, shell-quoted")
    diff.add_argument("--source-model", help="the source as a saved model file (JSON)")
    diff.add_argument("--destination-model", help="the destination as a saved model file (JSON)")
    diff.add_argument("--json", action="store_true", help="print JSON for other tools")
    diff.add_argument(
        "argv", nargs="*", help="-- SOURCE ARGV... [-- DESTINATION ARGV...]", metavar="ARGV"
    )


def _read_model(path: str) -> VirtualMachine:
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
    except OSError as error:
        raise ModelFileError(f"model file {path}: {error.strerror}", what=path) from error
    except json.JSONDecodeError as error:
        raise ModelFileError(f"model file {path}: not JSON: {error}", what=path) from error
    return load_model(document)


def _side(
    argv: Sequence[str] | None,
    text: str | None,
    model: str | None,
    version: str | None,
    arch: str | None,
    name: str,
) -> VirtualMachine | None:
    given = [item for item in (argv, text, model) if item is not None]
    if len(given) > 1:
        raise ModelFileError(f"the {name} is given more than once", what=name)
    if model is not None:
        return _read_model(model)
    if text is not None:
        argv = shlex.split(text)
    if argv is None:
        return None
    return build_vm(argv, version=version or _newest(), arch=arch)


def _newest() -> str:
    from topology._versions import NEWEST_QEMU

    return str(NEWEST_QEMU)


def _describe(vm: VirtualMachine) -> dict[str, object]:
    return {
        "arch": vm.machine.arch.targets[0],
        "machine": vm.machine.name,
        "qemu_version": str(vm.machine.qemu_version),
        "cpus_present": len(vm.present_cpu_indexes()),
        "max_cpus": vm.topology.max_cpus,
    }


def _render(source: VirtualMachine, target: str, changes: list[AbiChange]) -> str:
    info = _describe(source)
    lines = [
        f"source:      {info['machine']} (QEMU {info['qemu_version']}), "
        f"{info['cpus_present']} of {info['max_cpus']} CPUs present",
        f"destination: {target}",
    ]
    for severity, heading in _HEADINGS.items():
        found = [change for change in changes if change.severity is severity]
        if not found:
            continue
        lines.append(f"{heading} ({len(found)}):")
        for change in found:
            place = f" [{change.where}]" if change.where else ""
            lines.append(f"  {change.what}{place}: {_show(change.old)} -> {_show(change.new)}")
            lines.append(f"      {change.why}")
    verdict = "the guest sees no change" if compatible(changes) else "the guest sees a change"
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``cputopo diff``; its exit status."""
    source_argv: list[str] | None = None
    destination_argv: list[str] | None = None
    if args.argv:
        source_argv = list(args.argv)
        if "--" in source_argv:
            cut = source_argv.index("--")
            source_argv, destination_argv = source_argv[:cut], source_argv[cut + 1 :]
    source_version = args.source_version or args.qemu_version
    destination_version = args.destination_version or args.qemu_version
    source = _side(source_argv, args.source, args.source_model, source_version, args.arch, "source")
    if source is None:
        raise ModelFileError("no source: give -- ARGV, --source or --source-model", what="source")
    destination = _side(
        destination_argv,
        args.destination,
        args.destination_model,
        destination_version,
        args.arch,
        "destination",
    )
    if destination is None:
        version = destination_version or str(source.machine.qemu_version)
        machine_type = args.destination_machine or source.machine.name
        changes = upgrade(source, qemu_version=version, machine_type=machine_type)
        target = f"{machine_type} (QEMU {version}), the source restarted"
        target_info: dict[str, object] = {"machine": machine_type, "qemu_version": version}
    else:
        changes = compare(source, destination)
        info = _describe(destination)
        target = (
            f"{info['machine']} (QEMU {info['qemu_version']}), "
            f"{info['cpus_present']} of {info['max_cpus']} CPUs present"
        )
        target_info = info
    if args.json:
        document = {
            "source": _describe(source),
            "destination": target_info,
            "compatible": compatible(changes),
            "changes": [change.as_json() for change in changes],
        }
        print(json.dumps(document, indent=2))
    else:
        print(_render(source, target, changes))
    return 0 if compatible(changes) else 1
