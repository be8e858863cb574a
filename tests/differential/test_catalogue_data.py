"""The catalogue of QEMU's names and the option-case table against the QEMU installed now.

So that the data cannot go stale silently, QEMU 7.2 and 10.0 are asked again:
whole help texts where one run gives them all (``-machine help``, ``-cpu
help``, ``-accel help``), a Hypothesis sample of machine types for ``-machine
TYPE,help`` (an eighth of ``CPUTOPO_QEMU_EXAMPLES``, 40 by default, sets its
size per target and release), a sample of the ``-machine`` properties QEMU
adds per instance (listed ones are reached, others are not found), the CPU
class QEMU instantiates for sample aliases, the stand-in's table of instance
property cases, and every row of ``tests/data/option_cases.json``. The same
data without QEMU: ``tests/unit/test_catalogue_data.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.data import capture_option_cases
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import qemu_command, run_qemu
from tests.unit.test_catalogue_data import (
    CAPTURED,
    PAIRS,
    ROWS,
    STAND_IN_REFUSALS,
    STAND_IN_STARTS,
    _ids,
    _raw,
    _row_id,
)
from tools import capture_catalogue as _capture
from topology._resolve import catalogue

# An eighth of the suite-wide count, like the other new QEMU-backed files.
EXAMPLES = max(4, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 8)


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
