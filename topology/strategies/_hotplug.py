"""Hot-plug sequences: operations built from the model's state, their outcome from the model."""

from __future__ import annotations

from typing import Final

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from topology._model.vm import VirtualMachine
from topology.strategies._machines import check_bound, check_valid
from topology.strategies._values import HotplugStep, Operation, clone_vm

__all__ = ["candidate_steps", "hotplug_sequences"]

OPERATIONS: Final[tuple[Operation, ...]] = (
    "plug",
    "request_unplug",
    "complete_unplug",
    "online",
    "offline",
)
# How a plug is spoiled: a taken slot, an id past the topology, a property no
# slot has, a driver that is not the slot's, an id already used, the wrong node.
_BAD_PLUGS: Final = ("taken", "out_of_range", "unknown_prop", "driver", "duplicate_id", "node")


def _names(vm: VirtualMachine) -> list[str]:
    """How ``device_del`` can name each present CPU device: its id, else its QOM path."""
    return [state.device_id or state.qom_path for state in vm.snapshot().values()]


@st.composite
def candidate_steps(draw: st.DrawFn, vm: VirtualMachine, faulty: bool) -> HotplugStep:
    """One operation on ``vm`` as it is now, meant to succeed (or, ``faulty``, to fail).

    Only the intent: whether it does is for the model to say (:meth:`HotplugStep.expect`).
    """
    operation = draw(st.sampled_from(OPERATIONS))
    if operation == "plug":
        return draw(_plugs(vm, faulty))
    if operation in ("online", "offline"):
        present = vm.present_cpu_indexes()
        if faulty:
            absent = sorted(set(range(vm.topology.max_cpus + 1)) - set(present))
            cpu_index = draw(st.sampled_from(absent))
        else:
            cpu_index = draw(st.sampled_from(present))
        return HotplugStep(operation=operation, cpu_index=cpu_index)
    names = _names(vm)
    if operation == "complete_unplug":
        states = vm.snapshot().values()
        pending = [n for n, s in zip(names, states, strict=True) if s.unplug_pending]
        if faulty or not pending:
            waiting = [n for n in names if n not in pending] or names
            return HotplugStep(operation=operation, device=draw(st.sampled_from(waiting)))
        return HotplugStep(operation=operation, device=draw(st.sampled_from(pending)))
    if faulty and draw(st.booleans()):
        return HotplugStep(operation=operation, device="no-such-device")
    # Hot-plugged CPUs first: the boot CPUs are often refused (always slot 0).
    hot = [n for n in names if not n.startswith("/machine/unattached/")]
    return HotplugStep(operation=operation, device=draw(st.sampled_from(hot or names)))


@st.composite
def _plugs(draw: st.DrawFn, vm: VirtualMachine, faulty: bool) -> HotplugStep:
    filled = {slot.index for slot in vm.present()}
    free = [slot for slot in vm.slots if slot.index not in filled]
    how = draw(st.sampled_from(_BAD_PLUGS)) if faulty else None
    pool = vm.present() if how == "taken" or not free else free
    slot = draw(st.sampled_from(pool))
    props: dict[str, object] = dict(slot.props.as_qmp())
    # node-id may be left out (taken from the slot) or given right.
    if "node-id" in props and not draw(st.booleans()):
        del props["node-id"]
    driver = slot.type
    used = [s.device_id for s in vm.snapshot().values() if s.device_id is not None]
    device_id: str | None = None
    if draw(st.booleans()):
        device_id = f"cpu{len(used) + draw(st.integers(0, 3))}"
        while device_id in used:
            device_id += "x"
    if how == "out_of_range" and props:
        name = draw(st.sampled_from(sorted(p for p in props if p != "node-id") or ["node-id"]))
        props[name] = vm.topology.max_cpus + draw(st.integers(0, 8))
    elif how == "unknown_prop":
        props["no-such-id"] = 0
    elif how == "driver":
        driver = draw(st.sampled_from(["no-such-cpu", f"{driver}-typo"]))
    elif how == "duplicate_id" and used:
        device_id = draw(st.sampled_from(used))
    elif how == "node":
        node = slot.props.node_id if slot.props.node_id is not None else 0
        props["node-id"] = node + 1
    return HotplugStep(operation="plug", driver=driver, props=props, device_id=device_id)


def hotplug_sequences(
    model: VirtualMachine, *, max_size: int = 6, valid: bool | None = None
) -> st.SearchStrategy[tuple[HotplugStep, ...]]:
    """Sequences of hot-plug operations on ``model``, each with its expected outcome.

    Operations are plugs, unplug requests, unplug completions (the guest
    ejecting a CPU), and the guest bringing vCPUs online and offline; each is
    built from the state the previous steps left (a free slot, a present
    device, a pending unplug...). ``valid=True`` keeps only steps that succeed,
    ``False`` only steps that must fail (a taken slot, an id past the
    topology, an unknown property or driver, a duplicate id, a wrong node-id,
    an unknown device, a completion nothing asked for...), ``None`` both.

    The outcome of each step (:class:`HotplugStep`: its error and QEMU's
    message, or its result; the present vCPUs after it) comes from running
    the sequence on a copy of ``model`` as it is now: ``model`` itself is
    never changed. A drawn step that does not fit ``valid`` is left out, so
    a sequence may be shorter than ``max_size``; so is a step QEMU would crash
    on (re-adding a pseries core under TCG): after a crash there is nothing
    left to compare. Shrinks towards no steps.
    """
    if not isinstance(model, VirtualMachine):
        raise InvalidArgument(f"model={model!r} must be a topology.VirtualMachine")
    check_bound("max_size", max_size, 0)
    check_valid(valid)
    start = clone_vm(model)

    @st.composite
    def sequences(draw: st.DrawFn) -> tuple[HotplugStep, ...]:
        vm = clone_vm(start)
        steps = []
        for _ in range(draw(st.integers(0, max_size))):
            faulty = draw(st.booleans()) if valid is None else not valid
            step = draw(candidate_steps(vm, faulty)).expect(vm)
            if step.crash_signal is None and (valid is None or step.ok is valid):
                steps.append(step)
            else:
                # Left out: replay the kept steps from the start, as even a refused
                # plug moves a counter (the number of the next anonymous device).
                vm = clone_vm(start)
                for kept in steps:
                    kept.expect(vm)
        return tuple(steps)

    return sequences()
