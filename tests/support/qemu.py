"""The rule for tests that need real QEMU: skip when it is missing, unless required."""

from __future__ import annotations

import os

import pytest

from tests.support.qemu_runner import qemu_binary, qemu_unavailable_reason, require_switch


def require_qemu(target: str, version: str = "7.2") -> str:
    """The path of ``qemu-system-<target>`` of QEMU ``version``, or skip.

    A missing QEMU 7.2 (the host's) fails instead under CPUTOPO_REQUIRE_QEMU=1,
    a missing QEMU 10.0 (the trixie root of ``.ci/setup-qemu-root trixie``)
    under CPUTOPO_REQUIRE_QEMU10=1, a missing QEMU 11.1 (the sid root) under
    CPUTOPO_REQUIRE_QEMU11=1.
    """
    reason = qemu_unavailable_reason(target, version)
    if reason is None:
        binary = qemu_binary(target, version)
        assert binary is not None
        return binary
    switch = require_switch(version)
    if os.environ.get(switch) == "1":
        pytest.fail(f"{reason}, and {switch}=1 requires it")
    pytest.skip(reason)
