"""The conformance kit: run a plugin's stand-in against a real QEMU, case by case.

An architecture plugin makes :class:`topology.qemu.QemuSimulator` answer for
its QEMU target; this kit checks that it answers as that QEMU does. Needs the
``hypothesis`` extra and the QEMU binary. Like a backend running networkx's
own test suite, a plugin author runs it against their plugin and a QEMU::

    python -m topology.testing.conformance --target x86_64 \\
        --qemu qemu-system-x86_64 --version 7.2 --examples 50

or from Python, :func:`run_conformance`. Hypothesis draws each case from the
plugin's own model (:mod:`topology.strategies`): a QEMU command line (a whole
VM with guest NUMA, a ``-smp`` QEMU takes or refuses, a machine type of any
release or of none), and when it starts, QMP commands (the CPU queries and a
hot-plug sequence of ``device_add`` and ``device_del``, steps meant to work
and steps meant to fail). Each case goes to real QEMU, started paused with
``-accel tcg -S -nodefaults -no-user-config -display none -qmp stdio``, and
to the stand-in, and must come out the same on both: the exit status and
every stderr line when QEMU refuses to start; else every reply
(``query-hotpluggable-cpus``, ``query-cpus-fast`` without the host's thread
ids, ``device_add``, ``device_del``), every stderr line, every event and the
exit status after ``quit`` (or the signal, where QEMU crashes).

:func:`use_plugin` registers a plugin object without installing it: a plugin
under development, or a deliberately broken one to see the kit catch it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from topology.testing._conformance_run import (
    ConformanceReport,
    ConformanceSetupError,
    Mismatch,
    Transcript,
    run_conformance,
)
from topology.testing._plugins import use_plugin

__all__ = [
    "ConformanceReport",
    "ConformanceSetupError",
    "Mismatch",
    "Transcript",
    "main",
    "run_conformance",
    "use_plugin",
]

# Shown as topology.testing.conformance.X (reprs, docs), run with -m or imported.
for _exported in (ConformanceReport, ConformanceSetupError, Mismatch, Transcript):
    _exported.__module__ = "topology.testing.conformance"
run_conformance.__module__ = use_plugin.__module__ = "topology.testing.conformance"
del _exported


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m topology.testing.conformance --target T --version V``.

    Prints the report; the exit status is 0 when the stand-in conforms, 1 on a
    mismatch, 2 when the kit cannot run (QEMU missing, another release...).
    """
    parser = argparse.ArgumentParser(
        prog="python -m topology.testing.conformance",
        description="Check that cputopo's stand-in answers as a real QEMU does.",
    )
    parser.add_argument("--target", required=True, help="QEMU target of a plugin (x86_64)")
    parser.add_argument(
        "--qemu",
        help="the command that runs QEMU, e.g. 'chroot /srv/root qemu-system-x86_64' "
        "(default: qemu-system-TARGET)",
    )
    parser.add_argument("--version", required=True, help="the QEMU release it is (7.2)")
    parser.add_argument("--examples", type=int, default=50, help="cases to run (default 50)")
    parser.add_argument("--seed", type=int, help="draw the cases of an earlier run again")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds a QEMU run may take (default 30)"
    )
    arguments = parser.parse_args(argv)
    try:
        report = run_conformance(
            target=arguments.target,
            qemu=arguments.qemu,
            version=arguments.version,
            examples=arguments.examples,
            seed=arguments.seed,
            timeout=arguments.timeout,
        )
    except (ConformanceSetupError, ValueError) as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
    print(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
