"""Hypothesis's ``hypothesis`` entry point: strategies for cputopo's value types.

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported, in any
environment where cputopo is installed; the strategies themselves are only
imported when a test first asks for one of the types.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_hypothesis_setup_hook"]


def _hypothesis_setup_hook() -> None:
    from hypothesis import strategies as st

    from topology._model.slots import SlotProps
    from topology._model.vm import VirtualMachine
    from topology._parse.smp import SmpConfig
    from topology._resolve.topology import CpuTopology

    def topologies(_type: type) -> st.SearchStrategy[Any]:
        from topology.strategies import topologies

        return topologies()

    def smp_configs(_type: type) -> st.SearchStrategy[Any]:
        from topology.strategies import smp_configs

        return smp_configs().map(lambda case: case.config)

    def slot_props(_type: type) -> st.SearchStrategy[Any]:
        from topology.strategies import virtual_machines

        return virtual_machines().flatmap(
            lambda vm: st.sampled_from([slot.props for slot in vm.slots])
        )

    def virtual_machines(_type: type) -> st.SearchStrategy[Any]:
        from topology.strategies import virtual_machines

        return virtual_machines()

    st.register_type_strategy(CpuTopology, topologies)
    st.register_type_strategy(SmpConfig, smp_configs)
    st.register_type_strategy(SlotProps, slot_props)
    st.register_type_strategy(VirtualMachine, virtual_machines)
