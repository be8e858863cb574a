"""Which machine a strategy draws for, checked as Hypothesis checks its arguments.

The strategies know no architecture: what a board refuses (pseries thread
counts, ARM's GIC limit, s390x threads...) is learnt by asking the model once
per machine (:func:`probe`), so a new plugin gets strategies for free.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from topology._errors import TopologyError, UnsupportedVersionError
from topology._parse.smp import smp_members
from topology._registry import get_arch, plugin_names
from topology._resolve.machine import Machine, machine
from topology._resolve.topology import LEVELS
from topology._versions import SUPPORTED_QEMU_VERSIONS, QemuVersion, qemu_version

__all__ = ["MachineKey", "Probe", "check_bound", "check_valid", "machine_key", "machines", "probe"]

MachineKey = tuple[str, str, str, tuple[tuple[str, str], ...]]


def check_valid(valid: object) -> None:
    if valid not in (True, False, None):
        raise InvalidArgument(f"valid={valid!r} must be True, False or None")


def check_bound(name: str, value: object, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < low or (high is not None and value > high):
        upper = "" if high is None else f" and at most {high}"
        raise InvalidArgument(f"{name}={value!r} must be at least {low}{upper}")


def _targets() -> list[str]:
    # Each plugin's main target, in shrinking order: the built-in plugins in
    # their registration order, then third-party ones.
    return [get_arch(name).targets[0] for name in plugin_names()]


def machines(
    *,
    machine: Machine | None = None,
    arch: str | None = None,
    machine_type: str | None = None,
    qemu_version: str | QemuVersion | None = None,
) -> st.SearchStrategy[Machine]:
    """Machines: the one given, or those matching ``arch``/``machine_type``/``qemu_version``."""
    if machine is not None:
        if not isinstance(machine, Machine):
            raise InvalidArgument(f"machine={machine!r} must be a topology.Machine")
        if arch is not None or machine_type is not None or qemu_version is not None:
            raise InvalidArgument(
                "pass either machine= or arch=/machine_type=/qemu_version=, not both"
            )
        return st.just(machine)
    if machine_type is not None and arch is None:
        raise InvalidArgument(f"machine_type={machine_type!r} needs arch= as well")
    return st.sampled_from(_machine_list(arch, machine_type, qemu_version))


def _machine_list(
    arch: str | None, machine_type: str | None, version: str | QemuVersion | None
) -> list[Machine]:
    try:
        targets = _targets() if arch is None else [get_arch(arch).targets[0]]
        versions = SUPPORTED_QEMU_VERSIONS if version is None else (qemu_version(version),)
        found = []
        for target in targets:
            plugin = get_arch(target)
            for release in versions:
                try:
                    if machine_type is not None:
                        found.append(machine(target, machine_type, qemu_version=release))
                        continue
                    found += [
                        machine(target, t.name, qemu_version=release)
                        for t in plugin.machine_types(release)
                    ]
                except UnsupportedVersionError:
                    # A plugin may serve some releases only (loongarch64: not 8.0
                    # to 9.2); drawing across releases or plugins skips the others.
                    if arch is not None and version is not None:
                        raise
    except TopologyError as error:
        raise InvalidArgument(str(error)) from error
    if not found:
        raise InvalidArgument(f"no machine types for arch={arch!r}, qemu_version={version!r}")
    return found


def machine_key(machine: Machine) -> MachineKey:
    return (
        machine.arch.name,
        machine.name,
        str(machine.qemu_version),
        tuple(sorted(machine.options.items())),
    )


@functools.cache
def _machine_from_key(key: MachineKey) -> Machine:
    arch, name, version, options = key
    return machine(arch, name, qemu_version=version, **{k.replace("-", "_"): v for k, v in options})


class Probe:
    """What one machine accepts, learnt from the model and kept."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        version = machine.qemu_version
        members = set(smp_members(version))
        #: The levels this machine's -smp takes, coarsest first (sockets, cores, threads always).
        self.levels: tuple[str, ...] = tuple(
            level
            for level in LEVELS
            if level in members
            and (level in ("sockets", "cores", "threads") or level in machine.type.levels)
        )
        #: Levels the -smp parser of this QEMU knows but this machine refuses.
        self.unsupported_levels: tuple[str, ...] = tuple(
            level for level in LEVELS if level in members and level not in self.levels
        )
        self.max_cpus = machine.type.max_cpus
        self._accepts: dict[str, bool] = {}
        self._cpus: dict[tuple[int, ...], tuple[int, ...]] = {}

    def accepts(self, smp: str) -> bool:
        """Whether the model starts this machine with ``-smp smp``."""
        if smp not in self._accepts:
            try:
                self.machine.resolve(smp)
            except TopologyError:
                self._accepts[smp] = False
            else:
                self._accepts[smp] = True
        return self._accepts[smp]

    @functools.cached_property
    def zero_refused(self) -> bool:
        return not self.accepts("1,sockets=0")

    @functools.lru_cache(maxsize=64)  # noqa: B019 (probes live as long as the process)
    def threads(self, up_to: int) -> tuple[int, ...]:
        """The thread counts up to ``up_to`` that the board takes (one core of them)."""
        return tuple(t for t in range(1, up_to + 1) if self.accepts(f"{t},threads={t}"))

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def cpu_limit(self, up_to: int) -> int:
        """The most CPUs, up to ``up_to``, that the board takes (0 when none).

        A binary search: boards refuse from some count on (a GIC's, SMBIOS's
        or the firmware's limit), never below a count they take.
        """
        low, high = 0, min(up_to, self.max_cpus)
        if self._takes(high):
            return high
        while high - low > 1:
            middle = (low + high) // 2
            if self._takes(middle):
                low = middle
            else:
                high = middle
        return low

    def _takes(self, count: int) -> bool:
        # Types without CPU hot-plug refuse maxcpus above cpus: try both spellings.
        return self.accepts(str(count)) or self.accepts(f"1,maxcpus={count}")

    def cpus(self, counts: Sequence[int]) -> tuple[int, ...]:
        """The present-CPU counts the board takes with these level counts, all spelled out."""
        key = tuple(counts)
        if key not in self._cpus:
            max_cpus = 1
            for count in counts:
                max_cpus *= count
            self._cpus[key] = tuple(
                cpus
                for cpus in range(1, max_cpus + 1)
                if self.accepts(spell(self.levels, counts, cpus, max_cpus))
            )
        return self._cpus[key]


def spell(levels: Sequence[str], counts: Sequence[int], cpus: int, max_cpus: int) -> str:
    """Every member spelled out: ``cpus,level=count,...,maxcpus=max_cpus``."""
    parts = [str(cpus), *(f"{level}={count}" for level, count in zip(levels, counts, strict=True))]
    return ",".join([*parts, f"maxcpus={max_cpus}"])


def probe(machine: Machine) -> Probe:
    """The (shared) probe of ``machine``."""
    return _probe(machine_key(machine))


@functools.cache
def _probe(key: MachineKey) -> Probe:
    return Probe(_machine_from_key(key))
