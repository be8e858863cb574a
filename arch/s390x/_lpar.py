"""A PR/SM logical partition (LPAR) as its Linux guest sees it: cores, threads, standby CPUs.

This is not a QEMU machine. It models the partition QEMU itself runs in: the
hypervisor (PR/SM) gives it cores, each *configured* or in *standby*, placed in
drawers, books and sockets, with a vertical entitlement; with SMT (z13 and
later, at most 2 threads) each core is 2 logical CPUs that Linux configures
and deconfigures together. Facts, from the Linux kernel and util-linux:

* ``arch/s390/kernel/smp.c``: ``smp_add_core``/``__smp_rescan_cpus`` (each core
  gets ``threads`` consecutive logical CPU numbers; the CPU address is
  ``core_id << mt_shift | thread`` with ``mt_shift`` the bit length of
  threads-1; configured cores first, then standby ones);
  ``cpu_configure_store`` (the value must be 0 or 1, else EINVAL; it acts on the
  whole core of the CPU written; EBUSY while any thread of the core is online;
  configuring a configured core or deconfiguring a standby one does nothing;
  each thread's polarization becomes unknown); ``__cpu_up`` (a CPU in standby
  cannot go online: EIO); ``smp_add_present_cpu`` (CPU 0 has no ``online``
  file: it cannot be taken offline); ``cpu_address_show`` (``address``).
* ``arch/s390/kernel/topology.c``: ``dispatching_store`` (0 horizontal, 1
  vertical; EINVAL otherwise; every CPU's polarization becomes unknown until
  the topology is read again); ``cpu_polarization_show`` (``horizontal``,
  ``vertical:low``, ``vertical:medium``, ``vertical:high``, ``unknown``);
  ``add_cpus_to_mask`` (a configured CPU takes drawer/book/socket/core ids,
  dedication and polarization from the STSI list; a standby CPU is not in it).
* util-linux ``sys-utils/chcpu.c`` (``-c``/``-g`` configure, ``-e``/``-d``
  online, ``-p`` dispatching) and ``lscpu``.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable, Sequence
from typing import Final, Literal

import attrs

from arch.s390x._facility import Entitlement
from topology import ParameterError, TopologyError

__all__ = [
    "CONFIGURED",
    "STANDBY",
    "LparCore",
    "LparCpu",
    "LparError",
    "LparProfile",
]

#: ``configure`` file values (``CPU_STATE_STANDBY``, ``CPU_STATE_CONFIGURED``).
STANDBY: Final = 0
CONFIGURED: Final = 1

#: Machine generations, oldest first; SMT came with the z13.
GENERATIONS: Final = ("z196", "zEC12", "z13", "z14", "z15", "z16", "z17")

CpuPolarization = Literal[
    "horizontal", "vertical:low", "vertical:medium", "vertical:high", "unknown"
]


class LparError(TopologyError, OSError):
    """A sysfs write the Linux kernel refuses; ``errno_name`` is its errno (``EBUSY``)."""

    def __init__(self, message: str, *, errno_name: str, path: str) -> None:
        TopologyError.__init__(self, message, what=errno_name, where=path)
        self.errno = getattr(errno, errno_name)
        self.errno_name = errno_name
        self.path = path


@attrs.frozen(kw_only=True)
class LparCore:
    """One core the hypervisor gives the partition, and where it sits.

    ``entitlement`` is what PR/SM grants in vertical polarization (never ``auto``).
    """

    core_id: int
    drawer_id: int = 0
    book_id: int = 0
    socket_id: int = 0
    entitlement: Entitlement = attrs.field(default="medium")
    dedicated: bool = False
    configured: bool = True

    @entitlement.validator
    def _check_entitlement(self, _attribute: object, value: str) -> None:
        if value not in ("low", "medium", "high"):
            raise ParameterError(
                f"an LPAR core's entitlement is low, medium or high, not '{value}'",
                what="entitlement",
                value=value,
            )


@attrs.frozen(kw_only=True)
class LparCpu:
    """One logical CPU (a thread of a core) as Linux shows it.

    ``polarization`` is the ``polarization`` file's text; the topology ids are
    None for a CPU in standby (it is not in the STSI list).
    """

    cpu: int
    address: int
    core_id: int
    thread: int
    configured: bool
    online: bool
    polarization: CpuPolarization
    dedicated: bool
    drawer_id: int | None
    book_id: int | None
    socket_id: int | None


class LparProfile:
    """A partition and its Linux guest's CPU state, changed through sysfs-like writes.

    >>> lpar = LparProfile(
    ...     [LparCore(core_id=0), LparCore(core_id=1, configured=False)], threads=2
    ... )
    >>> [(c.cpu, c.address, c.configured, c.online) for c in lpar.cpus()]
    [(0, 0, True, True), (1, 1, True, True), (2, 2, False, False), (3, 3, False, False)]
    >>> lpar.write(3, "configure", "1")  # a thread configures its whole core
    >>> [c.configured for c in lpar.cpus()]
    [True, True, True, True]
    """

    def __init__(
        self, cores: Iterable[LparCore], *, threads: int = 1, generation: str = "z16"
    ) -> None:
        cores = tuple(cores)
        if generation not in GENERATIONS:
            raise ParameterError(
                f"unknown machine generation '{generation}'; known: {', '.join(GENERATIONS)}",
                what="generation",
                value=generation,
            )
        max_threads = 2 if GENERATIONS.index(generation) >= GENERATIONS.index("z13") else 1
        if not 1 <= threads <= max_threads:
            raise ParameterError(
                f"{generation} cores run at most {max_threads} thread(s), not {threads}",
                what="threads",
                value=threads,
            )
        if not cores or not cores[0].configured:
            raise ParameterError("the IPL core must come first and be configured", what="cores")
        if len({core.core_id for core in cores}) != len(cores):
            raise ParameterError("core ids must differ", what="cores")
        self.threads = threads
        self.generation = generation
        self.mt_shift = (threads - 1).bit_length()
        # smp_detect_cpus: the IPL core, then configured cores, then standby ones.
        ordered = [
            cores[0],
            *sorted(cores[1:], key=lambda core: (not core.configured, core.core_id)),
        ]
        self._cores: tuple[LparCore, ...] = tuple(ordered)
        self._configured = [core.configured for core in ordered]
        self._online = [[core.configured for _ in range(threads)] for core in ordered]
        self.vertical = False
        # Polarization as last read from STSI; None = "unknown" until re-read.
        self._known = [core.configured for core in ordered]

    # -- reading -------------------------------------------------------------------

    @property
    def cores(self) -> tuple[LparCore, ...]:
        """The cores in logical CPU order (the IPL core, configured ones, standby ones)."""
        return self._cores

    def cpus(self) -> list[LparCpu]:
        """Every logical CPU, by CPU number."""
        found = []
        for position, core in enumerate(self._cores):
            configured = self._configured[position]
            for thread in range(self.threads):
                found.append(
                    LparCpu(
                        cpu=position * self.threads + thread,
                        address=core.core_id << self.mt_shift | thread,
                        core_id=core.core_id,
                        thread=thread,
                        configured=configured,
                        online=self._online[position][thread],
                        polarization=self._polarization(position),
                        dedicated=core.dedicated,
                        drawer_id=core.drawer_id if configured else None,
                        book_id=core.book_id if configured else None,
                        socket_id=core.socket_id if configured else None,
                    )
                )
        return found

    def _polarization(self, position: int) -> CpuPolarization:
        if not self._known[position]:
            return "unknown"
        if not self.vertical:
            return "horizontal"
        entitlement = self._cores[position].entitlement
        if entitlement == "low":
            return "vertical:low"
        if entitlement == "high":
            return "vertical:high"
        return "vertical:medium"

    def sysfs(self) -> dict[str, str]:
        """The files under ``/sys/devices/system/cpu`` this model covers, path -> content."""
        files = {"dispatching": f"{int(self.vertical)}\n"}
        for cpu in self.cpus():
            base = f"cpu{cpu.cpu}"
            files[f"{base}/configure"] = f"{int(cpu.configured)}\n"
            files[f"{base}/address"] = f"{cpu.address}\n"
            files[f"{base}/polarization"] = f"{cpu.polarization}\n"
            files[f"{base}/dedicated"] = f"{int(cpu.dedicated)}\n"
            if cpu.cpu != 0:
                files[f"{base}/online"] = f"{int(cpu.online)}\n"
            if cpu.configured:
                files[f"{base}/topology/core_id"] = f"{cpu.core_id}\n"
                files[f"{base}/topology/physical_package_id"] = f"{cpu.socket_id}\n"
                files[f"{base}/topology/book_id"] = f"{cpu.book_id}\n"
                files[f"{base}/topology/drawer_id"] = f"{cpu.drawer_id}\n"
        return files

    # -- writing -------------------------------------------------------------------

    def write(self, cpu: int, name: str, text: str) -> None:
        """Write ``text`` to ``cpu<cpu>/<name>`` (``configure`` or ``online``).

        Raises :class:`LparError` with the kernel's errno; nothing changes then.
        """
        path = f"cpu{cpu}/{name}"
        if not 0 <= cpu < len(self._cores) * self.threads:
            raise LparError(f"{path}: no such file", errno_name="ENOENT", path=path)
        value = _read_flag(text, path)
        position, thread = divmod(cpu, self.threads)
        if name == "configure":
            self._configure(position, value, path)
        elif name == "online":
            self._set_online(position, thread, value, path)
        else:
            raise LparError(f"{path}: no such file", errno_name="ENOENT", path=path)

    def write_dispatching(self, text: str) -> None:
        """Write ``dispatching``: 0 horizontal, 1 vertical (chcpu ``-p``)."""
        vertical = bool(_read_flag(text, "dispatching"))
        if vertical == self.vertical:
            return
        self.vertical = vertical
        self._known = [False] * len(self._cores)

    def update_topology(self) -> None:
        """The kernel reads STSI again: configured CPUs learn their polarization."""
        self._known = list(self._configured)

    def _configure(self, position: int, value: int, path: str) -> None:
        # The write acts on the CPU's whole core (smp_get_base_cpu).
        if any(self._online[position]):
            raise LparError(f"{path}: Device or resource busy", errno_name="EBUSY", path=path)
        if bool(value) == self._configured[position]:
            return
        self._configured[position] = bool(value)
        self._known[position] = False

    def _set_online(self, position: int, thread: int, value: int, path: str) -> None:
        if position == 0 and thread == 0:
            raise LparError(f"{path}: no such file", errno_name="ENOENT", path=path)
        if value and not self._configured[position]:
            raise LparError(f"{path}: Input/output error", errno_name="EIO", path=path)
        self._online[position][thread] = bool(value)

    # -- chcpu ---------------------------------------------------------------------

    def chcpu(self, option: str, cpus: Sequence[int]) -> list[str]:
        """util-linux ``chcpu -c|-g|-e|-d LIST``: the lines it prints, in order.

        Like chcpu, it goes CPU by CPU: configuring CPU 2 of an SMT core
        configures CPU 3 too, and then reports CPU 3 as already configured.
        """
        lines = []
        for cpu in sorted(set(cpus)):
            if not 0 <= cpu < len(self._cores) * self.threads:
                lines.append(f"chcpu: CPU {cpu} does not exist")
                continue
            state = {c.cpu: c for c in self.cpus()}[cpu]
            if option in ("-c", "-g"):
                configure = option == "-c"
                if state.configured == configure:
                    word = "configured" if configure else "deconfigured"
                    lines.append(f"CPU {cpu} is already {word}")
                    continue
                if not configure and state.online:
                    lines.append(f"chcpu: CPU {cpu} deconfigure failed (CPU is enabled)")
                    continue
                try:
                    self.write(cpu, "configure", "1" if configure else "0")
                except LparError as error:
                    verb = "configure" if configure else "deconfigure"
                    lines.append(f"chcpu: CPU {cpu} {verb} failed: {_strerror(error)}")
                    continue
                lines.append(f"CPU {cpu} {'configured' if configure else 'deconfigured'}")
            elif option in ("-e", "-d"):
                enable = option == "-e"
                if cpu == 0:
                    lines.append(f"chcpu: CPU {cpu} is not hot pluggable")
                    continue
                if state.online == enable:
                    lines.append(f"CPU {cpu} is already {'enabled' if enable else 'disabled'}")
                    continue
                try:
                    self.write(cpu, "online", "1" if enable else "0")
                except LparError as error:
                    if enable and not state.configured:
                        lines.append(
                            f"chcpu: CPU {cpu} enable failed (CPU is deconfigured): "
                            f"{_strerror(error)}"
                        )
                    else:
                        lines.append(f"chcpu: CPU {cpu} enable failed: {_strerror(error)}")
                    continue
                lines.append(f"CPU {cpu} {'enabled' if enable else 'disabled'}")
            else:
                raise ParameterError(f"unsupported chcpu option '{option}'", what="option")
        return lines


def _read_flag(text: str, path: str) -> int:
    # sscanf("%d %c") must find one integer and nothing but white space after it.
    match = re.fullmatch(r"\s*([+-]?[0-9]+)\s*", text)
    value = int(match.group(1)) if match else -1
    if value not in (0, 1):
        raise LparError(f"{path}: Invalid argument", errno_name="EINVAL", path=path)
    return value


def _strerror(error: LparError) -> str:
    return {
        "EBUSY": "Device or resource busy",
        "EIO": "Input/output error",
        "EINVAL": "Invalid argument",
    }.get(error.errno_name, error.errno_name)
