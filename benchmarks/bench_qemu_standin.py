"""Benchmark: the stand-in against real QEMU 7.2, start and ``query-hotpluggable-cpus``.

Run: ``python benchmarks/bench_qemu_standin.py``. For the same configurations
(a few per target) it measures, in one run:

* the stand-in: ``QemuSimulator(argv)`` (reading the command line and starting
  the model), ``qmp_capabilities``, then ``query-hotpluggable-cpus``; the mean
  over ``REPEATS`` rounds, after one cold round that loads the catalogue and
  the plugins (its time is printed too). Twice: as a *first* start of that
  command line (the stand-in's memory of earlier starts and -smp resolutions
  cleared before each round), and *again* (a test suite starting the same
  command line once more gets a copy of the VM it started before);
* real QEMU 7.2 (``tests/support/qemu_runner.py``: start paused under TCG, QMP
  greeting, ``qmp_capabilities``, ``query-hotpluggable-cpus``, ``quit``, exit);
  the mean over ``QEMU_REPEATS`` runs.

It prints both times per configuration and the ratio (issue 7 asks for at
least 1000 times faster), and checks that both gave the same answer. Not a
test: nothing is asserted; QEMU 7.2 must be installed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.qemu_runner import BASE_ARGS, run_qemu
from topology._resolve.smp import _resolve_cached
from topology.qemu import QemuSimulator
from topology.qemu._simulator import _STARTED

REPEATS = 200
QEMU_REPEATS = 10

CONFIGURATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x86_64", ("-machine", "pc-q35-7.2", "-smp", "4,sockets=2,cores=2,maxcpus=8")),
    ("x86_64", ("-machine", "pc-i440fx-7.2", "-smp", "2,maxcpus=16")),
    (
        "x86_64",
        (
            "-machine",
            "q35",
            "-smp",
            "4,maxcpus=8",
            "-m",
            "512M",
            "-object",
            "memory-backend-ram,id=m0,size=256M",
            "-object",
            "memory-backend-ram,id=m1,size=256M",
            "-numa",
            "node,nodeid=0,memdev=m0",
            "-numa",
            "node,nodeid=1,memdev=m1",
        ),
    ),
    ("ppc64", ("-machine", "pseries-7.2", "-smp", "2,maxcpus=8")),
    ("ppc64", ("-machine", "pseries-6.2", "-cpu", "POWER9", "-smp", "1,maxcpus=4")),
    ("s390x", ("-machine", "s390-ccw-virtio-7.2", "-smp", "2,maxcpus=8")),
    ("s390x", ("-machine", "s390-ccw-virtio-6.2", "-smp", "4")),
    ("aarch64", ("-machine", "virt-7.2", "-smp", "4")),
    ("aarch64", ("-machine", "virt", "-cpu", "cortex-a57", "-smp", "2,maxcpus=4")),
)


def _standin(arch: str, args: tuple[str, ...]) -> dict[str, Any]:
    sim = QemuSimulator([f"qemu-system-{arch}", *BASE_ARGS, *args], version="7.2")
    sim.qmp("qmp_capabilities")
    return sim.qmp("query-hotpluggable-cpus")


def _forget() -> None:
    """Drop what earlier starts left behind: the next start is a first one."""
    _STARTED.clear()
    _resolve_cached.cache_clear()


def _mean_time(arch: str, args: tuple[str, ...], *, first: bool) -> float:
    total = 0.0
    for _ in range(REPEATS):
        if first:
            _forget()
        start = time.perf_counter()
        _standin(arch, args)
        total += time.perf_counter() - start
    return total / REPEATS


def main() -> None:
    cold_start = time.perf_counter()
    for arch, args in CONFIGURATIONS:
        _standin(arch, args)
    cold = (time.perf_counter() - cold_start) / len(CONFIGURATIONS)
    print(f"stand-in, first round (catalogue and plugins loaded): {cold * 1e3:.2f} ms each")
    print(
        f"{'configuration':50} {'first':>8} {'again':>8} {'QEMU 7.2':>9} "
        f"{'ratio first':>11} {'again':>7}"
    )
    first_ratios, again_ratios = [], []
    for arch, args in CONFIGURATIONS:
        first = _mean_time(arch, args, first=True)
        again = _mean_time(arch, args, first=False)
        ours = _standin(arch, args)
        qemu_times = []
        for _ in range(QEMU_REPEATS):
            start = time.perf_counter()
            run = run_qemu(arch, args, [("query-hotpluggable-cpus", None)], version="7.2")
            qemu_times.append(time.perf_counter() - start)
        qemu = statistics.mean(qemu_times)
        same = "" if run.replies and run.replies[0] == ours else "  (answers differ!)"
        first_ratios.append(qemu / first)
        again_ratios.append(qemu / again)
        label = f"{arch} {' '.join(args)}"
        if len(label) > 50:
            label = label[:47] + "..."
        print(
            f"{label:50} {first * 1e6:6.0f}us {again * 1e6:6.0f}us {qemu * 1e3:7.1f}ms "
            f"{qemu / first:10.0f}x {qemu / again:6.0f}x{same}"
        )
    for name, ratios in (("first start", first_ratios), ("again", again_ratios)):
        print(
            f"ratio, {name}: min {min(ratios):.0f}x, "
            f"geometric mean {statistics.geometric_mean(ratios):.0f}x (goal: at least 1000x)"
        )


if __name__ == "__main__":
    main()
