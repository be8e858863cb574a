"""What each QEMU release's loongarch64 ``virt`` board is, as far as CPUs go.

The facts come from three QEMU releases run under TCG (7.2.22, the host's
Debian bookworm package; 10.0.13, Debian trixie's ``qemu-system-misc``; 11.1.3,
Debian sid's) and from ``hw/loongarch/virt.c`` of QEMU's history:

* QEMU 7.2: one unversioned ``virt`` of at most 4 CPUs (``LOONGARCH_MAX_VCPUS``),
  1 GiB of RAM by default and at least (``ram_size must be greater than 1G.``,
  its first check), no NUMA, no CPU hot-plug and no possible-CPU list
  (``query-cpus-fast`` shows no ``props``), one CPU model (``la464``), memory
  aligned to its 16 KiB pages.
* QEMU 8.0 to 9.2 are not modelled: the board changed in every one of them
  (256 CPUs, NUMA, a possible-CPU list, a release that exits without
  ``-kernel``: ``Need kernel filename``, replaced by a warning in October
  2024) and none of them was run. :func:`virt_release` refuses them.
* QEMU 10.0 (CPU hot-plug arrived with Bibo Mao's series of late 2024):
  ``virt`` of at most 256 CPUs (``LOONGARCH_MAX_CPUS``) with
  ``has_hotpluggable_cpus``, NUMA (``-numa node,mem=`` still taken, one node
  made with memory hot-plug), 128 MiB of RAM by default, 4 KiB pages, the
  models ``la132``, ``la464`` and ``max``, and the warning ``No kernel
  provided, booting from flash drive.`` on every start without a kernel.
* QEMU 10.1 to 11.0 are taken as 10.0 (10.0 and 11.1 agree on everything here
  but the machine type's name), with the CPU properties ``msgint`` and ``ptw``
  from 10.2: ``ptw`` came with the page-table-walker series pulled in October
  2025, after ``msgint`` (which that series' patch already finds).
* QEMU 11.1: the machine type is versioned, ``virt-11.1`` with the alias
  ``virt`` (``-machine help``: no ``virt-11.0``, so the versioned types start
  with 11.1; the patch "Define versioned virt machine" dates from December 2025).
"""

from __future__ import annotations

from typing import Final

import attrs

from topology import QemuVersion, UnsupportedVersionError

__all__ = ["MiB", "VirtRelease", "modelled", "virt_release"]

MiB: Final = 1024 * 1024

#: The CPU models and their boolean QOM properties (``-cpu MODEL,FLAG=on``,
#: ``device_add ...,FLAG=true``), from ``-device TYPE,help`` of each release.
_FLAGS_7_2: Final = (("la464", ()),)
_FLAGS_10_0: Final = (("la132", ()), ("la464", ("lasx", "lsx")), ("max", ("lasx", "lsx")))
_FLAGS_10_2: Final = (
    ("la132", ()),
    ("la464", ("lasx", "lsx", "msgint", "ptw")),
    ("max", ("lasx", "lsx", "msgint", "ptw")),
)


@attrs.frozen(kw_only=True)
class VirtRelease:
    """The loongarch64 ``virt`` board of one QEMU release.

    Attributes:
        machine_name: the machine type's name (``virt``, or ``virt-11.1``).
        aliases: other names that select it.
        max_cpus: ``mc->max_cpus``.
        hotplug: whether CPUs can be hot-plugged (``has_hotpluggable_cpus``); also
            whether the board lists its possible CPUs with socket, core and
            thread ids.
        numa: whether ``-numa`` is taken at all.
        default_ram_size: the RAM without ``-m``.
        min_ram_size: the least RAM the board starts with, or None.
        page_size: the target page size ``maxmem`` must be a multiple of.
        warns_without_kernel: whether a start without ``-kernel`` warns.
        cpu_flags: each CPU model (in ``-cpu help`` order), with its boolean properties.
    """

    machine_name: str
    aliases: tuple[str, ...] = ()
    max_cpus: int
    hotplug: bool
    numa: bool
    default_ram_size: int
    min_ram_size: int | None = None
    page_size: int
    warns_without_kernel: bool
    cpu_flags: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def cpu_models(self) -> tuple[str, ...]:
        """The CPU models ``-cpu help`` lists."""
        return tuple(model for model, _flags in self.cpu_flags)

    def flags(self, model: str) -> tuple[str, ...]:
        """The boolean properties of CPU model ``model`` (one of :attr:`cpu_models`)."""
        return dict(self.cpu_flags)[model]


_QEMU_7_2: Final = VirtRelease(
    machine_name="virt",
    max_cpus=4,
    hotplug=False,
    numa=False,
    default_ram_size=1024 * MiB,
    min_ram_size=1024 * MiB,
    page_size=16384,
    warns_without_kernel=False,
    cpu_flags=_FLAGS_7_2,
)
_QEMU_10_0: Final = VirtRelease(
    machine_name="virt",
    max_cpus=256,
    hotplug=True,
    numa=True,
    default_ram_size=128 * MiB,
    page_size=4096,
    warns_without_kernel=True,
    cpu_flags=_FLAGS_10_0,
)
_QEMU_10_2: Final = attrs.evolve(_QEMU_10_0, cpu_flags=_FLAGS_10_2)

_BY_RELEASE: Final = {
    "7.2": _QEMU_7_2,
    "10.0": _QEMU_10_0,
    "10.1": _QEMU_10_0,
    "10.2": _QEMU_10_2,
    "11.0": _QEMU_10_2,
    "11.1": attrs.evolve(_QEMU_10_2, machine_name="virt-11.1", aliases=("virt",)),
}


def modelled(version: QemuVersion) -> bool:
    """Whether the plugin models the loongarch64 ``virt`` board of QEMU ``version``.

    >>> from topology import qemu_version
    >>> modelled(qemu_version("7.2")), modelled(qemu_version("9.1"))
    (True, False)
    """
    return str(version) in _BY_RELEASE


def virt_release(version: QemuVersion) -> VirtRelease:
    """The ``virt`` board of QEMU ``version``; refused for the releases not modelled.

    >>> from topology import qemu_version
    >>> virt_release(qemu_version("11.1")).machine_name
    'virt-11.1'
    >>> try:
    ...     virt_release(qemu_version("8.2"))
    ... except UnsupportedVersionError as error:
    ...     print(error)
    cputopo: qemu-system-loongarch64 of QEMU 8.2 is not modelled (7.2 and 10.0 to 11.1 are)
    """
    found = _BY_RELEASE.get(str(version))
    if found is None:
        modelled_releases = "7.2 and 10.0 to 11.1"
        raise UnsupportedVersionError(
            f"cputopo: qemu-system-loongarch64 of QEMU {version} is not modelled "
            f"({modelled_releases} are)",
            what="qemu_version",
            value=str(version),
        )
    return found
