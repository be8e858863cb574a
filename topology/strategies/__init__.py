"""Hypothesis strategies for QEMU CPU topologies, whole VMs and hot-plug sequences.

Needs the ``hypothesis`` extra (``pip install 'cputopo[hypothesis]'``);
``import topology`` alone never imports Hypothesis.

Every strategy follows Hypothesis's own conventions: keyword-only arguments,
small default bounds, :class:`hypothesis.errors.InvalidArgument` for bad
arguments. Each draws a shape first and builds the rest deterministically,
and the model (:meth:`topology.Machine.resolve`, :meth:`topology.VirtualMachine.start`
and its operations) decides what QEMU does with it, so examples shrink
towards one socket, one core, one thread, no NUMA and no hot-plug steps.

Which machine: ``machine=`` (a :func:`topology.machine`), or any of
``arch=`` (a QEMU target), ``machine_type=`` (with ``arch``) and
``qemu_version=``; whatever is left out is drawn from every supported one.

What is drawn:

* :func:`smp_strings` and :func:`smp_configs`: :class:`SmpCase` values
  (``.smp``, ``.machine``, and ``.topology`` when QEMU starts or
  ``.error_type``/``.message`` when it refuses), with ``valid=True``,
  ``False`` or ``None``;
* :func:`topologies`: resolved :class:`topology.CpuTopology` values;
* :func:`vm_specs`, :func:`virtual_machines`: whole VMs with guest NUMA;
* :func:`hotplug_sequences`: tuples of :class:`HotplugStep`, each with its outcome;
* :func:`qemu_command_lines`: ``qemu-system-...`` argv lists.

Installed, cputopo also registers strategies for its value types
(``st.from_type(topology.CpuTopology)``, ``SmpConfig``, ``SlotProps``,
``VirtualMachine``) through Hypothesis's ``hypothesis`` entry point.

>>> from hypothesis import find
>>> find(smp_strings(arch="ppc64", qemu_version="10.0"), lambda case: True).smp
'1'
"""

from __future__ import annotations

from topology.strategies._hotplug import hotplug_sequences
from topology.strategies._smp import smp_configs, smp_strings
from topology.strategies._values import HotplugStep, PresentCpu, SmpCase, VmSpec, present_cpus
from topology.strategies._vm import qemu_command_lines, topologies, virtual_machines, vm_specs

__all__ = [
    "HotplugStep",
    "PresentCpu",
    "SmpCase",
    "VmSpec",
    "hotplug_sequences",
    "present_cpus",
    "qemu_command_lines",
    "smp_configs",
    "smp_strings",
    "topologies",
    "virtual_machines",
    "vm_specs",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
