"""QEMU release numbers, as they name versioned machine types (``pc-q35-7.2``)."""

from __future__ import annotations

from typing import Final

from ._versions import QemuVersion

__all__ = ["RELEASES", "release_key", "releases_between"]

#: Every QEMU release from 1.4 to the newest supported, oldest first.
RELEASES: Final[tuple[str, ...]] = (
    *(f"1.{minor}" for minor in range(4, 8)),
    *(f"2.{minor}" for minor in range(13)),
    "3.0",
    "3.1",
    "4.0",
    "4.1",
    "4.2",
    "5.0",
    "5.1",
    "5.2",
    "6.0",
    "6.1",
    "6.2",
    "7.0",
    "7.1",
    "7.2",
    "8.0",
    "8.1",
    "8.2",
    "9.0",
    "9.1",
    "9.2",
    "10.0",
    "10.1",
    "10.2",
)


def _key(release: str) -> tuple[int, int]:
    major, minor = release.split(".")[:2]
    return int(major), int(minor)


def releases_between(first: str, last: QemuVersion) -> list[str]:
    """Releases from ``first`` up to ``last`` included, newest first.

    >>> releases_between("8.1", QemuVersion(9, 0))
    ['9.0', '8.2', '8.1']
    """
    newest = (last.major, last.minor)
    chosen = [r for r in RELEASES if _key(first) <= _key(r) <= newest]
    return chosen[::-1]


def release_key(release: str) -> tuple[int, int]:
    """(major, minor) of a machine-type release such as ``"4.0.1"`` or ``"2.12"``."""
    return _key(release)
