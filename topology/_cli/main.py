"""The ``cputopo`` command: a thin shell over the library.

``cputopo resolve [--arch A] [--machine M] [--qemu-version V] [--json] SMP``
prints the topology QEMU would build from ``-smp SMP``; ``cputopo slots ...``
also lists every possible CPU slot (``--json``: as ``query-hotpluggable-cpus``).
``cputopo diff`` compares two configurations (see :mod:`topology._cli.diff`).
A refusal prints QEMU's message on one line of stderr and exits 2.
``cputopo validate [--plan FILE] [--json] -- qemu-system-<target> ...`` judges a
QEMU command line (see :mod:`topology._cli.validate`).
``cputopo qemu-system-<target> [--qemu-version V] OPTIONS -qmp stdio`` runs the
QEMU stand-in as a process that speaks QMP on stdin/stdout (see
:mod:`topology.qemu._stdio`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

# Only os and sys at import: ``cputopo qemu-system-<target>`` is a QEMU stand-in
# that a test suite may start hundreds of times, and it needs none of argparse,
# json or the subcommands' modules (``topology.abi``, ...). Each subcommand
# imports what it uses when it runs.
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from topology._model.vm import VirtualMachine
    from topology._resolve.machine import Machine
    from topology._resolve.topology import CpuTopology

__all__ = ["main"]

EXAMPLE_SMP = "8,sockets=2,dies=2,cores=3,threads=2,maxcpus=24"


def _parser() -> argparse.ArgumentParser:
    import argparse

    from topology._cli import diff as _cli_diff
    from topology._versions import SUPPORTED_QEMU_VERSIONS

    parser = argparse.ArgumentParser(
        prog="cputopo",
        description="Answer QEMU CPU topology questions without starting QEMU.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)
    from topology._cli.validate import add_validate_parser

    add_validate_parser(commands)
    resolve = commands.add_parser(
        "resolve",
        help="resolve a -smp option as QEMU would",
        description="Print the CPU topology QEMU builds from -smp SMP.",
    )
    slots = commands.add_parser(
        "slots",
        help="list the possible CPU slots, as query-hotpluggable-cpus would",
        description="Print every possible CPU slot of the machine started with -smp SMP.",
    )
    for command in (resolve, slots):
        command.add_argument("--arch", default="x86_64", help="QEMU target (default: x86_64)")
        command.add_argument("--machine", "-M", help="machine type or alias (default: QEMU's)")
        command.add_argument(
            "--qemu-version",
            help=f"QEMU release, one of {', '.join(map(str, SUPPORTED_QEMU_VERSIONS))} "
            "(default: the newest)",
        )
        command.add_argument("--cpu", help="CPU model (-cpu), for the board's checks")
        command.add_argument("--json", action="store_true", help="print JSON for other tools")
        command.add_argument(
            "smp",
            nargs="?",
            default=None,
            help=f"the -smp option string; without it, the built-in example {EXAMPLE_SMP!r}",
        )
    _cli_diff.add_parser(commands)
    return parser


def _render(chosen: Machine, smp: str, topology: CpuTopology) -> str:
    from topology._resolve.topology import LEVELS

    lines = [f"machine {chosen.name} (QEMU {chosen.qemu_version}), -smp {smp}"]
    width = max(len(level) for level in LEVELS)
    for level in LEVELS:
        count = getattr(topology, level)
        supported = level in chosen.type.levels or level in ("sockets", "cores", "threads")
        note = "" if supported else "  (not a level of this machine)"
        lines.append(f"  {level:<{width}} {count}{note}")
    lines.append(
        f"  {'cpus':<{width}} {topology.cpus} present of {topology.max_cpus} possible "
        f"({topology.hotpluggable_cpus} hot-pluggable)"
    )
    for warning in topology.warnings:
        lines.append(f"{warning}")
        if warning.hint:
            lines.append(warning.hint)
    return "\n".join(lines)


def _as_json(chosen: Machine, smp: str, topology: CpuTopology) -> str:
    import json

    document = {
        "machine": chosen.name,
        "qemu_version": str(chosen.qemu_version),
        "smp": smp,
        "topology": topology.counts(),
        "warnings": [warning.message for warning in topology.warnings],
    }
    return json.dumps(document, indent=2)


def _render_slots(vm: VirtualMachine) -> str:
    lines = [f"{'slot':>4}  {'arch id':>7}  {'vCPUs':<9}  {'state':<7}  properties"]
    for slot in vm.slots:
        state = vm.state(slot.index)
        cpus = (
            f"{slot.first_cpu_index}"
            if slot.vcpus_count == 1
            else (f"{slot.first_cpu_index}-{slot.first_cpu_index + slot.vcpus_count - 1}")
        )
        props = ", ".join(f"{name}={value}" for name, value in slot.props.as_qmp().items())
        where = "present" if state is not None else "free"
        lines.append(f"{slot.index:>4}  {slot.arch_id:>7}  {cpus:<9}  {where:<7}  {props}")
    return "\n".join(lines)


def _resolve(args: argparse.Namespace) -> int:
    import json

    from topology._cli import diff as _cli_diff
    from topology._errors import HelpRequested
    from topology._model.vm import VirtualMachine
    from topology._resolve.machine import machine
    from topology._views.qmp import query_hotpluggable_cpus

    if args.command == "diff":
        return _cli_diff.run(args)
    if args.command == "validate":
        from topology._cli.validate import run_validate

        return run_validate(args)
    options = {"cpu": args.cpu} if args.cpu else {}
    chosen = machine(args.arch, args.machine, qemu_version=args.qemu_version, **options)
    smp = EXAMPLE_SMP if args.smp is None else args.smp
    try:
        topology = chosen.resolve(smp)
    except HelpRequested as request:
        print(request.message)
        return 0
    if args.command == "slots":
        vm = VirtualMachine.start(chosen, smp)
        if args.json:
            print(json.dumps(query_hotpluggable_cpus(vm), indent=2))
        else:
            print(_render(chosen, smp, topology))
            print(_render_slots(vm))
        return 0
    print(_as_json(chosen, smp, topology) if args.json else _render(chosen, smp, topology))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cputopo`` command with ``argv`` (default: ``sys.argv[1:]``); return its status."""
    words = sys.argv[1:] if argv is None else list(argv)
    if argv is None and os.path.basename(sys.argv[0]).startswith("qemu-system-"):
        words = sys.argv[:]  # run through a link named like QEMU's binary
    if words and os.path.basename(words[0]).startswith("qemu-system-"):
        from topology.qemu._stdio import main as stand_in  # only this command needs it

        return stand_in(words)
    from topology._errors import TopologyError

    args = _parser().parse_args(words)
    try:
        return _resolve(args)
    except BrokenPipeError:
        # The reader went away (cputopo slots | head): not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - quiets the exit-time flush
        return 0
    except TopologyError as error:
        if args.debug:
            import traceback

            traceback.print_exc()
        message = str(error).replace("\n", " ").removeprefix("cputopo: ")
        print(f"cputopo: {message}", file=sys.stderr)
        return 2
