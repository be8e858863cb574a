"""The hot-plug differential test of ``test_hotplug.py``, against QEMU 10.0.

QEMU 10 adds what 7.2 cannot show: x86 modules (``module-id``), pseries SMT
under TCG (a core of 2 or 4 threads is one slot), and s390x slots that carry
socket, book and drawer ids. Runs when ``.ci/setup-qemu-root trixie`` has built
the QEMU 10.0 root (required in CI through ``CPUTOPO_REQUIRE_QEMU10=1``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.differential.test_hotplug import EXAMPLES, Scenario, _check, scenarios

pytestmark = pytest.mark.qemu

VERSION = "10.0"
SETUPS = [
    ("x86_64", "pc-q35-10.0", ["2,sockets=2,modules=2,cores=2,maxcpus=8", "1,dies=2,maxcpus=4"]),
    ("x86_64", "pc-i440fx-6.1", ["2,maxcpus=4"]),
    ("ppc64", "pseries-10.0", ["4,threads=2,maxcpus=8", "4,threads=4,maxcpus=12"]),
    ("s390x", "s390-ccw-virtio-10.0", ["2,drawers=2,books=2,sockets=1,cores=2,maxcpus=8"]),
]


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(scenarios(SETUPS, VERSION))
def test_hotplug_sequences_match_qemu10(scenario: Scenario) -> None:
    assume(_check(*scenario, version=VERSION))
