"""``-smp`` strategies: a shape drawn first, spelled, then classified by the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hypothesis import assume
from hypothesis import strategies as st

from topology._errors import TopologyError
from topology._parse.smp import SMP_MEMBERS, parse_smp, smp_members
from topology._resolve.machine import Machine
from topology._resolve.topology import LEVELS, CpuTopology
from topology._versions import QemuVersion
from topology.strategies._machines import Probe, check_bound, check_valid, machines, probe, spell
from topology.strategies._values import SmpCase

__all__ = ["classify", "smp_configs", "smp_strings", "valid_shapes"]

# Names no QEMU release knows as -smp members.
_UNKNOWN_MEMBERS: Final = ("foo", "id", "core", "socket", "nodes", "cpu")
_BAD_VALUES: Final = ("x", "", "1.5", "0x", "08", "2k")
_SYNTAX: Final = (",{}", "{},", "{},,", "=2,{}", "{},sockets")
# Invalid kinds in shrinking order; the last three make strings QEMU's parser refuses.
_PARSEABLE_KINDS: Final = (
    "mismatch",
    "below",
    "zero",
    "negative",
    "too_many",
    "unsupported_level",
    "board_threads",
    "board_limit",
)
_UNPARSEABLE_KINDS: Final = ("unknown_member", "bad_value", "syntax")


def classify(machine: Machine, smp: str) -> SmpCase:
    """What QEMU (the model) does with ``-smp smp`` on ``machine``."""
    try:
        config = parse_smp(smp, qemu_version=machine.qemu_version)
    except TopologyError:
        config = None
    try:
        topology = machine.resolve(smp)
    except TopologyError as error:
        return SmpCase(
            machine=machine,
            smp=smp,
            config=config,
            error_type=type(error),
            message=str(error),
            hint=error.hint,
            warnings=tuple(error.warnings),
        )
    return SmpCase(
        machine=machine, smp=smp, config=config, topology=topology, warnings=topology.warnings
    )


@st.composite
def valid_shapes(
    draw: st.DrawFn, machine: Machine, max_cpus: int, max_count: int
) -> tuple[tuple[int, ...], int]:
    """Level counts (one per ``probe(machine).levels``) and present CPUs the board takes.

    Threads are drawn first from the counts the board takes, then the other
    levels within what is left of ``max_cpus``; each shrinks to 1. As many
    choices are made whatever the machine (a level it lacks is drawn and
    ignored), so that shrinking moves towards the first machine, not towards
    the one with the fewest levels.
    """
    found = probe(machine)
    limit = found.cpu_limit(max_cpus)
    threads = found.threads(min(max_count, limit)) if limit else ()
    counts = {"threads": _pick(draw, threads, max_count)}
    room = limit // counts["threads"] if limit else 0
    for level in ("cores", "sockets", *(x for x in LEVELS if x not in _FIRST)):
        drawn = min(draw(st.integers(1, max_count)), max(1, room))
        counts[level] = drawn if level in found.levels else 1
        room //= counts[level]
    ordered = tuple(counts[level] for level in found.levels)
    present = found.cpus(ordered) if limit else ()
    cpus = _pick(draw, present, max_cpus)
    assume(limit and threads and present)
    return ordered, cpus


_FIRST: Final = ("threads", "cores", "sockets")


def _pick(draw: st.DrawFn, options: tuple[int, ...], size: int) -> int:
    """One of ``options`` with a single choice of fixed range (shrinks to the first)."""
    index = draw(st.integers(0, max(size, 2) - 1))
    return options[min(index, len(options) - 1)] if options else 1


@st.composite
def _valid_case(
    draw: st.DrawFn, machine: Machine, max_cpus: int, max_count: int, literals: bool
) -> SmpCase:
    found = probe(machine)
    counts, cpus = draw(valid_shapes(machine, max_cpus, max_count))
    total = 1
    for count in counts:
        total *= count
    full = spell(found.levels, counts, cpus, total)
    # Which members to write out; QEMU fills in the others. Shrinks to cpus alone.
    spelled: dict[str, bool] = {level: draw(st.booleans()) for level in LEVELS}
    parts = [
        f"{level}={count}"
        for level, count in zip(found.levels, counts, strict=True)
        if spelled[level]
    ]
    if draw(st.booleans()):
        parts.append(f"maxcpus={total}")
    if literals:
        parts = draw(st.permutations(parts))
        if draw(st.integers(0, 7)) == 0:
            parts = [_hex(part) for part in parts]
    implied = not literals or not draw(st.booleans())
    text = ",".join([str(cpus) if implied else f"cpus={cpus}", *parts])
    case = classify(machine, text)
    if case.valid:
        return case
    # The shortened spelling resolves to something the board refuses: spell it all.
    case = classify(machine, full)
    assert case.valid, f"{machine.name}: {full} was probed valid"
    return case


def _hex(part: str) -> str:
    member, _, value = part.partition("=")
    return f"{member}={int(value):#x}"


@st.composite
def _invalid_case(
    draw: st.DrawFn, machine: Machine, max_cpus: int, max_count: int, parseable: bool
) -> SmpCase:
    # A valid case first, then what spoils it: so invalid examples make more
    # choices than valid ones, and valid=None shrinks towards a valid one.
    found = probe(machine)
    base = draw(_valid_case(machine, max_cpus, max_count, not parseable))
    assert base.topology is not None
    counts = tuple(getattr(base.topology, level) for level in found.levels)
    cpus = base.topology.cpus
    kinds = [kind for kind in _PARSEABLE_KINDS if _applies(kind, found, max_count)]
    if not parseable:
        kinds += _UNPARSEABLE_KINDS
    kind = draw(st.sampled_from(kinds))
    text = _BUILDERS[kind](draw, _Shape(found, counts, cpus), max_count)
    case = classify(machine, text)
    # Rare: the construction happened to make something QEMU takes.
    assume(not case.valid and (case.config is not None or not parseable))
    return case


class _Shape:
    """A valid shape being spoiled."""

    def __init__(self, found: Probe, counts: tuple[int, ...], cpus: int) -> None:
        self.found = found
        self.counts = counts
        self.cpus = cpus
        self.total = 1
        for count in counts:
            self.total *= count

    def members(self, cpus: object = None, max_cpus: object = None) -> dict[str, str]:
        """Every member spelled out (cpus, the levels, maxcpus), values as text."""
        spelled = {"cpus": str(self.cpus if cpus is None else cpus)}
        spelled.update(
            (level, str(count)) for level, count in zip(self.found.levels, self.counts, strict=True)
        )
        spelled["maxcpus"] = str(self.total if max_cpus is None else max_cpus)
        return spelled


def _text(members: dict[str, str]) -> str:
    return ",".join(f"{member}={value}" for member, value in members.items())


def _applies(kind: str, found: Probe, max_count: int) -> bool:
    if kind == "zero":
        return found.zero_refused
    if kind == "unsupported_level":
        return bool(found.unsupported_levels)
    if kind == "board_threads":
        return len(found.threads(max(max_count, 2))) < max(max_count, 2)
    if kind == "board_limit":
        return 0 < found.cpu_limit(found.max_cpus) < found.max_cpus
    return True


def _mismatch(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    return _text(shape.members(cpus=1, max_cpus=shape.total + draw(st.integers(1, 3))))


def _below(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    return _text(shape.members(cpus=shape.total + draw(st.integers(1, 3))))


def _zero(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    members = shape.members()
    members[draw(st.sampled_from([*shape.found.levels, "maxcpus"]))] = "0"
    return _text(members)


def _negative(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    members = shape.members()
    members[draw(st.sampled_from(["cpus", "maxcpus"]))] = str(-draw(st.integers(1, 16)))
    return _text(members)


def _too_many(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    return str(shape.found.max_cpus + draw(st.integers(1, 8)))


def _unsupported_level(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    level = draw(st.sampled_from(shape.found.unsupported_levels))
    return f"{shape.cpus},{level}={draw(st.integers(2, max(2, max_count)))}"


def _board_threads(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    up_to = max(max_count, 2)
    taken = shape.found.threads(up_to)
    threads = draw(st.sampled_from([t for t in range(1, up_to + 1) if t not in taken]))
    return f"{threads},threads={threads}"


def _board_limit(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    found = shape.found
    limit = found.cpu_limit(found.max_cpus)
    return f"1,maxcpus={draw(st.integers(limit + 1, min(found.max_cpus, limit + 8)))}"


def _unknown_member(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    # Members of other QEMU releases count as unknown too (books on 7.2).
    known = smp_members(shape.found.machine.qemu_version)
    names = [*_UNKNOWN_MEMBERS, *(m for m in SMP_MEMBERS if m not in known)]
    return f"{_text(shape.members())},{draw(st.sampled_from(names))}=1"


def _bad_value(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    members = shape.members()
    members[draw(st.sampled_from(sorted(members)))] = draw(st.sampled_from(_BAD_VALUES))
    return _text(members)


def _syntax(draw: st.DrawFn, shape: _Shape, max_count: int) -> str:
    return draw(st.sampled_from(_SYNTAX)).format(_text(shape.members()))


_BUILDERS: Final[dict[str, Callable[[st.DrawFn, _Shape, int], str]]] = {
    "mismatch": _mismatch,
    "below": _below,
    "zero": _zero,
    "negative": _negative,
    "too_many": _too_many,
    "unsupported_level": _unsupported_level,
    "board_threads": _board_threads,
    "board_limit": _board_limit,
    "unknown_member": _unknown_member,
    "bad_value": _bad_value,
    "syntax": _syntax,
}


def _smp_cases(
    *,
    machine: Machine | None,
    arch: str | None,
    machine_type: str | None,
    qemu_version: str | QemuVersion | None,
    valid: bool | None,
    max_cpus: int,
    max_count: int,
    literals: bool,
) -> st.SearchStrategy[SmpCase]:
    check_valid(valid)
    check_bound("max_cpus", max_cpus, 1)
    check_bound("max_count", max_count, 1)
    drawn = machines(
        machine=machine, arch=arch, machine_type=machine_type, qemu_version=qemu_version
    )

    @st.composite
    def cases(draw: st.DrawFn) -> SmpCase:
        chosen = draw(drawn)
        # False comes first when shrinking: valid=None shrinks towards a valid case.
        wanted = valid if valid is not None else not draw(st.booleans())
        if wanted:
            return draw(_valid_case(chosen, max_cpus, max_count, literals))
        return draw(_invalid_case(chosen, max_cpus, max_count, not literals))

    return cases()


def smp_strings(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
    valid: bool | None = True,
    max_cpus: int = 8,
    max_count: int = 4,
) -> st.SearchStrategy[SmpCase]:
    """``-smp`` options, each as an :class:`SmpCase` that says what QEMU does with it.

    The machine is ``machine`` or drawn from those matching ``arch`` (a QEMU
    target such as ``"ppc64"``), ``machine_type`` (a name or alias; needs
    ``arch``) and ``qemu_version``; any left out is drawn from all.

    ``valid=True`` draws only options QEMU starts with (``.topology`` is what
    it resolves to), ``valid=False`` only options it refuses (``.error_type``
    and ``.message``, QEMU's exact text), ``None`` both. Valid options have at
    most ``max_cpus`` possible CPUs and at most ``max_count`` of each level;
    they are spelled in every way QEMU reads (members left out for QEMU to fill
    in, ``cpus=`` or implied, any order, hex literals). Invalid ones are built
    to fail: counts whose product is not ``maxcpus``, more present CPUs than
    possible, zero and negative counts, more CPUs than the machine takes,
    levels the machine lacks, what the board refuses (threads, its own CPU
    limit), unknown members, values that are not integers, broken syntax.

    Shrinks towards ``"1"`` on the first machine: one socket, one core, one thread.
    """
    return _smp_cases(
        machine=machine,
        arch=arch,
        machine_type=machine_type,
        qemu_version=qemu_version,
        valid=valid,
        max_cpus=max_cpus,
        max_count=max_count,
        literals=True,
    )


def smp_configs(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
    valid: bool | None = True,
    max_cpus: int = 8,
    max_count: int = 4,
) -> st.SearchStrategy[SmpCase]:
    """Like :func:`smp_strings`, but only options QEMU's parser reads: ``.config`` is set.

    The invalid ones are refused by the checks after parsing (never by the
    parser), so a tool that takes a :class:`SmpConfig` can be fed them.
    """
    return _smp_cases(
        machine=machine,
        arch=arch,
        machine_type=machine_type,
        qemu_version=qemu_version,
        valid=valid,
        max_cpus=max_cpus,
        max_count=max_count,
        literals=False,
    )


def topology_of(case: SmpCase) -> CpuTopology:
    assert case.topology is not None
    return case.topology
