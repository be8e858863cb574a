"""Shared test set-up: Hypothesis profiles and the rule for tests that need real QEMU."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("CPUTOPO_HYPOTHESIS_PROFILE", "default"))


def require_qemu(target: str) -> str:
    """The path of ``qemu-system-<target>``, or skip (fail under CPUTOPO_REQUIRE_QEMU=1)."""
    binary = shutil.which(f"qemu-system-{target}")
    if binary is not None:
        return binary
    reason = (
        f"qemu-system-{target} is not installed (Debian: qemu-system-x86, qemu-system-ppc, "
        "qemu-system-misc, qemu-system-arm)"
    )
    if os.environ.get("CPUTOPO_REQUIRE_QEMU") == "1":
        pytest.fail(f"{reason}, and CPUTOPO_REQUIRE_QEMU=1 requires it")
    pytest.skip(reason)
