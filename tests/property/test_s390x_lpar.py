"""The LPAR profile as a state machine: random sysfs writes keep SMT siblings together
and refusals change nothing (the rules and their sources are in
``tests/unit/test_s390x_lpar.py``).
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from arch.s390x import LparError, LparProfile
from tests.unit.test_s390x_lpar import CORES


class LparMachine(RuleBasedStateMachine):
    """Random sysfs writes: SMT siblings stay together, refusals change nothing."""

    @initialize(threads=st.sampled_from([1, 2]))
    def start(self, threads: int) -> None:
        self.lpar = LparProfile(CORES, threads=threads)
        self.count = len(CORES) * threads

    @rule(
        data=st.data(),
        name=st.sampled_from(["configure", "online"]),
        text=st.sampled_from(["0", "1", "2"]),
    )
    def write(self, data: st.DataObject, name: str, text: str) -> None:
        cpu = data.draw(st.integers(0, self.count - 1))
        before = self.lpar.cpus()
        try:
            self.lpar.write(cpu, name, text)
        except LparError:
            assert self.lpar.cpus() == before

    @rule(text=st.sampled_from(["0", "1"]))
    def dispatch(self, text: str) -> None:
        self.lpar.write_dispatching(text)

    @rule()
    def update(self) -> None:
        self.lpar.update_topology()

    @invariant()
    def siblings_together(self) -> None:
        cpus = getattr(self, "lpar", None)
        if cpus is None:
            return
        by_core: dict[int, set[bool]] = {}
        for cpu in self.lpar.cpus():
            by_core.setdefault(cpu.core_id, set()).add(cpu.configured)
            assert not (cpu.online and not cpu.configured)
            if not cpu.configured:
                assert cpu.polarization == "unknown"
        assert all(len(states) == 1 for states in by_core.values())
        assert self.lpar.cpus()[0].online


TestLparMachine = LparMachine.TestCase
TestLparMachine.settings = settings(max_examples=40, stateful_step_count=20, deadline=None)
