"""The VM a whole QEMU command line starts (:func:`build_vm`)."""

from __future__ import annotations

from collections.abc import Sequence

from topology._errors import ParameterError
from topology._model.start import start_vm
from topology._model.vm import VirtualMachine
from topology._parse.command_line import read_command_line
from topology._parse.first_pass import plan_start
from topology._registry import get_arch
from topology._versions import QemuVersion, qemu_version

__all__ = ["build_vm"]


def build_vm(
    argv: Sequence[str], *, version: str | QemuVersion, arch: str | None = None
) -> VirtualMachine:
    """The VM QEMU ``version`` starts from ``argv``, its ``-device`` CPUs plugged in order.

    ``argv`` may leave out the ``qemu-system-<target>`` binary when ``arch``
    names the target. QEMU's refusal raises its :class:`topology.TopologyError`
    with QEMU's message; an option cputopo does not model raises
    :class:`topology.qemu.UnsupportedOptionError`.

    >>> vm = build_vm(["-M", "pc-q35-7.2", "-smp", "2,maxcpus=4"], version="7.2", arch="x86_64")
    >>> vm.present_cpu_indexes()
    [0, 1]
    """
    args = list(argv)
    if not args or args[0].startswith("-"):
        if arch is None:
            raise ParameterError("no qemu-system-<target> and no architecture given", what="arch")
        args.insert(0, f"qemu-system-{get_arch(arch).targets[0]}")
    # A micro release ("7.2.22") answers as its release.
    release = qemu_version(".".join(str(version).split(".")[:2]))
    line = read_command_line(args)
    return start_vm(line, plan_start(line, release), release)
