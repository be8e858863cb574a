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
    ├── PluginError (ImportError)            an architecture plugin failed to load
    └── QemuAbortError (RuntimeError)        QEMU would fail an assertion and abort
        └── TcgContextsExhaustedError        TCG has no context left for a new vCPU

``str(error)`` is the text QEMU prints for the same input (without the
``qemu-system-<arch>: `` prefix); the structured fields say what was wrong and
where, so tools need not parse the text.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

__all__ = [
    "BoardError",
    "CpuCountError",
    "DeviceTypeError",
    "GlibAssertion",
    "HelpRequested",
    "InvalidTopologyError",
    "ModelFileError",
    "NumaError",
    "OptionSyntaxError",
    "ParameterError",
    "PluginError",
    "QemuAbortError",
    "TcgContextsExhaustedError",
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


@attrs.frozen
class GlibAssertion:
    """A failed ``g_assert`` in QEMU, as GLib reports it before QEMU aborts.

    ``location`` is ``<file>:<line>`` as the build names the source file
    (Debian's 7.2 prints ``../../tcg/tcg.c:482``, 10.0 ``tcg/tcg.c:1006``).

    >>> failed = GlibAssertion("tcg/tcg.c:1006", "tcg_register_thread", "n < tcg_max_ctxs")
    >>> failed.stderr_lines
    ('**', 'ERROR:tcg/tcg.c:1006:tcg_register_thread: assertion failed: (n < tcg_max_ctxs)')
    >>> failed.stdout_lines
    ('Bail out! ERROR:tcg/tcg.c:1006:tcg_register_thread: assertion failed: (n < tcg_max_ctxs)',)
    """

    location: str
    function: str
    condition: str

    @property
    def text(self) -> str:
        """The assertion without its location: ``<function>: assertion failed: (<condition>)``."""
        return f"{self.function}: assertion failed: ({self.condition})"

    @property
    def stderr_lines(self) -> tuple[str, ...]:
        """What GLib prints on stderr."""
        return ("**", f"ERROR:{self.location}:{self.text}")

    @property
    def stdout_lines(self) -> tuple[str, ...]:
        """What GLib prints on stdout (QEMU's QMP stream with ``-qmp stdio``), each
        line ending in a bare line feed (observed on 7.2, 10.0 and 11.1)."""
        return (f"Bail out! ERROR:{self.location}:{self.text}",)


class QemuAbortError(TopologyError, RuntimeError):
    """QEMU does not refuse this: one of its internal assertions fails and it aborts.

    QEMU reports the failed assertion (:attr:`assertion`) and dies with SIGABRT
    (:attr:`crash_signal` 6, exit status -6), answering nothing more. ``str()``
    is the assertion as QEMU prints it, without the source location
    (``tcg_register_thread: assertion failed: (n < tcg_max_ctxs)``).

    Attributes:
        assertion: the failed assertion (:class:`GlibAssertion`).
        reason: why QEMU gets there, in cputopo's words.
        stderr_lines: what QEMU prints on stderr as it dies.
        stdout_lines: what it prints on stdout as it dies.
    """

    def __init__(
        self,
        assertion: GlibAssertion,
        *,
        reason: str,
        what: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(assertion.text, what=what, value=value, crash_signal=6)
        self.assertion = assertion
        self.reason = reason
        self.stderr_lines = assertion.stderr_lines
        self.stdout_lines = assertion.stdout_lines


class TcgContextsExhaustedError(QemuAbortError):
    """Under TCG, QEMU aborts creating a vCPU when the VM already created ``max_cpus``.

    TCG gives every vCPU thread it ever starts one of ``max_cpus`` contexts
    and never takes one back when a vCPU is unplugged, so the VM's life may
    create at most ``max_cpus`` vCPUs: plugging a CPU (a pseries core) into a
    slot emptied earlier by an unplug gets there. QEMU then answers nothing
    (not the ``device_add`` either) and dies with SIGABRT (observed on QEMU
    7.2, 10.0 and 11.1, with multi-threaded and single-threaded TCG alike).

    Attributes:
        vcpus_created: the vCPUs the VM created before this plug.
        vcpus_requested: the vCPUs this plug would create.
        max_cpus: the number of TCG contexts (``-smp`` maxcpus).
    """

    def __init__(
        self,
        *,
        location: str,
        vcpus_created: int,
        vcpus_requested: int,
        max_cpus: int,
        value: object = None,
    ) -> None:
        super().__init__(
            GlibAssertion(location, "tcg_register_thread", "n < tcg_max_ctxs"),
            reason=(
                f"QEMU under TCG aborts: the VM created {vcpus_created} vCPUs already, this "
                f"plug needs {vcpus_requested} more, and TCG never reuses any of the "
                f"{max_cpus} contexts it has (one per possible vCPU)"
            ),
            what="driver",
            value=value,
        )
        self.vcpus_created = vcpus_created
        self.vcpus_requested = vcpus_requested
        self.max_cpus = max_cpus
