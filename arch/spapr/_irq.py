"""pseries interrupt controller mode (``-machine ic-mode=``) and what it gives each vCPU.

Every vCPU thread gets one interrupt presenter per interrupt controller the
machine has: ``icp`` for XICS, ``xive-tctx`` for XIVE. They are QOM children of
the thread, so removing a core deletes them first: QEMU sends ``DEVICE_DELETED``
for ``<core>/thread[i]/icp``, ``<core>/thread[i]/xive-tctx``, ``<core>/thread[i]``
for each thread in order, then for the core (observed on QEMU 7.2 and 10.0,
``tests/differential/test_spapr_events.py``).

Sources: ``hw/ppc/spapr_irq.c`` (``spapr_irq_check``: dual falls back to XICS
before POWER9, XIVE-only refuses), ``hw/ppc/spapr.c`` (``spapr_set_ic_mode``:
legacy types refuse the option); defaults and texts observed on QEMU 7.2 and 10.0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from topology import BoardError, MachineType, ParameterError
from topology.plugin import VmView, release_key

__all__ = [
    "IC_MODES",
    "check_ic_mode",
    "check_xive_cpu",
    "child_devices",
    "deleted_devices",
    "ic_mode",
    "presenters",
]

#: The values ``-machine ic-mode=`` takes (exactly; ``XICS`` is refused).
IC_MODES: Final = ("xics", "xive", "dual")

# CPU models and compat modes below ISA 3.00 (POWER9).
_BEFORE_POWER9: Final = ("power5", "power6", "power7", "power8", "970")


def _legacy(machine_type: MachineType) -> bool:
    # legacy_irq_allocation: pseries-3.0 and older (qom-get ic-mode says "legacy").
    return release_key(machine_type.name.removeprefix("pseries-")) <= (3, 0)


def check_ic_mode(machine_type: MachineType, options: Mapping[str, str]) -> None:
    """QEMU's errors for ``ic-mode=`` when it sets the ``-machine`` property.

    >>> import topology
    >>> old = topology.machine("ppc64", "pseries-3.0", qemu_version="7.2").type
    >>> check_ic_mode(old, {"ic-mode": "xics"})
    Traceback (most recent call last):
      ...
    topology.ParameterError: This machine only uses the legacy XICS backend, don't pass ic-mode
    """
    value = options.get("ic-mode")
    if value is None:
        return
    # The legacy check comes first: pseries-3.0,ic-mode=bad says this too.
    if _legacy(machine_type):
        raise ParameterError(
            "This machine only uses the legacy XICS backend, don't pass ic-mode",
            what="ic-mode",
            value=value,
        )
    if value not in IC_MODES:
        raise ParameterError('Bad value for "ic-mode" property', what="ic-mode", value=value)


def ic_mode(machine_type: MachineType, options: Mapping[str, str]) -> str:
    """What ``qom-get /machine ic-mode`` reads: the option, or the type's default.

    ``legacy`` up to pseries-3.0, ``xics`` on 3.1 and 4.0, ``dual`` from 4.1
    (observed on QEMU 7.2 and 10.0). A ``dual`` machine on a CPU (or compat
    mode) older than POWER9 reads ``xics``: ``spapr_irq_check`` drops XIVE, which
    the guest could never pick.

    >>> import topology
    >>> [ic_mode(topology.machine("ppc64", f"pseries-{r}", qemu_version="7.2").type, {})
    ...  for r in ("3.0", "4.0", "4.1")]
    ['legacy', 'xics', 'dual']
    """
    if _legacy(machine_type):
        return "legacy"
    mode = options.get("ic-mode")
    if mode is None:
        old = release_key(machine_type.name.removeprefix("pseries-")) <= (4, 0)
        mode = "xics" if old else "dual"
    if mode == "dual" and _before_power9(machine_type, options):
        return "xics"
    return mode


def _before_power9(machine_type: MachineType, options: Mapping[str, str]) -> bool:
    """``!ppc_type_check_compat(cpu, LOGICAL_3_00, 0, max_compat_pvr)``."""
    model = machine_type.cpu_model(options)[0].lower()
    compat = options.get("max-cpu-compat", "").lower()
    return model.startswith(_BEFORE_POWER9) or compat.startswith(_BEFORE_POWER9)


def presenters(machine_type: MachineType, options: Mapping[str, str]) -> tuple[str, ...]:
    """The interrupt presenters each vCPU thread has, in QOM child order.

    >>> import topology
    >>> m = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2")
    >>> presenters(m.type, {}), presenters(m.type, {"cpu": "power8"})
    (('icp', 'xive-tctx'), ('icp',))
    """
    mode = ic_mode(machine_type, options)
    return {"legacy": ("icp",), "xics": ("icp",), "xive": ("xive-tctx",)}.get(
        mode, ("icp", "xive-tctx")
    )


def check_xive_cpu(machine_type: MachineType, options: Mapping[str, str]) -> None:
    """``spapr_irq_check``: ``ic-mode=xive`` needs POWER9 or newer (CPU and compat mode).

    >>> import topology
    >>> m = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2")
    >>> check_xive_cpu(m.type, {"ic-mode": "xive", "max-cpu-compat": "power8"})
    Traceback (most recent call last):
      ...
    topology.BoardError: XIVE-only machines require a POWER9 CPU
    """
    if ic_mode(machine_type, options) == "xive" and _before_power9(machine_type, options):
        raise BoardError("XIVE-only machines require a POWER9 CPU", what="ic-mode", value="xive")


def child_devices(vm: VmView, slot_index: int) -> Mapping[str, str]:
    """The core's threads (``<core>/thread[i]``, type ``<model>-powerpc64-cpu``) and
    each thread's interrupt presenters (``icp``, ``xive-tctx``, typed as named),
    QOM path to QOM type (observed on QEMU 7.2, 10.0 and 11.1)."""
    state = vm.state(slot_index)
    assert state is not None
    slot = vm.slots[slot_index]
    thread_type = slot.vcpu_type or slot.type
    found: dict[str, str] = {}
    for thread in range(slot.vcpus_count):
        path = f"{state.qom_path}/thread[{thread}]"
        found[path] = thread_type
        for child in presenters(vm.machine.type, vm.machine.options):
            found[f"{path}/{child}"] = child
    return found


def deleted_devices(vm: VmView, slot_index: int) -> Sequence[Mapping[str, object]]:
    """``DEVICE_DELETED`` data, in QEMU's order, when the core in ``slot_index`` goes."""
    state = vm.state(slot_index)
    assert state is not None
    children = presenters(vm.machine.type, vm.machine.options)
    core = state.qom_path
    events: list[Mapping[str, object]] = []
    for thread in range(vm.slots[slot_index].vcpus_count):
        path = f"{core}/thread[{thread}]"
        events += ({"path": f"{path}/{child}"} for child in children)
        events.append({"path": path})
    if state.device_id is None:
        events.append({"path": core})
    else:
        events.append({"device": state.device_id, "path": core})
    return events
