"""QEMU release numbers, as they name versioned machine types (``pc-q35-7.2``)."""

from __future__ import annotations

from typing import Final

from topology._versions import QemuVersion

__all__ = [
    "AGE_DEPRECATION_REASON",
    "RELEASES",
    "deleted_by_age",
    "deprecated_by_age",
    "release_key",
    "releases_between",
]

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
    "11.0",
    "11.1",
)


def _key(release: str) -> tuple[int, int]:
    # "4.0.1" and "2.12-sxxm" sort with their release.
    major, minor = release.split("-")[0].split(".")[:2]
    return int(major), int(minor)


def releases_between(first: str, last: QemuVersion) -> list[str]:
    """Releases from ``first`` up to ``last`` included, newest first, less those
    that QEMU ``last`` deletes for their age.

    >>> releases_between("8.1", QemuVersion(9, 0))
    ['9.0', '8.2', '8.1']
    >>> releases_between("2.4", QemuVersion(10, 2))[-1]
    '5.0'
    """
    newest = (last.major, last.minor)
    chosen = [
        r for r in RELEASES if _key(first) <= _key(r) <= newest and not deleted_by_age(r, last)
    ]
    return chosen[::-1]


def release_key(release: str) -> tuple[int, int]:
    """(major, minor) of a machine-type release such as ``"4.0.1"`` or ``"2.12"``."""
    return _key(release)


#: QEMU's reason for machine types deprecated by age (9.1 and later).
AGE_DEPRECATION_REASON: Final = (
    "machines more than 3 years old are subject to deletion after 6 years"
)


def _expired(release: str, version: QemuVersion, years: int) -> bool:
    major, minor = _key(release)
    age = version.major - major
    return age > years or (age == years and minor <= version.minor)


def deprecated_by_age(release: str, version: QemuVersion) -> bool:
    """Whether QEMU ``version`` marks a versioned machine type deprecated for its age.

    From 9.1, a type is deprecated once it is three years (major releases) old.

    >>> deprecated_by_age("6.1", QemuVersion(9, 1)), deprecated_by_age("6.2", QemuVersion(9, 1))
    (True, False)
    """
    return version.at_least("9.1") and _expired(release, version, 3)


def deleted_by_age(release: str, version: QemuVersion) -> bool:
    """Whether QEMU ``version`` no longer registers a versioned machine type for its age.

    From 10.1, types six years old are gone (9.1-10.0 only did so on request).

    >>> deleted_by_age("4.1", QemuVersion(10, 1)), deleted_by_age("4.2", QemuVersion(10, 1))
    (True, False)
    """
    return version.at_least("10.1") and _expired(release, version, 6)
