"""pseries ``-cpu`` aliases: the plugin's table against QEMU's own ``-cpu help``.

The catalogue (``topology/_resolve/data``) is QEMU 7.2.22's and 10.0.13's ``-cpu
help``; ``tests/differential/test_catalogue_data.py`` holds it to the running binaries.
"""

from __future__ import annotations

import re

import pytest

import topology
from arch.spapr._models import resolve_model
from topology._resolve import catalogue as _catalogue
from topology.qemu import QemuSimulator


@pytest.mark.parametrize("version", ["7.2", "10.0"])
def test_every_server_alias_resolves_as_qemu_does(version: str) -> None:
    models = _catalogue.cpu_models("ppc64", version)
    assert models is not None
    server = [name for name in models if re.match(r"power\d", name.lower())]
    assert len(server) > 10
    for name in server:
        expected = _catalogue.resolve_cpu_model("ppc64", version, name)
        assert resolve_model(name, topology.qemu_version(version)) == expected, name


@pytest.mark.parametrize(
    ("version", "cpu", "core_type"),
    [
        ("7.2", "power8", "power8_v2.0-spapr-cpu-core"),
        ("7.2", "POWER9", "power9_v2.0-spapr-cpu-core"),
        ("10.0", "power9", "power9_v2.2-spapr-cpu-core"),
        ("10.0", "power7+", "power7p_v2.1-spapr-cpu-core"),
    ],
)
def test_slots_name_the_resolved_core_type(version: str, cpu: str, core_type: str) -> None:
    sim = QemuSimulator(
        ["qemu-system-ppc64", "-M", "pseries", "-cpu", cpu, "-smp", "1,maxcpus=2"],
        version=version,
    )
    types = {entry["type"] for entry in sim.qmp("query-hotpluggable-cpus")["return"]}
    assert types == {core_type}
