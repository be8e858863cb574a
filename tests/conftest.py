"""Shared test set-up: Hypothesis profiles and the rule for tests that need real QEMU."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.qemu_runner import qemu_binary, qemu_unavailable_reason

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# The differential conformance suite at size (tests/test_qemu_conformance.py):
# select it with CPUTOPO_HYPOTHESIS_PROFILE=conformance and pytest -m conformance.
settings.register_profile(
    "conformance", max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("CPUTOPO_HYPOTHESIS_PROFILE", "default"))


def require_qemu(target: str, version: str = "7.2") -> str:
    """The path of ``qemu-system-<target>`` of QEMU ``version``, or skip.

    A missing QEMU 7.2 (the host's) fails instead under CPUTOPO_REQUIRE_QEMU=1,
    a missing QEMU 10.0 (the trixie root of ``.ci/setup-qemu-root trixie``)
    under CPUTOPO_REQUIRE_QEMU10=1.
    """
    reason = qemu_unavailable_reason(target, version)
    if reason is None:
        binary = qemu_binary(target, version)
        assert binary is not None
        return binary
    switch = "CPUTOPO_REQUIRE_QEMU" if version == "7.2" else "CPUTOPO_REQUIRE_QEMU10"
    if os.environ.get(switch) == "1":
        pytest.fail(f"{reason}, and {switch}=1 requires it")
    pytest.skip(reason)
