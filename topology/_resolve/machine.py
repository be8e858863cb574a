"""Machine types and the friendly entry point ``topology.machine(...)``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

import attrs

from topology._errors import ParameterError, TopologyError, UnknownMachineError
from topology._parse.command_line import UnsupportedOptionError
from topology._parse.keyval import parse_keyval
from topology._parse.memory import RamLayout
from topology._parse.qdict import qdict_order
from topology._parse.smp import SmpConfig
from topology._registry import get_arch, hooks
from topology._resolve import catalogue
from topology._resolve.board import BoardContext
from topology._resolve.smp import resolve_smp
from topology._resolve.smp_rules import SmpRules
from topology._resolve.topology import OPTIONAL_LEVELS, CpuTopology
from topology._versions import QemuVersion, qemu_version
from topology._warnings import QemuWarning, WarningCollector

if TYPE_CHECKING:
    from topology._model.numa import NumaConfig
    from topology.plugin import ArchPlugin

__all__ = [
    "Machine",
    "MachineType",
    "check_cpu_model",
    "find_machine",
    "machine",
    "machine_types",
]


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
        cpu_slots: whether the board lists its possible CPUs (QEMU's
            ``possible_cpu_arch_ids``); only the empty machine ``none`` does not.
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
    cpu_slots: bool = True
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
        self,
        topology: CpuTopology | None = None,
        memory: RamLayout | None = None,
        numa: NumaConfig | None = None,
    ) -> BoardContext:
        """What a plugin's board hooks see of this machine (a ``BoardContext``)."""
        return BoardContext(
            machine_type=self.type,
            version=self.qemu_version,
            options=self.options,
            topology=topology,
            memory=memory,
            numa=numa,
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
            check_cpu_model(self)
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
        deferred: TopologyError | None = None
        if check_options is not None and not wants_help:
            try:
                check_options(self.board())
            except TopologyError as error:
                # QEMU sets the properties in QDict order, smp one of them: a bad
                # value of one set after smp (ARM gic-version) comes after smp's errors.
                if not _set_after_smp(error.what, self.options):
                    raise
                deferred = error
        topology = resolve_smp(smp, self.smp_rules)
        if deferred is not None:
            raise deferred
        if self.type.deprecation_reason is None:
            return topology
        deprecated = QemuWarning(
            message=f"Machine type '{self.name}' is deprecated: {self.type.deprecation_reason}",
            what="machine",
        )
        return attrs.evolve(topology, warnings=(*topology.warnings, deprecated))

    def _check_board(
        self,
        topology: CpuTopology,
        memory: RamLayout | None = None,
        numa: NumaConfig | None = None,
    ) -> CpuTopology:
        """``topology`` with the board's warnings after its own; the board's error if it refuses.

        ``memory`` is None when the guest has the machine's default RAM, ``numa``
        without NUMA nodes.
        """
        extra = self.arch.check_board(self.board(topology, memory, numa))
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
    ``gic_version="3"`` (underscores stand for dashes). A property the machine
    type does not have and an accelerator that release does not know are
    refused here, as QEMU refuses them before it prints anything else
    (:class:`topology.ParameterError` with QEMU's text); a CPU model it does not
    know when the machine resolves ``-smp`` or starts, after the warnings QEMU
    prints first (the machine type's deprecation, ``-smp``'s).
    Options named ``host_*`` describe the KVM host instead (pseries
    ``host_smt``); the plugin that reads them checks them.

    >>> machine("x86_64", "q35", qemu_version="7.2", cpu="Nosuch").resolve("2")
    Traceback (most recent call last):
    ...
    topology.ParameterError: unable to find CPU model 'Nosuch'
    >>> machine("ppc64", qemu_version="10.0", ic_mode="xics", nosuch="1")
    Traceback (most recent call last):
    ...
    topology.ParameterError: Property 'pseries-10.0-machine.nosuch' not found

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
    settings = {key.replace("_", "-"): str(value) for key, value in options.items()}
    chosen = find_machine(arch, name, qemu_version=qemu_version, options=settings)
    _check_options(chosen, arch)
    return chosen


_VERSIONED: Final = re.compile(r"\d+\.\d+")


def find_machine(
    arch: str,
    name: str | None,
    *,
    qemu_version: str | QemuVersion | None,
    options: Mapping[str, str],
) -> Machine:
    """:func:`machine` without the checks of its options (QEMU's property names in
    ``options``), for the stand-in, which checks them in QEMU's order among the
    other options of a command line."""
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
            return Machine(arch=plugin, type=candidate, qemu_version=version, options=options)
    if name == "none":
        # QEMU's own board, on every target (it imports this module).
        from topology._resolve.null_machine import NULL_MACHINE_TYPE, null_board

        return Machine(
            arch=null_board(plugin), type=NULL_MACHINE_TYPE, qemu_version=version, options=options
        )
    # A versioned type the plugin lacks is one the release lacks; the catalogue
    # of an earlier capture cannot tell for releases with no capture of their own.
    exact = catalogue.captured_version(version) == version
    for target in plugin.targets if exact or not _VERSIONED.search(name) else ():
        if catalogue.resolve_machine_type(target, version, name) is not None:
            # QEMU has it (powernv9, raspi3b): starting it is
            # not refused, only not modelled.
            raise UnsupportedOptionError(
                f"cputopo: the stand-in does not model machine type {name} of qemu-system-{target}",
                what=name,
            )
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


def _set_after_smp(name: str | None, options: Mapping[str, str]) -> bool:
    """Whether QEMU sets ``-machine`` property ``name`` after ``smp`` (QDict order).

    >>> _set_after_smp("gic-version", {"gic-version": "foo"}), _set_after_smp("vsmt", {"vsmt": "0"})
    (True, False)
    """
    if name is None or name not in options:
        return False
    order = qdict_order([*options, "smp"])
    return order.index(name) > order.index("smp")


#: Options that describe the KVM host the model answers for, not QEMU properties
#: (pseries ``host_smt``, ``host_vsmt_modes``); plugins check them.
_HOST_PREFIX = "host-"


def _check_options(chosen: Machine, arch: str) -> None:
    """QEMU's refusals of the options ``machine()`` was given that come before any
    warning: each ``-machine`` property by name (not found, or not writable), then
    the accelerator (observed on QEMU 7.2, 10.0 and 11.1). The ``-cpu`` model is
    looked up later (:func:`check_cpu_model`)."""
    from topology._resolve import catalogue_checks as checks  # the catalogue loads lazily

    plugin = chosen.arch
    target = arch if arch in plugin.targets else plugin.targets[0]
    version = chosen.qemu_version
    check_values = hooks(plugin).check_machine_options
    earlier: dict[str, str] = {}
    # QEMU sets the properties one by one in QDict order: a bad value of one
    # before an unknown name is the error it reports (the plugin checks values).
    for name in qdict_order(list(chosen.options)):
        value = chosen.options[name]
        if name in ("cpu", "accel") or name.startswith(_HOST_PREFIX):
            earlier[name] = value
            continue
        read_only = checks.is_read_only_machine_property(target, chosen.name, name, version)
        if read_only or not checks.has_machine_property(target, chosen.name, name, version):
            if check_values is not None:
                check_values(attrs.evolve(chosen, options=earlier).board())
            reason = "is not writable" if read_only else "not found"
            raise ParameterError(
                f"Property '{chosen.name}-machine.{name}' {reason}", what=name, where=chosen.name
            )
        earlier[name] = value
    accel = chosen.options.get("accel", "tcg")
    if not checks.is_accelerator(target, accel, version):
        raise ParameterError(f"invalid accelerator {accel}", what="accel", value=accel)


def check_cpu_model(chosen: Machine) -> None:
    """QEMU's refusal of a ``-cpu`` model that release does not know (every target:
    ``unable to find CPU model 'NAME'``). QEMU looks the model up once the machine
    and ``-smp`` are set, after their warnings (observed on 7.2, 10.0 and 11.1)."""
    from topology._resolve import catalogue_checks as checks  # the catalogue loads lazily

    cpu = chosen.options.get("cpu")
    if cpu is None:
        return
    plugin = chosen.arch
    model = cpu.split(",", 1)[0]
    accel = chosen.options.get("accel", "tcg")
    if not checks.is_cpu_model(plugin.targets[0], model, chosen.qemu_version, accel):
        raise ParameterError(f"unable to find CPU model '{model}'", what="cpu", value=model)
