"""sPAPR capabilities (``-machine cap-*``) as TCG applies them when the machine starts.

Each machine type has default capability values (``spapr_machine_class_init``
and the compat functions ``spapr_machine_X_Y_class_options`` in
``hw/ppc/spapr.c``), lowered for CPUs that lack the feature
(``default_caps_with_cpu`` in ``hw/ppc/spapr_caps.c``); ``-machine cap-X=``
overrides them. ``spapr_caps_apply`` then checks them in table order under
TCG: HTM on is an error, and the Spectre mitigations (cfpc, sbbc, ibs) and the
count-cache flush assist at anything but off/broken print a warning
(``cap_*_apply``).

Observed on QEMU 7.2.22 and 10.0.13 (every pseries machine type of each, with
POWER7, POWER8, POWER9 and POWER10, plus explicit values):

* pseries-4.0 and newer: cfpc, sbbc and ibs ``workaround``; 2.12-sxxm: cfpc and
  sbbc ``workaround``, ibs ``fixed-ccd``; 3.1, 3.0, 2.12 and older: ``broken``.
* ccf-assist ``on`` from pseries-5.0.
* HTM on up to pseries-2.11, so TCG refuses them with a POWER8 or newer CPU
  (the 2.7 and older types default to POWER7, which has no HTM).
* CPUs older than POWER8 (ISA 2.07) get cfpc ``broken`` and HTM off.
* QEMU 10.0 prints no warning for sbbc ``workaround`` on POWER8 and newer
  (7.2 does; which release changed it was not measured, so it is taken as 10.0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from topology import BoardError, MachineType, QemuVersion, QemuWarning
from topology.plugin import parse_qemu_bool, release_key

__all__ = ["check_caps"]

_BEFORE_POWER8: Final = ("power5", "power6", "power7", "970")
_TRISTATE: Final = ("broken", "workaround", "fixed")
_IBS: Final = ("broken", "workaround", "fixed-ibs", "fixed-ccd", "fixed-na")


def _release(machine_type: MachineType) -> tuple[int, ...]:
    name = machine_type.name.removeprefix("pseries-").removesuffix("-sxxm")
    return release_key(name)


def _defaults(machine_type: MachineType, before_power8: bool) -> dict[str, str]:
    release = _release(machine_type)
    if machine_type.name.endswith("-sxxm"):
        spectre = {"cfpc": "workaround", "sbbc": "workaround", "ibs": "fixed-ccd"}
    elif release >= (4, 0):
        spectre = {"cfpc": "workaround", "sbbc": "workaround", "ibs": "workaround"}
    else:
        spectre = {"cfpc": "broken", "sbbc": "broken", "ibs": "broken"}
    caps = {
        "htm": "on" if release <= (2, 11) else "off",
        **spectre,
        "ccf-assist": "on" if release >= (5, 0) else "off",
    }
    if before_power8:
        caps["htm"] = "off"
        caps["cfpc"] = "broken"
    return caps


def _given(options: Mapping[str, str], name: str, values: tuple[str, ...] | None) -> str | None:
    text = options.get(f"cap-{name}")
    if text is None:
        return None
    lowered = text.lower()
    if values is None:
        value = parse_qemu_bool(lowered)
        if value is None:
            return None  # the property setter's own error is not modelled here
        return "on" if value else "off"
    return lowered if lowered in values else None


def check_caps(
    machine_type: MachineType, options: Mapping[str, str], version: QemuVersion
) -> list[QemuWarning]:
    """TCG's answer to the machine's capabilities: warnings, or the HTM refusal."""
    if not machine_type.name.startswith("pseries-"):
        return []
    model = machine_type.cpu_model(options)[0].lower()
    before_power8 = model.startswith(_BEFORE_POWER8)
    caps = _defaults(machine_type, before_power8)
    for name, values in (
        ("htm", None),
        ("cfpc", _TRISTATE),
        ("sbbc", _TRISTATE),
        ("ibs", _IBS),
        ("ccf-assist", None),
    ):
        given = _given(options, name, values)
        if given is not None:
            caps[name] = given
    if caps["htm"] == "on":
        raise BoardError(
            "No Transactional Memory support in TCG",
            what="cap-htm",
            hint="Try appending -machine cap-htm=off",
        )
    warnings = []
    for name in ("cfpc", "sbbc", "ibs"):
        value = caps[name]
        if value == "broken":
            continue
        if (
            name == "sbbc"
            and value == "workaround"
            and not before_power8
            and version.at_least("10.0")
        ):
            continue
        warnings.append(_warning(f"cap-{name}={value}"))
    if caps["ccf-assist"] == "on":
        warnings.append(_warning("cap-ccf-assist=on"))
    return warnings


def _warning(setting: str) -> QemuWarning:
    return QemuWarning(
        message=f"TCG doesn't support requested feature, {setting}", what=setting.split("=")[0]
    )
