"""QEMU release versions that cputopo models."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Final, TypeVar

import attrs

from topology._errors import UnsupportedVersionError

_T = TypeVar("_T")

__all__ = [
    "NEWEST_QEMU",
    "SUPPORTED_QEMU_VERSIONS",
    "QemuVersion",
    "as_observed_in",
    "qemu_version",
]


@functools.total_ordering
@attrs.frozen
class QemuVersion:
    """A QEMU release, compared by (major, minor).

    >>> qemu_version("7.2.22") < qemu_version("10.0")
    True
    >>> str(qemu_version("9.1"))
    '9.1'
    """

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, QemuVersion):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def at_least(self, text: str) -> bool:
        """Whether this release is ``text`` (``"9.1"``) or newer."""
        return (self.major, self.minor) >= _release_tuple(text)


@functools.cache
def _release_tuple(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


SUPPORTED_QEMU_VERSIONS: Final = tuple(
    QemuVersion(major, minor)
    for major, minor in (
        (7, 2),
        (8, 0),
        (8, 1),
        (8, 2),
        (9, 0),
        (9, 1),
        (9, 2),
        (10, 0),
        (10, 1),
        (10, 2),
        (11, 0),
        (11, 1),
    )
)
NEWEST_QEMU: Final = SUPPORTED_QEMU_VERSIONS[-1]
_SUPPORTED_SET: Final = frozenset(SUPPORTED_QEMU_VERSIONS)

_VERSION_RE: Final = re.compile(r"(\d{1,3})\.(\d{1,3})(?:\.\d{1,5})?")


def qemu_version(version: str | QemuVersion | None = None) -> QemuVersion:
    """The supported QEMU release named by ``version`` (``"10.0"``, ``"7.2.22"``).

    ``None`` means the newest supported release. A micro version is accepted
    and ignored: stable releases keep the CPU topology rules of their series.

    >>> qemu_version()
    QemuVersion(major=11, minor=1)
    >>> qemu_version("6.2")
    Traceback (most recent call last):
    ...
    topology.UnsupportedVersionError: QEMU 6.2 is not supported; supported: 7.2, ...
    """
    if version is None:
        return NEWEST_QEMU
    if isinstance(version, QemuVersion):
        if version in _SUPPORTED_SET:
            return version
        found = version
    else:
        match = _VERSION_RE.fullmatch(str(version).strip())
        if match is None:
            raise UnsupportedVersionError(
                f"'{version}' is not a QEMU version (expected MAJOR.MINOR, e.g. 10.0)",
                what="qemu_version",
                value=version,
            )
        found = QemuVersion(int(match[1]), int(match[2]))
    if found not in SUPPORTED_QEMU_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_QEMU_VERSIONS)
        raise UnsupportedVersionError(
            f"QEMU {found} is not supported; supported: {supported}",
            what="qemu_version",
            value=str(version),
        )
    return found


def as_observed_in(observed: Mapping[str, _T], version: QemuVersion) -> _T:
    """What ``observed`` (release text to value) holds for the newest release not
    newer than ``version``: for a value seen on the releases that run here and
    taken to hold until the next one that was seen (a build's source line numbers).

    >>> table = {"7.2": "a", "10.0": "b"}
    >>> as_observed_in(table, qemu_version("9.2")), as_observed_in(table, qemu_version("11.1"))
    ('a', 'b')
    """
    found = [text for text in observed if version.at_least(text)]
    if not found:
        raise ValueError(f"nothing observed for QEMU {version} or older")
    return observed[max(found, key=_release_tuple)]
