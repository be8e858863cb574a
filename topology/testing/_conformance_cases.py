"""What the conformance kit sends to both QEMUs: a command line, then QMP commands.

A case starts from one of three kinds of command line, all of the target's
plugin and drawn by :mod:`topology.strategies`:

* a whole VM (:func:`~topology.strategies.vm_specs`: a machine type, ``-smp``,
  sometimes guest NUMA with memory backends);
* a ``-smp`` option QEMU takes or refuses
  (:func:`~topology.strategies.smp_strings` with ``valid=None``);
* a machine type name of any supported QEMU release (an alias included), or
  one no release has, with a small ``-smp``: what this release refuses, warns
  about (deprecated types) or takes.

When the stand-in starts the VM, the QMP commands follow: the CPU queries,
then a hot-plug sequence (:func:`~topology.strategies.hotplug_sequences`, steps
meant to succeed and steps meant to fail) as ``device_add`` and ``device_del``,
with more queries in between and at the end. The steps a paused guest cannot
take (completing an unplug, onlining a vCPU) are left out.
"""

from __future__ import annotations

from typing import Final

import attrs
from hypothesis import strategies as st

import topology
from topology import strategies as ts
from topology.qemu import QemuSimulator, QemuStartError, UnsupportedOptionError
from topology.testing._qemu_process import Command

__all__ = ["STARTUP_ARGS", "Case", "cases"]

#: What every command line ends with: a paused VM with no devices, no
#: configuration file and no display, answering QMP on stdio.
STARTUP_ARGS: Final = ("-S", "-nodefaults", "-no-user-config", "-display", "none", "-qmp", "stdio")

#: A machine type no QEMU release has.
UNKNOWN_MACHINE_TYPE: Final = "no-such-machine"

_QUERIES: Final = ("query-hotpluggable-cpus", "query-cpus-fast")


@attrs.frozen(kw_only=True)
class Case:
    """One conformance case: the command line (binary first) and the QMP commands."""

    argv: tuple[str, ...]
    commands: tuple[Command, ...] = ()


def _machine_type_names(target: str) -> tuple[str, ...]:
    """Every machine type name and alias the target's plugin has in any supported release."""
    names: set[str] = set()
    for version in topology.SUPPORTED_QEMU_VERSIONS:
        try:
            found = topology.machine_types(target, qemu_version=version)
        except topology.TopologyError:
            continue  # a release the plugin does not serve
        for machine_type in found:
            names.add(machine_type.name)
            names.update(machine_type.aliases)
    return (UNKNOWN_MACHINE_TYPE, *sorted(names))


def start_standin(argv: tuple[str, ...], version: str) -> QemuSimulator | None:
    """The stand-in started from ``argv``, or None when it refuses (or cannot) start."""
    try:
        return QemuSimulator(argv, version=version)
    except (QemuStartError, UnsupportedOptionError):
        return None


@st.composite
def _command_lines(
    draw: st.DrawFn, target: str, version: str, names: tuple[str, ...]
) -> tuple[str, ...]:
    kind = draw(st.sampled_from(("vm", "smp", "machine-type")), label="kind")
    if kind == "vm":
        spec = draw(ts.vm_specs(arch=target, qemu_version=version, max_cpus=8, max_nodes=2))
        return tuple(spec.argv())
    if kind == "smp":
        case = draw(ts.smp_strings(arch=target, qemu_version=version, valid=None, max_cpus=8))
        return tuple(case.argv())
    name = draw(st.sampled_from(names), label="machine type")
    smp = draw(st.sampled_from(("1", "2", "1,maxcpus=2", "2,sockets=2")), label="smp")
    machine = ("-machine", name, "-accel", "tcg", "-smp", smp)
    return (f"qemu-system-{target}", *machine, *STARTUP_ARGS)


@st.composite
def _commands(draw: st.DrawFn, standin: QemuSimulator) -> tuple[Command, ...]:
    steps = draw(ts.hotplug_sequences(standin.vm, max_size=12), label="hot-plug steps")
    commands: list[Command] = [(query, None) for query in _QUERIES]
    for step in steps:
        if step.operation == "plug":
            assert step.driver is not None
            arguments: dict[str, object] = {"driver": step.driver, **dict(step.props)}
            if step.device_id is not None:
                arguments["id"] = step.device_id
            commands.append(("device_add", arguments))
        elif step.operation == "request_unplug":
            commands.append(("device_del", {"id": step.device}))
        else:
            continue  # the guest's part: a paused guest does nothing
        if draw(st.booleans()):
            commands.append((draw(st.sampled_from(_QUERIES)), None))
    if len(commands) > len(_QUERIES):
        commands += [(query, None) for query in _QUERIES]
    return tuple(commands)


def cases(target: str, version: str) -> st.SearchStrategy[Case]:
    """Conformance cases for ``target`` under QEMU ``version`` (see the module)."""
    names = _machine_type_names(target)

    @st.composite
    def drawn(draw: st.DrawFn) -> Case:
        argv = draw(_command_lines(target, version, names))
        standin = start_standin(argv, version)
        if standin is None:
            return Case(argv=argv)
        return Case(argv=argv, commands=draw(_commands(standin)))

    return drawn()
