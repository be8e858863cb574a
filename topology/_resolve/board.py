"""The machine as a plugin's board hooks see it while QEMU builds it."""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from topology._model.numa import NumaConfig
    from topology._parse.memory import RamLayout
    from topology._resolve.machine import MachineType
    from topology._resolve.topology import CpuTopology
    from topology._versions import QemuVersion

__all__ = ["BoardContext"]


def _frozen_options(options: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(options))


@attrs.frozen(kw_only=True)
class BoardContext:
    """The machine as QEMU's board code sees it while building it.

    Attributes:
        machine_type: the machine type being built.
        version: the QEMU release whose rules apply.
        options: the ``-machine`` properties, ``-cpu`` (``cpu``) and the
            accelerator (``accel``), by QEMU's property names (dashes).
        topology: the resolved ``-smp`` topology, or None before ``-smp`` is
            read (``check_machine_options``).
        memory: the guest's RAM with each NUMA node's share when ``-m`` or
            ``-numa`` was given; None stands for the machine's default RAM.
        numa: the guest NUMA layout once ``-numa`` was read (for the board's
            firmware tables), or None without NUMA nodes or before.

    >>> import topology
    >>> board = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2").board()
    >>> board.accelerator, board.machine_type.name
    ('tcg', 'pc-q35-7.2')
    """

    machine_type: MachineType
    version: QemuVersion
    options: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_options)
    topology: CpuTopology | None = None
    memory: RamLayout | None = None
    numa: NumaConfig | None = None

    @property
    def accelerator(self) -> str:
        """The accelerator QEMU runs with (``tcg`` unless ``accel`` says otherwise)."""
        return self.options.get("accel", "tcg")

    @property
    def cpu_topology(self) -> CpuTopology:
        """:attr:`topology`, for hooks that QEMU only runs once ``-smp`` is resolved."""
        if self.topology is None:
            raise TypeError("this hook runs before -smp is resolved: topology is None")
        return self.topology
