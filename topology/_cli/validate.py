"""``cputopo validate``: the verdict on a QEMU command line, for people and for tools.

Exit status: 0 when QEMU would start and accept the plan, 1 when it would
refuse (its text is shown), 2 when the input cannot be judged (an unreadable
or malformed plan, a command line that is not QEMU's, an option cputopo does
not model).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from topology._versions import SUPPORTED_QEMU_VERSIONS
from topology.qemu._validate import ValidationReport, read_plan, validate

__all__ = ["add_validate_parser", "run_validate"]


def add_validate_parser(commands: Any) -> None:
    """Add the ``validate`` subcommand to the ``cputopo`` parser."""
    parser = commands.add_parser(
        "validate",
        help="say whether QEMU would take a command line (and a hot-plug plan)",
        description=(
            "Report what QEMU would refuse or warn about for a command line and an "
            "optional plan of QMP commands, and what cputopo finds besides. "
            "Exit 0 valid, 1 invalid, 2 bad input."
        ),
    )
    parser.add_argument(
        "--qemu-version",
        default=str(SUPPORTED_QEMU_VERSIONS[-1]),
        help="QEMU release to answer as (default: the newest modelled)",
    )
    parser.add_argument(
        "--plan",
        metavar="FILE",
        help='JSON list of {"execute": ..., "arguments": {...}} to run after start (- for stdin)',
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "qemu_argv",
        nargs=argparse.REMAINDER,
        metavar="-- qemu-system-<target> OPTIONS",
        help="the QEMU command line, binary first",
    )


def run_validate(args: argparse.Namespace) -> int:
    """Run ``cputopo validate``; TopologyError (bad input) is left to the caller (exit 2)."""
    argv = list(args.qemu_argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    plan: list[tuple[str, dict[str, Any]]] = []
    if args.plan is not None:
        if args.plan == "-":
            text = sys.stdin.read()
        else:
            try:
                with open(args.plan, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as error:
                print(f"cputopo: cannot read the plan: {error}", file=sys.stderr)
                return 2
        plan = read_plan(text)
    report = validate(argv, version=args.qemu_version, plan=plan)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(_render(report))
    return 0 if report.valid else 1


def _render(report: ValidationReport) -> str:
    lines = ["valid" if report.valid else "invalid"]
    if report.exit_code is not None:
        lines.append(f"QEMU would exit with status {report.exit_code}:")
    elif report.stderr:
        lines.append("QEMU would warn:")
    lines.extend(f"  {line}" for line in report.stderr)
    for number, step in enumerate(report.steps, start=1):
        if step.ok:
            lines.append(f"step {number} {step.execute}: accepted")
        else:
            error = step.reply["error"]
            lines.append(f"step {number} {step.execute}: refused: {error['desc']}")
    for finding in report.findings:
        lines.append(f"finding ({finding.kind}): {finding.message}")
    return "\n".join(lines)
