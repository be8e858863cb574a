"""The machine catalogue against real QEMU's ``query-machines`` (7.2, 10.0, 11.1).

For every machine type cputopo models, QEMU's own answer gives the name, the
alias, whether it is the default, ``cpu-max``, whether CPUs can be hot-plugged,
whether it is deprecated and its default CPU type; the model must agree, and
must list exactly the types QEMU lists in those families.
"""

from __future__ import annotations

from typing import Any

import pytest

import topology
from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, run_qemu

pytestmark = pytest.mark.qemu

FAMILIES = ("pc-i440fx-", "pc-q35-", "pseries-", "s390-ccw-virtio-", "virt-")
SINGLES = ("microvm", "isapc")
# QOM type suffix of each target's CPU classes (target/*/cpu-qom.h).
CPU_SUFFIX = {
    "x86_64": "-x86_64-cpu",
    "ppc64": "-powerpc64-cpu",
    "s390x": "-s390x-cpu",
    "aarch64": "-arm-cpu",
}
# Any machine of the target will do to ask query-machines.
PROBE_MACHINE = {
    "x86_64": "pc-q35-7.2",
    "ppc64": "pseries-7.2",
    "s390x": "s390-ccw-virtio-7.2",
    "aarch64": "virt-7.2",
}


@pytest.mark.parametrize("version", QEMU_VERSIONS)
@pytest.mark.parametrize("arch", sorted(CPU_SUFFIX))
def test_catalogue_matches_query_machines(arch: str, version: str) -> None:
    require_qemu(arch, version)
    run = run_qemu(
        arch, ["-machine", PROBE_MACHINE[arch]], [("query-machines", None)], version=version
    )
    entries: list[dict[str, Any]] = run.replies[0]["return"]  # type: ignore[assignment]
    qemu = {
        entry["name"]: {
            "alias": entry.get("alias"),
            "default": entry.get("is-default", False),
            "cpu_max": entry["cpu-max"],
            "hotpluggable": entry["hotpluggable-cpus"],
            "deprecated": entry["deprecated"],
            "cpu_type": entry.get("default-cpu-type"),
        }
        for entry in entries
        if entry["name"].startswith(FAMILIES) or entry["name"] in SINGLES
    }
    plugin = topology.get_arch(arch)
    default = plugin.default_machine(topology.qemu_version(version))
    ours = {
        machine_type.name: {
            "alias": machine_type.aliases[0] if machine_type.aliases else None,
            "default": machine_type.name == default,
            "cpu_max": machine_type.max_cpus,
            "hotpluggable": machine_type.hotpluggable_cpus,
            "deprecated": machine_type.deprecated,
            "cpu_type": machine_type.default_cpu + CPU_SUFFIX[arch]
            if machine_type.default_cpu_listed
            else None,
        }
        for machine_type in plugin.machine_types(topology.qemu_version(version))
    }
    assert ours == qemu
