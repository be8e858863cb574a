"""The hot-plug differential test of ``test_hotplug.py``, against QEMU 10.0 and 11.1.

QEMU 10 adds what 7.2 cannot show: x86 modules (``module-id``), pseries SMT
under TCG (a core of 2 or 4 threads is one slot), and s390x slots that carry
socket, book and drawer ids; 11.1 adds ``qom-type`` to ``query-cpus-fast`` and
drops x86's legacy ACPI CPU hot-plug.  Runs when ``.ci/setup-qemu-root trixie``
/ ``sid`` have built the roots (required in CI through ``CPUTOPO_REQUIRE_QEMU10=1``
and ``CPUTOPO_REQUIRE_QEMU11=1``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.test_hotplug import EXAMPLES, Scenario, _check, scenarios

pytestmark = pytest.mark.qemu

VERSIONS = ("10.0", "11.1")


def _setups(version: str) -> list[tuple[str, str, list[str]]]:
    return [
        (
            "x86_64",
            f"pc-q35-{version}",
            ["2,sockets=2,modules=2,cores=2,maxcpus=8", "1,dies=2,maxcpus=4"],
        ),
        ("x86_64", "pc-i440fx-6.1", ["2,maxcpus=4"]),
        ("ppc64", f"pseries-{version}", ["4,threads=2,maxcpus=8", "4,threads=4,maxcpus=12"]),
        (
            "s390x",
            f"s390-ccw-virtio-{version}",
            ["2,drawers=2,books=2,sockets=1,cores=2,maxcpus=8"],
        ),
    ]


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
@pytest.mark.parametrize("version", VERSIONS)
def test_hotplug_sequences_match_qemu(version: str, data: st.DataObject) -> None:
    scenario: Scenario = data.draw(scenarios(_setups(version), version))
    _check(*scenario, version=version)
