"""A verdict on a QEMU command line and a planned hot-plug sequence, for other tools.

:func:`validate` starts the stand-in with the command line, runs the planned
QMP commands on it, and collects what QEMU would say (its refusal and
warnings, with QEMU's text) and what cputopo finds besides (containers split
across NUMA nodes, CPU slots that can never be used).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from topology._errors import ParameterError, QemuAbortError
from topology.qemu._simulator import QemuCrashError, QemuSimulator, QemuStartError

__all__ = ["Finding", "PlanStep", "ValidationReport", "read_plan", "validate"]


@attrs.frozen(kw_only=True)
class Finding:
    """Something cputopo flags that QEMU accepts.

    Attributes:
        kind: ``"numa-split"`` (a core, cluster, die, module or socket spans
            NUMA nodes) or ``"unusable-slots"`` (possible CPUs that can never be added).
        message: a sentence saying what and where.
    """

    kind: str
    message: str


@attrs.frozen(kw_only=True)
class PlanStep:
    """One planned QMP command, QEMU's reply (``{"return": ...}`` or ``{"error": ...}``), events."""

    execute: str
    arguments: Mapping[str, Any]
    reply: Mapping[str, Any]
    events: tuple[Mapping[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether QEMU accepted the command."""
        return "return" in self.reply


@attrs.frozen(kw_only=True)
class ValidationReport:
    """The verdict of :func:`validate`.

    Attributes:
        valid: QEMU starts and accepts every planned command.
        exit_code: QEMU's exit status if it would not start, else None.
        stderr: what QEMU prints on stderr, each line with its prefix.
        refusal: QEMU's error text (without prefix), or None.
        steps: the planned commands run, with their replies (up to the first refusal).
        findings: cputopo's own findings.
    """

    valid: bool
    exit_code: int | None
    stderr: tuple[str, ...]
    refusal: str | None
    steps: tuple[PlanStep, ...]
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (``cputopo validate --json``)."""
        return {
            "valid": self.valid,
            "exit-code": self.exit_code,
            "stderr": list(self.stderr),
            "refusal": self.refusal,
            "steps": [
                {
                    "execute": step.execute,
                    "arguments": dict(step.arguments),
                    "reply": dict(step.reply),
                    "events": [dict(event) for event in step.events],
                }
                for step in self.steps
            ],
            "findings": [{"kind": f.kind, "message": f.message} for f in self.findings],
        }


def read_plan(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Read a planned sequence: a JSON list of ``{"execute": NAME, "arguments": {...}}``.

    >>> read_plan('[{"execute": "device_del", "arguments": {"id": "cpu1"}}]')
    [('device_del', {'id': 'cpu1'})]
    >>> read_plan('[{"execute": 1}]')
    Traceback (most recent call last):
    ...
    topology.ParameterError: plan step 1: 'execute' must be a command name (a string)
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ParameterError(f"the plan is not valid JSON: {error}", what="plan") from None
    if not isinstance(data, list):
        raise ParameterError("the plan must be a JSON list of commands", what="plan")
    steps = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ParameterError(f"plan step {number}: not a JSON object", what="plan")
        unknown = set(item) - {"execute", "arguments"}
        if unknown:
            raise ParameterError(
                f"plan step {number}: unknown member '{sorted(unknown)[0]}'", what="plan"
            )
        command = item.get("execute")
        if not isinstance(command, str):
            raise ParameterError(
                f"plan step {number}: 'execute' must be a command name (a string)", what="plan"
            )
        arguments = item.get("arguments", {})
        if not isinstance(arguments, dict):
            raise ParameterError(f"plan step {number}: 'arguments' must be an object", what="plan")
        steps.append((command, arguments))
    return steps


def validate(
    argv: Sequence[str],
    *,
    version: str,
    plan: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> ValidationReport:
    """What QEMU ``version`` does with ``argv`` and the planned QMP commands; cputopo's findings.

    Raises a :class:`topology.TopologyError` only for input cputopo cannot judge
    (a command line that is not QEMU's, an option the stand-in does not model).

    >>> report = validate(["qemu-system-aarch64", "-M", "virt", "-smp", "2,maxcpus=4"],
    ...                   version="7.2")
    >>> report.valid, [f.kind for f in report.findings]
    (True, ['unusable-slots'])
    """
    try:
        sim = QemuSimulator(argv, version=version)
    except QemuStartError as refused:
        return ValidationReport(
            valid=False,
            exit_code=refused.exit_code,
            stderr=tuple(refused.stderr.splitlines()),
            refusal=refused.cause.message,
            steps=(),
            findings=(),
        )
    sim.qmp("qmp_capabilities")
    steps: list[PlanStep] = []
    valid = True
    refusal: str | None = None
    for command, arguments in plan:
        try:
            reply = sim.qmp(command, arguments)
        except QemuCrashError as crash:
            # QEMU answers nothing here: the report says why it would die.
            desc = crash.message
            if isinstance(crash.cause, QemuAbortError):
                desc = f"cputopo: {crash.cause.reason}"
            reply = {"error": {"class": "cputopo", "desc": desc}}
        steps.append(
            PlanStep(
                execute=command,
                arguments=dict(arguments),
                reply=reply,
                events=tuple(sim.events()),
            )
        )
        if "error" in reply:
            valid = False
            refusal = str(reply["error"]["desc"])
            break
    return ValidationReport(
        valid=valid,
        exit_code=None,
        stderr=sim.stderr_lines,
        refusal=refusal,
        steps=tuple(steps),
        findings=tuple(_findings(sim)),
    )


def _findings(sim: QemuSimulator) -> list[Finding]:
    vm = sim.vm
    found: list[Finding] = []
    if vm.numa is not None:
        found.extend(Finding(kind="numa-split", message=str(f)) for f in vm.numa.findings)
    if not vm.machine.type.hotpluggable_cpus and vm.topology.max_cpus > vm.topology.cpus:
        unusable = vm.topology.max_cpus - vm.topology.cpus
        found.append(
            Finding(
                kind="unusable-slots",
                message=(
                    f"{vm.machine.name} cannot hot-plug CPUs: the {unusable} possible CPUs "
                    f"beyond -smp cpus={vm.topology.cpus} can never be added"
                ),
            )
        )
    return found
