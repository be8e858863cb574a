"""Benchmark: resolving one -smp string, against starting real QEMU for the same answer.

Run: ``python benchmarks/bench_smp.py``. Prints the time per resolution for a few
strings (the goal is at most 20 microseconds each), the time to start QEMU 7.2
and read ``query-hotpluggable-cpus`` for the same configuration, and the ratio.
Not a test: it asserts nothing about time.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import topology
from tests.support.qemu_runner import qemu_binary, run_qemu

CASES = [
    "8",
    "8,sockets=2,maxcpus=16",
    "cpus=0x20,sockets=4,dies=2,cores=4,threads=2,maxcpus=64",
    "4,sockets=2,cores=4",  # refused: the error path
]


def _resolve_time(rules: topology.SmpRules, smp: str, repeat: int = 5, number: int = 2000) -> float:
    def once() -> None:
        with contextlib.suppress(topology.TopologyError):
            topology.resolve_smp(smp, rules)

    return min(timeit.repeat(once, repeat=repeat, number=number)) / number


def _qemu_time(smp: str, runs: int = 5) -> float | None:
    if qemu_binary("x86_64") is None:
        return None
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run_qemu(
            "x86_64",
            ["-machine", "pc-q35-7.2", "-smp", smp],
            [("query-hotpluggable-cpus", None)],
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    rules = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2").smp_rules
    print(f"{'-smp':<58} {'cputopo':>10} {'QEMU 7.2':>10} {'ratio':>8}")
    for smp in CASES:
        ours = _resolve_time(rules, smp)
        theirs = _qemu_time(smp)
        qemu_text = f"{theirs * 1e3:8.1f}ms" if theirs else "   (none)"
        ratio = f"{theirs / ours:8.0f}x" if theirs else "       -"
        print(f"{smp:<58} {ours * 1e6:8.2f}us {qemu_text:>10} {ratio}")


if __name__ == "__main__":
    main()
