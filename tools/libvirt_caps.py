"""Recorded QEMU replies from libvirt's test data, and the catalogue's per-release CPU lists.

libvirt keeps what real QEMU answered, release by release and target by target,
in ``tests/qemucapabilitiesdata/caps_<X.Y>.0_<arch>.xml`` (its own summary of
the ``.replies`` next to it).  Two steps use them::

    python3 -m tools.libvirt_caps convert CAPS.xml --arch A --release X.Y \\
        --path tests/qemucapabilitiesdata/caps_X.Y.0_A.xml --commit SHA [--out FILE]
    python3 -m tools.libvirt_caps derive [--out DIR]

``convert`` turns one caps file into the compact form kept under
``tests/data/libvirt_caps/`` (:func:`convert`): the machine types of the
families cputopo models, from the record's ``tcg`` list, and the CPU model
names with their aliases.  ``derive`` writes
``topology/_resolve/data/releases/<target>-<X.Y>.json`` from those files and
the captured catalogue (:func:`derive`): the CPU models of each release that
has a record but no captured binary (a development snapshot's record is not
used).  The committed record files were transcribed by reading the caps files
at the commit each one names; ``tests/data/libvirt_caps/README.md`` says how.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from topology.plugin import release_key

REPO: Final = Path(__file__).resolve().parent.parent
RECORDS: Final = REPO / "tests" / "data" / "libvirt_caps"
CATALOGUE: Final = REPO / "topology" / "_resolve" / "data"
CAPTURED: Final = ("7.2", "10.0", "11.1")

# QOM type suffix of each target's CPU classes (target/*/cpu-qom.h).
CPU_SUFFIX: Final = {
    "x86_64": "-x86_64-cpu",
    "ppc64": "-powerpc64-cpu",
    "s390x": "-s390x-cpu",
    "aarch64": "-arm-cpu",
}
# The machine types cputopo models (as tests/differential/test_catalogue.py).
FAMILIES: Final = {
    "x86_64": ("pc-i440fx-", "pc-q35-"),
    "ppc64": ("pseries-",),
    "s390x": ("s390-ccw-virtio-",),
    "aarch64": ("virt-",),
}
SINGLES: Final = {"x86_64": ("isapc", "microvm")}
# Which of the record's two CPU lists was read.  They name the same models;
# the s390x tcg list repeats each model with a long list of blockers, so the
# transcription read the kvm one.
CPU_LIST: Final = {"x86_64": "tcg", "ppc64": "tcg", "s390x": "kvm", "aarch64": "tcg"}


def convert(text: str, *, arch: str, release: str, path: str, commit: str) -> dict[str, Any]:
    """The compact record of one libvirt caps file (the text of ``caps_X.Y.0_ARCH.xml``).

    Machines: the ``<machine type='tcg'>`` entries of the families cputopo
    models, in the file's order, with ``alias``, ``hotplugCpus``, ``maxCpus``,
    ``default``, ``defaultCPU`` and ``deprecated`` (an absent attribute is no
    alias, no hot-plug, not the default, no default CPU, not deprecated).  CPU
    models: the ``<cpu>`` entries of the list :data:`CPU_LIST` names; an entry
    whose ``typename`` is not ``NAME`` + the target's suffix is an alias of the
    model its typename names.

    >>> caps = '''<qemuCaps><version>9002000</version><package>v9.2.0</package>
    ... <cpu type='kvm' name='z13' typename='z13-s390x-cpu' usable='yes'/>
    ... <machine type='tcg' name='s390-ccw-virtio-9.2' alias='s390-ccw-virtio'
    ...   hotplugCpus='yes' maxCpus='248' default='yes' defaultCPU='qemu-s390x-cpu'/>
    ... <machine type='tcg' name='x-remote' maxCpus='1'/></qemuCaps>'''
    >>> record = convert(caps, arch="s390x", release="9.2", path="p", commit="c")
    >>> record["machines"][0]["max_cpus"], [m["name"] for m in record["machines"]]
    (248, ['s390-ccw-virtio-9.2'])
    >>> record["cpu_models"]
    {'accelerator': 'kvm', 'names': ['z13'], 'aliases': {}}
    """
    root = ElementTree.fromstring(text)
    package = root.findtext("package", "")
    machines = [
        {
            "name": m.attrib["name"],
            "alias": m.get("alias"),
            "hotplug_cpus": m.get("hotplugCpus") == "yes",
            "max_cpus": int(m.attrib["maxCpus"]),
            "default": m.get("default") == "yes",
            "default_cpu": m.get("defaultCPU"),
            "deprecated": m.get("deprecated") == "yes",
        }
        for m in root.iter("machine")
        if m.get("type") == "tcg" and _modelled(arch, m.attrib["name"])
    ]
    accelerator = CPU_LIST[arch]
    names: list[str] = []
    aliases: dict[str, str] = {}
    for cpu in root.iter("cpu"):
        if cpu.get("type") != accelerator:
            continue
        name = cpu.attrib["name"]
        names.append(name)
        typename = cpu.get("typename")
        if typename is not None and typename != name + CPU_SUFFIX[arch]:
            aliases[name] = typename.removesuffix(CPU_SUFFIX[arch])
    return {
        "source": {"repository": "libvirt/libvirt", "path": path, "commit": commit},
        "qemu": {
            "release": release,
            "version": int(root.findtext("version", "0")),
            "package": package,
            "development_snapshot": "-" in package,
        },
        "notes": [],
        "machines": machines,
        "cpu_models": {"accelerator": accelerator, "names": names, "aliases": aliases},
    }


def _modelled(arch: str, name: str) -> bool:
    return name.startswith(FAMILIES[arch]) or name in SINGLES.get(arch, ())


def derive(record: Mapping[str, Any], captured_cpu: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue's CPU models for a release that has a record but no captured binary.

    ``captured_cpu`` is the ``cpu`` part of the nearest captured release below
    (``topology/_resolve/data/<target>-<X.Y>.json``).  Names: the record's, in
    its order, without ``host`` outside x86 (the captures are binaries built
    for an x86 host, which list ``host`` only for x86; libvirt's records were
    made on each target's own host, with KVM).  Aliases: the record's own
    (ppc64) or, where the record shows none because every alias is a class
    of its own (x86), the captured release's alias table for the names the
    record lists.  Names are sorted: the order of ``-cpu help`` is not kept.
    ``machine_versioned`` (x86): every ``X`` listed with an ``X-v1``, which is
    the rule every captured x86 list follows.
    ``deprecated``: the captured release's, for the names listed (libvirt does
    not record it).
    """
    arch = _arch_of(record)
    cpu = record["cpu_models"]
    names = sorted(n for n in cpu["names"] if arch == "x86_64" or n != "host")
    listed = set(names)
    if cpu["aliases"]:
        aliases = dict(cpu["aliases"])
    else:
        aliases = {a: t for a, t in captured_cpu["aliases"].items() if a in listed}
    versioned = sorted(n for n in names if f"{n}-v1" in listed) if arch == "x86_64" else []
    source = record["source"]
    return {
        "release": record["qemu"]["release"],
        "source": (
            f"libvirt {source['path']} at {source['commit']} (QEMU {record['qemu']['package']}),"
            f" transcribed in tests/data/libvirt_caps/{arch}-{record['qemu']['release']}.json"
        ),
        "names": names,
        "aliases": aliases,
        "machine_versioned": versioned,
        "deprecated": sorted(n for n in captured_cpu["deprecated"] if n in listed),
    }


def _arch_of(record: Mapping[str, Any]) -> str:
    # tests/qemucapabilitiesdata/caps_10.1.0_x86_64.xml
    name = Path(record["source"]["path"]).name
    return name.split("_", 2)[2].removesuffix(".xml")


def derived_files() -> dict[str, dict[str, Any]]:
    """File name to content of every per-release CPU file the records give."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(RECORDS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        release = record["qemu"]["release"]
        if record["cpu_models"] is None or release in CAPTURED:
            continue
        if record["qemu"]["development_snapshot"]:
            continue
        arch = _arch_of(record)
        below = max((r for r in CAPTURED if release_key(r) < release_key(release)), key=release_key)
        captured = json.loads((CATALOGUE / f"{arch}-{below}.json").read_text(encoding="utf-8"))
        out[f"{arch}-{release}.json"] = derive(record, captured["cpu"])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.libvirt_caps")
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("convert", help="one libvirt caps .xml to the compact record")
    one.add_argument("xml", type=Path)
    one.add_argument("--arch", required=True, choices=sorted(CPU_SUFFIX))
    one.add_argument("--release", required=True)
    one.add_argument("--path", required=True, help="the file's path in libvirt")
    one.add_argument("--commit", required=True, help="the libvirt commit it was read at")
    one.add_argument("--out", type=Path, help="write here instead of stdout")
    every = sub.add_parser("derive", help="write the catalogue's per-release CPU files")
    every.add_argument("--out", type=Path, default=CATALOGUE / "releases")
    args = parser.parse_args(argv)
    if args.command == "convert":
        record = convert(
            args.xml.read_text(encoding="utf-8"),
            arch=args.arch,
            release=args.release,
            path=args.path,
            commit=args.commit,
        )
        text = dump_record(record)
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.write_text(text, encoding="utf-8")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in derived_files().items():
        (args.out / name).write_text(dump(content), encoding="utf-8")
    return 0


def dump(content: Mapping[str, Any]) -> str:
    """The text a derived file is written as (what the tests compare with)."""
    return json.dumps(content, indent=1) + "\n"


def dump_record(record: Mapping[str, Any]) -> str:
    """A record as the files under ``tests/data/libvirt_caps/`` hold it: one machine a line.

    >>> print(dump_record({"qemu": {"release": "9.2"}, "machines": [{"name": "m"}],
    ...                    "cpu_models": None}), end="")
    {
     "qemu": {"release": "9.2"},
     "machines": [
      {"name": "m"}
     ],
     "cpu_models": null
    }
    """
    lines = []
    for key, value in record.items():
        if key == "machines":
            rows = ",\n".join(f"  {json.dumps(m)}" for m in value)
            lines.append(f' "machines": [\n{rows}\n ]')
        elif key == "notes":
            rows = ",\n".join(f"  {json.dumps(n)}" for n in value)
            lines.append(f' "notes": [\n{rows}\n ]' if value else ' "notes": []')
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    raise SystemExit(main())
