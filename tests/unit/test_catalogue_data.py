"""The catalogue of QEMU's names (``topology._resolve.catalogue``) and the option-case table,
without QEMU.

The data files load for every target and captured release, lookups answer as
QEMU 7.2, 10.0 and 11.1 were seen to answer (each fact below was measured; see the
comments), and the machine types agree with what the architecture plugins say.
``tests/differential/test_catalogue_data.py`` compares the same data with the
QEMU binaries installed now.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

import pytest

import topology
from tests.data import capture_option_cases
from tools import capture_catalogue as _capture
from topology._resolve import catalogue
from topology.qemu import QemuSimulator, QemuStartError

CAPTURED = ("7.2", "10.0", "11.1")
ROWS = capture_option_cases.load_rows()
PAIRS = [(t, v) for t in catalogue.TARGETS for v in CAPTURED]
# The machine families the plugins model (as in tests/differential/test_catalogue.py).
FAMILIES = ("pc-i440fx-", "pc-q35-", "pseries-", "s390-ccw-virtio-", "virt-")
SINGLES = ("microvm", "isapc")


def _ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_every_target_and_release_loads(pair: tuple[str, str]) -> None:
    target, version = pair
    machines = catalogue.machine_types(target, version)
    # QEMU 11.1's s390x lists 19 (types up to 5.1 are gone).
    assert machines is not None and len(machines) > 15
    for entry in machines:
        assert catalogue.resolve_machine_type(target, version, entry.name) == entry.name
        if entry.alias is not None:
            selected = catalogue.resolve_machine_type(target, version, entry.alias)
            assert selected is not None
            assert entry.alias in {m.alias for m in machines if m.name == selected}
        properties = catalogue.machine_properties(target, entry.name, version)
        assert properties is not None and "smp" in properties
    models = catalogue.cpu_models(target, version)
    # QEMU 11.1's aarch64 lists 36 (some old 32-bit cores were removed).
    assert models is not None and len(models) > 30
    for name, alias_of in models.items():
        assert alias_of is None or alias_of in models
        resolved = catalogue.resolve_cpu_model(target, version, name)
        if target == "ppc64" and name != name.lower():
            # ppc64 lower-cases -cpu first, so a model listed in capitals cannot
            # be chosen: QEMU 11.1.3 lists PPE42 and answers `-cpu PPE42` with
            # "unable to find CPU model 'PPE42'".
            assert resolved is None
            continue
        assert resolved is not None and resolved in models
        if target != "x86_64":  # x86 aliases are classes of their own
            assert models[resolved] is None
    device = catalogue.cpu_device_properties(target, version)
    assert device is not None and len(device) >= 3


@pytest.mark.parametrize(
    ("target", "default"),
    [("x86_64", "pc-i440fx-{}"), ("ppc64", "pseries-{}"), ("s390x", "s390-ccw-virtio-{}")],
)
@pytest.mark.parametrize("version", CAPTURED)
def test_default_machine_type(target: str, default: str, version: str) -> None:
    # -machine help marks it "(default)" (QEMU 7.2, 10.0 and 11.1).
    assert catalogue.default_machine_type(target, version) == default.format(version)


@pytest.mark.parametrize("version", CAPTURED)
def test_aarch64_has_no_default_machine(version: str) -> None:
    # "No machine specified, and there is no default" (option_cases.json).
    assert catalogue.default_machine_type("aarch64", version) is None


@pytest.mark.parametrize(
    ("version", "name", "expected"),
    [
        # -cpu help "(alias for ...)" and query-hotpluggable-cpus "type" (7.2, 10.0).
        ("7.2", "power9", "power9_v2.0"),
        ("10.0", "power9", "power9_v2.2"),
        ("7.2", "POWER9", "power9_v2.0"),
        ("7.2", "power8", "power8_v2.0"),
        ("10.0", "power8", "power8_v2.0"),
        ("7.2", "power10", "power10_v2.0"),
        ("7.2", "ppc", "604"),
        ("7.2", "power9_v1.0", "power9_v1.0"),
        ("10.0", "power9_v1.0", None),  # gone in 10.0
        ("7.2", "004e1200", None),  # a PVR in hex is not resolved
        ("7.2", "nosuch", None),
    ],
)
def test_ppc64_cpu_aliases(version: str, name: str, expected: str | None) -> None:
    assert catalogue.resolve_cpu_model("ppc64", version, name) == expected


@pytest.mark.parametrize("version", CAPTURED)
def test_x86_cpu_aliases(version: str) -> None:
    models = catalogue.cpu_models("x86_64", version)
    versioned = catalogue.machine_versioned_cpu_models("x86_64", version)
    assert models is not None and versioned is not None
    assert models["Broadwell-IBRS"] == "Broadwell-v3"
    assert models["Skylake-Client"] is None and "Skylake-Client" in versioned
    assert "Skylake-Client-v1" not in versioned
    # Each alias is a class of its own: -cpu Broadwell-IBRS hot-plugs
    # Broadwell-IBRS-x86_64-cpu (query-hotpluggable-cpus, 7.2 and 10.0).
    assert catalogue.resolve_cpu_model("x86_64", version, "Broadwell-IBRS") == "Broadwell-IBRS"
    assert catalogue.resolve_cpu_model("x86_64", version, "skylake-client") is None


def test_names_that_differ_between_releases() -> None:
    assert catalogue.resolve_machine_type("x86_64", "7.2", "q35") == "pc-q35-7.2"
    assert catalogue.resolve_machine_type("x86_64", "10.0", "q35") == "pc-q35-10.0"
    assert catalogue.resolve_machine_type("x86_64", "10.0", "pc-q35-7.2") == "pc-q35-7.2"
    assert catalogue.resolve_machine_type("x86_64", "7.2", "pc-q35-10.0") is None
    # Two types list the alias "powernv" in 10.0; -machine powernv,help names the one picked.
    assert catalogue.resolve_machine_type("ppc64", "7.2", "powernv") == "powernv9"
    assert catalogue.resolve_machine_type("ppc64", "10.0", "powernv") == "powernv10-rainier"
    assert catalogue.deprecated_cpu_models("aarch64", "7.2") == frozenset()
    assert "pxa270" in (catalogue.deprecated_cpu_models("aarch64", "10.0") or ())
    q35_7 = catalogue.machine_properties("x86_64", "q35", "7.2")
    q35_10 = catalogue.machine_properties("x86_64", "q35", "10.0")
    assert q35_7 is not None and q35_10 is not None
    assert q35_7["smp"] == q35_10["smp"] == "SMPConfiguration"
    assert "smp-cache" not in q35_7 and q35_10["smp-cache"] == "SmpCachePropertiesWrapper"


def test_accelerators() -> None:
    # -accel help: only x86_64 is built with KVM in Debian's packages (7.2, 10.0
    # and 11.1); 11.1's also lists mshv and nitro.
    for version in CAPTURED:
        expected = ("tcg", "mshv", "nitro", "kvm") if version == "11.1" else ("tcg", "kvm")
        assert catalogue.accelerators("x86_64", version) == expected
        for target in ("ppc64", "s390x", "aarch64"):
            assert catalogue.accelerators(target, version) == ("tcg",)


def test_unknown_names_give_none() -> None:
    assert catalogue.machine_types("riscv64", "7.2") is None
    assert catalogue.machine_properties("riscv64", "virt", "7.2") is None
    assert catalogue.machine_properties("x86_64", "nosuch", "7.2") is None
    assert catalogue.machine_property_help("x86_64", "nosuch", "7.2") is None
    assert catalogue.cpu_models("riscv64", "10.0") is None
    assert catalogue.resolve_cpu_model("riscv64", "10.0", "max") is None
    assert catalogue.accelerators("riscv64", "10.0") is None


def test_unsupported_version_is_an_error() -> None:
    with pytest.raises(topology.UnsupportedVersionError):
        catalogue.cpu_models("x86_64", "6.2")


@pytest.mark.parametrize("version", [str(v) for v in topology.SUPPORTED_QEMU_VERSIONS])
def test_releases_between_are_served_from_the_one_below(version: str) -> None:
    # Machine types from the nearest capture; CPU models from the nearest
    # capture or recorded reply (tests/unit/test_release_records.py).
    wanted = topology.qemu_version(version)
    served = catalogue.captured_version(version)
    assert served in catalogue.CAPTURED_VERSIONS and served <= wanted
    assert all(not served < v <= wanted for v in catalogue.CAPTURED_VERSIONS)
    assert catalogue.machine_types("x86_64", version) == catalogue.machine_types(
        "x86_64", str(served)
    )
    for target in catalogue.TARGETS:
        models_from = catalogue.cpu_models_release(target, version)
        assert models_from is not None and served <= models_from <= wanted
        assert catalogue.cpu_models(target, version) == catalogue.cpu_models(
            target, str(models_from)
        )


def test_cpu_models_of_a_release_between_captures() -> None:
    # QEMU 9.2's own reply lists GraniteRapids-v2 and SierraForest (libvirt
    # caps_9.2.0_x86_64.xml); 7.2, which served 9.2 before, lists neither.
    models = catalogue.cpu_models("x86_64", "9.2")
    assert models is not None and {"GraniteRapids-v2", "SierraForest"} <= set(models)
    assert catalogue.resolve_cpu_model("x86_64", "9.2", "SierraForest") == "SierraForest"
    assert "SierraForest" in (catalogue.machine_versioned_cpu_models("x86_64", "9.2") or ())
    assert catalogue.resolve_cpu_model("x86_64", "7.2", "SierraForest") is None
    # Releases without a record take the nearest list below: ppc64 9.2 is 7.2's.
    assert str(catalogue.cpu_models_release("ppc64", "9.2")) == "7.2"
    assert catalogue.cpu_models_release("riscv64", "9.2") is None


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_plugins_list_the_same_machine_types(pair: tuple[str, str]) -> None:
    target, version = pair
    machines = catalogue.machine_types(target, version)
    assert machines is not None
    qemu = {
        m.name: (m.alias, m.deprecated)
        for m in machines
        if m.name.startswith(FAMILIES) or m.name in SINGLES
    }
    plugin = {
        m.name: (m.aliases[0] if m.aliases else None, m.deprecated)
        for m in topology.machine_types(target, qemu_version=version)
    }
    assert plugin == qemu
    default = topology.get_arch(target).default_machine(topology.qemu_version(version))
    assert default == catalogue.default_machine_type(target, version)


def test_option_table_covers_every_captured_release() -> None:
    cases = {(r["target"], r["args"]) for r in ROWS}
    assert len(cases) == len(capture_option_cases.CASES)
    for case in cases:
        versions = sorted(r["version"] for r in ROWS if (r["target"], r["args"]) == case)
        assert versions == sorted(capture_option_cases.VERSIONS), case
    for row in ROWS:
        prefix = f"qemu-system-{row['target']}: "
        assert row["exit_code"] == 0 or any(line.startswith(prefix) for line in row["stderr"])


# --- properties -machine takes that -machine TYPE,help does not list ------------

# Each row was seen on real QEMU (-machine TYPE,NAME=<garbage> does not answer
# "not found"; python3 -m tools.capture_catalogue, 7.2.22 and 10.0.13).
INSTANCE_CASES = [
    # (target, release, machine type or alias, name, QOM type text)
    ("ppc64", "7.2", "pseries-7.2", "vsmt", "uint32"),
    ("ppc64", "7.2", "pseries-2.11", "max-cpu-compat", "string"),
    ("ppc64", "10.0", "pseries", "ic-mode", "string"),
    ("ppc64", "10.0", "pseries-10.0", "resize-hpt", "string"),
    ("x86_64", "7.2", "q35", "nvdimm", "bool"),
    ("x86_64", "7.2", "microvm", "hmat", "bool"),
    ("x86_64", "10.0", "pc-i440fx-10.0", "pflash0", "str"),
    ("x86_64", "10.0", "pc-q35-10.0", "cxl", "bool"),
    ("aarch64", "7.2", "virt-7.2", "pflash1", "str"),
    ("aarch64", "10.0", "virt", "nvdimm-persistence", "string"),
]
# Names qom-list /machine shows that -machine TYPE,NAME=x does not reach (QEMU
# says "not found": the board adds them after the options are applied), and
# names it finds but cannot set ("is not writable").  Seen on 7.2.22 and 10.0.13.
UNREACHED_CASES = [
    ("x86_64", "7.2", "pc-q35-7.2", "rtc-time"),
    ("x86_64", "10.0", "q35", "acpi-device"),
    ("ppc64", "7.2", "pseries-7.2", "rtc-time"),
    ("s390x", "10.0", "s390-ccw-virtio-10.0", "s390-skeys"),
]
READ_ONLY_CASES = [
    ("s390x", "7.2", "s390-ccw-virtio-7.2", "peripheral"),
    ("s390x", "10.0", "s390-ccw-virtio-10.0", "unattached"),
    ("ppc64", "10.0", "pseries-10.0", "vfio-no-msix-emulation"),
]


def _raw(target: str, version: str) -> dict[str, Any]:
    resource = (
        importlib.resources.files("topology") / "_resolve" / "data" / f"{target}-{version}.json"
    )
    data: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(("target", "version", "machine", "name", "type_"), INSTANCE_CASES)
def test_instance_properties_are_machine_properties(
    target: str, version: str, machine: str, name: str, type_: str
) -> None:
    properties = catalogue.machine_properties(target, machine, version)
    assert properties is not None and properties[name] == type_
    # ... and -machine TYPE,help still shows only the class's.
    assert f"  {name}=" not in (catalogue.machine_property_help(target, machine, version) or "")


@pytest.mark.parametrize(("target", "version", "machine", "name"), UNREACHED_CASES)
def test_unreached_qom_names_are_not_machine_properties(
    target: str, version: str, machine: str, name: str
) -> None:
    assert name not in (catalogue.machine_properties(target, machine, version) or {"": ""})
    assert name not in (catalogue.machine_read_only_properties(target, machine, version) or {""})


@pytest.mark.parametrize(("target", "version", "machine", "name"), READ_ONLY_CASES)
def test_read_only_names(target: str, version: str, machine: str, name: str) -> None:
    assert name in (catalogue.machine_read_only_properties(target, machine, version) or ())
    assert name not in (catalogue.machine_properties(target, machine, version) or {"": ""})


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_instance_property_data_is_consistent(pair: tuple[str, str]) -> None:
    target, version = pair
    raw = _raw(target, version)
    machines = catalogue.machine_types(target, version)
    assert machines is not None
    # Every type's list was obtained once, in one recorded way.
    recorded = [name for names in raw["machine_instance_capture"].values() for name in names]
    assert sorted(recorded) == sorted(m.name for m in machines)
    for entry in machines:
        properties = catalogue.machine_properties(target, entry.name, version)
        read_only = catalogue.machine_read_only_properties(target, entry.name, version)
        help_text = catalogue.machine_property_help(target, entry.name, version)
        assert properties is not None and read_only is not None and help_text is not None
        class_rows = _capture.parse_properties(help_text, f"{entry.name}-machine")
        assert {str(row[0]) for row in class_rows} <= set(properties)
        assert not read_only & set(properties)
        # -machine type= picks the type; children have no setter.
        assert "type" not in properties and "type" not in read_only
        assert not [t for t in properties.values() if t.startswith("child<")]


# The stand-in with instance properties: QEMU 7.2.22 and 10.0.13 start with
# each command line (test_stand_in_instance_table_matches_qemu re-checks).
# s390x machines have no instance properties of their own in either release.
STAND_IN_STARTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("ppc64", "7.2", ("-machine", "pseries-7.2,vsmt=8", "-smp", "2")),
    ("ppc64", "7.2", ("-machine", "pseries-7.2,resize-hpt=disabled,host-serial=none")),
    ("ppc64", "10.0", ("-machine", "pseries-10.0,vsmt=8", "-smp", "2")),
    ("ppc64", "10.0", ("-machine", "pseries-10.0,ic-mode=xics,modern-hotplug-events=off")),
    ("x86_64", "7.2", ("-machine", "pc-q35-7.2,nvdimm=on,hmat=on")),
    ("x86_64", "7.2", ("-machine", "microvm,hmat=off")),
    ("x86_64", "10.0", ("-machine", "pc-i440fx-10.0,nvdimm=on")),
    ("x86_64", "10.0", ("-machine", "microvm,hmat=off")),
    ("aarch64", "7.2", ("-machine", "virt-7.2,nvdimm=on")),
    ("aarch64", "7.2", ("-machine", "virt-7.2,hmat=off,nvdimm-persistence=cpu")),
    ("aarch64", "10.0", ("-machine", "virt-10.0,nvdimm=on,hmat=off")),
]
# ... and QEMU's one line on stderr (exit status 1) for names it does not reach.
STAND_IN_REFUSALS: list[tuple[str, str, tuple[str, ...], str]] = [
    (
        "s390x",
        "7.2",
        ("-machine", "s390-ccw-virtio-7.2,peripheral=x"),
        "Property 's390-ccw-virtio-7.2-machine.peripheral' is not writable",
    ),
    (
        "s390x",
        "10.0",
        ("-machine", "s390-ccw-virtio-10.0,peripheral=x"),
        "Property 's390-ccw-virtio-10.0-machine.peripheral' is not writable",
    ),
    (
        "ppc64",
        "10.0",
        ("-machine", "pseries-10.0,vfio-no-msix-emulation=on"),
        "Property 'pseries-10.0-machine.vfio-no-msix-emulation' is not writable",
    ),
    (
        "ppc64",
        "7.2",
        ("-machine", "pseries-7.2,rtc-time=x"),
        "Property 'pseries-7.2-machine.rtc-time' not found",
    ),
    (
        "x86_64",
        "7.2",
        ("-machine", "pc-q35-7.2,rtc-time=x"),
        "Property 'pc-q35-7.2-machine.rtc-time' not found",
    ),
    (
        "x86_64",
        "10.0",
        ("-machine", "q35,acpi-device=x"),
        "Property 'pc-q35-10.0-machine.acpi-device' not found",
    ),
]


def _row_id(row: tuple[Any, ...]) -> str:
    return f"{row[0]}-{row[1]}-{'_'.join(row[2])}"


@pytest.mark.parametrize("row", STAND_IN_STARTS, ids=_row_id)
def test_stand_in_starts_with_instance_properties(row: tuple[str, str, tuple[str, ...]]) -> None:
    target, version, args = row
    sim = QemuSimulator([f"qemu-system-{target}", *args], version=version)
    assert sim.program == f"qemu-system-{target}"


@pytest.mark.parametrize("row", STAND_IN_REFUSALS, ids=_row_id)
def test_stand_in_refuses_unreached_names(row: tuple[str, str, tuple[str, ...], str]) -> None:
    target, version, args, message = row
    with pytest.raises(QemuStartError) as refused:
        QemuSimulator([f"qemu-system-{target}", *args], version=version)
    assert refused.value.exit_code == 1
    assert refused.value.stderr.splitlines() == [f"qemu-system-{target}: {message}"]
