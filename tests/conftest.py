"""Shared test set-up: the Hypothesis profiles (CPUTOPO_HYPOTHESIS_PROFILE picks one),
and the end-of-session report of real QEMU's random crashes (tests/support/qemu_crashes.py).

Helpers the tests import live in ``tests/support/``, not here: pytest imports
this file itself, and a test module that imported it again would run it twice.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.support.qemu_crashes import COUNTS

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# The differential conformance suite at size (tests/conformance/test_sessions.py):
# select it with CPUTOPO_HYPOTHESIS_PROFILE=conformance and pytest -m conformance.
settings.register_profile(
    "conformance", max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("CPUTOPO_HYPOTHESIS_PROFILE", "default"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how often real QEMU crashed at random, and which examples were left out."""
    summary = COUNTS.summary()
    if summary is None:
        return
    terminalreporter.write_sep("=", "QEMU crashed at random")
    terminalreporter.write_line(summary)
    for message in COUNTS.left_out:
        terminalreporter.write_line(f"  {message}")
