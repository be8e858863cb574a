"""A stateful test kit: drive your CPU hot-plug management and the model side by side.

Needs the ``hypothesis`` extra. Subclass :class:`HotplugComparison`, implement
its ``system_*`` adapter methods on top of your tool, and expose its test case::

    class MyToolComparison(HotplugComparison):
        specs = vm_specs(arch="ppc64", qemu_version="10.0")

        def system_start(self, spec): ...
        def system_plug(self, driver, props, device_id): ...
        def system_request_unplug(self, device): ...
        def system_complete_unplug(self, device): ...
        def system_set_online(self, cpu_index, online): ...
        def system_present(self): ...

    TestMyTool = MyToolComparison.TestCase

Hypothesis then starts a drawn VM on both sides and runs sequences of plugs,
unplug requests, unplug completions and online/offline changes, valid ones
and ones that must fail, built from the model's current state. After every
step it checks that your tool refused exactly what the model refused (with
QEMU's message, if ``compare_messages``) and that it lists the same present
vCPUs as the model: same ``cpu_index``, slot properties (NUMA node included),
device id and online state. A failure shrinks to the shortest sequence on
the smallest VM. See ``docs/how-to/strategies.md`` for a complete example.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from topology._model.vm import VirtualMachine
from topology.strategies._hotplug import candidate_steps
from topology.strategies._values import HotplugStep, PresentCpu, VmSpec, present_cpus
from topology.strategies._vm import vm_specs

__all__ = ["HotplugComparison"]


class HotplugComparison(RuleBasedStateMachine):
    """Base class of a stateful test comparing a tool's hot-plug handling with the model.

    Class attributes a subclass may set:

    ``specs``
        the strategy of :class:`~topology.strategies.VmSpec` to start VMs from
        (default: ``vm_specs()``, every machine).
    ``compare_messages``
        also require the tool's refusal text (``str(exception)``) to be QEMU's.
    ``refusals``
        the exception types that mean "refused"; any other exception is a bug
        and fails the test as it is (default: ``Exception``).

    The adapter (implement all six): each operation either returns (done) or
    raises one of ``refusals`` (refused, nothing changed). Operations QEMU
    would crash on instead of refusing (re-adding a pseries core under TCG)
    are never sent.

    ``system_start(spec)``
        start the tool's VM from ``spec`` (``spec.argv()`` is its QEMU command line).
    ``system_plug(driver, props, device_id)``
        ``device_add``: ``driver``, the slot properties (QMP names such as
        ``"core-id"``) and ``id`` (None: QEMU names the device itself).
    ``system_request_unplug(device)``
        ``device_del`` of ``device``, an id or a QOM path.
    ``system_complete_unplug(device)``
        the guest ejects ``device``, whose unplug was requested.
    ``system_set_online(cpu_index, online)``
        the guest brings a vCPU online or takes it offline.
    ``system_present()``
        the tool's view of the present vCPUs: :class:`~topology.strategies.PresentCpu`
        values, in any order.

    ``self.model`` is the model's :class:`~topology.VirtualMachine`, and
    ``self.spec`` the spec both were started from.
    """

    specs: ClassVar[st.SearchStrategy[VmSpec] | None] = None
    compare_messages: ClassVar[bool] = False
    refusals: ClassVar[tuple[type[BaseException], ...]] = (Exception,)

    model: VirtualMachine
    spec: VmSpec

    # -- the adapter -----------------------------------------------------------

    def system_start(self, spec: VmSpec) -> None:
        """Start the tool's VM from ``spec``."""
        raise NotImplementedError

    def system_plug(self, driver: str, props: Mapping[str, object], device_id: str | None) -> None:
        """``device_add`` through the tool; raise to refuse."""
        raise NotImplementedError

    def system_request_unplug(self, device: str) -> None:
        """``device_del`` through the tool; raise to refuse."""
        raise NotImplementedError

    def system_complete_unplug(self, device: str) -> None:
        """The guest ejects ``device``; raise to refuse."""
        raise NotImplementedError

    def system_set_online(self, cpu_index: int, online: bool) -> None:
        """The guest onlines or offlines a vCPU; raise to refuse."""
        raise NotImplementedError

    def system_present(self) -> Iterable[PresentCpu]:
        """The present vCPUs as the tool sees them."""
        raise NotImplementedError

    # -- the machine -------------------------------------------------------------

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        specs = type(self).specs
        self.spec = data.draw(specs if specs is not None else vm_specs(), label="spec")
        self.model = self.spec.start()
        self.system_start(self.spec)

    @rule(data=st.data())
    def operate(self, data: st.DataObject) -> None:
        faulty = data.draw(st.booleans(), label="faulty")
        step = data.draw(candidate_steps(self.model, faulty), label="operation")
        expected = step.expect(self.model)
        if expected.crash_signal is not None:
            return  # QEMU would die here (see HotplugStep.crash_signal): not a step to take
        refusal = self._run(step)
        if expected.ok:
            assert refusal is None, (
                f"the tool refused {_describe(step)} ({refusal!r}); QEMU does it"
            )
        else:
            assert refusal is not None, (
                f"the tool did {_describe(step)}; QEMU refuses it: {expected.message}"
            )
            if self.compare_messages:
                assert str(refusal) == expected.message, (
                    f"{_describe(step)}: the tool says {str(refusal)!r}, "
                    f"QEMU says {expected.message!r}"
                )

    def _run(self, step: HotplugStep) -> BaseException | None:
        try:
            if step.operation == "plug":
                assert step.driver is not None
                self.system_plug(step.driver, dict(step.props), step.device_id)
            elif step.operation == "request_unplug":
                assert step.device is not None
                self.system_request_unplug(step.device)
            elif step.operation == "complete_unplug":
                assert step.device is not None
                self.system_complete_unplug(step.device)
            else:
                assert step.cpu_index is not None
                self.system_set_online(step.cpu_index, step.operation == "online")
        except self.refusals as error:
            return error
        return None

    @invariant()
    def present_cpus_agree(self) -> None:
        if not hasattr(self, "model"):
            return
        ours = sorted(self.system_present(), key=lambda cpu: cpu.cpu_index)
        expected = present_cpus(self.model)
        assert ours == expected, _difference(ours, expected)


def _describe(step: HotplugStep) -> str:
    if step.operation == "plug":
        props = ",".join(f"{name}={value}" for name, value in step.props)
        device_id = f",id={step.device_id}" if step.device_id is not None else ""
        return f"device_add {step.driver},{props}{device_id}"
    if step.operation in ("request_unplug", "complete_unplug"):
        verb = "device_del" if step.operation == "request_unplug" else "the guest's eject of"
        return f"{verb} {step.device}"
    return f"{step.operation} of vCPU {step.cpu_index}"


def _difference(ours: list[PresentCpu], expected: list[PresentCpu]) -> str:
    extra = [cpu for cpu in ours if cpu not in expected]
    missing = [cpu for cpu in expected if cpu not in ours]
    return f"the tool's present vCPUs differ from QEMU's: extra {extra}, missing {missing}"
