"""The warnings x86 vCPUs print as QEMU realizes them: CPUID features TCG cannot emulate.

Under TCG, QEMU filters the features of each x86 vCPU as it realizes it
(``x86_cpu_filter_features`` in ``target/i386/cpu.c``) and prints one line per
requested feature TCG lacks, by feature word and bit: the model's own, minus
the features ``-cpu`` turns off (with those that depend on them), plus those it
turns on. What each model and feature prints was captured from QEMU 7.2.22,
10.0.13 and 11.1.3 on q35 with ``-smp 1`` (``python3 -m tools.capture_tcg_features``);
QEMU 8.x and 9.x answer as 7.2 and 10.1-11.0 as 10.0 (models added after 7.2
print nothing before 10.0).

``-cpu`` features apply in QEMU's order: ``feature=value`` in order (the last
wins), then every ``+feature``, then every ``-feature`` (observed on 7.2 and
10.0); ``check=off`` silences them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Final

from topology import MachineType, QemuVersion, QemuWarning, VmView
from topology.plugin import release_key

__all__ = ["plug_warnings", "tcg_feature_lines", "tcg_feature_warnings"]

_PREFIX: Final = "TCG doesn't support requested feature: "
# Compat properties of old PC types that set CPU features (hw/i386/pc.c,
# pc_compat_3_1 down to pc_compat_2_4): (newest release they apply to, models
# (None: every model), feature settings). Older types inherit newer arrays.
_COMPAT: Final = (
    ((3, 1), ("Opteron_G4", "Opteron_G5", "EPYC", "EPYC-IBPB"), ("npt=off", "nrip-save=off")),
    ((3, 0), ("Skylake-Server", "Skylake-Server-IBRS"), ("pku=off",)),
    ((2, 12), None, ("topoext=off",)),
    ((2, 11), ("Skylake-Server",), ("clflushopt=off",)),
    ((2, 4), ("Haswell", "Haswell-noTSX", "Broadwell", "Broadwell-noTSX"), ("abm=off",)),
    ((2, 4), ("qemu64",), ("sse4a=on", "abm=on", "popcnt=on")),
    ((2, 4), ("qemu32",), ("popcnt=on",)),
    ((2, 4), None, ("check=off",)),
)
_DEPENDS: Final = "This feature depends on other features that were not requested: "
_TRUE: Final = frozenset({"on", "yes", "true"})


def _captured(version: QemuVersion) -> str:
    """The captured release that answers for ``version``: the nearest at or below it."""
    if version.at_least("11.1"):
        return "11.1"
    return "10.0" if version.at_least("10.0") else "7.2"


@functools.cache
def _data(captured: str) -> dict[str, object]:
    text = resources.files(__package__).joinpath(f"data/tcg-features-{captured}.json").read_text()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def _feature_settings(features: Sequence[str]) -> dict[str, bool]:
    settings: dict[str, bool] = {}
    plus: list[str] = []
    minus: list[str] = []
    for feature in features:
        if feature.startswith("+"):
            plus.append(feature[1:])
        elif feature.startswith("-"):
            minus.append(feature[1:])
        elif "=" in feature:
            name, value = feature.split("=", 1)
            settings[name.replace("_", "-")] = value in _TRUE
        elif feature:
            settings[feature.replace("_", "-")] = True
    settings.update({name.replace("_", "-"): True for name in plus})
    settings.update({name.replace("_", "-"): False for name in minus})
    return settings


def _feature_of(line: str) -> str:
    # "CPUID.01H:ECX.x2apic [bit 21]" and "MSR(10AH).rdctl-no [bit 0]" name x2apic, rdctl-no.
    head = line.split(" [bit ", 1)[0]
    return head.split(").", 1)[1] if head.startswith("MSR(") else head.split(".", 2)[-1]


def tcg_feature_lines(
    model: str, features: Sequence[str], version: QemuVersion
) -> tuple[list[str], list[str]]:
    """The features one vCPU of ``-cpu MODEL,FEATURES`` warns about: (dropped, lacking).

    ``dropped`` are the SVM features asked for on a CPU without ``svm``: QEMU
    drops each with "This feature depends on other features that were not
    requested:" (``feature_dependencies`` in ``target/i386/cpu.c``), before it
    filters; ``lacking`` are those TCG lacks, each with "TCG doesn't support
    requested feature:". Both in QEMU's order.

    >>> from topology import qemu_version
    >>> tcg_feature_lines("qemu64", ["x2apic=on"], qemu_version("7.2"))
    ([], ['CPUID.01H:ECX.x2apic [bit 21]'])
    >>> tcg_feature_lines("Skylake-Client", ["-hle", "pcid=off", "lbrv=on"], qemu_version("10.0"))
    (['CPUID.8000000AH:EDX.lbrv [bit 1]'], ['CPUID.01H:ECX.tsc-deadline [bit 24]', ...])
    """
    data = _data(_captured(version))
    settings = _feature_settings(features)
    models: dict[str, list[str]] = data["models"]  # type: ignore[assignment]
    on_lines: dict[str, str] = data["features"]  # type: ignore[assignment]
    drops: dict[str, list[str]] = data["drops"]  # type: ignore[assignment]
    order: list[str] = data["order"]  # type: ignore[assignment]
    svm_features: list[str] = data["svm_features"]  # type: ignore[assignment]
    without_svm: list[str] = data["without_svm"]  # type: ignore[assignment]
    lines = set(models.get(model, ()))
    for name, on in settings.items():
        line = on_lines.get(name)
        if on:
            if line is not None:
                lines.add(line)
            continue
        off = {line, *drops.get(name, ())}
        lines = {kept for kept in lines if kept not in off and _feature_of(kept) != name}
    dropped: set[str] = set()
    if not settings.get("svm", model not in without_svm):
        svm_lines = {on_lines[name] for name in svm_features}
        asked = {on_lines[name] for name in svm_features if settings.get(name)}
        dropped = asked & lines
        lines -= svm_lines
    if not settings.get("check", True):
        lines = set()
    return sorted(dropped, key=order.index), sorted(lines, key=order.index)


def _latest_version(model: str, version: QemuVersion) -> str:
    """The newest ``MODEL-vN``: what an unversioned model is on microvm.

    PC machine types pin the version an unversioned model name stands for;
    microvm pins none, so QEMU takes the newest (observed on 7.2 and 10.0:
    ``-cpu EPYC-Rome`` warns as EPYC-Rome-v2 on 7.2 and as -v4 on 10.0 there).
    """
    models: dict[str, list[str]] = _data(_captured(version))["models"]  # type: ignore[assignment]
    numbers = [
        int(name.rsplit("-v", 1)[1])
        for name in models
        if name.startswith(f"{model}-v") and name.rsplit("-v", 1)[1].isdigit()
    ]
    return f"{model}-v{max(numbers)}" if numbers else model


def tcg_feature_warnings(
    machine_type: MachineType, options: Mapping[str, str], version: QemuVersion
) -> tuple[QemuWarning, ...]:
    """The warnings one vCPU of the machine's ``-cpu`` prints when realized (TCG only)."""
    if options.get("accel", "tcg") != "tcg":
        return ()
    model, features = machine_type.cpu_model(options)
    compat: list[str] = []
    if machine_type.name.startswith(("pc-i440fx-", "pc-q35-")):
        release = release_key(machine_type.name.rsplit("-", 1)[1])
        for newest, models, settings in _COMPAT:
            if release <= newest and (models is None or model in models):
                compat.extend(settings)
    if machine_type.name == "microvm":
        model = _latest_version(model, version)
    # The machine's compat properties come first; -cpu's override them.
    dropped, lacking = tcg_feature_lines(model, [*compat, *features], version)
    return (
        *(QemuWarning(message=_DEPENDS + line, what="cpu") for line in dropped),
        *(QemuWarning(message=_PREFIX + line, what="cpu") for line in lacking),
    )


def plug_warnings(vm: VmView, slot_index: int) -> tuple[QemuWarning, ...]:
    """What the CPU plugged into ``slot_index`` prints when realized.

    Its type is the ``-cpu`` model's (``select_slot`` refuses others), so the
    ``-cpu`` features apply to it too.
    """
    machine = vm.machine
    return tcg_feature_warnings(machine.type, machine.options, machine.qemu_version)
