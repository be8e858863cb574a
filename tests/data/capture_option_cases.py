"""Measure how real QEMU answers option-level mistakes, and write ``option_cases.json``.

Run as root from a checkout (``python3 -m tests.data.capture_option_cases``).
Each case runs ``qemu-system-<target> -S -nodefaults -no-user-config -display
none -qmp stdio ARGS`` (no ``-accel``: QEMU's default, TCG, unless the case says
otherwise) on QEMU 7.2 (the host's), 10.0 and 11.1 (``chroot`` into the trixie
and sid roots). All run without ``/dev/kvm``: the roots have none, and QEMU 7.2 runs in a
private mount namespace whose ``/dev`` is a tmpfs holding only null, zero, full,
random and urandom (the host does have ``/dev/kvm``, and with it QEMU 7.2
starts ``-accel kvm``).

QEMU's stdin carries ``qmp_capabilities``, then the probes (``qom-get
/machine type`` and ``query-cpus-fast``), then ``quit``: a start that succeeds
answers the probes and exits 0; a refusal exits before reading any of it, as
with stdin from /dev/null.

The tests read the rows with :func:`load_rows` and use :data:`CASES` and
:func:`run_case` to check them against the QEMU installed now, which is why
this script lives here and not in ``tools/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from tests.support.qemu_runner import qemu_root

BASE_ARGS: Final = ("-S", "-nodefaults", "-no-user-config", "-display", "none", "-qmp", "stdio")
VERSIONS: Final = ("7.2", "10.0", "11.1")
PROBES: Final = (
    ("qom-get", {"path": "/machine", "property": "type"}),
    ("query-cpus-fast", None),
)
# Without /dev/kvm: a tmpfs /dev in a private mount namespace.
_NO_KVM_SHELL: Final = (
    "mount -t tmpfs none /dev && "
    "mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && "
    "mknod -m 666 /dev/full c 1 7 && mknod -m 666 /dev/random c 1 8 && "
    'mknod -m 666 /dev/urandom c 1 9 && exec "$@"'
)

#: (target, args) of every case; each runs on every version in VERSIONS.
CASES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("x86_64", ()),
    ("x86_64", ("-foo",)),
    ("x86_64", ("-smp",)),
    ("x86_64", ("-machine", "q35,foo=bar")),
    ("x86_64", ("-machine", "foo=bar")),
    ("x86_64", ("-machine", "help")),
    ("x86_64", ("-machine", "q35,help")),
    ("x86_64", ("-machine", "foo")),
    ("x86_64", ("-cpu", "foo")),
    ("x86_64", ("-cpu", "help")),
    ("x86_64", ("-cpu", "Skylake-Client")),
    ("x86_64", ("-accel", "foo")),
    ("x86_64", ("-accel", "help")),
    ("x86_64", ("-accel", "kvm")),
    ("x86_64", ("-accel", "kvm", "-accel", "tcg")),
    ("x86_64", ("-machine", "accel=kvm")),
    ("x86_64", ("-machine", "accel=kvm", "-accel", "tcg")),
    ("x86_64", ("-enable-kvm",)),
    ("x86_64", ("-device", "foo")),
    ("x86_64", ("-device", "help")),
    ("x86_64", ("-object", "memory-backend-ram,id=m0")),
    ("x86_64", ("-object", "foo,id=x")),
    ("x86_64", ("-m", "1Z")),
    ("x86_64", ("-machine", "q35", "-machine", "pc")),
    ("x86_64", ("-machine", "q35", "-machine", "smp.cpus=2")),
    ("x86_64", ("-machine", "q35")),
    ("x86_64", ("-machine", "type=q35")),
    ("x86_64", ("-M", "q35")),
    ("x86_64", ("-smp", "4", "-smp", "2")),
    ("x86_64", ("-smp", "2", "-smp", "sockets=2")),
    ("x86_64", ("-smp", "2", "-smp", "sockets=3")),
    ("x86_64", ("-machine", "smp.cpus=4", "-smp", "sockets=2")),
    ("x86_64", ("-smp", "sockets=2", "-machine", "smp.cpus=4")),
    ("x86_64", ("-machine", "smp.cpus=4", "-smp", "2")),
    ("ppc64", ()),
    ("ppc64", ("-cpu", "foo")),
    ("ppc64", ("-cpu", "POWER9")),
    ("ppc64", ("-machine", "foo=bar")),
    ("ppc64", ("-accel", "kvm")),
    ("s390x", ()),
    ("s390x", ("-cpu", "foo")),
    ("s390x", ("-machine", "foo=bar")),
    ("s390x", ("-accel", "kvm")),
    ("aarch64", ()),
    ("aarch64", ("-cpu", "foo")),
    ("aarch64", ("-machine", "virt")),
    ("aarch64", ("-machine", "virt", "-cpu", "foo")),
    ("aarch64", ("-machine", "virt", "-cpu", "cortex-m3")),
    ("aarch64", ("-machine", "virt,foo=bar")),
    ("aarch64", ("-machine", "virt", "-accel", "kvm")),
)


def qemu_argv(target: str, version: str) -> list[str]:
    """The command that runs ``qemu-system-<target>`` of QEMU ``version`` without KVM."""
    if version == "7.2":
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            _NO_KVM_SHELL,
            "sh",
            f"qemu-system-{target}",
        ]
    root = qemu_root(version)
    assert root is not None
    return ["chroot", root, f"/usr/bin/qemu-system-{target}"]


def run_case(target: str, version: str, args: Sequence[str]) -> dict[str, object]:
    """One row: how QEMU ``version`` answers ``args`` (see the module docstring)."""
    commands: list[dict[str, object]] = [{"execute": "qmp_capabilities"}]
    commands += [
        {"execute": name, "id": index, **({"arguments": a} if a else {})}
        for index, (name, a) in enumerate(PROBES)
    ]
    commands.append({"execute": "quit"})
    stdin = "".join(json.dumps(c) + "\n" for c in commands)
    done = subprocess.run(
        [*qemu_argv(target, version), *BASE_ARGS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    greeted = False
    replies: dict[int, Any] = {}
    stdout: list[str] = []
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            stdout.append(line)
            continue
        greeted = greeted or "QMP" in message
        if isinstance(message.get("id"), int):
            replies[message["id"]] = message.get("return", message.get("error"))
    row: dict[str, object] = {
        "version": version,
        "target": target,
        "args": tuple(args),
        "exit_code": done.returncode,
        "stderr": tuple(done.stderr.splitlines()),
        "greeted": greeted,
        # Help texts are long: the first line and the count say which text it was.
        "stdout_first": stdout[0] if stdout else None,
        "stdout_lines": len(stdout),
    }
    if 0 in replies:
        row["machine"] = replies[0]
    if isinstance(replies.get(1), list):
        # thread-id is the host's; the rest is QEMU's.
        row["cpus"] = tuple(
            {k: v for k, v in cpu.items() if k != "thread-id"} for cpu in replies[1]
        )
    return row


def _settled(target: str, version: str, args: Sequence[str], runs: int = 6) -> dict[str, object]:
    """A row whose ``greeted`` is None when repeated runs disagree.

    A refusal during machine set-up (``-cpu foo``) races QEMU's exit against
    the greeting reaching stdout: measured 1 to 7 greetings in 8 runs.
    """
    row = run_case(target, version, args)
    if row["exit_code"] != 0:
        seen = {row["greeted"]} | {run_case(target, version, args)["greeted"] for _ in range(runs)}
        if len(seen) > 1:
            row["greeted"] = None
    return row


#: Where the rows are kept (see README.md in this folder).
JSON_PATH: Final = Path(__file__).with_name("option_cases.json")
#: Row members that run_case makes tuples (JSON has only arrays).
_TUPLES: Final = ("args", "stderr", "cpus")


def write_rows(
    rows: Sequence[dict[str, object]], captured_with: Sequence[str], path: Path = JSON_PATH
) -> None:
    """Write ``rows`` as JSON, with the ``--version`` line of each QEMU build used."""
    document = {
        "note": (
            "How real QEMU answers option-level mistakes and option merging. Generated by "
            "python3 -m tests.data.capture_option_cases (see tests/data/README.md): "
            "do not edit by hand."
        ),
        "command": " ".join(["qemu-system-<target>", *BASE_ARGS, "ARGS"]),
        "captured_with": list(captured_with),
        "rows": list(rows),
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def load_rows(path: Path = JSON_PATH) -> tuple[dict[str, Any], ...]:
    """The rows of ``path``, each as :func:`run_case` returned it."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        {key: tuple(value) if key in _TUPLES else value for key, value in row.items()}
        for row in document["rows"]
    )


def main() -> int:
    """Run every case on every version and rewrite ``option_cases.json``."""
    rows = [_settled(t, v, a) for v in VERSIONS for t, a in CASES]
    versions = [
        subprocess.run(
            [*qemu_argv("x86_64", v), "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
        for v in VERSIONS
    ]
    write_rows(rows, versions)
    print(f"{JSON_PATH}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
