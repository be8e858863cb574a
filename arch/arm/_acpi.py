"""The size of virt's ACPI tables, and QEMU's warning when they outgrow 64 KiB.

``virt_acpi_build`` (``hw/arm/virt-acpi-build.c``) builds every ACPI table
into one blob when the machine is done, and warns when the blob is larger than
half of ``ACPI_BUILD_TABLE_SIZE`` (``0x20000``): ``ACPI table size %u exceeds
65536 bytes, migration may not work``, then ``Try removing CPUs, NUMA nodes,
memory slots or PCI bridges.`` (with no line feed up to 8.2; one was added in
9.0). It does so on every virt type; only 6.2 and newer types, whose tables
describe the CPU topology (PPTT), get there with CPUs alone (459 flat CPUs on
QEMU 10.0). Without ACPI (``acpi=off``) there are no tables.

The size is counted the way QEMU lays the tables out, per part that varies:

* DSDT: one ``Device (Cnnn)`` per boot CPU, ``_HID`` and ``_UID``; the AML
  integer of ``_UID`` takes 1 byte for 0 and 1, 2 below 256, 3 from 256
  (28, 29 or 30 bytes a CPU). The ``\\_SB`` scope around them is always over
  4 KiB (the PCI host bridge and virtio devices alone are), so its length
  takes 3 bytes whatever the CPU count.
* MADT: an 80-byte GICC per boot CPU, and a 16-byte GICR entry per
  redistributor region (a second one when the possible CPUs outgrow the low
  region: 123 with GICv3, 61 with GICv4).
* PPTT (virt 6.2 and newer): a 20-byte processor node per socket, per cluster
  (QEMU 7.2: always; 8.0 and later: only when ``-smp`` names clusters), per
  core when cores have threads, and per possible CPU (counted over the
  possible CPUs' ids, as QEMU walks them).
* SRAT (with NUMA, QEMU's automatic node included): 48 bytes, 40 per node
  with memory and 40 for the hot-plug region (``maxmem`` above the RAM), and
  18 per possible CPU. SLIT (``-numa dist``): 44 bytes and one per node pair.
  HMAT (``hmat=on``): 40 bytes, 40 per node, one latency/bandwidth structure
  per ``-numa hmat-lb`` kind (32 bytes, 4 per initiator and per target node,
  2 per pair) and 32 per ``-numa hmat-cache``.
* HEST (``ras=on``, QEMU 7.2 and 10.0: 132 bytes; QEMU 11.1.3 crashes on
  ``ras=on``, SIGSEGV, under TCG).
* XSDT: 8 bytes per table it lists.

Everything else is one constant per release, measured (the tables of a virt
type without these parts): see ``_FIXED``. The whole was checked against QEMU
7.2.22, 10.0.13 and 11.1.3 (``tests/differential/test_arm_acpi.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from arch.arm._gic import gic_version, redist_capacity
from arch.arm._hotplug import possible_slots
from topology import QemuWarning
from topology.plugin import BoardContext, as_observed_in, release_key

if TYPE_CHECKING:
    from topology import NumaConfig

__all__ = ["ACPI_LEGACY_SIZE", "acpi_size_warning", "acpi_table_size"]

#: Half of ACPI_BUILD_TABLE_SIZE: tables beyond it may not migrate to an older QEMU.
ACPI_LEGACY_SIZE: Final = 0x10000

#: The tables of a virt type without CPUs, PPTT, NUMA tables or HEST, with
#: GICv3 and two redistributor regions, by release. Measured: the size QEMU
#: printed for ``-smp 500`` (virt-6.2 and newer) and ``-smp 512`` with one NUMA
#: node (virt-6.1 and older) minus the parts above; 7.2.22, 10.0.13, 11.1.3.
_FIXED: Final = {"7.2": 6107, "10.0": 6115, "11.1": 6230}
#: The PPTT's own bytes beyond its nodes (its header; 20 more on 11.1.3).
_PPTT_HEADER: Final = {"7.2": 36, "10.0": 36, "11.1": 56}
#: virt-5.0 and older also describe the flash in the DSDT (measured: 102 bytes).
_FLASH_DEVICES: Final = 102
#: QEMU 11.1's GICv5 (x-5) MADT against GICv3's with two regions (measured).
_GICV5_DELTA: Final = -64
_GICR_ENTRY: Final = 16
_HEST: Final = 132


def _uid_bytes(index: int) -> int:
    """The AML integer of ``_UID`` (ZeroOp, OneOp, BytePrefix, WordPrefix)."""
    if index <= 1:
        return 1
    return 2 if index < 256 else 3


def _dsdt_cpus(cpus: int) -> int:
    """Bytes of the DSDT's CPU devices: 27 + the ``_UID`` integer each."""
    small = min(cpus, 2)
    byte = max(0, min(cpus, 256) - 2)
    word = max(0, cpus - 256)
    return 28 * small + 29 * byte + 30 * word


def _pptt_nodes(board: BoardContext) -> int:
    """PPTT processor nodes: QEMU walks the possible CPUs and opens a node for each
    new socket, cluster and (with threads) core it meets, then one per CPU; so
    with counts that wrap modulo 2^32 only the ids that occur count."""
    topology = board.cpu_topology
    slots = possible_slots(board.machine_type, topology, board.options, board.version)
    clusters = not board.version.at_least("8.0") or topology.explicit_clusters
    sockets = {slot.props.socket_id for slot in slots}
    nodes = len(sockets) + len(slots)
    if clusters:
        nodes += len({(slot.props.socket_id, slot.props.cluster_id) for slot in slots})
    if topology.threads > 1:
        cores = {(s.props.socket_id, s.props.cluster_id, s.props.core_id) for s in slots}
        nodes += len(cores)
    return nodes


def _numa_tables(board: BoardContext, numa: NumaConfig | None) -> tuple[int, int]:
    """The SRAT, SLIT and HMAT bytes, and how many tables they are."""
    memory = board.memory
    hotplug = memory is not None and memory.max_ram_size > memory.ram_size
    if numa is None or not numa.nodes:
        return 0, 0
    topology = board.cpu_topology
    with_memory = sum(1 for node in numa.nodes if node.memory)
    size = 48 + 40 * with_memory + 40 * hotplug + 18 * topology.max_cpus
    tables = 1
    if numa.distances is not None:
        size += 44 + len(numa.nodes) ** 2
        tables += 1
    if board.options.get("hmat") == "on":
        nodes = len(numa.nodes)
        initiators = len(set(numa.slot_nodes))
        size += 40 + 40 * nodes
        size += len(numa.hmat_lb) * (32 + 4 * initiators + 4 * nodes + 2 * initiators * nodes)
        size += 32 * numa.hmat_caches
        tables += 1
    return size, tables


def acpi_table_size(board: BoardContext, numa: NumaConfig | None = None) -> int | None:
    """The size of the ACPI tables QEMU builds for the board, or None without ACPI.

    >>> import topology
    >>> virt = topology.machine("aarch64", "virt-10.0", qemu_version="10.0")
    >>> acpi_table_size(virt.board(virt.resolve("459")))
    65591
    """
    options = board.options
    if options.get("acpi", "on") == "off":
        return None
    version = board.version
    topology = board.cpu_topology
    release = release_key(board.machine_type.name.removeprefix("virt-"))
    if board.machine_type.name == "virt":
        release = (version.major, version.minor)
    size = as_observed_in(_FIXED, version)
    if release <= (5, 0):
        size += _FLASH_DEVICES
    size += _dsdt_cpus(topology.cpus) + 80 * topology.cpus
    gic = gic_version(options, topology.max_cpus, version)
    if gic == 5:
        size += _GICV5_DELTA
    elif gic in (3, 4) and topology.max_cpus <= redist_capacity(gic, high=False):
        size -= _GICR_ENTRY  # one redistributor region is enough
    tables = 0
    if release >= (6, 2):
        size += as_observed_in(_PPTT_HEADER, version) + 20 * _pptt_nodes(board)
        tables += 1
    if options.get("ras") == "on":
        size += _HEST
        tables += 1
    numa_size, numa_tables = _numa_tables(board, numa)
    return size + numa_size + 8 * (tables + numa_tables)


def acpi_size_warning(board: BoardContext, numa: NumaConfig | None = None) -> QemuWarning | None:
    """QEMU's warning when the board's ACPI tables exceed 64 KiB, or None.

    >>> import topology
    >>> virt = topology.machine("aarch64", "virt-10.0", qemu_version="10.0")
    >>> print(acpi_size_warning(virt.board(virt.resolve("459"))))
    warning: ACPI table size 65591 exceeds 65536 bytes, migration may not work
    >>> acpi_size_warning(virt.board(virt.resolve("458"))) is None
    True
    """
    size = acpi_table_size(board, numa)
    if size is None or size <= ACPI_LEGACY_SIZE:
        return None
    return QemuWarning(
        message=f"ACPI table size {size} exceeds {ACPI_LEGACY_SIZE} bytes, migration may not work",
        what="acpi",
        hint="Try removing CPUs, NUMA nodes, memory slots or PCI bridges.",
    )
