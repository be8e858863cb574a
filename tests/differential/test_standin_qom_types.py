"""Differential test: ``qom-list-types``, the stand-in against real QEMU 7.2, 10.0 and 11.1.

One QEMU per target and release answers many commands at once: the whole
lists, every interface type (whose implementers the stand-in has captured,
not derived), the class ladders of the CPU types, and arguments Hypothesis
draws from the binary's type names, junk names and arguments of the wrong
type. Each reply must be the line the process stand-in would write, byte for
byte (the members of each entry in QEMU's order).
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.qemu import require_qemu
from tests.support.qemu_runner import BASE_ARGS, QEMU_VERSIONS, qemu_command
from tools.capture_option_help import CPU_BASE_TYPES
from topology._versions import qemu_version
from topology.qemu import QemuSimulator
from topology.qemu._qmp_json import qmp_json
from topology.qemu._qom_types import qom_types

pytestmark = pytest.mark.qemu

TARGETS: Final = ("x86_64", "ppc64", "s390x", "aarch64")
PAIRS: Final = [(target, version) for version in QEMU_VERSIONS for target in TARGETS]
#: CPUTOPO_QEMU_EXAMPLES (320 by default) / 320 is the number of QEMU runs per pair.
SCALE: Final = max(1, int(os.environ.get("CPUTOPO_QEMU_EXAMPLES", "320")) // 320)


def _ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}-{pair[1]}"


def _machine_args(target: str) -> list[str]:
    return ["-M", "virt"] if target == "aarch64" else []


def _raw_replies(
    target: str, version: str, args: list[str], commands: list[tuple[str, Any]]
) -> list[str]:
    """QEMU's reply lines to ``commands``, sent at once on stdin, as it writes them."""
    require_qemu(target, version)
    lines = ['{"execute": "qmp_capabilities"}']
    for command, arguments in commands:
        request: dict[str, Any] = {"execute": command}
        if arguments is not None:
            request["arguments"] = arguments
        lines.append(json.dumps(request))
    lines.append('{"execute": "quit"}')
    done = subprocess.run(
        [*qemu_command(target, version), *BASE_ARGS, *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    # The greeting and qmp_capabilities' reply first; quit's event and reply last.
    assert len(out) == len(commands) + 4, out[-3:]
    return out[2 : 2 + len(commands)]


def _junk_arguments() -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(
        [
            {"implements": 1},
            {"implements": None},
            {"abstract": "yes"},
            {"abstract": 0},
            {"foo": 1},
            {"implements": "device", "foo": True},
            {"implements": 2, "abstract": "x"},
        ]
    )


def _arguments(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    implements = st.one_of(
        st.sampled_from(names),
        st.sampled_from(["", "Device", "device ", "interface", "object", "cpu"]),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    )
    drawn = st.fixed_dictionaries(
        {}, optional={"implements": implements, "abstract": st.booleans()}
    )
    return st.one_of(drawn, drawn, drawn, _junk_arguments())


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_qom_list_types_answers_as_qemu(pair: tuple[str, str]) -> None:
    target, version = pair
    require_qemu(target, version)
    types = qom_types(target, qemu_version(version))
    names = list(types.names)
    interfaces = [name for name in names if types.is_interface(name)]

    @settings(max_examples=SCALE, deadline=None, database=None)
    @given(drawn=st.lists(_arguments(names), min_size=20, max_size=20))
    def check(drawn: list[dict[str, Any]]) -> None:
        # Every interface once (their implementers are captured, not derived),
        # the class ladders of the CPU types, then what was drawn.
        fixed: list[dict[str, Any] | None] = [None, {"abstract": True}, {"abstract": False}]
        fixed += [{"implements": name, "abstract": True} for name in interfaces]
        fixed += [
            {"implements": name}
            for name in ("device", "cpu", CPU_BASE_TYPES[target], "machine", "nosuch")
        ]
        arguments = [*fixed, *drawn]
        commands = [("qom-list-types", item) for item in arguments]
        real = _raw_replies(target, version, _machine_args(target), commands)
        sim = QemuSimulator(
            [f"qemu-system-{target}", *BASE_ARGS, *_machine_args(target)], version=version
        )
        for item, line in zip(arguments, real, strict=True):
            ours = sim.qmp("qom-list-types", item)
            assert qmp_json(ours) == line, (target, version, item)

    check()
