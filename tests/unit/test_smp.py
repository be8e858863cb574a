"""``-smp`` resolution on single examples: QEMU 7.2's messages, zero counts by
release, and 32-bit wrap-around (the properties are in ``tests/property/test_smp.py``;
QEMU's own parser table in ``test_smp_parse_table.py``).
"""

from __future__ import annotations

import pytest

import topology
from topology import TopologyError


@pytest.mark.parametrize(
    ("smp", "message"),
    [
        # Observed on QEMU 7.2 (pc-q35-7.2, TCG); see tests/differential/test_smp.py for the
        # live comparison.
        (",4", "-smp ,4: Invalid parameter ''"),
        ("4,sockets", "-smp 4,sockets: Expected '=' after parameter 'sockets'"),
        ("4,=2", "-smp 4,=2: Invalid parameter ''"),
        ("4,,5", "-smp 4,,5: Invalid parameter ''"),
        ("0x", "Parameter 'smp.cpus' expects integer"),
        ("08", "Parameter 'smp.cpus' expects integer"),
        ("4,sockets=", "Parameter 'smp.sockets' expects integer"),
        ("4,id=x", "Parameter 'smp.id' is unexpected"),
        ("4,books=2", "Parameter 'smp.books' is unexpected"),
        ("-1", "Invalid SMP CPUs -1. The max CPUs supported by machine 'pc-q35-7.2' is 288"),
        ("4,clusters=2", "clusters not supported by this machine's CPU topology"),
    ],
)
def test_qemu_7_2_messages(smp: str, message: str) -> None:
    q35 = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
    with pytest.raises(TopologyError) as excinfo:
        q35.resolve(smp)
    assert str(excinfo.value) == message


def test_zero_warns_on_7_2_and_fails_from_9_0() -> None:
    old = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2").resolve("4,sockets=0")
    assert (old.sockets, old.cores) == (1, 4)
    assert [w.message for w in old.warnings] == [
        "Deprecated CPU topology (considered invalid): "
        "CPU topology parameters must be greater than zero"
    ]
    with pytest.raises(topology.InvalidTopologyError, match="must be greater than zero"):
        topology.machine("x86_64", "pc-q35-7.2", qemu_version="9.0").resolve("4,sockets=0")


def test_values_wrap_at_32_bits() -> None:
    # 2^32 truncates to 0, which means "omitted": one CPU, no warning (QEMU 7.2 and 10).
    for version in ("7.2", "10.0"):
        topo = topology.machine("x86_64", "q35", qemu_version=version).resolve("4294967296")
        assert topo.cpus == 1 and topo.warnings == ()
