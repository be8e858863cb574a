"""Run a real QEMU once, talk QMP to it over stdio, and record what happened.

Used by the differential tests as the reference for what QEMU does with a
given command line.  QEMU is started paused (``-S``) with TCG and no devices,
so a run costs a fraction of a second and no guest ever executes.

Three QEMU releases can serve as the reference (``version``):

* ``"7.2"``: the host's ``qemu-system-<arch>`` (Debian bookworm's packages);
* ``"10.0"``: Debian trixie's packages in a trixie root (``.ci/setup-qemu-root
  trixie`` builds it), run as ``chroot ROOT /usr/bin/qemu-system-<arch> ...``.
  ROOT is ``$CPUTOPO_QEMU10_ROOT``, by default ``/opt/cputopo-qemu10``;
* ``"11.1"``: Debian sid's packages in a sid root (``.ci/setup-qemu-root sid``),
  ROOT ``$CPUTOPO_QEMU11_ROOT``, by default ``/opt/cputopo-qemu11``.

Nothing is mounted in a root: QEMU started this way needs neither ``/proc``
nor ``/sys``, and the root's ``/dev`` holds the few device nodes debootstrap
makes.  ``chroot`` needs root.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import shutil
from collections.abc import Iterable, Sequence

from tests.support.qemu_crashes import rerun_if_crashed_at_random
from topology.testing._qemu_process import Command as Command
from topology.testing._qemu_process import QemuRun as QemuRun
from topology.testing._qemu_process import run_qemu as _run

#: The QEMU releases :func:`run_qemu` can run.
QEMU_VERSIONS: tuple[str, ...] = ("7.2", "10.0", "11.1")


@dataclasses.dataclass(frozen=True)
class _Root:
    """Where a chrooted QEMU release lives and what sets it up."""

    variable: str
    default: str
    suite: str
    require: str


# 7.2 is the host's; the others run in a Debian root each.
_ROOTS: dict[str, _Root] = {
    "10.0": _Root("CPUTOPO_QEMU10_ROOT", "/opt/cputopo-qemu10", "trixie", "CPUTOPO_REQUIRE_QEMU10"),
    "11.1": _Root("CPUTOPO_QEMU11_ROOT", "/opt/cputopo-qemu11", "sid", "CPUTOPO_REQUIRE_QEMU11"),
}
DEFAULT_QEMU10_ROOT = _ROOTS["10.0"].default

#: The CPU model of the newest pseries type of each release here
#: (``default-cpu-type`` in its ``query-machines``).
NEWEST_PSERIES_MODEL: dict[str, str] = {
    "7.2": "power9_v2.0",
    "10.0": "power10_v2.0",
    "11.1": "power11_v2.0",
}

BASE_ARGS: tuple[str, ...] = (
    "-accel",
    "tcg",
    "-S",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-qmp",
    "stdio",
)


@dataclasses.dataclass(frozen=True)
class QemuJob:
    """Arguments for one :func:`run_qemu` call, for :func:`run_many`."""

    arch: str
    args: Sequence[str]
    commands: Sequence[Command] = ()
    timeout: float = 30.0
    version: str = "7.2"
    program: Sequence[str] | None = None


def qemu_root(version: str) -> str | None:
    """The root QEMU ``version`` runs in (its environment variable or the default); None for 7.2."""
    _check_version(version)
    root = _ROOTS.get(version)
    if root is None:
        return None
    return os.environ.get(root.variable) or root.default


def qemu10_root() -> str:
    """The trixie root that holds QEMU 10.0 (``$CPUTOPO_QEMU10_ROOT`` or the default)."""
    root = qemu_root("10.0")
    assert root is not None
    return root


def require_switch(version: str) -> str:
    """The environment variable that, set to 1, turns a missing QEMU ``version`` into a failure."""
    _check_version(version)
    root = _ROOTS.get(version)
    return "CPUTOPO_REQUIRE_QEMU" if root is None else root.require


def _check_version(version: str) -> None:
    if version not in QEMU_VERSIONS:
        raise ValueError(f"unknown QEMU version {version!r}; known: {', '.join(QEMU_VERSIONS)}")


def qemu_binary(arch: str, version: str = "7.2") -> str | None:
    """Path of ``qemu-system-<arch>`` of QEMU ``version``, or None if it is not installed.

    For a chrooted release this is the path on the host, inside its root.
    """
    root = qemu_root(version)
    if root is None:
        return shutil.which(f"qemu-system-{arch}")
    path = os.path.join(root, "usr", "bin", f"qemu-system-{arch}")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def qemu_unavailable_reason(arch: str, version: str = "7.2") -> str | None:
    """Why QEMU ``version`` for ``arch`` cannot be run here, or None when it can."""
    root = qemu_root(version)
    if root is None:
        if qemu_binary(arch, version) is None:
            return (
                f"qemu-system-{arch} is not installed (Debian: qemu-system-x86, "
                "qemu-system-ppc, qemu-system-misc, qemu-system-arm)"
            )
        return None
    setup = _ROOTS[version]
    if qemu_binary(arch, version) is None:
        return (
            f"QEMU {version} qemu-system-{arch} is not installed in {root} "
            f"(run .ci/setup-qemu-root {setup.suite} as root; {setup.variable} moves it)"
        )
    if os.geteuid() != 0:
        return f"QEMU {version} runs by chroot into {root}, which needs root"
    if shutil.which("chroot") is None:
        return "chroot is not installed (Debian: coreutils)"
    return None


def qemu_available(arch: str, version: str = "7.2") -> bool:
    """Whether :func:`run_qemu` can run QEMU ``version`` for ``arch`` here."""
    return qemu_unavailable_reason(arch, version) is None


def qemu_command(arch: str, version: str = "7.2") -> tuple[str, ...]:
    """The start of the command line that runs ``qemu-system-<arch>`` of QEMU ``version``.

    Raises FileNotFoundError (with the reason) when it cannot be run here.
    """
    reason = qemu_unavailable_reason(arch, version)
    if reason is not None:
        raise FileNotFoundError(reason)
    root = qemu_root(version)
    if root is None:
        binary = qemu_binary(arch, version)
        assert binary is not None
        return (binary,)
    chroot = shutil.which("chroot")
    assert chroot is not None
    return (chroot, root, f"/usr/bin/qemu-system-{arch}")


def run_qemu(
    arch: str,
    args: Sequence[str],
    commands: Sequence[Command] = (),
    timeout: float = 30.0,
    version: str = "7.2",
    program: Sequence[str] | None = None,
    rerun_random_crashes: bool = True,
) -> QemuRun:
    """Start QEMU ``version`` for ``arch`` with ``args``, run ``commands`` over QMP, quit.

    ``program``, when given, is run instead of QEMU (the start of its command
    line, e.g. the stand-in ``python3 -m topology qemu-system-x86_64``), so that
    both can be driven exactly alike.

    Each command is ``(name, arguments or None)`` and is sent only after the
    previous reply arrived.  If QEMU refuses to start, the result has no
    replies and QEMU's own exit code; ``greeted`` tells the two kinds of
    refusal apart: option errors (``-smp`` parsing and checks) come before
    the QMP greeting, board errors (e.g. the x86 APIC ID limit) after it.
    The whole run is bounded by ``timeout`` seconds; past that QEMU is killed
    and ``timed_out`` is set.  ``argv`` in the result is the whole command
    line, ``chroot ROOT`` included for a chrooted release.  Raises FileNotFoundError
    when QEMU ``version`` cannot be run here (see :func:`qemu_available`).

    When QEMU crashes at random (a signal, and none of the crashes QEMU has
    every time), it runs once more; when it crashes at random again, the
    example is left out with a warning (:mod:`tests.support.qemu_crashes`).
    A ``program`` is never rerun, nor a run with ``rerun_random_crashes=False``
    (a test that expects QEMU to die by a signal every time, which the model says).
    """
    if program is not None:
        # Not QEMU (the stand-in): whatever it does is compared, never rerun.
        return _run((*program, *BASE_ARGS, *args), commands, timeout=timeout)
    argv = (*qemu_command(arch, version), *BASE_ARGS, *args)
    if not rerun_random_crashes:
        return _run(argv, commands, timeout=timeout)
    # The package's driver, the one the conformance kit uses; a random QEMU
    # crash (QEMU 7.2 after a pseries core unplug) is rerun once, and the
    # example left out if QEMU crashes at random again (tests/support/qemu_crashes.py).
    return rerun_if_crashed_at_random(
        lambda: _run(argv, commands, timeout=timeout),
        lambda run: (run.exit_code, run.stderr_lines, run.timed_out),
        f"QEMU {version} {' '.join(args)}: {list(commands)}",
    )


def run_many(jobs: Iterable[QemuJob], max_workers: int = 2) -> list[QemuRun]:
    """Run the jobs in a thread pool; results come back in job order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [
            pool.submit(
                run_qemu, job.arch, job.args, job.commands, job.timeout, job.version, job.program
            )
            for job in jobs
        ]
        return [future.result() for future in futures]
