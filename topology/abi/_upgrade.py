"""Upgrade checks: the same guest restarted under another QEMU release or machine type."""

from __future__ import annotations

from topology._errors import TopologyError
from topology._model.vm import VirtualMachine
from topology._versions import QemuVersion
from topology._versions import qemu_version as _version
from topology.abi._compare import AbiChange, Severity, compare
from topology.abi._model_file import replay, save_model

__all__ = ["upgrade"]


def upgrade(
    source: VirtualMachine,
    *,
    qemu_version: str | QemuVersion,
    machine_type: str | None = None,
) -> list[AbiChange]:
    """What changes for ``source`` when it is started with QEMU ``qemu_version``
    and ``machine_type`` (default: its own) from the same options.

    The same ``-smp`` text (re-read under the new rules), ``-cpu`` and board
    options, ``-m`` and NUMA layout; the hot-plugged CPUs are added again with
    the props they had, and the boot CPUs the source lost are removed again.
    A machine that does not start, or a CPU that cannot be added again, is a
    change that breaks the guest.

    >>> import topology
    >>> m = topology.machine("x86_64", "pc-q35-6.1", qemu_version="7.2")
    >>> vm = topology.VirtualMachine.start(m, "8")
    >>> [str(c) for c in upgrade(vm, qemu_version="7.2", machine_type="pc-q35-6.2")][2][:44]
    'breaks-running topology [sockets]: 8 -> 1: a'
    >>> p = topology.VirtualMachine.start(
    ...     topology.machine("ppc64", "pseries-7.2", qemu_version="7.2"), "2")
    >>> [(c.what, c.old, c.new) for c in upgrade(p, qemu_version="10.0")][1:3]
    [('cpu-model', 'power9_v2.0', 'power9_v2.2'), ('cpu-type', 'power9_v2.0-spapr-cpu-core', 'power9_v2.2-spapr-cpu-core')]
    """  # noqa: E501
    version = _version(qemu_version)
    name = machine_type or source.machine.name
    document = save_model(source)
    try:
        destination, failures = replay(
            document, strict=False, qemu_version=str(version), machine_type=name
        )
    except TopologyError as refusal:
        return [
            AbiChange(
                what="restart",
                where=name,
                old=str(source.machine.qemu_version),
                new=str(version),
                severity=Severity.BREAKS_RUNNING,
                why=f"QEMU {version} refuses to start the guest: {refusal}",
            )
        ]
    changes = compare(source, destination)
    for index, error in failures:
        changes.append(
            AbiChange(
                what="replug",
                where=f"slot {index}",
                old=True,
                new=None,
                severity=Severity.BREAKS_RUNNING,
                why=f"the CPU cannot be recreated with the same props: {error}",
            )
        )
    return changes
