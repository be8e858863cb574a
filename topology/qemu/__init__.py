"""A stand-in for QEMU's CPU topology: give it a QEMU command line, talk QMP to it.

:class:`QemuSimulator` answers as the QEMU release it is told to be: the
refusals and warnings QEMU prints when it starts, and the QMP replies and
events for the commands a management tool sends about CPUs; :func:`validate`
gives a verdict on a command line and a plan of QMP commands. See
``docs/how-to/testing-without-qemu.md``. :mod:`topology.qemu.live` does the same
against a running QEMU.

>>> from topology.qemu import QemuSimulator, QemuStartError
>>> try:
...     QemuSimulator(["qemu-system-x86_64", "-smp", "4,sockets=3"], version="7.2")
... except QemuStartError as refused:
...     print(refused.exit_code, refused.stderr, end="")
1 qemu-system-x86_64: Invalid CPU topology: product of the hierarchy must match maxcpus: \
sockets (3) * dies (1) * cores (1) * threads (1) != maxcpus (4)
"""

from __future__ import annotations

from topology._parse.command_line import UnsupportedOptionError
from topology.qemu._simulator import (
    NOT_MODELLED,
    QemuCrashError,
    QemuNotRunningError,
    QemuSimulator,
    QemuStartError,
)
from topology.qemu._validate import Finding, PlanStep, ValidationReport, read_plan, validate

__all__ = [
    "NOT_MODELLED",
    "Finding",
    "PlanStep",
    "QemuCrashError",
    "QemuNotRunningError",
    "QemuSimulator",
    "QemuStartError",
    "UnsupportedOptionError",
    "ValidationReport",
    "read_plan",
    "validate",
]

for _name in __all__:
    if _name != "NOT_MODELLED":
        globals()[_name].__module__ = __name__
del _name
