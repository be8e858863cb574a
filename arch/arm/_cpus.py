"""CPU models: which ``-cpu`` the virt board takes, and which QOM types exist at all.

Observed with ``qemu-system-aarch64 -cpu help`` and ``-machine virt -cpu <model>``
on QEMU 7.2 and 10.0 under TCG (``host`` needs KVM, and both say ``unable to
find CPU model 'host'`` without it).  Which models exist in the releases between
comes from QEMU's replies on record (libvirt's ``caps_<X.Y>.0_aarch64.xml``, see
``tests/data/libvirt_caps/``): 8.2 already lists the five models 10.0 added to
7.2's, and 10.2 no longer lists the pxa models but lists ``cortex-a78ae``.  8.0
and 8.1 have no record and are taken as 7.2, 10.1 as 10.0.  The models the virt
board accepts were not recorded between 7.2 and 10.0 and follow 7.2 up to 9.2,
10.0 from 10.0 on.  Sources for the lists:
``hw/arm/virt.c`` ``valid_cpu_types``; the message of 10.0 comes from the
generic check in ``hw/core/machine.c`` (``validate_cpu_type``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology import BoardError, QemuVersion

__all__ = ["DEFAULT_CPU", "check_cpu_model", "cpu_models", "cpu_type", "virt_cpu_models"]

#: The model without ``-cpu``, on every virt type of QEMU 7.2 and 10.0.
DEFAULT_CPU: Final = "cortex-a15"

_COMMON: Final = (
    "a64fx",
    "arm1026",
    "arm1136",
    "arm1136-r2",
    "arm1176",
    "arm11mpcore",
    "arm926",
    "arm946",
    "cortex-a15",
    "cortex-a35",
    "cortex-a53",
    "cortex-a57",
    "cortex-a7",
    "cortex-a72",
    "cortex-a76",
    "cortex-a8",
    "cortex-a9",
    "cortex-m0",
    "cortex-m3",
    "cortex-m33",
    "cortex-m4",
    "cortex-m55",
    "cortex-m7",
    "cortex-r5",
    "cortex-r5f",
    "max",
    "neoverse-n1",
    "sa1100",
    "sa1110",
    "ti925t",
)
# The iwMMXt (XScale) models: deprecated in 10.0 (-cpu help), gone from 10.2's
# reply (libvirt caps_10.2.0_aarch64.xml).
_PXA: Final = (
    "pxa250",
    "pxa255",
    "pxa260",
    "pxa261",
    "pxa262",
    "pxa270-a0",
    "pxa270-a1",
    "pxa270",
    "pxa270-b0",
    "pxa270-b1",
    "pxa270-c0",
    "pxa270-c5",
)
# Not in 7.2, in 8.2's reply (libvirt caps_8.2.0_aarch64.xml) and in 10.0.
_ADDED_BY_8_2: Final = ("cortex-a55", "cortex-a710", "cortex-r52", "neoverse-n2", "neoverse-v1")
# In 10.2's reply (libvirt caps_10.2.0_aarch64.xml), not in 10.0.
_ADDED_BY_10_2: Final = ("cortex-a78ae",)

# In the order QEMU 10.0 lists them in its hint.
_VIRT_10_0: Final = (
    "cortex-a7",
    "cortex-a15",
    "cortex-a35",
    "cortex-a55",
    "cortex-a72",
    "cortex-a76",
    "cortex-a710",
    "a64fx",
    "neoverse-n1",
    "neoverse-v1",
    "neoverse-n2",
    "cortex-a53",
    "cortex-a57",
    "max",
)
_VIRT_7_2: Final = (
    "cortex-a7",
    "cortex-a15",
    "cortex-a35",
    "cortex-a53",
    "cortex-a57",
    "cortex-a72",
    "cortex-a76",
    "a64fx",
    "neoverse-n1",
    "max",
)


def _newer(version: QemuVersion) -> bool:
    return version.at_least("10.0")


def cpu_models(version: QemuVersion) -> frozenset[str]:
    """Every aarch64 CPU model of QEMU ``version`` (``-cpu help``), under TCG.

    >>> from topology import qemu_version
    >>> "pxa270" in cpu_models(qemu_version("10.0")), "pxa270" in cpu_models(qemu_version("10.2"))
    (True, False)
    """
    models = set(_COMMON)
    if version.at_least("8.2"):
        models.update(_ADDED_BY_8_2)
    if version.at_least("10.2"):
        models.update(_ADDED_BY_10_2)
    else:
        models.update(_PXA)
    return frozenset(models)


def virt_cpu_models(version: QemuVersion) -> tuple[str, ...]:
    """The models the virt board accepts, in the order QEMU 10.0 prints them.

    >>> from topology import qemu_version
    >>> "neoverse-v1" in virt_cpu_models(qemu_version("7.2"))
    False
    """
    return _VIRT_10_0 if _newer(version) else _VIRT_7_2


def cpu_type(model: str) -> str:
    """The QOM type of a model: ``cortex-a57`` -> ``cortex-a57-arm-cpu``."""
    return f"{model}-arm-cpu"


def check_cpu_model(model: str, options: Mapping[str, str], version: QemuVersion) -> None:
    """QEMU's refusal of ``-cpu model`` on the virt board, if it refuses.

    >>> from topology import qemu_version
    >>> check_cpu_model("cortex-m3", {}, qemu_version("7.2"))
    Traceback (most recent call last):
    ...
    topology.BoardError: mach-virt: CPU type cortex-m3-arm-cpu not supported
    """
    kvm = options.get("accel", "tcg") == "kvm"
    if model not in cpu_models(version) and not (kvm and model == "host"):
        raise BoardError(f"unable to find CPU model '{model}'", what="cpu", value=model)
    valid = virt_cpu_models(version)
    if model in valid or model == "host":
        return
    if _newer(version):
        raise BoardError(
            f"Invalid CPU model: {model}",
            what="cpu",
            value=model,
            hint=f"The valid models are: {', '.join(valid)}",
        )
    raise BoardError(
        f"mach-virt: CPU type {cpu_type(model)} not supported", what="cpu", value=model
    )
