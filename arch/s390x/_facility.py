"""The s390x configuration-topology facility: where each CPU sits, and its entitlement.

QEMU 8.2 and later give a KVM guest a drawer/book/socket topology with
per-CPU entitlement and dedication when the CPU model has the ``ctop``
feature. The facts, all from QEMU's source (8.2 to 10.x, unchanged):

* ``hw/s390x/cpu-topology.c``: ``s390_has_topology`` (the ``ctop`` feature),
  ``s390_topology_cpu_default`` (all or none of socket/book/drawer; the
  defaults from core-id; ``auto`` entitlement), ``s390_topology_check`` (its
  messages, in its order), ``s390_topology_setup_cpu`` (the per-socket count),
  ``s390_change_topology``/``qmp_set_cpu_topology`` (``set-cpu-topology``),
  ``qmp_query_s390x_cpu_polarization``, ``s390_handle_ptf`` (the guest's PTF:
  polarization and the ``CPU_POLARIZATION_CHANGE`` event), ``s390_topology_reset``.
* ``hw/s390x/s390-virtio-ccw.c`` ``s390_cpu_plug``: the placement is set up
  when a CPU is plugged, and only when the facility is on.
* ``qapi/machine-target.json`` (8.2-10.0; ``qapi/machine-s390x.json`` from
  10.1): the command arguments (``core-id`` uint16, required; ``socket-id``,
  ``book-id``, ``drawer-id`` uint16, ``entitlement``, ``dedicated``, optional).

Under TCG the facility is off: QEMU refuses ``-cpu ...,ctop=on`` and accepts
the placement properties on ``device_add`` without checking or using them, and
QEMU 10.0 built for a non-s390x host has neither QMP command (observed; see
``tests/differential/test_s390x_topology.py``).

The state lives in ``vm.stash[TOPOLOGY_KEY]`` as one frozen
:class:`TopologyState`, replaced whole on every change, so a refused
operation leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Literal, get_args

import attrs

from topology import BoardError, ParameterError, QemuVersion, TopologyError
from topology.plugin import StashKey

if TYPE_CHECKING:
    from topology import Machine
    from topology.plugin import VmView

__all__ = [
    "TOPOLOGY_KEY",
    "CommandNotFound",
    "CpuPlacement",
    "Entitlement",
    "Polarization",
    "TopologyState",
    "cpu_placements",
    "default_placement",
    "guest_reset",
    "guest_set_polarization",
    "has_topology",
    "placement_of",
    "qmp_commands",
    "topology_state",
]

#: QAPI ``S390CpuEntitlement`` (``CpuS390Entitlement`` before 9.2), in its order (values 0..3).
Entitlement = Literal["auto", "low", "medium", "high"]
#: QAPI ``S390CpuPolarization``.
Polarization = Literal["horizontal", "vertical"]

ENTITLEMENTS: Final[tuple[Entitlement, ...]] = get_args(Entitlement)
POLARIZATIONS: Final[tuple[Polarization, ...]] = get_args(Polarization)

#: The key of the plugin's state in ``vm.stash``.
TOPOLOGY_KEY: Final = StashKey["TopologyState"]("s390x.topology")

UINT16: Final = (0, 2**16 - 1, "uint16_t")


class CommandNotFound(TopologyError, LookupError):
    """The QMP command does not exist in this QEMU (QMP error class ``CommandNotFound``)."""

    qmp_class = "CommandNotFound"


@attrs.frozen(kw_only=True)
class CpuPlacement:
    """Where one CPU sits in the s390x topology, and how it is provisioned.

    ``entitlement`` is never ``auto`` here: QEMU resolves ``auto`` to ``high``
    for a dedicated CPU and ``medium`` otherwise before it stores it.

    >>> CpuPlacement(core_id=3, socket_id=1).socket_key
    (0, 0, 1)
    """

    core_id: int
    drawer_id: int = 0
    book_id: int = 0
    socket_id: int = 0
    entitlement: Entitlement = "medium"
    dedicated: bool = False

    @property
    def socket_key(self) -> tuple[int, int, int]:
        """(drawer, book, socket): the socket whose core count this CPU uses."""
        return (self.drawer_id, self.book_id, self.socket_id)


@attrs.frozen(kw_only=True)
class TopologyState:
    """What the facility remembers: moved or hot-plugged CPUs, polarization, the change report.

    ``placements`` holds the CPUs whose placement was given or changed; every
    other present CPU sits where :func:`default_placement` puts it.
    ``changed`` is the "topology change report" the guest polls with PTF.
    """

    placements: tuple[CpuPlacement, ...] = ()
    polarization: Polarization = "horizontal"
    changed: bool = False

    def with_placement(self, placement: CpuPlacement) -> TopologyState:
        """A copy where ``placement`` replaces the core's earlier one."""
        others = tuple(p for p in self.placements if p.core_id != placement.core_id)
        ordered = tuple(sorted((*others, placement), key=lambda p: p.core_id))
        return attrs.evolve(self, placements=ordered)


def has_topology(machine: Machine) -> bool:
    """Whether QEMU gives this machine's guests the configuration-topology facility.

    It needs QEMU 8.2+, KVM, and the ``ctop`` CPU feature: on by default in
    the ``host`` model (and ``max``, which is ``host`` under KVM), or asked for
    with ``ctop=on``. Under TCG QEMU cannot offer the feature at all.

    >>> import topology
    >>> has_topology(topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0",
    ...                               accel="kvm", cpu="z14,ctop=on"))
    True
    >>> has_topology(topology.machine("s390x", "s390-ccw-virtio-10.0", qemu_version="10.0"))
    False
    """
    if not machine.qemu_version.at_least("8.2") or machine.options.get("accel", "tcg") != "kvm":
        return False
    model, features = machine.type.cpu_model(machine.options)
    setting = ctop_setting(features)
    if setting is not None:
        return setting
    return model in ("host", "max")


def ctop_setting(features: list[str]) -> bool | None:
    """The ``ctop=`` value among ``-cpu`` features (the last one wins), or None."""
    setting = None
    for feature in features:
        name, _, value = feature.partition("=")
        if name == "ctop":
            setting = value in ("on", "true", "yes")
    return setting


def default_placement(core_id: int, vm: VmView) -> CpuPlacement:
    """Where QEMU puts a CPU given without socket/book/drawer: filled socket by socket.

    ``include/hw/s390x/cpu-topology.h`` ``s390_std_socket``/``_book``/``_drawer``.
    """
    smp = vm.topology
    return CpuPlacement(
        core_id=core_id,
        socket_id=core_id // smp.cores % smp.sockets,
        book_id=core_id // (smp.cores * smp.sockets) % smp.books,
        drawer_id=core_id // (smp.cores * smp.sockets * smp.books) % smp.drawers,
    )


def topology_state(vm: VmView) -> TopologyState:
    """The facility's state of ``vm`` (the initial one until something changes it)."""
    state = vm.stash.get(TOPOLOGY_KEY)
    return state if isinstance(state, TopologyState) else TopologyState()


def placement_of(vm: VmView, core_id: int) -> CpuPlacement | None:
    """The placement of the present CPU ``core_id``, or None when that slot is empty."""
    if not 0 <= core_id < len(vm.slots) or vm.state(core_id) is None:
        return None
    for placement in topology_state(vm).placements:
        if placement.core_id == core_id:
            return placement
    return default_placement(core_id, vm)


def cpu_placements(vm: VmView) -> list[CpuPlacement]:
    """The placement of every present CPU, by core-id."""
    found = []
    for slot in vm.slots:
        placement = placement_of(vm, slot.index)
        if placement is not None:
            found.append(placement)
    return found


def _resolve_entitlement(entitlement: Entitlement, dedicated: bool) -> Entitlement:
    if entitlement != "auto":
        return entitlement
    return "high" if dedicated else "medium"


def _check(vm: VmView, placement: CpuPlacement) -> None:
    """``s390_topology_check``: its checks and messages, in its order."""
    smp = vm.topology
    for name, value, count in (
        ("socket", placement.socket_id, smp.sockets),
        ("book", placement.book_id, smp.books),
        ("drawer", placement.drawer_id, smp.drawers),
    ):
        if value >= count:
            raise BoardError(f"Unavailable {name}: {value}", what=f"{name}-id", value=value)
    if placement.dedicated and placement.entitlement in ("low", "medium"):
        raise BoardError(
            "A dedicated CPU implies high entitlement",
            what="entitlement",
            value=placement.entitlement,
        )


def _socket_count(vm: VmView, key: tuple[int, int, int], leaving: int | None = None) -> int:
    return sum(1 for p in cpu_placements(vm) if p.socket_key == key and p.core_id != leaving)


def _check_space(vm: VmView, key: tuple[int, int, int], leaving: int | None = None) -> None:
    if _socket_count(vm, key, leaving) >= vm.topology.cores:
        raise BoardError("No more space on this socket", what="socket-id", value=key[2])


def plug_placement(vm: VmView, core_id: int, props: Mapping[str, object]) -> None:
    """``s390_topology_setup_cpu``: place a CPU being plugged, or refuse it.

    ``props`` were read already (types checked). Records the placement in
    ``vm.stash``; the core restores the state if the plug fails later.
    """
    given = {name: props[name] for name in ("socket-id", "book-id", "drawer-id") if name in props}
    # -1 is the properties' "not set" value.
    set_ids = {name: value for name, value in given.items() if value != -1}
    if set_ids and len(set_ids) != 3:
        raise BoardError(
            "Please define all or none of the topology geometry attributes", what="socket-id"
        )
    dedicated = bool(props.get("dedicated", False))
    entitlement = _resolve_entitlement(_entitlement(props.get("entitlement", "auto")), dedicated)
    if set_ids:
        placement = CpuPlacement(
            core_id=core_id,
            socket_id=_int(set_ids["socket-id"]),
            book_id=_int(set_ids["book-id"]),
            drawer_id=_int(set_ids["drawer-id"]),
            entitlement=entitlement,
            dedicated=dedicated,
        )
    else:
        placement = attrs.evolve(
            default_placement(core_id, vm), entitlement=entitlement, dedicated=dedicated
        )
    _check(vm, placement)
    _check_space(vm, placement.socket_key)
    _store(vm, topology_state(vm).with_placement(placement))


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _entitlement(value: object) -> Entitlement:
    for known in ENTITLEMENTS:
        if value == known:
            return known
    raise AssertionError(value)


def _store(vm: VmView, state: TopologyState) -> None:
    vm.stash[TOPOLOGY_KEY] = state


# -- QMP -----------------------------------------------------------------------


_ARGUMENTS: Final = {
    "core-id": "uint16",
    "socket-id": "uint16",
    "book-id": "uint16",
    "drawer-id": "uint16",
    "entitlement": "enum",
    "dedicated": "bool",
}


def read_dedicated(name: str, value: object) -> bool:
    """A ``dedicated`` value from QMP (a JSON boolean), with QEMU's type error."""
    if not isinstance(value, bool):
        raise ParameterError(
            f"Invalid parameter type for '{name}', expected: boolean", what=name, value=value
        )
    return value


def read_entitlement(name: str, value: object) -> str:
    """An ``entitlement`` value from QMP (a CpuS390Entitlement name), with QEMU's errors."""
    if not isinstance(value, str):
        raise ParameterError(
            f"Invalid parameter type for '{name}', expected: string", what=name, value=value
        )
    if value not in ENTITLEMENTS:
        raise ParameterError(
            f"Parameter '{name}' does not accept value '{value}'", what=name, value=value
        )
    return value


def _read_args(args: Mapping[str, object]) -> dict[str, object]:
    """The ``set-cpu-topology`` arguments as QEMU's QMP input visitor reads them.

    Members in schema order, then any unexpected member (QEMU 10.0's wording).
    """
    read: dict[str, object] = {}
    for name, kind in _ARGUMENTS.items():
        if name not in args:
            if name == "core-id":
                raise ParameterError(f"Parameter '{name}' is missing", what=name)
            continue
        value = args[name]
        if kind == "uint16":
            read[name] = _uint16(name, value)
        elif kind == "bool":
            read[name] = read_dedicated(name, value)
        else:
            read[name] = read_entitlement(name, value)
    for name in args:
        if name not in _ARGUMENTS:
            raise ParameterError(f"Parameter '{name}' is unexpected", what=name)
    return read


def _uint16(name: str, value: object) -> int:
    # QEMU reads unsigned members as uint64 first (negative numbers wrap), then
    # checks the range (observed on QEMU 10.0 for device_add's uint32 core-id).
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"Parameter '{name}' expects uint64", what=name, value=value)
    if value < -(2**63) or value >= 2**64:
        raise ParameterError(f"Parameter '{name}' expects uint64", what=name, value=value)
    if not 0 <= value <= UINT16[1]:
        raise ParameterError(f"Parameter '{name}' expects uint16_t", what=name, value=value)
    return value


def _with_kvm(vm: VmView, command: str) -> bool:
    """Whether QEMU runs the real command; raises CommandNotFound where it has none.

    The model takes ``accel=kvm`` for an s390x host with KVM, and anything else
    for a QEMU built for another host, which has no KVM for s390x guests.
    """
    if vm.machine.options.get("accel", "tcg") == "kvm":
        return True
    if not vm.machine.qemu_version.at_least("10.1"):
        # 8.2-10.0 build the commands only with KVM support (QAPI 'if':
        # CONFIG_KVM). Observed on QEMU 10.0 under TCG: CommandNotFound.
        raise CommandNotFound(f"The command {command} has not been found", what=command)
    # 10.1+: always present; without KVM the stubs answer, after the arguments
    # were read (stubs/monitor-cpu-s390x-kvm.c, commit f8d41d0511; not observed).
    return False


def set_cpu_topology(vm: VmView, args: Mapping[str, object]) -> object:
    """QMP ``set-cpu-topology`` (``qmp_set_cpu_topology``, ``s390_change_topology``).

    Left-out socket/book/drawer/dedicated keep the CPU's values, but a left-out
    entitlement is recomputed (high if dedicated, else medium), whatever the
    QAPI documentation says. A change of placement or provisioning raises the
    topology change report.
    """
    kvm = _with_kvm(vm, "set-cpu-topology")
    read = _read_args(args)
    if not kvm:
        raise TopologyError(
            "CPU topology change is not supported on this target", what="set-cpu-topology"
        )
    machine = vm.machine
    if not has_topology(machine):
        raise BoardError("This machine doesn't support topology", what="set-cpu-topology")
    core_id = _int(read["core-id"])
    current = placement_of(vm, core_id)
    if current is None:
        raise BoardError(f"Core-id {core_id} does not exist!", what="core-id", value=core_id)
    dedicated = bool(read.get("dedicated", current.dedicated))
    entitlement = _resolve_entitlement(_entitlement(read.get("entitlement", "auto")), dedicated)
    wanted = CpuPlacement(
        core_id=core_id,
        socket_id=_int(read.get("socket-id", current.socket_id)),
        book_id=_int(read.get("book-id", current.book_id)),
        drawer_id=_int(read.get("drawer-id", current.drawer_id)),
        entitlement=entitlement,
        dedicated=dedicated,
    )
    _check(vm, wanted)
    if wanted.socket_key != current.socket_key:
        _check_space(vm, wanted.socket_key, leaving=core_id)
    state = topology_state(vm).with_placement(wanted)
    if wanted != current:
        state = attrs.evolve(state, changed=True)
    _store(vm, state)
    return {}


def query_polarization(vm: VmView, args: Mapping[str, object]) -> object:
    """QMP ``query-s390x-cpu-polarization``: the polarization the guest chose last.

    QEMU answers even without the facility (then always ``horizontal``).
    """
    kvm = _with_kvm(vm, "query-s390x-cpu-polarization")
    for name in args:
        raise ParameterError(f"Parameter '{name}' is unexpected", what=name)
    if not kvm:
        raise TopologyError(
            "CPU polarization is not supported on this target",
            what="query-s390x-cpu-polarization",
        )
    return {"polarization": topology_state(vm).polarization}


def qmp_commands(
    version: QemuVersion,
) -> Mapping[str, Callable[[VmView, Mapping[str, object]], object]]:
    """The QMP commands the s390x target adds in QEMU ``version`` (none before 8.2).

    >>> from topology import qemu_version
    >>> sorted(qmp_commands(qemu_version("10.0")))
    ['query-s390x-cpu-polarization', 'set-cpu-topology']
    >>> dict(qmp_commands(qemu_version("8.1")))
    {}
    """
    if not version.at_least("8.2"):
        return {}
    return {
        "set-cpu-topology": set_cpu_topology,
        "query-s390x-cpu-polarization": query_polarization,
    }


# -- the guest -------------------------------------------------------------------


def guest_set_polarization(vm: VmView, polarization: Polarization) -> int:
    """The guest's PTF with function code 0 (horizontal) or 1 (vertical); its condition code.

    cc 2 when the polarization is already that one (``s390_handle_ptf``: reason
    "done"); cc 0 on a change, which raises the topology change report and
    emits ``CPU_POLARIZATION_CHANGE``. Without the facility PTF is an
    operation exception in the guest.
    """
    if polarization not in POLARIZATIONS:
        raise ParameterError(f"unknown polarization '{polarization}'", what="polarization")
    if not has_topology(vm.machine):
        raise BoardError(
            "PTF: operation exception (no configuration-topology facility)", what="ptf"
        )
    state = topology_state(vm)
    if state.polarization == polarization:
        return 2
    _store(vm, attrs.evolve(state, polarization=polarization, changed=True))
    vm.emit("CPU_POLARIZATION_CHANGE", {"polarization": polarization})
    return 0


def guest_reset(vm: VmView) -> None:
    """A subsystem reset (``s390_topology_reset``): horizontal, no change pending.

    Placements and entitlements stay; no event is sent.
    """
    state = topology_state(vm)
    _store(vm, attrs.evolve(state, polarization="horizontal", changed=False))
