"""ABI stability: compare two VMs, plan a migration destination, check an upgrade.

A public submodule (like :mod:`topology.strategies`): ``from topology import abi``.

* :func:`compare` lists what differs between two VM models, each
  :class:`AbiChange` with its :class:`Severity` and the reason;
* :func:`migration_plan` gives the QEMU command line of a destination that
  reproduces a running guest, hot-plugged CPUs included;
* :func:`upgrade` tells what changes when the guest is started with another
  QEMU release or machine type;
* :func:`save_model` and :func:`load_model` write a VM model as JSON and build
  it again (``cputopo diff`` reads such files).

See ``docs/how-to/migration.md`` for the rules and the table of what breaks a guest.

>>> import topology
>>> from topology import abi
>>> m = topology.machine("x86_64", "pc-q35-7.2", qemu_version="7.2")
>>> vm = topology.VirtualMachine.start(m, "2,maxcpus=4")
>>> abi.compare(vm, abi.load_model(abi.save_model(vm)))
[]
"""

from __future__ import annotations

from topology._errors import ModelFileError
from topology._model.build import build_vm
from topology.abi._compare import AbiChange, Severity, compare, compatible, identity
from topology.abi._migration import migration_plan
from topology.abi._model_file import FORMAT, load_model, save_model
from topology.abi._upgrade import upgrade

__all__ = [
    "FORMAT",
    "AbiChange",
    "ModelFileError",
    "Severity",
    "build_vm",
    "compare",
    "compatible",
    "identity",
    "load_model",
    "migration_plan",
    "save_model",
    "upgrade",
]

for _name in ("AbiChange", "Severity", "build_vm", "compare", "compatible", "identity"):
    globals()[_name].__module__ = __name__
for _name in ("load_model", "migration_plan", "save_model", "upgrade"):
    globals()[_name].__module__ = __name__
del _name
