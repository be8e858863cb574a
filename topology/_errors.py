"""The exception tree of cputopo.

Every error the library raises on bad input derives from :class:`TopologyError`.
Subclasses also derive from the built-in exception they mean, so callers that
only know Python's own exceptions still catch them::

    TopologyError (Exception)
    ├── OptionSyntaxError (ValueError)       option string is not key=value,...
    ├── ParameterError (ValueError)          a member has a bad value or is unknown
    ├── InvalidTopologyError (ValueError)    the counts do not form a topology
    │   └── CpuCountError                    outside the machine's min/max CPUs
    ├── BoardError (ValueError)              the board refuses the topology or a plug
    ├── NumaError (ValueError)               the machine refuses the -numa configuration
    ├── DeviceTypeError (ValueError)         device_add names no creatable device type
    ├── HelpRequested                        the option asked QEMU for its help text
    ├── UnknownMachineError (LookupError)    no such machine type in that QEMU
    ├── UnknownArchError (LookupError)       no plugin for that architecture
    ├── UnsupportedVersionError (ValueError) a QEMU version cputopo does not model
    ├── ModelFileError (ValueError)          a saved VM model file cannot be read back
    └── PluginError (ImportError)            an architecture plugin failed to load

``str(error)`` is the text QEMU prints for the same input (without the
``qemu-system-<arch>: `` prefix); the structured fields say what was wrong and
where, so tools need not parse the text.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BoardError",
    "CpuCountError",
    "DeviceTypeError",
    "HelpRequested",
    "InvalidTopologyError",
    "ModelFileError",
    "NumaError",
    "OptionSyntaxError",
    "ParameterError",
    "PluginError",
    "TopologyError",
    "UnknownArchError",
    "UnknownMachineError",
    "UnsupportedVersionError",
]


class TopologyError(Exception):
    """Root of every error cputopo raises for bad input.

    Attributes:
        message: QEMU's text for the error, or cputopo's own where QEMU has none.
        what: the name of the offending item (an option member such as
            ``"sockets"``, a machine type, a version), or ``None``.
        where: the context the item belongs to (``"-smp 4,x=1"``, a machine name),
            or ``None``.
        value: the offending value, when there is one.
        hint: a second line QEMU prints after some errors
            (``Use -machine help to list supported machines``), or ``None``.
        warnings: what QEMU warned about before it refused (a tuple of
            :class:`QemuWarning`), in the order QEMU prints them.
        crash_signal: None when QEMU reports the error; otherwise QEMU does not
            report it but dies with this signal (6: an assertion or abort, 8: a
            division by zero), and ``message`` says so (or is the last line QEMU
            prints before it dies).

    >>> err = TopologyError("Invalid SMP CPUs 0", what="cpus", value=0)
    >>> str(err), err.what, err.value
    ('Invalid SMP CPUs 0', 'cpus', 0)
    """

    #: The QMP error class QEMU answers with when a monitor command fails this way.
    qmp_class: ClassVar[str] = "GenericError"

    def __init__(
        self,
        message: str,
        *,
        what: str | None = None,
        where: str | None = None,
        value: object = None,
        hint: str | None = None,
        crash_signal: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.what = what
        self.where = where
        self.value = value
        self.hint = hint
        self.crash_signal = crash_signal
        self.warnings: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, what={self.what!r}, where={self.where!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields are not restored by Exception's default pickling.
        return (_rebuild, (type(self), self.message, self.__getstate__()))

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "message"}


def _rebuild(cls: type[TopologyError], message: str, state: dict[str, object]) -> TopologyError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message = message
    error.__dict__.update(state)
    return error


class OptionSyntaxError(TopologyError, ValueError):
    """An option string does not follow QEMU's ``key=value,...`` syntax.

    QEMU reports these with the option as a prefix (``-smp ,4: Invalid parameter ''``),
    and so does ``str()``; :attr:`reason` holds the text without the prefix.
    """

    def __init__(self, reason: str, *, option: str, text: str, what: str | None = None) -> None:
        where = f"{option} {text}"
        super().__init__(f"{where}: {reason}", what=what, where=where, value=text)
        self.reason = reason


class ParameterError(TopologyError, ValueError):
    """A member of an option has a value of the wrong type, or is not known."""


class InvalidTopologyError(TopologyError, ValueError):
    """The counts given (and those QEMU fills in) do not form a valid topology."""


class CpuCountError(InvalidTopologyError):
    """The number of CPUs is below the machine's minimum or above its maximum."""


class BoardError(TopologyError, ValueError):
    """The machine (board) refuses a topology that the generic rules accept."""


class NumaError(TopologyError, ValueError):
    """The machine refuses a ``-numa`` configuration (QEMU's checks after the parse).

    Most of these name the option, as QEMU does
    (``-numa node,nodeid=200: Max number of NUMA nodes reached: 200``), and
    ``str()`` then starts with it; :attr:`reason` holds the text without that
    prefix. Checks that run once every option was read (``numa: Node ID
    missing: 2``, the total memory) have no prefix.
    """

    def __init__(
        self,
        reason: str,
        *,
        option: str | None = None,
        what: str | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        message = reason if option is None else f"{option}: {reason}"
        super().__init__(message, what=what, where=option, value=value, hint=hint)
        self.reason = reason


class DeviceTypeError(TopologyError, ValueError):
    """``device_add`` names a driver QEMU cannot create (refused before any device exists)."""


class HelpRequested(TopologyError):
    """The option asked for QEMU's help text (``help`` or ``?``) instead of a value.

    QEMU prints the text and exits with status 0; :attr:`message` holds that text.
    """


class UnknownMachineError(TopologyError, LookupError):
    """The machine type does not exist in that QEMU version."""


class UnknownArchError(TopologyError, LookupError):
    """No architecture plugin has that name."""


class UnsupportedVersionError(TopologyError, ValueError):
    """The QEMU version is not one that cputopo models."""


class ModelFileError(TopologyError, ValueError):
    """A saved VM model (``topology.abi.load_model``) is malformed or cannot be replayed."""


class PluginError(TopologyError, ImportError):
    """An architecture plugin could not be loaded or does not fit the interface."""
