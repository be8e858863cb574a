"""Benchmark: the speed goals of issue 14 for the stand-in, against real QEMU 7.2.

Run: ``python benchmarks/bench_standin_speed.py``. It prints two tables.

(a) In process, per target at 8 vCPUs (``-smp 8``) and 128 of 192
    (``-smp 128,maxcpus=192``): a *first* start of that command line
    (``QemuSimulator(argv)``, the stand-in's memory of earlier starts and
    ``-smp`` resolutions cleared before each round), ``qmp_capabilities`` and
    ``query-hotpluggable-cpus``; the median over ``REPEATS`` rounds, against
    QEMU 7.2 doing the same as a process (start paused, greeting,
    ``qmp_capabilities``, ``query-hotpluggable-cpus``, ``quit``, exit). The
    goals, 300x at 8 vCPUs and 1000x at 128 of 192, are printed beside.
(b) As a process: the same session with the stand-in as users run it, the
    ``cputopo`` console script (``cputopo qemu-system-<target> ...``, from the
    Python this runs under), against QEMU 7.2; the goal is to be faster.

Both sides are driven by the same code (the conformance kit's driver,
``topology.testing._qemu_process.run_qemu``) and the answers are compared.
The stand-in processes run with bytecode caching on, as an installed package
has it (``PYTHONDONTWRITEBYTECODE`` is dropped for them; the first, untimed
run writes the caches). Medians, since other work on the machine adds noise.
Not a test: nothing is asserted; QEMU 7.2 must be installed.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.qemu_runner import BASE_ARGS, qemu_command
from topology._resolve.smp import _resolve_cached
from topology.qemu import QemuSimulator
from topology.qemu._simulator import _STARTED
from topology.testing._qemu_process import run_qemu

REPEATS = 50
PROCESS_REPEATS = 15

#: Per target, the machine options, each able to hold 192 possible CPUs (the
#: arm virt board only with GICv3: GICv2 stops at 8).
MACHINES: dict[str, tuple[str, ...]] = {
    "x86_64": ("-machine", "pc-q35-7.2"),
    "ppc64": ("-machine", "pseries-7.2"),
    "s390x": ("-machine", "s390-ccw-virtio-7.2"),
    "aarch64": ("-machine", "virt-7.2,gic-version=3", "-cpu", "cortex-a57"),
}
SIZES: tuple[tuple[str, str, int], ...] = (
    ("8 vCPUs", "8", 300),
    ("128 of 192", "128,maxcpus=192", 1000),
)
QUERY = [("query-hotpluggable-cpus", None)]


def _standin_session(arch: str, args: tuple[str, ...]) -> Any:
    sim = QemuSimulator([f"qemu-system-{arch}", *BASE_ARGS, *args], version="7.2")
    sim.qmp("qmp_capabilities")
    return sim.qmp("query-hotpluggable-cpus")


def _first_start(arch: str, args: tuple[str, ...]) -> float:
    """The median time of a first start of this command line and the query."""
    times = []
    for _ in range(REPEATS):
        _STARTED.clear()
        _resolve_cached.cache_clear()
        start = time.perf_counter()
        _standin_session(arch, args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _process(argv: tuple[str, ...], repeats: int) -> tuple[float, Any]:
    """The median time of a whole QMP session with the process ``argv``, and its answer."""
    times, replies = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        run = run_qemu(argv, QUERY)
        times.append(time.perf_counter() - start)
        replies = run.replies
    return statistics.median(times), replies


def in_process() -> None:
    print("(a) in process: first start + query-hotpluggable-cpus, against QEMU 7.2 (median)")
    print(f"{'target':8} {'size':11} {'stand-in':>9} {'QEMU 7.2':>9} {'ratio':>7} {'goal':>6}")
    for arch, machine in MACHINES.items():
        for label, smp, goal in SIZES:
            args = (*machine, "-smp", smp)
            ours = _standin_session(arch, args)  # loads the plugin and the catalogue
            first = _first_start(arch, args)
            qemu, replies = _process((*qemu_command(arch), *BASE_ARGS, *args), PROCESS_REPEATS)
            same = "" if replies and replies[0] == ours else "  (answers differ!)"
            print(
                f"{arch:8} {label:11} {first * 1e6:7.0f}us {qemu * 1e3:7.1f}ms "
                f"{qemu / first:6.0f}x {goal:5}x{same}"
            )


def as_process() -> None:
    print("(b) process session: greeting, qmp_capabilities, query, quit, exit (median)")
    script = shutil.which("cputopo", path=os.path.dirname(sys.executable))
    if script is None:
        print("no cputopo console script next to this Python: install the package")
        return
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    print(f"{'target':8} {'stand-in':>9} {'QEMU 7.2':>9} {'QEMU/stand-in':>14}")
    for arch, machine in MACHINES.items():
        args = (*BASE_ARGS, *machine, "-smp", "2,maxcpus=8")
        standin = (script, f"qemu-system-{arch}", "--qemu-version", "7.2", *args)
        _process(standin, 1)  # writes the bytecode caches
        ours, our_replies = _process(standin, PROCESS_REPEATS)
        qemu, replies = _process((*qemu_command(arch), *args), PROCESS_REPEATS)
        same = "" if replies and replies == our_replies else "  (answers differ!)"
        print(f"{arch:8} {ours * 1e3:7.1f}ms {qemu * 1e3:7.1f}ms {qemu / ours:13.2f}x{same}")


if __name__ == "__main__":
    in_process()
    as_process()
