"""The catalogue of QEMU's names (``topology.qemu._catalogue``) and the option-case table.

The first half needs no QEMU: the data files load for every target and
captured release, lookups answer as QEMU 7.2 and 10.0 were seen to answer
(each fact below was measured; see the comments), and the machine types agree
with what the architecture plugins say.  The tests marked ``qemu`` compare the
data with the QEMU binaries installed now, so that it cannot go stale
silently: whole help texts where one run gives them all (``-machine help``,
``-cpu help``, ``-accel help``), a Hypothesis sample of machine types for
``-machine TYPE,help`` (``CPUTOPO_QEMU_EXAMPLES``, default 40, sets its size
per target and release), the CPU class QEMU instantiates for sample aliases,
and every row of ``tests/qemu_tables/option_cases.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import topology
from tests.conftest import require_qemu
from tests.qemu_runner import qemu_command, run_qemu
from tests.qemu_tables import capture_option_cases
from tests.qemu_tables.option_cases import ROWS
from topology.qemu import _capture
from topology.qemu import _catalogue as catalogue

EXAMPLES = int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "40"))
CAPTURED = ("7.2", "10.0")
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
    # "No machine specified, and there is no default" (option_cases.py).
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
        _help(target, version, "-cpu", "help"), aliases_are_classes=target == "x86_64"
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
