"""The catalogue of QEMU's names (``topology._resolve.catalogue``) and the option-case table.

The first half needs no QEMU: the data files load for every target and
captured release, lookups answer as QEMU 7.2 and 10.0 were seen to answer
(each fact below was measured; see the comments), and the machine types agree
with what the architecture plugins say.  The tests marked ``qemu`` compare the
data with the QEMU binaries installed now, so that it cannot go stale
silently: whole help texts where one run gives them all (``-machine help``,
``-cpu help``, ``-accel help``), a Hypothesis sample of machine types for
``-machine TYPE,help`` (an eighth of ``CPUTOPO_QEMU_EXAMPLES``, 40 by default, sets its size
per target and release), a sample of the ``-machine`` properties QEMU adds
per instance (listed ones are reached, others are not found), the CPU class
QEMU instantiates for sample aliases, the stand-in's table of instance
property cases, and every row of ``tests/data/option_cases.json``.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import topology
from tests.data import capture_option_cases
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import qemu_command, run_qemu
from tools import capture_catalogue as _capture
from topology._resolve import catalogue
from topology.qemu import QemuSimulator, QemuStartError

# An eighth of the suite-wide count, like the other new QEMU-backed files.
EXAMPLES = max(4, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)
CAPTURED = ("7.2", "10.0")
ROWS = capture_option_cases.load_rows()
PAIRS = [(t, v) for t in catalogue.TARGETS for v in CAPTURED]
# The machine families the plugins model (as in tests/test_qemu_catalogue.py).
FAMILIES = ("pc-i440fx-", "pc-q35-", "pseries-", "s390-ccw-virtio-", "virt-")
SINGLES = ("microvm", "isapc")


def _ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


# --- the data, without QEMU ---------------------------------------------------


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_every_target_and_release_loads(pair: tuple[str, str]) -> None:
    target, version = pair
    machines = catalogue.machine_types(target, version)
    assert machines is not None and len(machines) > 20
    for entry in machines:
        assert catalogue.resolve_machine_type(target, version, entry.name) == entry.name
        if entry.alias is not None:
            selected = catalogue.resolve_machine_type(target, version, entry.alias)
            assert selected is not None
            assert entry.alias in {m.alias for m in machines if m.name == selected}
        properties = catalogue.machine_properties(target, entry.name, version)
        assert properties is not None and "smp" in properties
    models = catalogue.cpu_models(target, version)
    assert models is not None and len(models) > 40
    for name, alias_of in models.items():
        assert alias_of is None or alias_of in models
        resolved = catalogue.resolve_cpu_model(target, version, name)
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
    # -machine help marks it "(default)" (QEMU 7.2 and 10.0).
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
    # -accel help: only x86_64 is built with KVM in Debian's packages (7.2 and 10.0).
    for version in CAPTURED:
        assert catalogue.accelerators("x86_64", version) == ("tcg", "kvm")
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
    wanted = topology.qemu_version(version)
    served = catalogue.captured_version(version)
    assert served in catalogue.CAPTURED_VERSIONS and served <= wanted
    assert all(not served < v <= wanted for v in catalogue.CAPTURED_VERSIONS)
    assert catalogue.machine_types("x86_64", version) == catalogue.machine_types(
        "x86_64", str(served)
    )


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


def test_option_table_covers_both_releases() -> None:
    cases = {(r["target"], r["args"]) for r in ROWS}
    assert len(cases) == len(capture_option_cases.CASES)
    for case in cases:
        versions = sorted(r["version"] for r in ROWS if (r["target"], r["args"]) == case)
        assert versions == ["10.0", "7.2"], case
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


# --- the data against the QEMU installed now -----------------------------------


def _help(target: str, version: str, *args: str) -> str:
    require_qemu(target, version)
    done = subprocess.run(
        [*qemu_command(target, version), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.mark.qemu
@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_whole_lists_match_qemu(pair: tuple[str, str]) -> None:
    target, version = pair
    machines = catalogue.machine_types(target, version)
    assert machines is not None
    assert catalogue.format_machine_list(machines) == _help(target, version, "-machine", "help")
    cpu = _capture.parse_cpu_help(
        _help(target, version, "-cpu", "help"),
        aliases_are_classes=target == "x86_64",
        names_case_folded=target == "ppc64",
    )
    assert catalogue.cpu_models(target, version) == {
        name: cpu["aliases"].get(name)  # type: ignore[attr-defined]
        for name in cpu["descriptions"]  # type: ignore[attr-defined]
    }
    assert catalogue.machine_versioned_cpu_models(target, version) == set(
        cpu["machine_versioned"]  # type: ignore[call-overload]
    )
    accel = _help(target, version, "-accel", "help").split("\n")[1:]
    assert catalogue.accelerators(target, version) == tuple(line for line in accel if line)
    device = catalogue.cpu_device_type(target, version)
    assert device is not None
    rows = _capture.parse_properties(_help(target, version, "-device", f"{device},help"), device)
    assert catalogue.cpu_device_properties(target, version) == {r[0]: r[1] for r in rows}


@pytest.mark.qemu
@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_machine_properties_match_qemu(pair: tuple[str, str]) -> None:
    target, version = pair
    require_qemu(target, version)
    machines = catalogue.machine_types(target, version)
    assert machines is not None
    names = [m.name for m in machines] + [m.alias for m in machines if m.alias is not None]

    @settings(max_examples=EXAMPLES, database=None)
    @given(st.sampled_from(names))
    def check(name: str) -> None:
        expected = catalogue.machine_property_help(target, name, version)
        assert expected == _help(target, version, "-machine", f"{name},help")

    check()


CLASS_CASES = [
    # (target, -cpu name, hot-plug type suffix); the type must be resolve + suffix.
    ("x86_64", "Broadwell-IBRS", "-x86_64-cpu"),
    ("x86_64", "Skylake-Client", "-x86_64-cpu"),
    ("ppc64", "POWER9", "-spapr-cpu-core"),
    ("ppc64", "power8", "-spapr-cpu-core"),
    ("s390x", "max", "-s390x-cpu"),  # z14 and the like: TCG lacks their features
]


@pytest.mark.qemu
@pytest.mark.parametrize("version", CAPTURED)
@pytest.mark.parametrize(("target", "name", "suffix"), CLASS_CASES)
def test_resolved_cpu_model_is_the_class_qemu_plugs(
    target: str, name: str, suffix: str, version: str
) -> None:
    require_qemu(target, version)
    run = run_qemu(
        target,
        ["-cpu", name, "-smp", "1,maxcpus=2"],
        [("query-hotpluggable-cpus", None)],
        version=version,
    )
    slots: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
    resolved = catalogue.resolve_cpu_model(target, version, name)
    assert resolved is not None
    assert {slot["type"] for slot in slots} == {resolved + suffix}


def _can_hide_kvm() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.mark.qemu
@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['version']}-{r['target']}-{'_'.join(r['args'])}" for r in ROWS]
)
def test_option_table_matches_qemu(row: dict[str, Any]) -> None:
    require_qemu(row["target"], row["version"])
    if row["version"] == "7.2" and not _can_hide_kvm():
        pytest.skip("hiding /dev/kvm from QEMU 7.2 needs root and unshare")
    now = capture_option_cases.run_case(row["target"], row["version"], row["args"])
    # The greeting races a refusal during machine set-up; compare it on good starts only.
    keys = [k for k in row if k != "greeted" or row["exit_code"] == 0]
    assert {k: now.get(k) for k in keys} == {k: row[k] for k in keys}
    assert set(now) == set(row)


@pytest.mark.qemu
@pytest.mark.parametrize("row", [*STAND_IN_STARTS, *STAND_IN_REFUSALS], ids=_row_id)
def test_stand_in_instance_table_matches_qemu(row: tuple[Any, ...]) -> None:
    target, version, args = row[:3]
    require_qemu(target, version)
    run = run_qemu(target, list(args), version=version, timeout=30)
    errors = [line for line in run.stderr_lines if ": warning: " not in line]
    if len(row) == 3:
        assert (run.exit_code, run.greeted, errors) == (0, True, [])
    else:
        assert (run.exit_code, errors) == (1, [f"qemu-system-{target}: {row[3]}"])


_GARBAGE = "cputopo-garbage"
# What -machine takes besides properties (system/vl.c, the legacy accelerator
# options and the type selector), and the help request.
_NOT_PROPERTIES = frozenset({"accel", "kernel-irqchip", "kvm-shadow-mem", "type", "help"})


def _machine_args(target: str, version: str, machine: str, option: str) -> list[str]:
    """-machine machine,option plus what the capture needed to start that type."""
    extra: list[str] = []
    for method, names in _raw(target, version)["machine_instance_capture"].items():
        if machine not in names:
            continue
        hint = re.match(r"started with -machine TYPE,(\S+?);", method)
        if hint is not None:
            option = f"{hint[1]},{option}"
        if method.startswith("started with -audio none;"):
            extra = ["-audio", "none"]
    return ["-machine", f"{machine},{option}", *extra]


def _refusal(target: str, version: str, machine: str, option: str) -> str | None:
    """How QEMU refuses a machine property of ``machine``: "not found", "is not writable", None."""
    run = run_qemu(
        target, _machine_args(target, version, machine, option), version=version, timeout=30
    )
    pattern = re.compile(
        rf"Property '{re.escape(machine)}-machine\.[^']*' (not found|is not writable)"
    )
    for line in run.stderr_lines:
        match = pattern.search(line)
        if match is not None:
            return match[1]
    return None


@pytest.mark.qemu
@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_listed_machine_properties_reach_qemu(pair: tuple[str, str]) -> None:
    target, version = pair
    require_qemu(target, version)
    machines = catalogue.machine_types(target, version)
    assert machines is not None
    listed: list[tuple[str, str, str | None]] = []  # (type, name, expected refusal)
    instance: list[tuple[str, str, str | None]] = []
    for entry in machines:
        properties = catalogue.machine_properties(target, entry.name, version) or {}
        help_text = catalogue.machine_property_help(target, entry.name, version) or ""
        for name in properties:
            if name == "dumpdtb":  # writes the device tree to a file named by the value
                continue
            row = (entry.name, name, None)
            listed.append(row)
            if f"  {name}=<" not in help_text:
                instance.append(row)
        for name in catalogue.machine_read_only_properties(target, entry.name, version) or ():
            instance.append((entry.name, name, "is not writable"))
    assert instance
    # Mostly what the instance capture added: the class properties have the help check.
    rows = st.one_of(st.sampled_from(instance), st.sampled_from(instance), st.sampled_from(listed))

    @settings(max_examples=max(2, EXAMPLES // 4), database=None, deadline=None)
    @given(rows)
    def check(row: tuple[str, str, str | None]) -> None:
        machine, name, expected = row
        assert _refusal(target, version, machine, f"{name}={_GARBAGE}") == expected

    check()


@pytest.mark.qemu
@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_unlisted_names_are_not_found_by_qemu(pair: tuple[str, str]) -> None:
    target, version = pair
    require_qemu(target, version)
    machines = catalogue.machine_types(target, version)
    assert machines is not None
    # Names other types of the target list (vsmt for 40p), or made up.
    known = sorted(
        {n for m in machines for n in catalogue.machine_properties(target, m.name, version) or ()}
    )
    names = st.one_of(st.sampled_from(known), st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True))

    @settings(max_examples=max(2, EXAMPLES // 8), database=None, deadline=None)
    @given(st.sampled_from([m.name for m in machines]), names)
    def check(machine: str, name: str) -> None:
        properties = catalogue.machine_properties(target, machine, version) or {}
        read_only = catalogue.machine_read_only_properties(target, machine, version) or ()
        if name in properties or name in read_only or name in _NOT_PROPERTIES:
            return
        assert _refusal(target, version, machine, f"{name}={_GARBAGE}") == "not found"

    check()
