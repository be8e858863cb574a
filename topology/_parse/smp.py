"""The ``-smp`` option as the user gave it, before QEMU fills anything in."""

from __future__ import annotations

import functools
import typing
from typing import Final, Literal

import attrs

from topology._errors import HelpRequested, ParameterError
from topology._parse.cint import INT64_MAX, INT64_MIN, parse_int64
from topology._parse.glib_hash import reported_unknown_member
from topology._parse.keyval import parse_keyval
from topology._versions import QemuVersion
from topology._versions import qemu_version as _version

__all__ = ["SMP_MEMBERS", "SmpConfig", "parse_smp", "smp_members"]

SmpMember = Literal[
    "cpus",
    "drawers",
    "books",
    "sockets",
    "dies",
    "clusters",
    "modules",
    "cores",
    "threads",
    "maxcpus",
]

#: Every ``-smp`` member, in QEMU's schema order (the order QEMU checks them in).
SMP_MEMBERS: Final[tuple[SmpMember, ...]] = typing.get_args(SmpMember)

# The QEMU release that first accepted each member (cpus, sockets, dies, cores,
# threads and maxcpus predate every supported release).
_MEMBER_SINCE: Final[dict[str, str]] = {"drawers": "8.2", "books": "8.2", "modules": "9.1"}


@functools.cache
def smp_members(version: QemuVersion) -> tuple[SmpMember, ...]:
    """The ``-smp`` members that QEMU ``version`` knows, in schema order.

    >>> smp_members(_version("7.2"))
    ('cpus', 'sockets', 'dies', 'clusters', 'cores', 'threads', 'maxcpus')
    """
    return tuple(m for m in SMP_MEMBERS if version.at_least(_MEMBER_SINCE.get(m, "0.0")))


def _check_int64(
    _instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (type(value) is not int or not INT64_MIN <= value <= INT64_MAX):
        raise ParameterError(
            f"Parameter 'smp.{attribute.name}' expects integer",
            what=attribute.name,
            where="smp",
            value=value,
        )


def _member() -> int | None:
    result: int | None = attrs.field(default=None, validator=_check_int64)
    return result


@attrs.frozen(kw_only=True)
class SmpConfig:
    """The members of ``-smp`` that were given, as QEMU read them (64-bit ints).

    ``None`` means the member was not given; a member given as ``0`` stays ``0``
    (QEMU treats it differently by version). Values are kept as QEMU's parser
    returns them, before any 32-bit truncation.

    >>> config = SmpConfig.parse("8,sockets=0x2")
    >>> config.cpus, config.sockets, config.cores
    (8, 2, None)
    >>> config.given()
    {'cpus': 8, 'sockets': 2}
    """

    cpus: int | None = _member()
    drawers: int | None = _member()
    books: int | None = _member()
    sockets: int | None = _member()
    dies: int | None = _member()
    clusters: int | None = _member()
    modules: int | None = _member()
    cores: int | None = _member()
    threads: int | None = _member()
    maxcpus: int | None = _member()

    @classmethod
    def parse(cls, text: str, *, qemu_version: str | QemuVersion | None = None) -> SmpConfig:
        """Read a ``-smp`` option string as QEMU ``qemu_version`` does (see :func:`parse_smp`)."""
        return parse_smp(text, qemu_version=qemu_version)

    def given(self) -> dict[str, int]:
        """The members that were given, in schema order."""
        return {m: v for m in SMP_MEMBERS if (v := getattr(self, m)) is not None}

    def __str__(self) -> str:
        return ",".join(f"{member}={value}" for member, value in self.given().items())


def _help_text(version: QemuVersion) -> str:
    lines = ["smp-opts options:"]
    lines += [f"  {member}=<num>" for member in sorted(smp_members(version))]
    return "\n".join(lines)


def parse_smp(text: str, *, qemu_version: str | QemuVersion | None = None) -> SmpConfig:
    """Read a ``-smp`` option string exactly as QEMU ``qemu_version`` does.

    Grammar: QEMU's keyval syntax (see ``topology._parse.keyval``) with ``cpus`` as
    the implied first key; each value is a C integer (``strtoll`` base 0: ``0x10``,
    ``010`` octal, leading blanks and a sign allowed). Members are checked in
    schema order, so the first bad value in that order is the one reported, and
    only then are unknown members reported.

    Raises:
        OptionSyntaxError: the string is not ``key=value,...``
            (``-smp ,4: Invalid parameter ''``).
        ParameterError: a value is not an integer (``Parameter 'smp.cpus' expects
            integer``) or a member is unknown to that QEMU version
            (``Parameter 'smp.books' is unexpected``).
        HelpRequested: the string asks for help; the message is QEMU's help text.

    >>> parse_smp("4,books=2", qemu_version="7.2")
    Traceback (most recent call last):
    ...
    topology.ParameterError: Parameter 'smp.books' is unexpected
    """
    version = _version(qemu_version)
    tree, wants_help = parse_keyval(text, option="-smp", implied_key="cpus")
    if wants_help:
        raise HelpRequested(_help_text(version), what="smp", where=f"-smp {text}")
    known = smp_members(version)
    values: dict[str, int] = {}
    for member in known:
        raw = tree.get(member)
        if raw is None:
            continue
        number = parse_int64(raw) if isinstance(raw, str) else None
        if number is None:
            # A dotted key turns the member into a dictionary of parameters
            # that QEMU finds unexpected where it wants a number.
            message = (
                f"Parameter 'smp.{member}' expects integer"
                if isinstance(raw, str)
                else f"Parameters 'smp.{member}.*' are unexpected"
            )
            raise ParameterError(message, what=member, where="smp", value=raw)
        values[member] = number
    if any(key not in known for key in tree):
        reported = reported_unknown_member(list(tree), [m for m in known if m in tree])
        assert reported is not None
        raise ParameterError(
            f"Parameter 'smp.{reported}' is unexpected",
            what=reported,
            where="smp",
            value=tree[reported],
        )
    return SmpConfig(**values)
