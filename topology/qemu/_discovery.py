"""QEMU's discovery replies, as the real binaries gave them (``data/discovery-*.json``).

``query-commands``, ``query-machines``, ``query-cpu-definitions`` and
``query-kvm`` depend only on the binary (and, for the CPU definitions, on the
machine type), so they are captured from QEMU rather than modelled
(``tools/capture_qmp_discovery.py``). So are ``qom-list-types``
(``data/qom-types-*.json.gz``, same tool) and the help texts of ``-cpu
help``, ``-device help`` and ``-device TYPE,help`` for CPU types
(``data/help-*.json.gz``, ``tools/capture_option_help.py``). Releases without
a binary here (8.x, 9.x, 10.1-11.0) have no capture: the stand-in says so
instead of answering as a neighbouring release would.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Final

from topology._errors import TopologyError
from topology._parse.command_line import UnsupportedOptionError
from topology._versions import QemuVersion

__all__ = ["captured", "captured_file", "cpu_definitions", "has_command", "hmp_names"]


_DATA_DIR: Final = os.path.join(os.path.dirname(__file__), "data")


@functools.cache
def _document(target: str, release: str) -> dict[str, Any] | None:
    # Read as a plain file, as the catalogue does: importlib.resources would
    # import pathlib, zipfile and more into every stand-in process.
    path = os.path.join(_DATA_DIR, f"discovery-{target}-{release}.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as file:
        loaded: dict[str, Any] = json.load(file)
    return loaded


def _capture_path(kind: str, target: str, version: QemuVersion) -> str:
    return os.path.join(_DATA_DIR, f"{kind}-{target}-{version.major}.{version.minor}.json.gz")


@functools.cache
def _gzipped(path: str) -> dict[str, Any] | None:
    if not os.path.isfile(path):
        return None
    # zlib alone reads the gzip container (wbits 16 + 15): the gzip module would
    # import more into the stand-in process for the same bytes. Imported here,
    # as only a help text or qom-list-types needs it.
    import zlib

    with open(path, "rb") as file:
        text = zlib.decompress(file.read(), wbits=31).decode("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def has_capture(kind: str, target: str, version: QemuVersion) -> bool:
    """Whether ``data/<kind>-<target>-<release>.json.gz`` exists (without reading it)."""
    return os.path.isfile(_capture_path(kind, target, version))


def captured_file(kind: str, target: str, version: QemuVersion, what: str) -> dict[str, Any]:
    """The capture ``data/<kind>-<target>-<release>.json.gz`` (``help``, ``qom-types``).

    Raises :class:`UnsupportedOptionError`, naming ``what`` was asked, where no
    capture exists for that binary and release.
    """
    document = _gzipped(_capture_path(kind, target, version))
    if document is None:
        raise UnsupportedOptionError(
            f"cputopo: {what}: no reply of qemu-system-{target} {version} was captured "
            "for the stand-in to give",
            what=what,
        )
    return document


def captured(target: str, version: QemuVersion, command: str) -> Any:
    """The reply QEMU ``version``'s ``qemu-system-<target>`` gave to ``command``.

    Raises :class:`UnsupportedOptionError` where no capture exists for that
    binary and release.
    """
    document = _document(target, f"{version.major}.{version.minor}")
    if document is None or command not in document:
        raise UnsupportedOptionError(
            f"cputopo: {command}: no reply of qemu-system-{target} {version} was captured "
            "for the stand-in to give",
            what=command,
        )
    return document[command]


def has_command(target: str, version: QemuVersion, command: str) -> bool | None:
    """Whether the binary has the QMP ``command``; None where that is not known."""
    try:
        commands = captured(target, version, "query-commands")
    except TopologyError:
        return None
    return any(entry["name"] == command for entry in commands)


def hmp_names(target: str, version: QemuVersion) -> tuple[frozenset[str], frozenset[str]] | None:
    """The HMP commands and the ``info`` topics of the binary; None where not captured."""
    document = _document(target, f"{version.major}.{version.minor}")
    if document is None:
        return None
    return _first_words(document["hmp-help"]), _first_words(document["hmp-info"], skip=1)


def _first_words(text: str, skip: int = 0) -> frozenset[str]:
    """The command names a help text lists: the first word of each line (after
    ``skip`` words), each alias of ``name|alias`` too."""
    names: set[str] = set()
    for line in text.splitlines():
        words = line.split()
        if len(words) > skip:
            names.update(words[skip].split("|"))
    return frozenset(names)


def cpu_definitions(target: str, version: QemuVersion, machine_type: str) -> list[Any]:
    """``query-cpu-definitions`` on ``machine_type`` (under TCG).

    The capture holds the first machine type's reply whole and, for the
    others, the models whose entry differs from it.
    """
    variants = captured(target, version, "query-cpu-definitions")
    base: list[Any] = variants[0]["reply"]
    for variant in variants:
        if machine_type not in variant["machines"]:
            continue
        if "reply" in variant:
            whole: list[Any] = variant["reply"]
            return whole
        changed = variant["changed"]
        return [changed.get(entry["name"], entry) for entry in base]
    raise UnsupportedOptionError(
        f"cputopo: query-cpu-definitions: no reply of qemu-system-{target} {version} "
        f"was captured on machine type {machine_type}",
        what="query-cpu-definitions",
    )
