"""Shared test set-up: the Hypothesis profiles (CPUTOPO_HYPOTHESIS_PROFILE picks one).

Helpers the tests import live in ``tests/support/``, not here: pytest imports
this file itself, and a test module that imported it again would run it twice.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
