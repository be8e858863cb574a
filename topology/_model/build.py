"""The VM a QEMU command line starts, through the QEMU stand-in (:mod:`topology.qemu`)."""

from __future__ import annotations

from collections.abc import Sequence

from topology._errors import ParameterError
from topology._model.vm import VirtualMachine
from topology._versions import QemuVersion

__all__ = ["build_vm"]


def build_vm(
    argv: Sequence[str], *, version: str | QemuVersion, arch: str | None = None
) -> VirtualMachine:
    """The VM QEMU ``version`` starts from ``argv``, its ``-device`` CPUs plugged in order.

    ``argv`` may leave out the ``qemu-system-<target>`` binary when ``arch``
    names the target. QEMU's refusal raises :class:`topology.qemu.QemuStartError`
    (a :class:`topology.TopologyError`) with QEMU's message.

    >>> vm = build_vm(["-M", "pc-q35-7.2", "-smp", "2,maxcpus=4"], version="7.2", arch="x86_64")
    >>> vm.present_cpu_indexes()
    [0, 1]
    """
    from topology.qemu import QemuSimulator  # the stand-in imports this package

    args = list(argv)
    if not args or args[0].startswith("-"):
        if arch is None:
            raise ParameterError("no qemu-system-<target> and no architecture given", what="arch")
        from topology._registry import get_arch

        args.insert(0, f"qemu-system-{get_arch(arch).targets[0]}")
    return QemuSimulator(args, version=str(version)).vm
