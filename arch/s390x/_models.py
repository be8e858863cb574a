"""s390x CPU models under TCG: which exist, and which TCG refuses for features it lacks.

TCG emulates a fixed set of facilities; a CPU model with more is refused when
its CPU is realized, at start (``-cpu z14``) as for ``device_add
z14-s390x-cpu``: ``Some features requested in the CPU model are not available
in the [current ]configuration: <features>`` (the word "current" and the hint
``Consider a different accelerator, QEMU, or kernel version`` from 10.0). The
texts come from ``data/tcg-refusals.json``, captured by
``tools/capture_s390x_tcg_refusals.py`` from QEMU 7.2.22, 10.0.13 and 11.1.3
for every model and alias on every machine type; the older machine types give
their models fewer features (groups: 4.0 and newer, 3.0-3.1, 2.10-2.12, and
older, where some models also warn first: ``'gs' requires 'sea_esop2'.``).
Releases not run here answer as the nearest older one captured.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Final

from topology import BoardError, QemuVersion, QemuWarning
from topology.plugin import as_observed_in, release_key

__all__ = ["known_model", "tcg_refusal"]

_DATA: Final = "tcg-refusals.json"


def _read_data(name: str) -> str:
    """A file of this package's ``data`` directory, read with os: importlib.resources
    would import pathlib, zipfile and more into every stand-in process."""
    with open(os.path.join(os.path.dirname(__file__), "data", name), encoding="utf-8") as file:
        return file.read()


@functools.cache
def _captured() -> dict[str, Any]:
    text = _read_data(_DATA)
    data: dict[str, Any] = json.loads(text)
    return data


def _release_data(version: QemuVersion) -> dict[str, Any]:
    data = _captured()
    return dict(as_observed_in(data, version))


def known_model(model: str, version: QemuVersion) -> bool:
    """Whether ``model`` names a CPU model (or alias) of QEMU ``version`` under TCG.

    >>> from topology import qemu_version
    >>> known_model("z14", qemu_version("7.2")), known_model("host", qemu_version("7.2"))
    (True, False)
    """
    return model in _release_data(version)["models"]


def tcg_refusal(model: str, machine_type: str, version: QemuVersion) -> BoardError | None:
    """QEMU's refusal of ``model`` under TCG on ``machine_type`` (with the hint QEMU
    prints after it at start, and the warnings it prints before it), or None.

    >>> from topology import qemu_version
    >>> refused = tcg_refusal("z14", "s390-ccw-virtio-10.0", qemu_version("10.0"))
    >>> refused.message[:89]
    'Some features requested in the CPU model are not available in the current configuration: '
    >>> refused.hint
    'Consider a different accelerator, QEMU, or kernel version'
    >>> tcg_refusal("z900", "s390-ccw-virtio-10.0", qemu_version("10.0")) is None
    True
    """
    groups: dict[str, dict[str, dict[str, Any]]] = _release_data(version)["refused"]
    release = release_key(machine_type.removeprefix("s390-ccw-virtio-"))
    oldest = [key for key in groups if release_key(key) <= release]
    if not oldest:
        return None
    refused = groups[max(oldest, key=release_key)].get(model)
    if refused is None:
        return None
    error = BoardError(refused["message"], what="cpu", value=model, hint=refused["hint"])
    error.warnings = tuple(QemuWarning(message=text, what="cpu") for text in refused["warnings"])
    return error
