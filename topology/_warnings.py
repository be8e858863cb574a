"""What QEMU prints without refusing: one warning line, as a value."""

from __future__ import annotations

from typing import Literal

import attrs

__all__ = ["QemuWarning"]


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
