"""Machine types and the friendly entry point ``topology.machine(...)``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from topology._errors import UnknownMachineError
from topology._parse.keyval import parse_keyval
from topology._parse.memory import RamLayout
from topology._parse.smp import SmpConfig
from topology._registry import get_arch, hooks
from topology._resolve.board import BoardContext
from topology._resolve.smp import resolve_smp
from topology._resolve.smp_rules import SmpRules
from topology._resolve.topology import OPTIONAL_LEVELS, CpuTopology
from topology._versions import QemuVersion, qemu_version
from topology._warnings import QemuWarning, WarningCollector

if TYPE_CHECKING:
    from topology.plugin import ArchPlugin

__all__ = ["Machine", "MachineType", "machine", "machine_types"]


def _as_levels(levels: Iterable[str]) -> frozenset[str]:
    return frozenset(levels)


def _as_options(options: Mapping[str, str]) -> dict[str, str]:
    return dict(options)


@attrs.frozen(kw_only=True)
class MachineType:
    """One machine type of one QEMU release, with what matters to CPU topology.

    Attributes:
        name: the full name QEMU prints (``pc-q35-7.2``).
        aliases: other names that select it (``q35``).
        levels: optional ``-smp`` levels it supports (``dies``, ``modules``, ...).
        min_cpus, max_cpus: the bounds on cpus and maxcpus.
        prefer_sockets: whether omitted counts go to sockets first (types up to 6.1).
        default_cpu: the CPU model used without ``-cpu``.
        default_cpu_listed: whether ``query-machines`` reports ``default_cpu`` as
            ``default-cpu-type`` (QEMU 11.1 leaves it out for ARM ``virt``).
        hotpluggable_cpus: whether ``device_add`` can add CPUs.
        numa: whether the board takes ``-numa`` at all (QEMU: ``NUMA is not
            supported by this machine-type`` otherwise).
        numa_mem: whether ``-numa node,mem=`` is still accepted (types up to 5.0).
        numa_cluster_boundary: whether QEMU warns when two CPUs of one socket and
            cluster sit in different NUMA nodes (ARM virt from QEMU 8.1).
        auto_numa: whether one NUMA node is always created without ``-numa``.
        auto_numa_with_memhp: whether one is created when ``-m`` has memory slots.
        auto_numa_with_memdev: whether one is created when ``maxmem`` exceeds the memory.
        default_ram_size: the RAM in bytes without ``-m`` (or with ``-m 0``).
        deprecation_reason: why QEMU marks it deprecated, or None when it does not.
    """

    name: str
    aliases: tuple[str, ...] = ()
    levels: frozenset[str] = attrs.field(default=frozenset(), converter=_as_levels)
    min_cpus: int = 1
    max_cpus: int
    prefer_sockets: bool = False
    default_cpu: str
    default_cpu_listed: bool = True
    hotpluggable_cpus: bool = True
    numa: bool = False
    numa_mem: bool = False
    numa_cluster_boundary: bool = False
    auto_numa: bool = False
    auto_numa_with_memhp: bool = False
    auto_numa_with_memdev: bool = False
    default_ram_size: int = 128 * 1024 * 1024
    deprecation_reason: str | None = None

    @property
    def deprecated(self) -> bool:
        """Whether QEMU marks this type deprecated (and warns when it starts)."""
        return self.deprecation_reason is not None

    @levels.validator
    def _check_levels(self, _attribute: object, levels: frozenset[str]) -> None:
        if not levels <= OPTIONAL_LEVELS:
            raise ValueError(f"unknown levels {sorted(levels - OPTIONAL_LEVELS)}")

    def cpu_model(self, options: Mapping[str, str]) -> tuple[str, list[str]]:
        """The ``-cpu`` model and its features (``qemu64,x2apic=on``), or the default model.

        >>> MachineType(name="m", max_cpus=1, default_cpu="qemu64").cpu_model({})
        ('qemu64', [])
        """
        model, *features = options.get("cpu", self.default_cpu).split(",")
        return model, features

    def smp_rules(self, version: str | QemuVersion) -> SmpRules:
        """The :class:`SmpRules` of this machine type under QEMU ``version``."""
        return SmpRules(
            self.name,
            self.levels,
            self.min_cpus,
            self.max_cpus,
            self.prefer_sockets,
            str(qemu_version(version)),
        )


def machine_types(arch: str, *, qemu_version: str | QemuVersion | None = None) -> list[MachineType]:
    """The machine types QEMU ``qemu_version`` offers for ``arch``, newest first.

    >>> [m.name for m in machine_types("s390x", qemu_version="8.0")][:2]
    ['s390-ccw-virtio-8.0', 's390-ccw-virtio-7.2']
    """
    return list(get_arch(arch).machine_types(_version(qemu_version)))


def _version(version: str | QemuVersion | None) -> QemuVersion:
    return qemu_version(version)


@attrs.frozen(kw_only=True)
class Machine:
    """A machine type of a given QEMU release for one architecture, ready to resolve ``-smp``.

    Build it with :func:`machine`. ``options`` holds the ``-machine``/``-cpu``/
    ``-accel`` settings the board checks look at (``cpu``, ``accel``, ``gic-version``).
    """

    arch: ArchPlugin
    type: MachineType
    qemu_version: QemuVersion
    options: Mapping[str, str] = attrs.field(factory=dict, converter=_as_options)

    @property
    def name(self) -> str:
        """The machine type's full name."""
        return self.type.name

    @property
    def smp_rules(self) -> SmpRules:
        """The generic ``-smp`` rules of this machine."""
        return self.type.smp_rules(self.qemu_version)

    def board(
        self, topology: CpuTopology | None = None, memory: RamLayout | None = None
    ) -> BoardContext:
        """What a plugin's board hooks see of this machine (a ``BoardContext``)."""
        return BoardContext(
            machine_type=self.type,
            version=self.qemu_version,
            options=self.options,
            topology=topology,
            memory=memory,
        )

    def resolve(self, smp: str | SmpConfig) -> CpuTopology:
        """Resolve ``-smp`` as QEMU would start this machine: the generic rules, then the board's.

        >>> m = machine("ppc64", "pseries-7.2", qemu_version="7.2")
        >>> m.resolve("4,threads=2")
        Traceback (most recent call last):
        ...
        topology.BoardError: TCG cannot support more than 1 thread/core on a pseries machine
        """
        topology = self._resolve_generic(smp)
        with WarningCollector(topology.warnings).guard():
            return self._check_board(topology)

    def _resolve_generic(self, smp: str | SmpConfig) -> CpuTopology:
        """The generic ``-smp`` rules, with the machine's deprecation warning after theirs.

        QEMU reads ``-smp``'s syntax with the rest of the command line, then sets
        the ``-machine`` properties (the plugin's ``check_machine_options``), and
        only then reads the ``-smp`` values; ``-smp help`` answers before either.
        """
        wants_help = False
        if isinstance(smp, str):
            wants_help = parse_keyval(smp, option="-smp", implied_key="cpus")[1]
        check_options = hooks(self.arch).check_machine_options
        if check_options is not None and not wants_help:
            check_options(self.board())
        topology = resolve_smp(smp, self.smp_rules)
        if self.type.deprecation_reason is None:
            return topology
        deprecated = QemuWarning(
            message=f"Machine type '{self.name}' is deprecated: {self.type.deprecation_reason}",
            what="machine",
        )
        return attrs.evolve(topology, warnings=(*topology.warnings, deprecated))

    def _check_board(self, topology: CpuTopology, memory: RamLayout | None = None) -> CpuTopology:
        """``topology`` with the board's warnings after its own; the board's error if it refuses.

        ``memory`` is None when the guest has the machine's default RAM.
        """
        extra = self.arch.check_board(self.board(topology, memory))
        if not extra:
            return topology
        return attrs.evolve(topology, warnings=(*topology.warnings, *extra))


def machine(
    arch: str,
    name: str | None = None,
    *,
    qemu_version: str | QemuVersion | None = None,
    **options: str,
) -> Machine:
    """The machine ``name`` (a versioned type or an alias) of QEMU ``qemu_version`` for ``arch``.

    ``arch`` is a QEMU target (``x86_64``, ``ppc64``, ``s390x``, ``aarch64``) or a
    plugin name; ``name`` defaults to the machine QEMU picks without ``-machine``.
    Keyword options are board settings: ``cpu="Skylake-Client"``, ``accel="kvm"``,
    ``gic_version="3"`` (underscores stand for dashes).

    >>> machine("x86_64", "q35", qemu_version="9.2").name
    'pc-q35-9.2'
    >>> machine("x86_64", "pc-q35-1.0", qemu_version="9.2")
    Traceback (most recent call last):
    ...
    topology.UnknownMachineError: unsupported machine type: "pc-q35-1.0"
    >>> machine("x86_64", "pc-q35-1.0", qemu_version="7.2").message
    Traceback (most recent call last):
    ...
    topology.UnknownMachineError: unsupported machine type
    """
    plugin = get_arch(arch)
    version = _version(qemu_version)
    types = plugin.machine_types(version)
    if name is None:
        name = plugin.default_machine(version)
        if name is None:
            raise UnknownMachineError(
                "No machine specified, and there is no default",
                what="machine",
                where=arch,
                hint="Use -machine help to list supported machines",
            )
    for candidate in types:
        if name == candidate.name or name in candidate.aliases:
            settings = {key.replace("_", "-"): str(value) for key, value in options.items()}
            return Machine(arch=plugin, type=candidate, qemu_version=version, options=settings)
    # QEMU names the type in the message from 9.1 on.
    message = (
        f'unsupported machine type: "{name}"'
        if version.at_least("9.1")
        else "unsupported machine type"
    )
    raise UnknownMachineError(
        message,
        what=name,
        where=f"{arch} QEMU {version}",
        hint="Use -machine help to list supported machines",
    )
