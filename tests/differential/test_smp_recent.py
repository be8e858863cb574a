"""Differential test: ``-smp`` resolution against real QEMU 10.0 and 11.1, on generated cases.

The same comparison as ``test_smp.py`` (its ``_compare`` and value
strategies), with each release's machine types and the ``-smp`` members QEMU 10
knows and 7.2 does not (``modules``, ``books``, ``drawers``).  QEMU 10.0 is
Debian trixie's and 11.1 Debian sid's, each run inside the root that
``.ci/setup-qemu-root trixie`` / ``sid`` builds (``tests/support/qemu_runner.py``).
The tests skip when one is missing, and fail then under
``CPUTOPO_REQUIRE_QEMU10=1`` / ``CPUTOPO_REQUIRE_QEMU11=1``.

``CPUTOPO_QEMU_EXAMPLES`` sets the number of generated examples (default 320).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.differential.test_smp import EXAMPLES, _compare, configurations

pytestmark = pytest.mark.qemu

VERSIONS = ("10.0", "11.1")


def _machines(version: str) -> dict[str, list[str]]:
    """Machine types of QEMU ``version``: the newest, the last prefer-sockets one
    (6.1) and the first prefer-cores one (6.2); both releases warn that 6.x types
    are deprecated."""
    return {
        "x86_64": [
            f"pc-q35-{version}",
            f"pc-i440fx-{version}",
            "pc-q35-6.1",
            "pc-q35-6.2",
            "pc-i440fx-6.1",
            "pc-i440fx-6.2",
        ],
        "ppc64": [f"pseries-{version}", "pseries-6.1", "pseries-6.2"],
        "s390x": [f"s390-ccw-virtio-{version}", "s390-ccw-virtio-6.1"],
        "aarch64": [f"virt-{version}", "virt-6.1"],
    }


# test_smp.py's members plus the levels QEMU 7.2 does not know.
_MEMBER = st.sampled_from(
    [
        *("sockets", "sockets", "dies", "clusters", "cores", "cores", "threads", "threads"),
        *("maxcpus", "modules", "books", "drawers"),
    ]
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize("version", VERSIONS)
def test_generated_configurations_match_qemu(version: str, data: st.DataObject) -> None:
    configuration = data.draw(configurations(_machines(version), _MEMBER))
    assume(_compare(*configuration, version=version))


# Hand-picked cases, each observed on QEMU 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)
# and run on 11.1.3 (Debian 1:11.1.3+ds-1) with the newest types renamed.
_KNOWN_CASES: list[tuple[str, str, dict[str, str], str]] = [
    ("x86_64", "pc-q35-10.0", {}, "8,modules=2,cores=2"),  # module-id in the props
    ("x86_64", "pc-q35-10.0", {}, "16,sockets=2,dies=2,modules=2,cores=2"),
    ("x86_64", "pc-q35-10.0", {}, "8,books=1,drawers=1,clusters=1"),  # levels given as 1
    ("x86_64", "pc-q35-10.0", {}, "8,books=2"),
    ("x86_64", "pc-q35-6.2", {}, "4,sockets=0"),  # an error, no deprecation warning
    ("x86_64", "pc-q35-6.1", {}, "8"),  # prefer sockets, deprecation warning
    ("x86_64", "pc-q35-10.0", {}, "4,maxcpus=300"),  # absent CPUs may need x2APIC
    ("x86_64", "pc-q35-10.0", {}, "255"),
    ("x86_64", "pc-q35-8.1", {}, "255"),  # SMBIOS 3.0 entry point from 8.1
    ("x86_64", "pc-q35-10.0", {}, "4,foo=1,bar=2"),
    ("x86_64", "pc-q35-10.0", {}, "4,zz=1,aa=2"),
    ("x86_64", "pc-q35-10.0", {}, "4,b=1,a=1,c=1"),
    ("x86_64", "pc-q35-10.0", {}, "4,threads=2"),  # the AMD warning is one line
    ("x86_64", "pc-q35-10.0", {"cpu": "EPYC"}, "4,threads=2"),
    ("x86_64", "pc-q35-6.2", {}, "255"),  # SMBIOS 2.x entry point up to 8.0 types
    ("x86_64", "pc-i440fx-8.0", {}, "2,sockets=1,cores=255,maxcpus=255"),
    ("x86_64", "pc-q35-6.1", {}, "1,clusters=-1,threads=-1,maxcpus=1"),
    ("x86_64", "pc-q35-10.0", {}, "256"),  # QEMU aborts: APIC ID 255 needs x2APIC
    ("x86_64", "pc-q35-10.0", {}, "255,sockets=1,cores=85,threads=3"),
    ("x86_64", "pc-q35-10.0", {"cpu": "qemu64,x2apic=on"}, "256"),
    ("ppc64", "pseries-10.0", {"cpu": "power7"}, "4,threads=2"),
    ("aarch64", "virt-10.0", {"gic-version": "4"}, "4"),
    ("ppc64", "pseries-10.0", {}, "8,threads=8"),  # SMT under TCG since 8.1
    ("ppc64", "pseries-10.0", {}, "6,threads=3"),
    ("ppc64", "pseries-10.0", {}, "12,threads=12"),  # > 8 comes before power of 2
    ("ppc64", "pseries-10.0", {}, "4,threads=3,maxcpus=9"),  # power of 2 before multiple
    ("ppc64", "pseries-10.0", {}, "6,threads=4,maxcpus=8"),
    ("s390x", "s390-ccw-virtio-10.0", {}, "8,drawers=2,books=2"),  # socket/book/drawer-id
    # socket-id ignores threads: cores 0-5 are in sockets 0, 0, 1, 1, 0, 0.
    ("s390x", "s390-ccw-virtio-6.1", {}, "6,sockets=2,threads=2,maxcpus=8"),
    ("s390x", "s390-ccw-virtio-6.1", {}, "4,books=2"),
    ("s390x", "s390-ccw-virtio-10.0", {}, "4,threads=2"),
    ("aarch64", "virt-10.0", {}, "124"),  # GICv3 by default on 10.0
    ("aarch64", "virt-10.0", {}, "4,maxcpus=513"),
    ("aarch64", "virt-10.0", {"gic-version": "2"}, "9"),
    ("aarch64", "virt-6.1", {}, "8,clusters=2"),
]


def _known_cases() -> list[object]:
    cases: list[object] = []
    for version in VERSIONS:
        for arch, machine_name, options, smp in _KNOWN_CASES:
            name = machine_name.replace("-10.0", f"-{version}")
            cases.append(
                pytest.param(version, arch, name, options, smp, id=f"{version}-{name}-{smp}")
            )
        # virt >= 6.2 warns when its ACPI tables pass 64 KiB (459 flat CPUs).
        cases.append(pytest.param(version, "aarch64", f"virt-{version}", {}, "459"))
    return cases


@pytest.mark.parametrize(("version", "arch", "machine_name", "options", "smp"), _known_cases())
def test_known_cases_match_qemu(
    version: str, arch: str, machine_name: str, options: dict[str, str], smp: str
) -> None:
    assert _compare(arch, machine_name, options, smp, version=version)
