"""Every release from 7.2 to 11.1 against QEMU's own replies on record, without QEMU.

libvirt keeps what real QEMU answered to ``query-machines`` and
``query-cpu-definitions``, release by release (``tests/qemucapabilitiesdata``
in its repository); ``tests/data/libvirt_caps/`` holds a transcription of the
records for 7.2 ... 11.1 (README.md there says which file, commit and QEMU
build each comes from).  For every record, the plugin's machine types (name,
alias, default, cpu-max, hot-plug, deprecated, default CPU type) and the
catalogue's CPU models (names and, where the record shows them, aliases) must
be the record's.  Two records are development snapshots (x86_64 and aarch64
11.1, ``v11.1.0-rc0``); they agree with the released 11.1.3 that
``tests/differential/test_catalogue.py`` runs, so they are held too, and the
row ids say ``rc0``.  If one ever disagrees, the release is right and the row
gets an exception here that says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import topology
from tools import libvirt_caps
from topology._resolve import catalogue

RECORDS = Path(__file__).resolve().parent.parent / "data" / "libvirt_caps"
# QOM type suffix of each target's CPU classes (as tests/differential/test_catalogue.py).
CPU_SUFFIX = libvirt_caps.CPU_SUFFIX


def _load() -> list[dict[str, Any]]:
    rows = []
    for path in sorted(RECORDS.glob("*.json")):
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        record["arch"] = path.name.rsplit("-", 1)[0]
        rows.append(record)
    return rows


RECORDS_ROWS = _load()


def _id(record: dict[str, Any]) -> str:
    qemu = record["qemu"]
    snapshot = "-" + qemu["package"].split("-", 1)[1] if qemu["development_snapshot"] else ""
    return f"{record['arch']}-{qemu['release']}{snapshot}"


def _source(record: dict[str, Any]) -> str:
    source = record["source"]
    return f"libvirt {source['path']} at {source['commit'][:12]} ({record['qemu']['package']})"


def _plugin_machines(arch: str, release: str) -> dict[str, dict[str, Any]]:
    version = topology.qemu_version(release)
    plugin = topology.get_arch(arch)
    default = plugin.default_machine(version)
    return {
        m.name: {
            "alias": m.aliases[0] if m.aliases else None,
            "hotplug_cpus": m.hotpluggable_cpus,
            "max_cpus": m.max_cpus,
            "default": m.name == default,
            "default_cpu": m.default_cpu + CPU_SUFFIX[arch] if m.default_cpu_listed else None,
            "deprecated": m.deprecated,
        }
        for m in plugin.machine_types(version)
    }


def _record_machines(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: {k: v for k, v in m.items() if k != "name"} for m in record["machines"]}


def _record_cpu_names(record: dict[str, Any]) -> set[str]:
    # The records were made with KVM on each target's own host; the captures
    # and the catalogue are binaries built for an x86 host, which list "host"
    # only on x86.  ppc64 looks names up case-folded.
    arch = record["arch"]
    names = record["cpu_models"]["names"]
    return {n.lower() if arch == "ppc64" else n for n in names if arch == "x86_64" or n != "host"}


@pytest.mark.parametrize("record", RECORDS_ROWS, ids=_id)
def test_record_says_where_it_comes_from(record: dict[str, Any]) -> None:
    source, qemu = record["source"], record["qemu"]
    release = qemu["release"]
    assert source["repository"] == "libvirt/libvirt"
    assert source["path"] == f"tests/qemucapabilitiesdata/caps_{release}.0_{record['arch']}.xml"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    major, minor = (int(p) for p in release.split("."))
    # QEMU numbers a snapshot before X.Y.0 as (X, Y - 1, 50 ... 99): 11000090 is 11.1.0-rc0.
    before = 1 if qemu["development_snapshot"] else 0
    assert qemu["version"] // 1000 == major * 1000 + minor - before
    assert qemu["development_snapshot"] == (qemu["package"] != f"v{release}.0")
    assert topology.qemu_version(release) in topology.SUPPORTED_QEMU_VERSIONS


@pytest.mark.parametrize("record", RECORDS_ROWS, ids=_id)
def test_plugin_machine_types_are_the_record(record: dict[str, Any]) -> None:
    # Name, alias, default, cpu-max, hot-plug, deprecated and default CPU type
    # of every machine type in the families cputopo models.
    ours = _plugin_machines(record["arch"], record["qemu"]["release"])
    assert ours == _record_machines(record), _source(record)


@pytest.mark.parametrize("record", RECORDS_ROWS, ids=_id)
def test_default_machine_is_the_record(record: dict[str, Any]) -> None:
    # aarch64 has none (query-machines marks no virt type as default).
    expected = next((m["name"] for m in record["machines"] if m["default"]), None)
    version = topology.qemu_version(record["qemu"]["release"])
    assert topology.get_arch(record["arch"]).default_machine(version) == expected, _source(record)


WITH_CPUS = [r for r in RECORDS_ROWS if r["cpu_models"] is not None]


@pytest.mark.parametrize("record", WITH_CPUS, ids=_id)
def test_catalogue_cpu_models_are_the_record(record: dict[str, Any]) -> None:
    arch, release = record["arch"], record["qemu"]["release"]
    models = catalogue.cpu_models(arch, release)
    assert models is not None
    assert set(models) == _record_cpu_names(record), _source(record)
    # Served from this release's own list (a capture or the record), not a neighbour's.
    assert str(catalogue.cpu_models_release(arch, release)) == release


@pytest.mark.parametrize("record", WITH_CPUS, ids=_id)
def test_catalogue_cpu_aliases_are_the_record(record: dict[str, Any]) -> None:
    arch, release = record["arch"], record["qemu"]["release"]
    aliases = record["cpu_models"]["aliases"]
    for name in record["cpu_models"]["names"]:
        if arch != "x86_64" and name == "host":
            continue
        # An alias instantiates the class its typename names; any other name its own.
        expected = aliases.get(name, name.lower() if arch == "ppc64" else name)
        if arch == "x86_64":
            # x86 registers every alias as a class of its own (typename NAME-x86_64-cpu).
            expected = name
        assert catalogue.resolve_cpu_model(arch, release, name) == expected, (name, _source(record))


def test_every_release_with_a_record_and_no_capture_has_its_own_cpu_list() -> None:
    derived = libvirt_caps.derived_files()
    on_disk = {
        p.name: p.read_text(encoding="utf-8")
        for p in (Path(catalogue.__file__).parent / "data" / "releases").glob("*.json")
    }
    # python3 -m tools.libvirt_caps derive writes exactly these files.
    assert on_disk == {name: libvirt_caps.dump(content) for name, content in derived.items()}
    for record in WITH_CPUS:
        release = record["qemu"]["release"]
        if release in libvirt_caps.CAPTURED or record["qemu"]["development_snapshot"]:
            continue
        assert f"{record['arch']}-{release}.json" in on_disk


@pytest.mark.parametrize("version", [str(v) for v in topology.SUPPORTED_QEMU_VERSIONS])
def test_arm_plugin_models_are_the_catalogue(version: str) -> None:
    # The arm plugin's own table of models (which -cpu names exist) and the
    # catalogue's must say the same for every release.
    from arch.arm._cpus import cpu_models

    listed = catalogue.cpu_models("aarch64", version)
    assert listed is not None
    assert cpu_models(topology.qemu_version(version)) == set(listed)


# --- tools/libvirt_caps.py on a caps file in libvirt's format (made up here) ---

CAPS = """<qemuCaps>
  <version>10000000</version>
  <package>v10.0.0</package>
  <cpu type='kvm' name='POWER10' typename='host-powerpc64-cpu'/>
  <cpu type='tcg' name='POWER10' typename='power10_v2.0-powerpc64-cpu'/>
  <cpu type='tcg' name='power10_v2.0'/>
  <cpu type='tcg' name='power9_v2.2' typename='power9_v2.2-powerpc64-cpu'/>
  <machine type='kvm' name='pseries-10.0' alias='pseries' hotplugCpus='yes' maxCpus='4096'
    default='yes' defaultCPU='host-powerpc64-cpu'/>
  <machine type='tcg' name='pseries-10.0' alias='pseries' hotplugCpus='yes' maxCpus='4096'
    default='yes' defaultCPU='power10_v2.0-powerpc64-cpu' defaultRAMid='ppc_spapr.ram'/>
  <machine type='tcg' name='powernv9' maxCpus='2048' defaultCPU='power9_v2.2-powerpc64-cpu'/>
  <machine type='tcg' name='pseries-4.1' hotplugCpus='yes' maxCpus='4096'
    defaultCPU='power9_v2.2-powerpc64-cpu' deprecated='yes'/>
  <machine type='tcg' name='x-remote' maxCpus='1'/>
</qemuCaps>
"""


def test_convert_reads_the_tcg_machines_and_the_cpu_aliases() -> None:
    record = libvirt_caps.convert(CAPS, arch="ppc64", release="10.0", path="p", commit="c")
    assert record["qemu"] == {
        "release": "10.0",
        "version": 10000000,
        "package": "v10.0.0",
        "development_snapshot": False,
    }
    assert record["machines"] == [
        {
            "name": "pseries-10.0",
            "alias": "pseries",
            "hotplug_cpus": True,
            "max_cpus": 4096,
            "default": True,
            "default_cpu": "power10_v2.0-powerpc64-cpu",
            "deprecated": False,
        },
        {
            "name": "pseries-4.1",
            "alias": None,
            "hotplug_cpus": True,
            "max_cpus": 4096,
            "default": False,
            "default_cpu": "power9_v2.2-powerpc64-cpu",
            "deprecated": True,
        },
    ]
    assert record["cpu_models"] == {
        "accelerator": "tcg",
        "names": ["POWER10", "power10_v2.0", "power9_v2.2"],
        "aliases": {"POWER10": "power10_v2.0"},
    }


def test_convert_marks_a_development_snapshot() -> None:
    caps = CAPS.replace("v10.0.0", "v11.1.0-rc0").replace("10000000", "11000090")
    record = libvirt_caps.convert(caps, arch="ppc64", release="11.1", path="p", commit="c")
    assert record["qemu"]["development_snapshot"] is True


def test_derive_takes_the_x86_aliases_from_the_capture() -> None:
    record = {
        "source": {"path": "tests/qemucapabilitiesdata/caps_8.0.0_x86_64.xml", "commit": "c"},
        "qemu": {"release": "8.0", "package": "v8.0.0"},
        "cpu_models": {
            "names": ["host", "Broadwell-v1", "Broadwell", "Broadwell-IBRS"],
            "aliases": {},
        },
    }
    captured = {
        "aliases": {"Broadwell-IBRS": "Broadwell-v3", "Haswell-IBRS": "Haswell-v3"},
        "deprecated": ["Haswell"],
    }
    derived = libvirt_caps.derive(record, captured)
    assert derived["names"] == ["Broadwell", "Broadwell-IBRS", "Broadwell-v1", "host"]
    assert derived["aliases"] == {"Broadwell-IBRS": "Broadwell-v3"}
    assert derived["machine_versioned"] == ["Broadwell"]
    assert derived["deprecated"] == []
