"""What pseries calls each CPU: vCPU ids, CPU DRC indexes and names, chip ids.

Sources: ``hw/ppc/spapr.c`` (``spapr_set_vsmt_mode``, ``spapr_vcpu_id``,
``spapr_max_server_number``, ``spapr_init_cpus``, ``spapr_dt_cpu``) and
``hw/ppc/spapr_drc.c`` (``spapr_drc_index``); the shared notes §3.2, §3.3, §3.9.
The vsmt defaults, the check and the DRC objects were observed on QEMU 7.2 and
10.0 (``tests/differential/test_spapr_identity.py``).

>>> vcpu_id(5, threads=2, vsmt=8)
17
>>> hex(drc_index(4, threads=2, vsmt=8))
'0x10000010'
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from typing import Final

import attrs

from topology import BoardError, MachineType, ParameterError, QemuVersion, VirtualMachine
from topology.plugin import VmView, as_observed_in, parse_uint64, release_key

__all__ = [
    "CoreIdentity",
    "check_vsmt",
    "chip_id",
    "core_identities",
    "cpu_identity",
    "default_vsmt",
    "drc_index",
    "drc_name",
    "effective_vsmt",
    "max_server_number",
    "model_pvr",
    "requested_vsmt",
    "vcpu_id",
]

#: SPAPR_DR_CONNECTOR_TYPE_SHIFT_CPU (1) << 28: the top nibble of every CPU DRC index.
CPU_DRC_BASE: Final = 0x10000000
_DRC_ID_MASK: Final = 0x0FFFFFFF
_UINT32_MAX: Final = 2**32 - 1


def _read_data(name: str) -> str:
    """A file of this package's ``data`` directory, read with os: importlib.resources
    would import pathlib, zipfile and more into every stand-in process."""
    with open(os.path.join(os.path.dirname(__file__), "data", name), encoding="utf-8") as file:
        return file.read()


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be positive, not {value}")


def vcpu_id(cpu_index: int, threads: int, vsmt: int) -> int:
    """The vCPU id (device-tree ``reg``, KVM id) of CPU ``cpu_index`` (``spapr_vcpu_id``).

    Each core gets a block of ``vsmt`` ids; its threads take the first ``threads``.

    >>> [vcpu_id(i, threads=2, vsmt=4) for i in range(6)]
    [0, 1, 4, 5, 8, 9]
    """
    _positive("threads", threads)
    _positive("vsmt", vsmt)
    return (cpu_index // threads) * vsmt + cpu_index % threads


def drc_index(core_id: int, threads: int, vsmt: int) -> int:
    """The DRC index of the core with ``core-id`` ``core_id``: ``0x10000000 | vcpu_id(core_id)``.

    >>> hex(drc_index(6, threads=2, vsmt=3))
    '0x10000009'
    """
    return CPU_DRC_BASE | (vcpu_id(core_id, threads, vsmt) & _DRC_ID_MASK)


def drc_name(core_id: int, threads: int, vsmt: int) -> str:
    """The DRC name of the core with ``core-id`` ``core_id`` (``ibm,drc-names``).

    >>> drc_name(4, threads=4, vsmt=8)
    'CPU 8'
    """
    return f"CPU {vcpu_id(core_id, threads, vsmt)}"


def chip_id(cpu_index: int, threads: int, cores: int) -> int:
    """The device-tree ``ibm,chip-id`` of CPU ``cpu_index``: its socket number.

    >>> [chip_id(i, threads=2, cores=2) for i in range(0, 8, 2)]
    [0, 0, 1, 1]
    """
    _positive("threads", threads)
    _positive("cores", cores)
    return cpu_index // (threads * cores)


def max_server_number(max_cpus: int, threads: int, vsmt: int) -> int:
    """``spapr_max_server_number``: ceil(maxcpus * vsmt / threads), the interrupt servers sized.

    >>> max_server_number(6, threads=2, vsmt=8)
    24
    """
    _positive("threads", threads)
    return -(-max_cpus * vsmt // threads)


def requested_vsmt(options: Mapping[str, str]) -> int | None:
    """The ``-machine vsmt=N`` option, or None when it is absent or 0 (QEMU's "not set").

    >>> requested_vsmt({"vsmt": "4"}), requested_vsmt({"vsmt": "0"}), requested_vsmt({})
    (4, None, None)
    """
    text = options.get("vsmt")
    if text is None:
        return None
    # QEMU parses -machine before -smp, so these come earlier there (texts seen on 7.2).
    # A uint32 property: read as strtoull base 0 (so 010 is 8 and -1 wraps), then
    # range-checked.
    value = parse_uint64(text)
    if value is None or value < 0:
        raise ParameterError("Parameter 'vsmt' expects integer", what="vsmt", value=text)
    if value > _UINT32_MAX:
        raise ParameterError("Parameter 'vsmt' expects uint32_t", what="vsmt", value=text)
    return value or None


def default_vsmt(machine_type: MachineType, threads: int) -> int:
    """vsmt when the user sets none: threads, or max(8, threads) on pseries-4.1 and older.

    >>> import topology
    >>> old = topology.machine("ppc64", "pseries-4.1", qemu_version="7.2").type
    >>> default_vsmt(old, 1), default_vsmt(old, 16)
    (8, 16)
    """
    # smp_threads_vsmt, set by spapr_machine_4_1_class_options.
    release = machine_type.name.removeprefix("pseries-")
    if release_key(release) <= (4, 1):
        return max(8, threads)
    return threads


def effective_vsmt(machine_type: MachineType, threads: int, options: Mapping[str, str]) -> int:
    """The vsmt QEMU uses (``qom-get /machine vsmt`` after start).

    >>> import topology
    >>> m = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2", vsmt="4")
    >>> effective_vsmt(m.type, 1, m.options)
    4
    """
    return requested_vsmt(options) or default_vsmt(machine_type, threads)


def check_vsmt(options: Mapping[str, str], threads: int) -> None:
    """``spapr_set_vsmt_mode``: a vsmt set by the user must be >= threads.

    Any other value is accepted under TCG, powers of 2 or not (observed on 7.2
    and 10.0). With KVM the host's modes also count (see ``._kvm``).

    >>> check_vsmt({"vsmt": "1"}, 2)
    Traceback (most recent call last):
      ...
    topology.BoardError: Cannot support VSMT mode 1 because it must be >= threads/core (2)
    """
    vsmt = requested_vsmt(options)
    if vsmt is not None and vsmt < threads:
        raise BoardError(
            f"Cannot support VSMT mode {vsmt} because it must be >= threads/core ({threads})",
            what="vsmt",
            value=vsmt,
        )


@attrs.frozen(kw_only=True)
class CoreIdentity:
    """The names of one pseries core slot and of its threads.

    ``drc_index`` and ``drc_name`` are those of the CPU DRC QEMU creates for the
    slot (only on machine types with CPU hot-plug, pseries-2.7 and later).
    ``vcpu_ids`` and ``chip_ids`` are per thread, thread 0 first.
    """

    core_id: int = attrs.field(validator=attrs.validators.ge(0))
    drc_index: int
    drc_name: str
    vcpu_ids: tuple[int, ...]
    chip_ids: tuple[int, ...]


def core_identities(vm: VirtualMachine) -> list[CoreIdentity]:
    """One :class:`CoreIdentity` per possible core of a pseries ``vm``, in slot order.

    >>> import topology
    >>> m = topology.machine("ppc64", "pseries-7.2", qemu_version="7.2", vsmt="3")
    >>> vm = VirtualMachine.start(m, "2,maxcpus=4")
    >>> [(c.core_id, hex(c.drc_index), c.vcpu_ids) for c in core_identities(vm)][:2]
    [(0, '0x10000000', (0,)), (1, '0x10000003', (3,))]
    """
    topo = vm.topology
    threads = topo.threads
    vsmt = effective_vsmt(vm.machine.type, threads, vm.machine.options)
    result = []
    for slot in vm.slots:
        core = slot.props.core_id
        assert core is not None  # every pseries slot has a core-id
        indexes = range(slot.first_cpu_index, slot.first_cpu_index + slot.vcpus_count)
        result.append(
            CoreIdentity(
                core_id=core,
                drc_index=drc_index(core, threads, vsmt),
                drc_name=drc_name(core, threads, vsmt),
                vcpu_ids=tuple(vcpu_id(i, threads, vsmt) for i in indexes),
                chip_ids=tuple(chip_id(i, threads, topo.cores) for i in indexes),
            )
        )
    return result


def cpu_identity(vm: VmView, slot_index: int) -> Mapping[str, object]:
    """What the guest knows the core in ``slot_index`` by (``ArchPlugin.cpu_identity``).

    The core id, each thread's vCPU id (device-tree ``reg``, interrupt server)
    and chip id, the CPU DRC index on types with CPU hot-plug, and the PVR.
    """
    slot = vm.slots[slot_index]
    threads = vm.topology.threads
    vsmt = effective_vsmt(vm.machine.type, threads, vm.machine.options)
    core = slot.props.core_id
    assert core is not None  # every pseries slot has a core-id
    identity: dict[str, object] = {
        "core-id": core,
        "vcpu-ids": tuple(vcpu_id(i, threads, vsmt) for i in slot.cpu_indexes),
        "chip-ids": tuple(chip_id(i, threads, vm.topology.cores) for i in slot.cpu_indexes),
    }
    if vm.machine.type.hotpluggable_cpus:
        identity["drc-index"] = drc_index(core, threads, vsmt)
    pvr = model_pvr(slot.type.removesuffix("-spapr-cpu-core"), vm.machine.qemu_version)
    if pvr is not None:
        identity["pvr"] = pvr
    return identity


@functools.cache
def _pvrs() -> dict[str, dict[str, str]]:
    text = _read_data("pvrs.json")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


def model_pvr(model: str, version: QemuVersion) -> str | None:
    """The PVR a CPU of ``model`` has in QEMU ``version`` (hex), or None when not captured.

    One name can mean another PVR in another release (``data/pvrs.json``,
    captured by ``tools/capture_spapr_pvrs.py`` from QEMU 7.2.22, 10.0.13 and
    11.1.3 with HMP ``info registers``; releases not run answer as the nearest
    older one captured):

    >>> from topology import qemu_version
    >>> [model_pvr("power10_v2.0", qemu_version(v)) for v in ("7.2", "10.0")]
    ['0x00800200', '0x00801200']
    """
    return as_observed_in(_pvrs(), version).get(model.lower())
