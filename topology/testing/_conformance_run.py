"""The conformance kit: each case on real QEMU and on the stand-in, compared."""

from __future__ import annotations

import itertools
import json
import os
import random
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import seed as hypothesis_seed

import topology
from topology.qemu import QemuCrashError, QemuSimulator, QemuStartError
from topology.testing._conformance_cases import STARTUP_ARGS, Case, cases
from topology.testing._qemu_process import Command, QemuRun, run_qemu

__all__ = [
    "ConformanceReport",
    "ConformanceSetupError",
    "Mismatch",
    "Transcript",
    "run_conformance",
]

#: One QMP exchange: the command, its arguments (None: none) and the reply.
Exchange = tuple[str, Mapping[str, object] | None, Mapping[str, object]]

_QEMU: Final = "QEMU"
_STANDIN: Final = "stand-in"


class ConformanceSetupError(Exception):
    """The kit cannot run: QEMU does not start, or is not the target or release named."""


@attrs.frozen(kw_only=True)
class Transcript:
    """What one side (real QEMU or the stand-in) did with one case.

    Attributes:
        side: ``"QEMU"`` or ``"stand-in"``.
        argv: the command line it ran (for the stand-in, with the binary
            ``qemu-system-<target>``).
        started: whether it got as far as answering QMP (the stand-in: whether
            it started; QEMU: whether it sent its greeting).
        exit_code: its exit status (negative: the signal it died of); None when
            it did not get that far (see ``failure``).
        stderr: what it printed on stderr, line by line, each line of QEMU's
            with the stand-in's program name (``qemu-system-<target>``).
        exchanges: each QMP command sent after ``qmp_capabilities``, with its
            arguments and the reply (``query-cpus-fast`` without ``thread-id``,
            the host's thread id).
        events: the QMP events, without their timestamps.
        failure: what went wrong instead of an answer: the stand-in raised an
            exception, or QEMU ran past its time limit.
    """

    side: str
    argv: tuple[str, ...]
    started: bool
    exit_code: int | None
    stderr: tuple[str, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    events: tuple[Mapping[str, object], ...] = ()
    failure: str | None = None

    def __str__(self) -> str:
        lines = [f"{self.side}: $ {shlex.join(self.argv)}"]
        for number, (command, arguments, reply) in enumerate(self.exchanges, 1):
            sent = command if arguments is None else f"{command} {_json(arguments)}"
            lines += [f"  {number} -> {sent}", f"  {number} <- {_json(reply)}"]
        lines += [f"  event: {_json(event)}" for event in self.events]
        lines += [f"  stderr: {line}" for line in self.stderr]
        if self.failure is not None:
            lines.append(f"  failed: {self.failure}")
        if self.exit_code is not None:
            lines.append(f"  exit status {self.exit_code}")
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class Mismatch:
    """A case on which the stand-in did not do what QEMU did.

    Attributes:
        difference: the first thing that differs (``"reply to command 3
            (device_add)"``, ``"stderr at start"``...).
        qemu: what real QEMU did.
        standin: what the stand-in did.
    """

    difference: str
    qemu: Transcript
    standin: Transcript

    def __str__(self) -> str:
        return f"{self.difference}\n{self.qemu}\n{self.standin}"


@attrs.frozen(kw_only=True)
class ConformanceReport:
    """The outcome of :func:`run_conformance`.

    Attributes:
        target: the QEMU target the cases were drawn for.
        qemu: the command that ran QEMU (binary first).
        version: the QEMU release the stand-in answered as.
        qemu_release: what the QEMU binary says it is (``query-version``).
        seed: the seed the cases were drawn with (pass it again to draw them again).
        cases: how many cases ran: ``examples`` unless Hypothesis ran out of
            new ones.
        repeated: drawn cases that repeated an earlier one, not run again (and
            not counted in ``cases``).
        started: cases the stand-in started, whose QMP exchanges were compared.
        refused: cases the stand-in refused to start, whose exit status and
            stderr were compared.
        commands: the QMP commands compared (``qmp_capabilities`` and ``quit`` left out).
        mismatched: cases on which the stand-in and QEMU differed.
        unstable: cases on which QEMU itself answered differently when run again
            (a QEMU that crashes at random): not compared, not counted as mismatches.
        mismatches: the first few mismatches, with both transcripts.
        seconds: how long the run took.
    """

    target: str
    qemu: tuple[str, ...]
    version: str
    qemu_release: str
    seed: int
    cases: int
    repeated: int
    started: int
    refused: int
    commands: int
    mismatched: int
    unstable: int
    mismatches: tuple[Mismatch, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether the stand-in answered every case exactly as QEMU did."""
        return self.mismatched == 0

    def summary(self) -> str:
        """One line: what ran, and how it went."""
        verdict = "conforms" if self.ok else f"{self.mismatched} mismatched"
        return (
            f"{self.target} as QEMU {self.version} against {shlex.join(self.qemu)} "
            f"({self.qemu_release}), seed {self.seed}: {self.cases} cases ({self.started} "
            f"started, {self.commands} QMP commands; {self.refused} refused at start; "
            f"{self.repeated} repeats skipped): {verdict}, {self.unstable} unstable, "
            f"{self.seconds:.1f} s"
        )

    def __str__(self) -> str:
        parts = [self.summary()]
        for number, mismatch in enumerate(self.mismatches, 1):
            parts.append(f"\nMismatch {number} of {self.mismatched}: {mismatch}")
        return "\n".join(parts)


def _json(value: object) -> str:
    return json.dumps(value, default=repr)


def _strip_reply(command: str, reply: Mapping[str, object]) -> Mapping[str, object]:
    """The reply as compared: ``query-cpus-fast`` without the host's thread ids."""
    found = reply.get("return")
    if command == "query-cpus-fast" and isinstance(found, list):
        return {
            **reply,
            "return": [
                {k: v for k, v in cpu.items() if k != "thread-id"} if isinstance(cpu, dict) else cpu
                for cpu in found
            ],
        }
    return dict(reply)


def _strip_event(event: Mapping[str, object]) -> Mapping[str, object]:
    return {k: v for k, v in event.items() if k != "timestamp"}


def _binary_name(program: Sequence[str]) -> str:
    """The name QEMU prefixes its messages with: its binary's base name.

    The binary is the last word of ``program`` whose base name starts with
    ``qemu``, else the last word (``chroot ROOT /usr/bin/qemu-system-x86_64``).
    """
    for word in reversed(program):
        if os.path.basename(word).startswith("qemu"):
            return os.path.basename(word)
    return os.path.basename(program[-1])


@attrs.frozen(kw_only=True)
class _Runner:
    """Runs cases for one target on one QEMU."""

    target: str
    version: str
    program: tuple[str, ...]
    timeout: float

    @property
    def standin_program(self) -> str:
        return f"qemu-system-{self.target}"

    def qemu(self, case: Case) -> Transcript:
        run = run_qemu((*self.program, *case.argv[1:]), case.commands, timeout=self.timeout)
        return self._transcript(run, case.commands)

    def _transcript(self, run: QemuRun, commands: Sequence[Command]) -> Transcript:
        ours, theirs = self.standin_program, _binary_name(self.program)
        stderr = tuple(
            ours + line[len(theirs) :] if line.startswith(f"{theirs}:") else line
            for line in run.stderr_lines
        )
        exchanges = tuple(
            (command, arguments, _strip_reply(command, reply))
            for (command, arguments), reply in zip(commands, run.replies, strict=False)
        )
        return Transcript(
            side=_QEMU,
            argv=run.argv,
            started=run.greeted,
            exit_code=run.exit_code,
            stderr=stderr,
            exchanges=exchanges,
            events=tuple(_strip_event(event) for event in run.events),
            failure=f"killed after {self.timeout:g} s" if run.timed_out else None,
        )

    def standin(self, case: Case) -> Transcript:
        argv = case.argv
        try:
            simulator = QemuSimulator(argv, version=self.version, strict_negotiation=True)
        except QemuStartError as refused:
            return Transcript(
                side=_STANDIN,
                argv=argv,
                started=False,
                exit_code=refused.exit_code,
                stderr=tuple(refused.stderr.splitlines()),
            )
        except Exception as error:  # not modelled, or a plugin's bug: no answer
            return Transcript(
                side=_STANDIN, argv=argv, started=False, exit_code=None, failure=_fault(error)
            )
        simulator.qmp("qmp_capabilities")
        exchanges: list[Exchange] = []
        exit_code: int | None = 0
        failure = None
        for command, arguments in case.commands:
            try:
                reply = simulator.qmp(command, arguments)
            except QemuCrashError as crash:
                assert crash.crash_signal is not None
                exit_code = -crash.crash_signal
                break
            except Exception as error:  # a plugin's bug: no answer
                exit_code, failure = None, _fault(error)
                break
            exchanges.append((command, arguments, _strip_reply(command, reply)))
        else:
            simulator.qmp("quit")
        return Transcript(
            side=_STANDIN,
            argv=argv,
            started=True,
            exit_code=exit_code,
            stderr=simulator.stderr_lines,
            exchanges=tuple(exchanges),
            events=tuple(simulator.events()),
            failure=failure,
        )


def _fault(error: BaseException) -> str:
    return f"raised {type(error).__name__}: {error}"


def _difference(qemu: Transcript, standin: Transcript) -> str | None:
    """The first thing the two transcripts differ in, or None when they agree."""
    if standin.failure is not None:
        return "the stand-in gave no answer"
    if qemu.failure is not None:
        return "QEMU gave no answer"
    if not standin.started:
        # Refused at start: QEMU may have greeted first (board errors come after
        # the monitor is up), but all there is to compare is what it printed.
        if qemu.exit_code != standin.exit_code:
            return "exit status at start"
        if qemu.stderr != standin.stderr:
            return "stderr at start"
        return None
    for number, (ours, theirs) in enumerate(
        itertools.zip_longest(qemu.exchanges, standin.exchanges), 1
    ):
        if ours != theirs:
            command = (ours or theirs or ("?",))[0]
            return f"reply to command {number} ({command})"
    if qemu.exit_code != standin.exit_code:
        return "exit status"
    assert standin.exit_code is not None
    if standin.exit_code < 0:
        # A crash: QEMU prints more as it dies (the signal's own message).
        if qemu.stderr[: len(standin.stderr)] != standin.stderr:
            return "stderr"
        return None
    if qemu.stderr != standin.stderr:
        return "stderr"
    if qemu.events != standin.events:
        return "events"
    return None


@attrs.define
class _Tally:
    keep: int
    cases: int = 0
    repeated: int = 0
    started: int = 0
    refused: int = 0
    commands: int = 0
    mismatched: int = 0
    unstable: int = 0
    mismatches: list[Mismatch] = attrs.Factory(list)
    seen: set[str] = attrs.Factory(set)

    def check(self, runner: _Runner, case: Case) -> bool:
        """Run ``case`` on both sides and tally it; False when it is a repeat."""
        key = _json([case.argv, case.commands])
        if key in self.seen:
            self.repeated += 1
            return False
        self.seen.add(key)
        self.cases += 1
        standin = runner.standin(case)
        if standin.started:
            self.started += 1
            self.commands += len(case.commands)
        else:
            self.refused += 1
        qemu = runner.qemu(case)
        difference = _difference(qemu, standin)
        if difference is None:
            return True
        if runner.qemu(case) != qemu:
            self.unstable += 1  # QEMU does not answer this case the same way twice
            return True
        self.mismatched += 1
        if len(self.mismatches) < self.keep:
            self.mismatches.append(Mismatch(difference=difference, qemu=qemu, standin=standin))
        return True


def _check_target(target: str) -> str:
    try:
        plugin = topology.get_arch(target)
    except topology.UnknownArchError as error:
        raise ConformanceSetupError(str(error)) from error
    main = plugin.targets[0]
    if target not in (main, plugin.name):
        raise ConformanceSetupError(
            f"the kit runs a plugin's main target: '{target}' is served by the plugin "
            f"'{plugin.name}', whose main target is '{main}'"
        )
    return main


def _check_qemu(runner: _Runner) -> str:
    """What the QEMU binary says it is; ConformanceSetupError unless it is the target
    and release named.

    It starts QEMU with the oldest machine type of that release (or, if QEMU
    refuses it, the newest), to ask it ``query-version`` and ``query-target``.
    """
    try:
        types = topology.machine_types(runner.target, qemu_version=runner.version)
    except topology.TopologyError as error:
        raise ConformanceSetupError(str(error)) from error
    commands: list[Command] = [("query-version", None), ("query-target", None)]
    refusals = []
    for machine_type in dict.fromkeys((types[-1].name, types[0].name)):
        machine = ("-machine", machine_type, "-accel", "tcg", "-smp", "1")
        argv = (*runner.program, *machine, *STARTUP_ARGS)
        try:
            run = run_qemu(argv, commands, timeout=runner.timeout)
        except OSError as error:
            program = shlex.join(runner.program)
            raise ConformanceSetupError(f"cannot run {program}: {error}") from error
        if run.greeted and run.replies and "return" in run.replies[0]:
            break
        printed = "\n".join(run.stderr_lines) or "nothing on stderr"
        refusals.append(f"{shlex.join(argv)}\n(exit status {run.exit_code}) {printed}")
    else:
        raise ConformanceSetupError(
            f"QEMU did not start; is it QEMU {runner.version} for {runner.target}?\n"
            + "\n".join(refusals)
        )
    found: Any = run.replies[0]["return"]
    numbers = found["qemu"]
    release = f"{numbers['major']}.{numbers['minor']}.{numbers['micro']}"
    wanted = runner.version.split(".")
    if release.split(".")[: len(wanted)] != wanted:
        raise ConformanceSetupError(
            f"{shlex.join(runner.program)} is QEMU {release}, not {runner.version}"
        )
    if found.get("package"):
        release += f" ({found['package']})"
    if len(run.replies) > 1 and "return" in run.replies[1]:
        arch: Any = run.replies[1]["return"]
        if arch.get("arch") != runner.target:
            raise ConformanceSetupError(
                f"{shlex.join(runner.program)} is QEMU for {arch.get('arch')}, not {runner.target}"
            )
    return release


def run_conformance(
    *,
    target: str,
    qemu: str | Sequence[str] | None = None,
    version: str,
    examples: int = 50,
    seed: int | None = None,
    timeout: float = 30.0,
    max_mismatches: int = 3,
) -> ConformanceReport:
    """Check that the stand-in answers ``examples`` generated cases exactly as QEMU does.

    Args:
        target: the QEMU target (``"x86_64"``) of a registered plugin: its main one.
        qemu: the command that runs that target's QEMU: a path, or a command
            line to start it with (``"chroot /srv/root qemu-system-x86_64"``),
            as text (split as the shell would) or as words. Default:
            ``qemu-system-<target>`` from ``PATH``.
        version: the QEMU release that binary is (``"7.2"``, or ``"7.2.22"``
            to insist on the micro release too); the stand-in answers as it.
        examples: how many cases to draw.
        seed: draw the cases of an earlier run again (its report's ``seed``).
        timeout: seconds one QEMU run may take before it is killed.
        max_mismatches: how many mismatches the report keeps in full.

    Raises:
        ConformanceSetupError: QEMU does not start, or says it is another
            target or release, or no plugin serves ``target``.
    """
    if examples < 1:
        raise ValueError(f"examples={examples!r} must be at least 1")
    if isinstance(qemu, str):
        program = tuple(shlex.split(qemu))
    elif qemu is None:
        program = ()
    else:
        program = tuple(qemu)
    main_target = _check_target(target)
    runner = _Runner(
        target=main_target,
        version=version,
        program=program or (f"qemu-system-{main_target}",),
        timeout=timeout,
    )
    release = _check_qemu(runner)
    if seed is None:
        seed = random.SystemRandom().getrandbits(32)
    tally = _Tally(keep=max_mismatches)

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(cases(main_target, version))
    def run(case: Case) -> None:
        if not tally.check(runner, case):
            reject()  # a repeat: it does not count towards max_examples

    started = time.monotonic()
    run()
    return ConformanceReport(
        target=main_target,
        qemu=runner.program,
        version=version,
        qemu_release=release,
        seed=seed,
        cases=tally.cases,
        repeated=tally.repeated,
        started=tally.started,
        refused=tally.refused,
        commands=tally.commands,
        mismatched=tally.mismatched,
        unstable=tally.unstable,
        mismatches=tuple(tally.mismatches),
        seconds=time.monotonic() - started,
    )
