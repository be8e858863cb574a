"""Differential tests: ``-cpu help``, ``-device help``, ``-device TYPE,help`` and
``-accel help``, the process stand-in against real QEMU 7.2, 10.0 and 11.1 on every target.

The stand-in's own code runs in this process (its ``main``, with stdout and
stderr captured at the file descriptors) and real QEMU as a process: exit
status, stdout and stderr must be equal, byte for byte. Where the stand-in
refuses a device type's help as not modelled (every device type but CPUs),
QEMU must be printing that type's properties: a name QEMU refuses gets QEMU's
error from the stand-in. Generated command lines put the queries among
options QEMU accepts, warns about or refuses while it reads the line, and
options it checks only later, so that where each query is answered is
compared too. Each case is one short QEMU run (QEMU answers before it builds
a machine). ``qom-list-types`` is in ``test_standin_qom_types.py``.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import QEMU_VERSIONS, qemu_command
from tools.capture_option_help import ALIASES, CPU_BASE_TYPES
from topology._resolve import catalogue
from topology._versions import qemu_version
from topology.qemu._discovery import captured_file
from topology.qemu._option_queries import asks_query
from topology.qemu._qom_types import qom_types
from topology.qemu._stdio import main as stand_in_main

pytestmark = pytest.mark.qemu

TARGETS: Final = ("x86_64", "ppc64", "s390x", "aarch64")
PAIRS: Final = [(target, version) for version in QEMU_VERSIONS for target in TARGETS]
#: CPUTOPO_QEMU_EXAMPLES (320 by default) scales the generated cases; each is one QEMU run.
SCALE: Final = max(1, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 320)
#: The stand-in's refusal of a device type whose properties it does not have.
_NOT_A_CPU: Final = "the stand-in has the properties of CPU device types only"

Outcome = tuple[int, str, str]


def _ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


def _real(target: str, version: str, args: list[str]) -> Outcome:
    """QEMU's exit status, stdout and stderr. No display option: should QEMU start
    instead of answering, it fails at once for want of a display, and never hangs."""
    require_qemu(target, version)
    # stdin is a pipe held open, never /dev/null: with --preconfig on the line,
    # QEMU must not be left reading an input that has ended.
    held, writer = os.pipe()
    try:
        done = subprocess.run(
            [*qemu_command(target, version), *args],
            stdin=held,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(held)
        os.close(writer)
    return done.returncode, done.stdout, done.stderr


def _ours(target: str, version: str, args: list[str], capfd: pytest.CaptureFixture[str]) -> Outcome:
    """The process stand-in's exit status, stdout and stderr, run in this process."""
    argv = [f"qemu-system-{target}", *args]
    # Only a line with a query returns; any other starts serving, as QEMU starts.
    assert asks_query(argv), args
    capfd.readouterr()
    status = stand_in_main([argv[0], "--qemu-version", version, *args])
    out, err = capfd.readouterr()
    return status, out, err


def _compare(target: str, version: str, args: list[str], capfd: pytest.CaptureFixture[str]) -> None:
    ours = _ours(target, version, args, capfd)
    real = _real(target, version, args)
    if ours[0] == 2 and _NOT_A_CPU in ours[2]:
        # Not modelled: QEMU knows the type and lists its properties.
        assert real[0] == 0 and real[1].split("\n", 1)[0].endswith(" options:"), (args, real)
        return
    assert ours == real, (target, version, args)


def _help_texts(target: str, version: str) -> dict[str, Any]:
    return captured_file("help", target, qemu_version(version), "help texts")


def _cpu_types(target: str, version: str) -> list[str]:
    """The CPU device types whose help the stand-in has."""
    entries = _help_texts(target, version)["cpu-devices"]
    return sorted(name for entry in entries for name in entry["types"])


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_help_texts_are_qemus(pair: tuple[str, str], capfd: pytest.CaptureFixture[str]) -> None:
    # The whole lists, the CPU type of the catalogue, QEMU's refusals of a name
    # (unknown, abstract, no device, an alias of a type the binary lacks) and
    # an alias of a type the stand-in has no properties of.
    target, version = pair
    require_qemu(target, version)
    cpu = catalogue.cpu_device_type(target, version)
    aliases = _help_texts(target, version)["aliases"]
    types = qom_types(target, qemu_version(version))
    missing = [alias for alias, name in aliases.items() if name not in types]
    unknown = [alias for alias in ALIASES if alias not in aliases]
    queries = [
        ["-cpu", "help"],
        ["-cpu", "?"],
        ["-device", "help"],
        ["-device", "?"],
        ["-accel", "help"],
        ["-accel", "help,foo"],
        ["-accel", "tcg,id=1a"],
        ["-accel", "tcg,id=a", "-accel", "kvm,id=a"],
        ["-device", f"{cpu},help"],
        ["-device", f"{CPU_BASE_TYPES[target]},help"],
        ["-device", "nosuch,help"],
        ["-device", "memory-backend-ram,help"],
        ["-device", "hotplug-handler,help"],
        ["-device", f"{next(iter(aliases))},help"],
        *(["-device", f"{alias},help"] for alias in missing[:1] + unknown[:1]),
        # Which query wins: -cpu help over any -device help, the first -device
        # asking, -accel help and -M help at their place, before both.
        ["-device", "help", "-cpu", "help"],
        ["-device", f"{cpu},help", "-device", "help"],
        ["-device", "nosuch,help", "-device", f"{cpu},help"],
        ["-cpu", "help", "-accel", "help"],
        ["-device", "help", "-M", "help"],
        ["-cpu", "help", "-m", "foo"],
    ]
    for args in queries:
        _compare(target, version, args, capfd)


#: Options QEMU reads without complaint, warns about, refuses as it reads the
#: line (before any query after them), or refuses only later (after the queries).
_OPTIONS: Final = [
    ["-m", "1G"],
    ["-m", "foo"],
    ["-m", "1G,slots=x"],
    ["-m", "1G,foo"],
    ["-smp", "2"],
    ["-smp", "1,,"],
    ["-smp", "foo"],
    ["-M", "nosuch"],
    ["-M", "x,,"],
    ["-numa", "node"],
    ["-numa", "node,mem"],
    ["-numa", "node,id=n0"],
    ["-object", "memory-backend-ram,id=m0,size=1M"],
    ["-object", "memory-backend-ram,id=m0,size=0"],
    ["-object", "foo"],
    ["-device", "x,id=d0"],
    ["-device", "x,id=1d"],
    ["-device", "x,foo"],
    ["-device", "id=d1"],
    ["-accel", "tcg"],
    ["-accel", "nosuch"],
    ["-accel", "tcg,foo"],
    ["-accel", "tcg,id=a0"],
    ["-name", "vm1"],
    ["-name", "foo=bar"],
    ["-name", "guest=a,debug-threads=maybe"],
    ["-uuid", "12345678-1234-1234-1234-123456789abc"],
    ["-uuid", "foo"],
    ["-S"],
    ["--preconfig"],
    ["-nodefaults"],
    ["-display", "none"],
    ["-version"],
]


@st.composite
def _query(draw: st.DrawFn, target: str, version: str) -> list[str]:
    """One option that asks QEMU for a text."""
    cpu = draw(st.sampled_from(_cpu_types(target, version)))
    name = draw(st.sampled_from([cpu, cpu, "nosuch", CPU_BASE_TYPES[target], "help"]))
    device = draw(
        st.sampled_from(
            [f"{name},help", f"{name},?", f"{name},nohelp", f"driver={name},help", f"{name},x,help"]
        )
    )
    return draw(
        st.sampled_from(
            [
                ["-cpu", "help"],
                ["-cpu", "?"],
                ["-cpu", "help,x"],
                ["-device", "help"],
                ["-device", device],
                ["-accel", "help"],
                ["-accel", "thread=single"],
                ["-M", "help"],
                ["-smp", "help"],
            ]
        )
    )


_GENERATED = settings(
    max_examples=24 * SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@_GENERATED
@given(data=st.data())
def test_queries_are_answered_where_qemu_answers_them(
    data: st.DataObject, capfd: pytest.CaptureFixture[str]
) -> None:
    target, version = data.draw(st.sampled_from(PAIRS))
    require_qemu(target, version)
    words: list[list[str]] = data.draw(st.lists(st.sampled_from(_OPTIONS), max_size=5))
    for _ in range(data.draw(st.integers(1, 3))):
        words.insert(data.draw(st.integers(0, len(words))), data.draw(_query(target, version)))
    args = [word for option in words for word in option]
    # -version names the release's full version; -cpu help,x starts QEMU.
    assume("-version" not in args and asks_query([f"qemu-system-{target}", *args]))
    _compare(target, version, args, capfd)
