"""Per-plugin state of a VM, under typed keys (pytest's ``Stash`` in spirit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar, overload

import attrs

__all__ = ["Stash", "StashKey"]

T = TypeVar("T")


@attrs.frozen
class StashKey(Generic[T]):
    """A typed key for per-plugin VM state (like pytest's ``StashKey[T]``).

    >>> ACPI_LEGACY = StashKey[bool]("x86.acpi-legacy")
    >>> stash = Stash()
    >>> stash[ACPI_LEGACY] = True
    >>> stash.get(ACPI_LEGACY, False)
    True
    """

    name: str


class Stash:
    """Per-plugin state of one VM, read and written by :class:`StashKey`.

    Values must be immutable: the model copies the stash shallowly to undo a
    refused operation and to copy a VM.
    """

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[StashKey[Any], object] = {}

    def __getitem__(self, key: StashKey[T]) -> T:
        return self._values[key]  # type: ignore[return-value]

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._values[key] = value

    def __delitem__(self, key: StashKey[Any]) -> None:
        del self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[StashKey[Any]]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stash) and self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    @overload
    def get(self, key: StashKey[T]) -> T | None: ...
    @overload
    def get(self, key: StashKey[T], default: T) -> T: ...
    def get(self, key: StashKey[T], default: T | None = None) -> T | None:
        """The value under ``key``, or ``default``."""
        return self._values.get(key, default)  # type: ignore[return-value]

    def copy(self) -> Stash:
        """A shallow copy (the values are immutable)."""
        copied = Stash()
        copied._values = dict(self._values)
        return copied

    def __repr__(self) -> str:
        inner = ", ".join(f"{key.name!r}: {value!r}" for key, value in self._values.items())
        return f"Stash({{{inner}}})"
