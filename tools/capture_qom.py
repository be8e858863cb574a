"""The ``-machine`` properties QEMU adds per instance, read from a started QEMU.

``-machine TYPE,help`` lists only the properties of the machine's class.
QEMU adds more in the instance init of the machine object (pseries ``vsmt``,
``ic-mode``...; ``nvdimm``, ``hmat`` and ``pflash0`` on the machines that
support them), and ``-machine`` reaches those too: system/vl.c creates the
machine object (``qemu_create_machine``), applies the ``-machine`` options to
it (``qemu_apply_machine_options``) and only then runs the board's init, which
adds the rest (children such as ``fw_cfg``, links such as ``acpi-device``,
``rtc-time``).

For each machine type QEMU is started paused, as the tests' runner does
(``-accel tcg -S -nodefaults -no-user-config -display none -qmp stdio``), and
asked for ``qom-list /machine`` (what the running machine has) and
``qom-list-properties typename=TYPE-machine`` (a fresh object of the type: what
the options are applied to).  Every name either lists that ``-machine TYPE,help``
does not is then tried as ``-machine TYPE,NAME=<garbage>``: QEMU's first complaint
says whether it reached the property (a refused value), found it read-only
(``Property 'TYPE-machine.NAME' is not writable``) or did not find it.  The
running machine's names are tried too: a fresh object does not have all that
exists when the options are applied (QEMU 10.0's ``peripheral`` container is
not writable, not absent).  Numbered children (``dr-connector[536870912]``)
are not tried: the board adds them at init.

Types that refuse to start as they are get one retry with what QEMU asks for
(``Try appending -machine cap-htm=off``: pseries 2.8 to 2.11 under TCG; ``no
default audio driver available``: some 10.0 boards, with ``-audio none``);
types that still do not start, or whose ``qom-list-properties`` aborts QEMU,
are asked about from a ``-machine none`` QEMU.  How each list was obtained is
recorded with it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from typing import Final, Literal

import attrs

__all__ = ["InstanceProperties", "capture_instance_properties"]

_BASE_ARGS: Final = (
    *("-accel", "tcg", "-S", "-nodefaults", "-no-user-config"),
    *("-display", "none", "-qmp", "stdio"),
)
# A value typed properties refuse at once; a string property takes it (and the
# machine then starts, or fails for another reason).
_GARBAGE: Final = "cputopo-probe"
_REFUSAL: Final = re.compile(r"Property '([^']*)' (not found|is not writable)")
_HINT: Final = re.compile(r"Try appending -machine (\S+)")
# -audio appeared in QEMU 8.2; only 10.0's boards need it.
_NO_AUDIO: Final = "no default audio driver available"


@attrs.frozen(kw_only=True)
class InstanceProperties:
    """What ``-machine TYPE,NAME=...`` reaches beyond the class properties, and how it was read."""

    settable: dict[str, str]
    """Name to QOM type text, for each name ``-machine`` sets."""
    read_only: tuple[str, ...]
    """Names ``-machine`` finds but refuses: ``Property '...' is not writable``."""
    method: str
    """How the names were obtained (recorded in the data)."""


@attrs.frozen(kw_only=True)
class _Run:
    replies: tuple[object, ...]
    """Each command's ``return`` value, None where it got no reply or an error."""
    stderr: str


def _run(argv: Sequence[str], commands: Sequence[tuple[str, dict[str, str]]]) -> _Run:
    # All commands go in at once: QEMU reads them in order once QMP is up,
    # and a QEMU that refused the options or aborted just leaves them unread.
    lines = [json.dumps({"execute": "qmp_capabilities"})]
    lines += [
        json.dumps({"execute": name, "arguments": args, "id": index})
        for index, (name, args) in enumerate(commands)
    ]
    lines.append(json.dumps({"execute": "quit"}))
    done = subprocess.run(
        [*argv, *_BASE_ARGS],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    replies: list[object] = [None] * len(commands)
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and isinstance(message.get("id"), int):
            replies[message["id"]] = message.get("return")
    return _Run(replies=tuple(replies), stderr=done.stderr)


def _names(reply: object) -> dict[str, str] | None:
    if not isinstance(reply, list):
        return None
    return {str(p["name"]): str(p["type"]) for p in reply}


def _first_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if ": warning: " not in line]
    return re.sub(r"^qemu-system-\w+: ", "", lines[0]) if lines else ""


def _probe(
    qemu: Sequence[str], machine_option: str, extra: Sequence[str], name: str
) -> Literal["set", "read-only", "absent"]:
    """What ``-machine machine_option,name=<garbage>`` meets: ``set``, ``read-only`` or ``absent``.

    ``machine_option`` is the machine type with any options it needs to start.
    """
    type_name = machine_option.split(",", 1)[0]
    run = _run([*qemu, "-machine", f"{machine_option},{name}={_GARBAGE}", *extra], [])
    for line in run.stderr.splitlines():
        refusal = _REFUSAL.search(line)
        if refusal is not None and refusal[1].startswith(f"{type_name}-machine."):
            return "absent" if refusal[2] == "not found" else "read-only"
    return "set"


def _start(
    qemu: Sequence[str], type_name: str
) -> tuple[str, tuple[str, ...], dict[str, str] | None, dict[str, str] | None, str]:
    """Start ``type_name``: (machine option, extra args, live names, fresh names, note)."""
    commands = [
        ("qom-list", {"path": "/machine"}),
        ("qom-list-properties", {"typename": f"{type_name}-machine"}),
    ]
    option = type_name
    extra: tuple[str, ...] = ()
    run = _run([*qemu, "-machine", option], commands)
    note = "started"
    if run.replies[0] is None:
        hint = _HINT.search(run.stderr)
        if hint is not None:
            option = f"{type_name},{hint[1]}"
            note = f"started with -machine TYPE,{hint[1]}"
        elif _NO_AUDIO in run.stderr:
            extra = ("-audio", "none")
            note = "started with -audio none"
        if option != type_name or extra:
            run = _run([*qemu, "-machine", option, *extra], commands)
    if run.replies[0] is None:
        note = f"did not start ({_first_error(run.stderr)})"
    return option, extra, _names(run.replies[0]), _names(run.replies[1]), note


def capture_instance_properties(
    qemu: Sequence[str], type_name: str, class_names: frozenset[str]
) -> InstanceProperties:
    """Read the instance properties of machine type ``type_name`` from QEMU run as ``qemu``.

    ``class_names`` are the names ``-machine type_name,help`` lists; they are
    left out of the result (``type`` too: ``-machine type=`` picks the type).
    """
    option, extra, live, fresh, note = _start(qemu, type_name)
    sources = [] if live is None else ["qom-list /machine"]
    if fresh is not None:
        sources.append("qom-list-properties")
    else:
        none = _run(
            [*qemu, "-machine", "none"],
            [
                ("qom-list-properties", {"typename": f"{type_name}-machine"}),
                ("qom-list", {"path": "/machine"}),
            ],
        )
        fresh = _names(none.replies[0])
        if fresh is not None:
            sources.append("qom-list-properties under -machine none")
        elif live is not None:
            sources.append("no qom-list-properties (it aborts QEMU)")
        if live is None and fresh is not None:
            # What every machine has when the options are applied (the
            # containers), as a machine that does start shows it.
            live = _names(none.replies[1])
            sources.append("qom-list /machine of -machine none")
    method = f"{note}; {', '.join(sources)}; each name tried with -machine"
    if live is None and fresh is None:
        raise RuntimeError(f"{type_name}: no property list: {method}")
    if not class_names <= set(fresh or live or ()):
        raise ValueError(f"{type_name}: class properties missing from QOM: {method}")
    candidates = {**(live or {}), **(fresh or {})}
    candidates = {n: t for n, t in candidates.items() if "[" not in n}
    settable: dict[str, str] = {}
    read_only: list[str] = []
    for name in sorted(set(candidates) - class_names - {"type"}):
        outcome = _probe(qemu, option, extra, name)
        if outcome == "set":
            settable[name] = candidates[name]
        elif outcome == "read-only":
            read_only.append(name)
    return InstanceProperties(settable=settable, read_only=tuple(read_only), method=method)
