"""The virt board's interrupt controller (GIC): which version QEMU picks, and the CPU
limits that follow from it.

Sources: ``hw/arm/virt.c`` (``finalize_gic_version``, ``machvirt_init``,
``virt_redist_capacity``, the memory map's ``VIRT_GIC_REDIST`` and
``VIRT_HIGH_GIC_REDIST2`` regions) and ``hw/intc/arm_gicv3_common.c`` (the
redistributor capacity check). Every message and limit below was observed on
QEMU 7.2 and 10.0 under TCG (``-machine virt,gic-version=...,highmem=...``);
8.0-9.2 were not run and are modelled as 7.2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology import BoardError, CpuTopology, QemuVersion

__all__ = [
    "GIC_NCPU",
    "MachinePropertyError",
    "check_gic_limits",
    "check_gic_properties",
    "gic_cpu_limit",
    "gic_version",
    "redist_capacity",
]

#: GICv2 addresses at most 8 CPUs (GIC_NCPU).
GIC_NCPU: Final = 8
# The low redistributor region holds 0xF60000 bytes, the high one 64 MiB; one
# CPU's redistributor takes 2 (GICv3) or 4 (GICv4) 64 KiB frames.
_LOW_REDIST_BYTES: Final = 0x00F60000
_HIGH_REDIST_BYTES: Final = 64 * 1024 * 1024
_REDIST_BYTES: Final = {3: 0x20000, 4: 0x40000}
_VALUES: Final = ("2", "3", "4", "host", "max")
# QEMU 11.1 adds an experimental GICv5 (observed; 10.1-11.0 not run, answered as 10.0).
_VALUES_11_1: Final = (*_VALUES, "x-5")


class MachinePropertyError(BoardError):
    """A ``-machine`` property QEMU refuses (before it warns of a deprecated machine type)."""

    precedes_machine_warning = True


def _newer(version: QemuVersion) -> bool:
    return version.at_least("10.0")


def _on(options: Mapping[str, str], name: str, default: str = "on") -> bool:
    return options.get(name, default) in ("on", "true", "yes", "y")


def check_gic_properties(options: Mapping[str, str], machine: str, version: QemuVersion) -> None:
    """QEMU's refusals while it sets the ``-machine`` properties (after ``-smp``).

    >>> from topology import qemu_version
    >>> try:
    ...     check_gic_properties({"highmem-redists": "off"}, "virt-7.2", qemu_version("7.2"))
    ... except BoardError as error:
    ...     print(error)
    Property 'virt-7.2-machine.highmem-redists' not found
    """
    given = options.get("gic-version")
    gicv5 = version.at_least("11.1")
    if given is not None and given not in (_VALUES_11_1 if gicv5 else _VALUES):
        raise MachinePropertyError(
            "Invalid gic-version value",
            what="gic-version",
            value=given,
            hint=(
                "Valid values are 2, 3, 4, x-5, host, and max."
                if gicv5
                else "Valid values are 3, 2, host, max."
            ),
        )
    if "highmem-redists" in options and not _newer(version):
        # Newer than 7.2 (Gavin Shan's high memory region series, not in 7.2).
        raise MachinePropertyError(
            f"Property '{machine}-machine.highmem-redists' not found", what="highmem-redists"
        )


def gic_version(options: Mapping[str, str], max_cpus: int, version: QemuVersion) -> int:
    """The GIC version (2, 3, 4, or 5 for 11.1's ``x-5``) QEMU ``version`` gives the board,
    or QEMU's refusal.

    ``options`` are the ``-machine`` settings (``gic-version``, ``virtualization``,
    ``accel``). Under TCG ``max`` means 3, or 4 with ``virtualization=on``. Without
    ``gic-version``, QEMU 7.2 picks 2; QEMU 10.0 picks 2 up to 8 possible CPUs and
    3 above (``qom-get /machine gic-version`` shows the choice in both). Under KVM
    ``host``/``max`` depend on the host; they are taken as 3 here.

    >>> from topology import qemu_version
    >>> gic_version({}, 9, qemu_version("10.0")), gic_version({}, 9, qemu_version("7.2"))
    (3, 2)
    >>> gic_version({"gic-version": "max", "virtualization": "on"}, 2, qemu_version("7.2"))
    4
    >>> gic_version({"gic-version": "host"}, 2, qemu_version("10.0"))
    Traceback (most recent call last):
    ...
    topology.BoardError: gic-version=host requires KVM
    """
    check_gic_properties({"gic-version": options.get("gic-version", "max")}, "virt", version)
    given = options.get("gic-version")
    tcg = options.get("accel", "tcg") == "tcg"
    virtualization = _on(options, "virtualization", "off")
    if given is None:
        if not tcg:
            return 3
        return 3 if _newer(version) and max_cpus > GIC_NCPU else 2
    if given == "host" and tcg:
        raise BoardError("gic-version=host requires KVM", what="gic-version", value=given)
    if given in ("host", "max"):
        return 4 if tcg and virtualization else 3
    if given == "x-5":
        return 5
    number = int(given)
    if number == 4 and tcg and not virtualization:
        message = (
            "tcg does not support GICv4 emulation, is virtualization=on?"
            if _newer(version)
            else "gic-version=4 requires virtualization enabled"
        )
        raise BoardError(message, what="gic-version", value=given)
    return number


def redist_capacity(gic: int, *, high: bool) -> int:
    """How many CPUs' redistributors fit in the low region, or in the high one.

    >>> redist_capacity(3, high=False), redist_capacity(3, high=True)
    (123, 512)
    >>> redist_capacity(4, high=False), redist_capacity(4, high=True)
    (61, 256)
    """
    return (_HIGH_REDIST_BYTES if high else _LOW_REDIST_BYTES) // _REDIST_BYTES[gic]


def _high_redists(options: Mapping[str, str], version: QemuVersion) -> bool:
    """Whether the board's CPU limit counts the high redistributor region.

    QEMU 7.2 always counts it (``highmem=off`` only drops the region later, and
    the GIC then refuses extra boot CPUs); 10.0 drops it with ``highmem=off``
    or ``highmem-redists=off``.
    """
    if not _newer(version):
        return True
    return _on(options, "highmem") and _on(options, "highmem-redists")


def gic_cpu_limit(gic: int, options: Mapping[str, str], version: QemuVersion) -> int:
    """The most possible CPUs (maxcpus) the board takes with this GIC.

    >>> from topology import qemu_version
    >>> gic_cpu_limit(4, {}, qemu_version("10.0"))
    317
    >>> gic_cpu_limit(3, {"highmem": "off"}, qemu_version("10.0"))
    123
    >>> gic_cpu_limit(3, {"highmem": "off"}, qemu_version("7.2"))
    635
    """
    if gic == 2:
        return GIC_NCPU
    if gic == 5:
        return 512  # no GIC limit below virt's own (observed: 512 CPUs start on 11.1)
    limit = redist_capacity(gic, high=False)
    if _high_redists(options, version):
        limit += redist_capacity(gic, high=True)
    return limit


def check_gic_limits(
    gic: int, topology: CpuTopology, options: Mapping[str, str], version: QemuVersion
) -> None:
    """``machvirt_init``'s CPU limit, then (QEMU 7.2) the GICv3 device's own check."""
    if gic == 5 and options.get("cpu", "cortex-a15").split(",")[0] != "max":
        # Under TCG only the max CPU has the GICv5 CPU interface (observed on 11.1:
        # cortex-a15, the default, and cortex-a57 are refused).
        raise BoardError(
            "Using GICv5 but guest CPU does not support it", what="gic-version", value="x-5"
        )
    limit = gic_cpu_limit(gic, options, version)
    if topology.max_cpus > limit:
        hint = None
        if gic != 2 and not _high_redists(options, version):
            hint = "Try 'highmem-redists=on' for more CPUs"
        raise BoardError(
            f"Number of SMP CPUs requested ({topology.max_cpus}) exceeds max CPUs "
            f"supported by machine 'mach-virt' ({limit})",
            what="maxcpus",
            value=topology.max_cpus,
            hint=hint,
        )
    if gic != 2 and not _newer(version) and not _on(options, "highmem"):
        low = redist_capacity(gic, high=False)
        # The GIC gets one redistributor per boot CPU, and only the low region is mapped.
        if topology.cpus > low:
            raise BoardError(
                f"Capacity of the redist regions({low}) does not match the number of "
                f"vcpus({topology.cpus})",
                what="cpus",
                value=topology.cpus,
            )
