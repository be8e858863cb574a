"""What a PC board checks and warns about when it starts, after the generic -smp rules.

In QEMU's order: the APIC ID limit of QEMU 7.1-8.1, then each boot CPU as it
is realized: ``-cpu host`` without KVM or HVF (refused), the CPUID features
TCG lacks (every CPU, :mod:`._tcg_features`), the AMD hyperthreading warning
(after the first CPU's) and the x2APIC requirement (9.0+); then the SMBIOS
2.0 limits when the firmware tables are built (9.0+). Observed on QEMU
7.2.22 and 10.0.13 under TCG; sources cited inline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from arch.x86._apic import ApicLayout
from arch.x86._cpu_option import (
    check_globals,
    check_plus_minus,
    cpu_properties,
    parse_cpu_features,
)
from arch.x86._tcg_features import (
    enforced,
    lacks_cache_info,
    tcg_feature_warnings,
    unmodelled_features,
)
from topology import BoardError, CpuTopology, MachineType, QemuVersion, QemuWarning
from topology.plugin import (
    UINT32_MASK,
    RamLayout,
    UnsupportedOptionError,
    as_int32,
    cpu_device_properties,
    release_key,
)

__all__ = ["check_board"]

# ACPI_MAX_RAM_SLOTS.
_MAX_RAM_SLOTS: Final = 256

# AMD-vendor CPU models (target/i386/cpu.c). Under TCG none has topoext, so
# all warn when threads > 1, even with topoext=on (observed on 7.2 and 10.0).
_AMD_MODELS: Final = frozenset(
    {"qemu64", "athlon", "phenom", "max", "Opteron_G1", "Opteron_G2", "Opteron_G3"}
    | {"Opteron_G4", "Opteron_G5"}
)
# Dhyana is Hygon's (HygonGenuine): no warning (observed on 7.2).
_AMD_FAMILIES: Final = ("EPYC",)
# Models whose CPUID has x2apic (Intel since Nehalem, AMD EPYC, and max/host).
_X2APIC_FAMILIES: Final = (
    "Nehalem", "Westmere", "SandyBridge", "IvyBridge", "Haswell", "Broadwell", "Skylake",
    "Cascadelake", "Cooperlake", "Icelake", "SapphireRapids", "GraniteRapids", "SierraForest",
    "ClearwaterForest", "Snowridge", "EPYC", "Dhyana", "max", "host",
)  # fmt: skip


def _is_amd(model: str, features: list[str]) -> bool:
    for feature in features:
        if feature.startswith("vendor="):
            return feature == "vendor=AuthenticAMD"
    # Versions of a model keep its vendor (Opteron_G1-v1; observed on 7.2).
    base = model.rsplit("-v", 1)[0] if model.rsplit("-v", 1)[-1].isdigit() else model
    return base in _AMD_MODELS or model.startswith(_AMD_FAMILIES)


def _has_x2apic(model: str, features: list[str]) -> bool:
    for feature in features:
        if feature in ("x2apic=on", "+x2apic", "x2apic"):
            return True
        if feature in ("x2apic=off", "-x2apic"):
            return False
    return model.startswith(_X2APIC_FAMILIES)


def _hyperthreading_warning(threads: int, version: QemuVersion) -> QemuWarning:
    text = f"This family of AMD CPU doesn't support hyperthreading({threads})"
    advice = "Please configure -smp options properly or try enabling topoext feature."
    if version.at_least("9.1"):
        # Merged into one line in 9.1 (target/i386/cpu.c, "Merge the warning
        # and error messages for AMD HT check").
        return QemuWarning(message=f"{text}. {advice}", what="threads")
    return QemuWarning(message=text, what="threads", hint=advice)


def _smbios_uses_32_bit(machine_type: MachineType, options: Mapping[str, str]) -> bool:
    chosen = options.get("smbios-entry-point-type")
    if chosen is not None:
        return chosen == "32"
    if not machine_type.name.startswith(("pc-i440fx-", "pc-q35-")):
        return False
    # PC types up to 8.0 keep the 32-bit (SMBIOS 2.x) entry point.
    return release_key(machine_type.name.rsplit("-", 1)[1]) <= (8, 0)


#: The CPU models isapc takes without a deprecation warning (observed on QEMU
#: 11.1.3 for every model -cpu help lists; 10.1-11.0 were not run and answer as
#: 10.0, which warns for none). Versioned names (486-v1) are not among them.
_ISAPC_CPUS: Final = frozenset(
    {"486", "athlon", "kvm32", "pentium", "pentium2", "pentium3", "qemu32"}
)


def check_board(
    machine_type: MachineType,
    topology: CpuTopology,
    options: Mapping[str, str],
    version: QemuVersion,
    memory: RamLayout | None = None,
) -> list[QemuWarning]:
    accel = options.get("accel", "tcg")
    model, features = machine_type.cpu_model(options)
    # Read when QEMU parses -cpu, before the board; applied to the first vCPU.
    cpu_features = parse_cpu_features(features)
    properties = cpu_properties(model, cpu_device_properties("x86_64", version) or {}, version)
    qom_type = f"{model}-x86_64-cpu"
    modules = topology.modules if version.at_least("9.1") else 1
    apic = ApicLayout.for_topology(
        dies=topology.dies, modules=modules, cores=topology.cores, threads=topology.threads
    )
    if (
        apic.apic_id_from_index(topology.max_cpus - 1) >= 255
        and accel != "xen"
        and version.at_least("7.1")
        and not version.at_least("8.2")
    ):
        # 7.1-8.1: any accelerator but Xen, without an in-kernel irqchip with
        # the X2APIC API (TCG never has one).
        error = BoardError(
            "current -smp configuration requires kernel irqchip and X2APIC API support.",
            what="maxcpus",
            where=machine_type.name,
            value=topology.max_cpus,
        )
        error.warnings = cpu_features.warnings
        raise error
    found: list[QemuWarning] = list(cpu_features.warnings)
    if machine_type.name == "isapc" and version.at_least("11.1") and model not in _ISAPC_CPUS:
        # Printed when the board checks the CPU type, before any CPU is realized.
        found.append(
            QemuWarning(message=f"cpu type {model}-x86_64-cpu is deprecated for isapc machine")
        )
    try:
        check_globals(qom_type, cpu_features, properties, version)
    except BoardError as refused:
        refused.warnings = tuple(found)
        raise
    if accel == "tcg" and not version.at_least("10.0") and cpu_features.global_is_on("hv-vpindex"):
        # 7.2 under TCG (8.x and 9.x answer as 7.2; 10.0 and 11.1 start): the
        # global's value counts, before the +/- features (observed). KVM sets
        # the VP index (Windows guests under libvirt have it).
        error = BoardError("kernel doesn't allow setting HyperV VP_INDEX", what="hv-vpindex")
        error.warnings = tuple(found)
        raise error
    # x86_cpu_realizefn of the first vCPU: the +/- features, then the filter
    # (TCG's warnings, enforce), then the host check.
    try:
        check_plus_minus(qom_type, cpu_features, properties, version)
    except BoardError as refused:
        refused.warnings = tuple(found)
        raise
    # Printed as each boot CPU is realized, before the hyperthreading warning
    # of the first (observed on 7.2 and 10.0).
    per_cpu = tcg_feature_warnings(machine_type, options, version)
    found.extend(per_cpu)
    enforce = enforced(features)
    unmodelled = unmodelled_features(features, version) if enforce and accel == "tcg" else []
    if unmodelled:
        raise UnsupportedOptionError(
            f"cputopo: -cpu {model},enforce=on with "
            f"{', '.join(unmodelled)}: the warnings QEMU "
            "prints for these (and so whether enforce refuses them) are not modelled",
            what="cpu",
            value=options.get("cpu", model),
        )
    if per_cpu and enforce:
        # Every vCPU has the boot CPU's features, so only the first can fail.
        error = BoardError("TCG doesn't support requested features", what="cpu", value=model)
        error.warnings = tuple(found)
        raise error
    if model == "host" and accel not in ("kvm", "hvf"):
        # "host" copies the host's CPUID, which only KVM and HVF can read:
        # refused once the first vCPU's features are filtered (observed on 7.2,
        # 10.0 and 11.1 under TCG: -cpu host,+tsc-deadline warns first).
        error = BoardError("CPU model 'host' requires KVM or HVF", what="cpu", value=model)
        error.warnings = tuple(found)
        raise error
    if lacks_cache_info(machine_type, options, version):
        error = BoardError(
            f"CPU model '{model}' doesn't support legacy-cache=off", what="cpu", value=model
        )
        error.warnings = tuple(found)
        raise error
    # Up to 9.x QEMU compared the thread count as a signed int (2^32 - 1 is -1,
    # no warning); QEMU 10 compares it unsigned but still prints it signed
    # (observed: "hyperthreading(-1)"). Which 9.x release changed it is not known.
    compared = topology.threads if version.at_least("10.0") else as_int32(topology.threads)
    if compared > 1 and _is_amd(model, features):
        found.append(_hyperthreading_warning(as_int32(topology.threads), version))
    if version.at_least("9.0") and accel == "tcg" and not _has_x2apic(model, features):
        # TCG emulates x2APIC from 9.0 on; a boot CPU whose APIC ID does not fit
        # xAPIC then makes QEMU abort (apic_common_set_id) up to 10.0 at least;
        # 11.1 refuses it cleanly (exit 1). 10.1-11.0 were not run: they answer as 10.0.
        # APIC IDs are at least the index, so only the first 256 CPUs can be first.
        for cpu_index in range(min(topology.cpus, 256)):
            apic_id = apic.apic_id_from_index(cpu_index)
            if apic_id >= 255:
                error = BoardError(
                    f"APIC ID {apic_id} requires x2APIC feature in CPU",
                    what="cpu",
                    value=apic_id,
                    hint="Try x2apic=on in -cpu.",
                    crash_signal=None if version.at_least("11.1") else 6,
                )
                # The CPUs before it were realized, and it filtered its features.
                found.extend(per_cpu * cpu_index)
                error.warnings = tuple(found)
                raise error
    found.extend(per_cpu * (topology.cpus - 1))
    if version.at_least("9.0") and _smbios_uses_32_bit(machine_type, options):
        cores = topology.dies * topology.clusters * modules * topology.cores & UINT32_MASK
        threads = cores * topology.threads & UINT32_MASK
        if cores >= 255 or threads >= 255:
            error = BoardError(
                "SMBIOS 2.0 doesn't support number of processor cores/threads more than 255, "
                "use -machine smbios-entry-point-type=64 option to enable SMBIOS 3.0 support",
                what="cores",
                value=max(cores, threads),
            )
            error.warnings = tuple(found)
            raise error
    if memory is not None and memory.slots > _MAX_RAM_SLOTS and machine_type.name != "microvm":
        # pc_memory_init, after the CPUs exist (observed on 7.2 and 10.0).
        error = BoardError(
            f"unsupported amount of memory slots: {memory.slots}", what="slots", value=memory.slots
        )
        error.warnings = tuple(found)
        raise error
    return found
