"""The LPAR profile: Linux's configure/online rules on SMT cores, and chcpu's messages.

Facts from Linux ``arch/s390/kernel/smp.c`` (cpu_configure_store,
smp_add_core, __cpu_up, smp_add_present_cpu), ``topology.c``
(dispatching_store, cpu_polarization_show) and util-linux
``sys-utils/chcpu.c`` (cpu_configure, cpu_enable); each test names its rule. The
state machine is in ``tests/property/test_s390x_lpar.py``.
"""

from __future__ import annotations

import pytest

from arch.s390x import CpuIdentity, LparCore, LparError, LparProfile, lpar_identities

CORES = [
    LparCore(core_id=4, socket_id=1, book_id=1, entitlement="high", dedicated=True),
    LparCore(core_id=0, entitlement="medium"),
    LparCore(core_id=9, configured=False, entitlement="low"),
    LparCore(core_id=2, entitlement="low"),
]


def smt_lpar() -> LparProfile:
    return LparProfile(CORES, threads=2)


def test_numbering_and_addresses() -> None:
    """smp_add_core: IPL core first, configured then standby; address = core << 1 | thread."""
    cpus = smt_lpar().cpus()
    assert [(c.cpu, c.core_id, c.address) for c in cpus] == [
        (0, 4, 8),
        (1, 4, 9),
        (2, 0, 0),
        (3, 0, 1),
        (4, 2, 4),
        (5, 2, 5),
        (6, 9, 18),
        (7, 9, 19),
    ]
    assert [c.configured for c in cpus] == [True] * 6 + [False] * 2
    assert [c.online for c in cpus] == [True] * 6 + [False] * 2


def test_without_smt_the_address_is_the_core_id() -> None:
    assert [c.address for c in LparProfile(CORES).cpus()] == [4, 0, 2, 9]


@pytest.mark.parametrize(
    ("generation", "threads", "message"),
    [
        ("zEC12", 2, "zEC12 cores run at most 1 thread(s), not 2"),
        ("z16", 3, "z16 cores run at most 2 thread(s), not 3"),
        ("z99", 1, "unknown machine generation 'z99'; known: z196, zEC12, z13, z14, z15, z16, z17"),
    ],
)
def test_smt_needs_z13(generation: str, threads: int, message: str) -> None:
    with pytest.raises(ValueError) as error:
        LparProfile(CORES, threads=threads, generation=generation)
    assert str(error.value) == message


def test_sysfs_view() -> None:
    lpar = smt_lpar()
    files = lpar.sysfs()
    assert files["dispatching"] == "0\n"
    assert files["cpu0/address"] == "8\n"
    assert "cpu0/online" not in files  # smp_add_present_cpu: CPU 0 is not hotpluggable
    assert files["cpu1/online"] == "1\n"
    assert files["cpu0/polarization"] == "horizontal\n"
    assert files["cpu0/dedicated"] == "1\n"
    assert files["cpu0/topology/book_id"] == "1\n"
    assert files["cpu0/topology/physical_package_id"] == "1\n"
    assert files["cpu6/configure"] == "0\n"
    assert files["cpu6/polarization"] == "unknown\n"  # not in the STSI list
    assert "cpu6/topology/core_id" not in files


def test_vertical_dispatching_shows_entitlements_after_the_topology_update() -> None:
    lpar = smt_lpar()
    lpar.write_dispatching("1")
    assert {c.polarization for c in lpar.cpus()} == {"unknown"}
    lpar.update_topology()
    assert [c.polarization for c in lpar.cpus()][::2] == [
        "vertical:high",
        "vertical:medium",
        "vertical:low",
        "unknown",
    ]
    assert lpar_identities(lpar)[0] == CpuIdentity(
        address=8,
        topology=True,
        drawer_id=0,
        book_id=1,
        socket_id=1,
        entitlement="high",
        dedicated=True,
        polarization="vertical",
    )


@pytest.mark.parametrize("text", ["2", "", "1 1", "1x", "yes", "-1", "0x1"])
def test_bad_values_are_einval(text: str) -> None:
    lpar = smt_lpar()
    before = lpar.cpus()
    with pytest.raises(LparError) as error:
        lpar.write(6, "configure", text)
    assert error.value.errno_name == "EINVAL"
    assert lpar.cpus() == before


def test_configure_takes_the_whole_core_and_busy_cores_refuse() -> None:
    lpar = smt_lpar()
    lpar.write(7, "configure", "1\n")  # the second thread of core 9
    assert [c.configured for c in lpar.cpus()][6:] == [True, True]
    lpar.write(6, "online", "1")
    before = lpar.cpus()
    with pytest.raises(LparError) as error:
        lpar.write(7, "configure", "0")  # thread 0 of the core is online
    assert error.value.errno_name == "EBUSY"
    assert lpar.cpus() == before


def test_a_standby_cpu_cannot_go_online() -> None:
    lpar = smt_lpar()
    with pytest.raises(LparError) as error:
        lpar.write(6, "online", "1")
    assert error.value.errno_name == "EIO"


def test_chcpu_messages() -> None:
    lpar = smt_lpar()
    assert lpar.chcpu("-c", [6, 7]) == ["CPU 6 configured", "CPU 7 is already configured"]
    assert lpar.chcpu("-e", [0, 6, 99]) == [
        "chcpu: CPU 0 is not hot pluggable",
        "CPU 6 enabled",
        "chcpu: CPU 99 does not exist",
    ]
    assert lpar.chcpu("-g", [6, 7]) == [
        "chcpu: CPU 6 deconfigure failed (CPU is enabled)",
        "chcpu: CPU 7 deconfigure failed: Device or resource busy",
    ]
    assert lpar.chcpu("-d", [6]) == ["CPU 6 disabled"]
    assert lpar.chcpu("-g", [7, 6]) == ["CPU 6 deconfigured", "CPU 7 is already deconfigured"]
    assert lpar.chcpu("-e", [7]) == [
        "chcpu: CPU 7 enable failed (CPU is deconfigured): Input/output error"
    ]
