"""Tests of a plugin registered only through its ``topology.arch`` entry point."""

from __future__ import annotations

import pytest

from topology import arch_names


def require_entry_point(name: str) -> None:
    """Fail with what to do when the installed package lacks plugin ``name``'s entry point.

    ``arch.loongarch`` is registered only in ``pyproject.toml``: an editable
    install made before it was added does not know it until reinstalled.
    """
    if name not in arch_names():
        pytest.fail(
            f"the '{name}' architecture plugin is registered only through its "
            "topology.arch entry point, which the installed cputopo lacks: "
            "reinstall it (pip install -e .)"
        )
