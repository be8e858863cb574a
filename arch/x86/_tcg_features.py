"""The warnings x86 vCPUs print as QEMU realizes them: CPUID features TCG cannot emulate.

Under TCG, QEMU filters the features of each x86 vCPU as it realizes it
(``x86_cpu_filter_features`` in ``target/i386/cpu.c``) and prints one line per
requested feature TCG lacks, by feature word and bit: the model's own, minus
the features ``-cpu`` turns off (with those that depend on them), plus those it
turns on; on 11.1, MPX and APX turn each other off. What each model and
feature prints was captured from QEMU 7.2.22, 10.0.13 and 11.1.3 on q35 with
``-smp 1`` (``python3 -m tools.capture_tcg_features``);
QEMU 8.x and 9.x answer as 7.2 and 10.1-11.0 as 10.0 (models added after 7.2
print nothing before 10.0).

``-cpu`` features apply in QEMU's order: ``feature=value`` in order (the last
wins), then every ``+feature``, then every ``-feature`` (observed on 7.2 and
10.0); ``check=off`` silences them unless ``enforce`` is on, which makes
a vCPU with any of them fail to realize (see ``enforced``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from typing import Final

from topology import MachineType, QemuVersion, QemuWarning, VmView
from topology.plugin import parse_qemu_bool, release_key

__all__ = [
    "enforced",
    "lacks_cache_info",
    "plug_warnings",
    "tcg_feature_lines",
    "tcg_feature_warnings",
    "unmodelled_features",
]

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
# Features that turn on more feature words than their own bit (not modelled).
_MORE_WORDS: Final = frozenset({"vmx", "arch-lbr", "intel-pt"})
_CONFLICTS: Final = "this feature conflicts with "


def _read_data(name: str) -> str:
    """A file of this package's ``data`` directory, read with os: importlib.resources
    would import pathlib, zipfile and more into every stand-in process."""
    with open(os.path.join(os.path.dirname(__file__), "data", name), encoding="utf-8") as file:
        return file.read()


def _captured(version: QemuVersion) -> str:
    """The captured release that answers for ``version``: the nearest at or below it."""
    if version.at_least("11.1"):
        return "11.1"
    return "10.0" if version.at_least("10.0") else "7.2"


@functools.cache
def _data(captured: str) -> dict[str, object]:
    text = _read_data(f"tcg-features-{captured}.json")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def _feature_settings(features: Sequence[str]) -> dict[str, bool]:
    # Each feature's final state: the globals, then every +name, then every
    # -name. Unlike parse_cpu_features it never refuses (a bad tsc-freq is
    # refused before any of this is asked).
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
            settings[name.replace("_", "-")] = parse_qemu_bool(value) is True
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
) -> tuple[list[str], list[str], list[str]]:
    """What one vCPU of ``-cpu MODEL,FEATURES`` warns about: (dropped, conflicting, lacking).

    ``dropped`` are the SVM features asked for on a CPU without ``svm``
    (those TCG has too, such as ``npt``): QEMU drops each with "This feature
    depends on other features that were not requested:"
    (``feature_dependencies`` in ``target/i386/cpu.c``), before it filters.
    ``conflicting`` are MPX and APX when a CPU has both (11.1, which has
    APX): QEMU turns both off, each with "this feature conflicts with" and
    the other's name, whatever ``check`` says. ``lacking`` are those TCG
    lacks, each with "TCG doesn't support requested feature:". All in
    QEMU's order.

    >>> from topology import qemu_version
    >>> tcg_feature_lines("qemu64", ["x2apic=on"], qemu_version("7.2"))
    ([], [], ['CPUID.01H:ECX.x2apic [bit 21]'])
    >>> tcg_feature_lines("Skylake-Client", ["-hle", "pcid=off", "lbrv=on"], qemu_version("10.0"))
    (['CPUID.8000000AH:EDX.lbrv [bit 1]'], [], ['CPUID.01H:ECX.tsc-deadline [bit 24]', ...])
    >>> for line in tcg_feature_lines("qemu64", ["mpx=on", "apxf=on"], qemu_version("11.1"))[1]:
    ...     print(line)
    APX: CPUID[eax=07h,ecx=00h].EBX.mpx [bit 14]
    MPX: CPUID[eax=07h,ecx=01h].EDX.apxf [bit 21]
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
    dropped: list[str] = []
    if not settings.get("svm", model not in without_svm):
        lines -= {on_lines[name] for name in svm_features}
        svm_word = _svm_dependents(data)
        dropped = sorted(
            {line for name, on in settings.items() if on for line in svm_word.get(name, ())},
            key=_bit,
        )
    conflicting: list[str] = []
    conflict: dict[str, list[str]] | None = data.get("apx_conflict")  # type: ignore[assignment]
    apx_line = on_lines.get("apxf")
    if (
        conflict is not None
        and apx_line in lines
        and settings.get("mpx", model in conflict["models_with_mpx"])
    ):
        # After the dependencies: what needs APX stays (observed on 11.1.3).
        conflicting = conflict["lines"]
        lines.discard(apx_line)
    if not settings.get("check", True) and not settings.get("enforce", False):
        lines = set()
    return dropped, conflicting, sorted(lines, key=order.index)


def _bit(line: str) -> int:
    return int(line.rsplit(" [bit ", 1)[1].rstrip("]"))


def _svm_dependents(data: Mapping[str, object]) -> dict[str, list[str]]:
    # The features of the SVM word (CPUID 8000000AH EDX): what svm=off drops.
    dependents: dict[str, list[str]] = data["dependents"]  # type: ignore[assignment]
    return {
        name: lines
        for name, lines in dependents.items()
        if lines[0].startswith(("CPUID.8000000AH:", "CPUID[eax=8000000Ah]"))
    }


def unmodelled_features(features: Sequence[str], version: QemuVersion) -> list[str]:
    """The features ``-cpu`` turns on whose warnings cputopo does not model in full.

    QEMU drops a feature asked for whose prerequisite the CPU lacks (the VMX
    capabilities without ``vmx``, the ``arch-capabilities`` MSR bits, SGX
    leaves, ...), with "This feature depends on other features that were not
    requested"; only the SVM word is modelled, since which of the other
    prerequisites each model has was not captured. ``vmx``, ``arch-lbr`` and
    ``intel-pt`` turn on more words (VMX capabilities, an XSAVE component,
    CPUID leaf 0x14) whose lines are not modelled either. For these QEMU may
    print warnings cputopo does not (and, with ``enforce``, refuse to start).

    >>> from topology import qemu_version
    >>> unmodelled_features(["bhi-no=on", "npt=on", "x2apic=on", "+vmx"], qemu_version("11.1"))
    ['bhi-no', 'vmx']
    """
    data = _data(_captured(version))
    dependents: dict[str, list[str]] = data["dependents"]  # type: ignore[assignment]
    svm_word = _svm_dependents(data)
    settings = _feature_settings(features)
    return [
        name
        for name, on in settings.items()
        if on and (name in _MORE_WORDS or (name in dependents and name not in svm_word))
    ]


def enforced(features: Sequence[str]) -> bool:
    """Whether ``-cpu`` turns ``enforce`` on: a vCPU that warns then fails to realize.

    With ``enforce``, every feature QEMU turned off with a warning (TCG lacks
    it, it depends on one not asked for, it conflicts) makes the vCPU's
    realize fail with "TCG doesn't support requested features", after the
    warnings; ``check=off`` does not silence them then (observed on 7.2 and 11.1).
    """
    return _feature_settings(features).get("enforce", False)


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
    dropped, conflicting, lacking = tcg_feature_lines(model, [*compat, *features], version)
    return (
        *(QemuWarning(message=_DEPENDS + line, what="cpu") for line in dropped),
        *(QemuWarning(message=_CONFLICTS + line, what="cpu") for line in conflicting),
        *(QemuWarning(message=_PREFIX + line, what="cpu") for line in lacking),
    )


def lacks_cache_info(
    machine_type: MachineType, options: Mapping[str, str], version: QemuVersion
) -> bool:
    """Whether ``-cpu`` asks for ``legacy-cache=off`` on a model without cache information.

    QEMU then refuses the vCPU after filtering its features ("CPU model 'NAME'
    doesn't support legacy-cache=off"); which models have their own cache
    information was captured with the other data (EPYC, Dhyana, and from 11.1
    some versions of the newer Intel models and the oldest Intel ones).
    """
    model, features = machine_type.cpu_model(options)
    if _feature_settings(features).get("legacy-cache", True) or model == "host":
        return False
    if machine_type.name == "microvm":
        model = _latest_version(model, version)
    with_cache_info: list[str] = _data(_captured(version))["with_cache_info"]  # type: ignore[assignment]
    return model not in with_cache_info


def plug_warnings(vm: VmView, slot_index: int) -> tuple[QemuWarning, ...]:
    """What the CPU plugged into ``slot_index`` prints when realized.

    Its type is the ``-cpu`` model's (``select_slot`` refuses others), so the
    ``-cpu`` features apply to it too.
    """
    machine = vm.machine
    return tcg_feature_warnings(machine.type, machine.options, machine.qemu_version)
