"""What QEMU prints without refusing: one warning line, as a value, and the
collector that keeps QEMU's print order while a VM starts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from topology._errors import TopologyError

__all__ = ["QemuWarning", "WarningCollector"]


@attrs.frozen(kw_only=True)
class QemuWarning:
    """A warning QEMU prints without refusing to start.

    Attributes:
        message: QEMU's text, without the ``qemu-system-<arch>: warning: `` prefix.
        what: what the warning is about (an option member, a level), if anything.
        hint: a second line QEMU prints after the warning, without a prefix.
        where: the option QEMU names before ``warning:`` (``-numa node,mem=1G``),
            or None when it names none.
        severity: ``"warning"``, or ``"error"`` for the rare error QEMU prints
            and then ignores (the line has no ``warning:``).

    >>> str(QemuWarning(message="deprecated", where="-m 1G"))
    '-m 1G: warning: deprecated'
    """

    message: str
    what: str | None = None
    hint: str | None = None
    where: str | None = None
    severity: Literal["warning", "error"] = "warning"

    def __str__(self) -> str:
        text = self.message if self.severity == "error" else f"warning: {self.message}"
        return text if self.where is None else f"{self.where}: {text}"


class WarningCollector:
    """QEMU's warnings while it starts a VM, in the order it prints them.

    An error raised inside :meth:`guard` leaves carrying every warning QEMU
    printed before it, then its own:

    >>> from topology import ParameterError
    >>> collector = WarningCollector()
    >>> collector.extend([QemuWarning(message="first")])
    >>> try:
    ...     with collector.guard():
    ...         raise ParameterError("refused")
    ... except ParameterError as error:
    ...     [w.message for w in error.warnings]
    ['first']
    """

    def __init__(self, warnings: Iterable[QemuWarning] = ()) -> None:
        self._warnings: list[QemuWarning] = list(warnings)

    @property
    def warnings(self) -> tuple[QemuWarning, ...]:
        """Every warning gathered so far, in print order."""
        return tuple(self._warnings)

    def extend(self, warnings: Iterable[QemuWarning]) -> None:
        """Add what QEMU printed next."""
        self._warnings.extend(warnings)

    def before(self, error: TopologyError) -> tuple[QemuWarning, ...]:
        """The warnings QEMU prints before ``error``.

        All of them, except for an error marked ``precedes_machine_warning``:
        QEMU refuses a bad ``-machine`` property before it warns that the
        machine type is deprecated.
        """
        if getattr(error, "precedes_machine_warning", False):
            return tuple(w for w in self._warnings if w.what != "machine")
        return tuple(self._warnings)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Give a :class:`~topology.TopologyError` raised inside the warnings before it."""
        from topology._errors import TopologyError

        try:
            yield
        except TopologyError as error:
            error.warnings = (*self.before(error), *error.warnings)
            raise
