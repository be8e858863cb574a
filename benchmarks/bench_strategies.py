"""Benchmark: how many valid VM models ``topology.strategies`` draws per second.

Run: ``python benchmarks/bench_strategies.py``. Inside one ``@given`` test (as
a user's test suite draws them) it draws ``vm_specs()`` from every machine of
every QEMU release and starts each (``VmSpec.start``, a whole
``VirtualMachine`` with its slots and NUMA), then prints the rate; once with
the machines' probes cold (the first run in a process) and once warm. Also
``smp_strings(valid=None)``. Goal: at least 200 valid VM models per second.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings

from topology import strategies as ts

EXAMPLES = 1000


def _rate(strategy: Any, use: Any) -> float:
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        use(value)

    start = time.perf_counter()
    draw()
    return EXAMPLES / (time.perf_counter() - start)


def main() -> None:
    for label in ("cold", "warm"):
        rate = _rate(ts.vm_specs(), lambda spec: spec.start())
        print(f"vm_specs() started as VirtualMachine ({label}): {rate:7.0f} valid VM models/s")
    rate = _rate(ts.smp_strings(valid=None), lambda case: None)
    print(f"smp_strings(valid=None):                     {rate:7.0f} cases/s")


if __name__ == "__main__":
    main()
