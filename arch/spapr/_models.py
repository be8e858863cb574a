"""pseries CPU model names: ``-cpu`` aliases and the core type they make.

``-cpu power9`` makes ``power9_v2.0-spapr-cpu-core`` cores in QEMU 7.2 but
``power9_v2.2-spapr-cpu-core`` in 10.0: QEMU resolves the alias (lower-cased
first) before it names the core type. The tables are QEMU's ``-cpu help``
for the server models, captured from QEMU 7.2.22 and 10.0.13
(``tests/unit/test_spapr_models.py`` holds them to the captured catalogue, which
its own tests hold to the running binaries). Releases in between answer as
7.2, later ones as 10.0.
"""

from __future__ import annotations

from typing import Final

from topology import QemuVersion

__all__ = ["resolve_model"]

_ALIASES_7_2: Final = {
    "power5+": "power5+_v2.1",
    "power5gs": "power5+_v2.1",
    "power7": "power7_v2.3",
    "power7+": "power7+_v2.1",
    "power8": "power8_v2.0",
    "power8e": "power8e_v2.1",
    "power8nvl": "power8nvl_v1.0",
    "power9": "power9_v2.0",
    "power10": "power10_v2.0",
}
_ALIASES_10_0: Final = {
    **_ALIASES_7_2,
    "power5+": "power5p_v2.1",
    "power5+_v2.1": "power5p_v2.1",
    "power5gs": "power5p_v2.1",
    "power7+": "power7p_v2.1",
    "power7+_v2.1": "power7p_v2.1",
    "power9": "power9_v2.2",
    "power11": "power11_v2.0",
}


def resolve_model(model: str, version: QemuVersion) -> str:
    """The CPU model QEMU ``version`` instantiates for ``-cpu model``.

    >>> from topology import qemu_version
    >>> resolve_model("POWER9", qemu_version("7.2")), resolve_model("power9", qemu_version("10.0"))
    ('power9_v2.0', 'power9_v2.2')
    """
    name = model.lower()
    aliases = _ALIASES_10_0 if version.at_least("10.0") else _ALIASES_7_2
    return aliases.get(name, name)
