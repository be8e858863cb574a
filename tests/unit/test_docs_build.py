"""The documentation site builds with ``mkdocs build --strict`` (mkdocs.yml).

Strict mode turns every warning into a failure: a link to a missing page or
anchor, a page left out of the nav, a docstring mkdocstrings cannot render, a
cross-reference that resolves nowhere. The pages' examples run as doctests on
their own (pytest collects ``docs/**/*.md``); this checks the site around them.

Needs the ``docs`` extra (in ``dev``); without mkdocs the test skips, unless
CPUTOPO_REQUIRE_DOCS=1 makes it fail.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def _require_mkdocs() -> None:
    modules = ("mkdocs", "mkdocstrings_handlers.python", "material")
    missing = [module for module in modules if not _installed(module)]
    if not missing:
        return
    reason = f"the docs extra is not installed (no {', '.join(missing)}): pip install -e '.[docs]'"
    if os.environ.get("CPUTOPO_REQUIRE_DOCS") == "1":
        pytest.fail(f"{reason}, and CPUTOPO_REQUIRE_DOCS=1 requires it")
    pytest.skip(reason)


def test_site_builds_strictly(tmp_path: Path) -> None:
    _require_mkdocs()
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # Material's notice about MkDocs 2.0 is not about this site.
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for page in ("index", "tutorial/index", "explanation/qemu-rules/index", "reference/abi/index"):
        assert (site / f"{page}.html").is_file(), page
