"""The ``-m`` option: the guest's RAM size, memory hot-plug slots and maximum memory.

QEMU reads ``-m`` in two passes, and this module replays both:

1. **QemuOpts** (``qemu_mem_opts`` in ``softmmu/vl.c``), at the command line::

       m     = [ size ] { ',' item }
       item  = ( 'size' | 'slots' | 'maxmem' ) '=' value    (the last one of a name counts)

   ``size`` and ``maxmem`` are C ``qemu_strtosz`` sizes in bytes here (a
   fraction needs a suffix); ``slots`` is a C ``strtoull`` number (base 0, a
   minus sign wraps round 2^64). A bad item stops QEMU with ``-m TEXT:`` before
   its message.
2. **The machine's ``memory`` property** (``machine_set_mem``), after ``-smp``:
   a ``size`` that ends in a digit gets an ``M`` appended (``-m 512`` is 512 MiB,
   ``-m 0x20`` is ``0x20M``) and is read again; 0 means the machine's default;
   the result is rounded up to 8 KiB. Then ``maxmem`` must be at least the size
   and, with ``slots``, larger; ``slots`` needs ``maxmem``. These messages have
   no prefix.

How many slots a board allows (pc 256, pseries 32, virt 256) is the board's
check, made when it builds its memory (see the architecture plugins).
"""

from __future__ import annotations

from typing import Final

import attrs

from topology._errors import ParameterError
from topology._parse.cint import parse_uint64
from topology._parse.numa import _flag_warning, _opt_items, _strtosz
from topology._versions import QemuVersion
from topology._versions import qemu_version as _version
from topology._warnings import QemuWarning

__all__ = ["MemoryConfig", "RamLayout", "parse_memory"]

_DIGITS: Final = "0123456789"
_RAM_ALIGN: Final = 8192
_UINT64_MAX: Final = 2**64 - 1
_SIZE_HINT: Final = (
    "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
    "and exabytes, respectively."
)


def _warnings_field() -> tuple[QemuWarning, ...]:
    result: tuple[QemuWarning, ...] = attrs.field(default=(), eq=False, repr=False)
    return result


@attrs.frozen(kw_only=True)
class MemoryConfig:
    """``-m``, as QEMU read it; the machine's default and the rounding apply later.

    Attributes:
        size: the ``size`` text, or None when it was left out or is 0 (the
            machine's default is used then). Kept as text because QEMU reads it
            a second time with MiB as the default unit.
        slots: memory hot-plug slots, or None when not given.
        maxmem: the maximum memory in bytes, or None when not given.
        warnings: what QEMU warned about while reading the option.

    >>> parse_memory("1G,slots=2,maxmem=4G").layout(ram_default=128 * 2**20).max_ram_size
    4294967296
    """

    size: str | None = None
    slots: int | None = None
    maxmem: int | None = None
    warnings: tuple[QemuWarning, ...] = _warnings_field()
    #: The ``maxmem`` text, which QEMU 7.2 reads (and warns about) a second time.
    maxmem_text: str | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def of_bytes(cls, size: int) -> MemoryConfig:
        """``-m SIZE`` for a size in bytes.

        >>> MemoryConfig.of_bytes(512 * 2**20).layout(ram_default=0).ram_size
        536870912
        """
        if type(size) is not int or not 0 <= size <= _UINT64_MAX:
            raise ParameterError(
                "Parameter 'size' expects a non-negative number below 2^64",
                what="size",
                value=size,
            )
        return cls(size=f"{size}B" if size else None)

    def layout(
        self,
        *,
        ram_default: int,
        qemu_version: str | QemuVersion | None = None,
    ) -> RamLayout:
        """The RAM QEMU gives a machine whose default RAM size is ``ram_default``.

        Raises :class:`ParameterError` with QEMU's message when ``maxmem`` or
        ``slots`` do not fit the size.

        >>> parse_memory("512M,maxmem=256M").layout(ram_default=128 * 2**20)
        Traceback (most recent call last):
        ...
        topology.ParameterError: invalid value of maxmem: maximum memory size (0x10000000) must be at least the initial memory size (0x20000000)
        """  # noqa: E501
        version = _version(qemu_version)
        warnings: list[QemuWarning] = []
        size = ram_default
        if self.size is not None:
            # g_ascii_isdigit: the legacy suffix-less form is read as MiB.
            text = self.size + "M" if self.size[-1:] in _DIGITS else self.size
            parsed = _strtosz(text, "B", version)
            if parsed.hex_suffix:
                warnings.append(_hex_warning(text, "size"))
            if parsed.value is None:
                raise _fail("Parameter 'memory.size' expects size", "size", text, warnings)
            size = parsed.value
        size = -(-size // _RAM_ALIGN) * _RAM_ALIGN
        if self.maxmem_text is not None and _strtosz(self.maxmem_text, "B", version).hex_suffix:
            warnings.append(_hex_warning(self.maxmem_text, "maxmem"))
        if self.maxmem is None:
            if self.slots is not None:
                raise _fail("slots specified but no max-size", "slots", self.slots, warnings)
            max_size = size
        else:
            max_size = self.maxmem
            if max_size < size:
                raise _fail(
                    f"invalid value of maxmem: maximum memory size (0x{max_size:x}) must be "
                    f"at least the initial memory size (0x{size:x})",
                    "maxmem",
                    max_size,
                    warnings,
                )
            if self.slots and max_size == size:
                raise _fail(
                    "invalid value of maxmem: memory slots were specified but maximum memory "
                    f"size (0x{max_size:x}) is equal to the initial memory size (0x{size:x})",
                    "maxmem",
                    max_size,
                    warnings,
                )
        return RamLayout(
            ram_size=size,
            max_ram_size=max_size,
            slots=self.slots or 0,
            warnings=tuple(warnings),
        )


@attrs.frozen(kw_only=True)
class RamLayout:
    """The guest memory a machine starts with (QEMU's ``ram_size``, ``maxram_size``, ``ram_slots``).

    Attributes:
        ram_size: the RAM at start, in bytes.
        max_ram_size: the most memory hot-plug may reach (``ram_size`` without ``maxmem``).
        slots: memory hot-plug slots.
        node_memory: the memory of each NUMA node, by node id (empty without NUMA).
        warnings: what QEMU warned about while sizing it (not part of equality).
    """

    ram_size: int
    max_ram_size: int
    slots: int = 0
    node_memory: tuple[int, ...] = ()
    warnings: tuple[QemuWarning, ...] = _warnings_field()


def _hex_warning(text: str, what: str, where: str | None = None) -> QemuWarning:
    message = f"Using a multiplier suffix on hex numbers is deprecated: {text}"
    return QemuWarning(message=message, what=what, where=where)


def _fail(message: str, what: str, value: object, warnings: list[QemuWarning]) -> ParameterError:
    error = ParameterError(message, what=what, value=value)
    error.warnings = tuple(warnings)
    return error


def parse_memory(text: str, *, qemu_version: str | QemuVersion | None = None) -> MemoryConfig:
    """Read an ``-m`` option string as QEMU ``qemu_version``'s command line does.

    The grammar is in this module's docstring. Errors are QEMU's, with the
    ``-m TEXT:`` prefix QEMU prints (a :class:`ParameterError`; the second line
    QEMU prints for a bad size is its ``hint``).

    >>> config = parse_memory("512,slots=2,maxmem=1G")
    >>> config.size, config.slots, config.maxmem
    ('512', 2, 1073741824)
    >>> parse_memory("1.5")
    Traceback (most recent call last):
    ...
    topology.ParameterError: -m 1.5: Parameter 'size' expects a non-negative number below 2^64
    """
    version = _version(qemu_version)
    where = f"-m {text}"
    warnings: list[QemuWarning] = []

    def fail(reason: str, what: str, value: object, hint: str | None = None) -> ParameterError:
        error = ParameterError(f"{where}: {reason}", what=what, where=where, value=value, hint=hint)
        error.warnings = tuple(warnings)
        return error

    values: dict[str, str] = {}
    for name, value, flag in _opt_items(text, "size"):
        if flag is not None and flag not in ("help", "?"):
            warning = _flag_warning(flag, name, value)
            warnings.append(attrs.evolve(warning, where=where))
        if name not in ("size", "slots", "maxmem"):
            raise fail(f"Invalid parameter '{name}'", name, value)
        if name == "slots":
            number = parse_uint64(value)
            if number is None:
                raise fail("Parameter 'slots' expects a number", name, value)
            if number < 0:
                raise fail(f"Value '{value}' is too large for parameter 'slots'", name, value)
        else:
            size = _strtosz(value, "B", version)
            if size.hex_suffix:
                warnings.append(_hex_warning(value, name, where))
            if size.error == "erange":
                raise fail(f"Value '{value}' is out of range for parameter '{name}'", name, value)
            if size.value is None:
                raise fail(
                    f"Parameter '{name}' expects a non-negative number below 2^64",
                    name,
                    value,
                    _SIZE_HINT,
                )
        values[name] = value
    size_text = values.get("size")
    size_value = _strtosz(size_text, "B", version).value if size_text is not None else None
    maxmem = values.get("maxmem")
    return MemoryConfig(
        size=size_text if size_value else None,
        slots=parse_uint64(values["slots"]) if "slots" in values else None,
        maxmem=_strtosz(maxmem, "B", version).value if maxmem is not None else None,
        warnings=tuple(warnings),
        maxmem_text=maxmem,
    )
