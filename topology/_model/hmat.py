"""HMAT tables from ``-numa hmat-lb`` and ``-numa hmat-cache`` (``-machine hmat=on``).

The checks of ``hw/core/numa.c`` (``parse_numa_hmat_lb``, ``parse_numa_hmat_cache``)
in QEMU's order, with its texts, observed alike on QEMU 7.2 and 10.0. Latencies
and bandwidths are stored by QEMU as 16-bit multiples of one base per table,
hence the checks that values do not spread too far.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

import attrs

from topology._parse.numa import HMAT_LB_DATA_TYPES, NumaHmatCache, NumaHmatLb

__all__ = ["HmatTables"]

_LATENCY_TYPES: Final = HMAT_LB_DATA_TYPES[:3]
_CACHE_LEVELS: Final = 3  # HMAT_LB_LEVELS - 1
_UINT16_MAX: Final = 0xFFFF
_UINT16_BITS: Final = 16
_UINT64_MAX: Final = 2**64 - 1
_MIB: Final = 1024 * 1024
_LATENCY_GIVEN: Final = 1
_BANDWIDTH_GIVEN: Final = 2


@attrs.define
class _LbTable:
    base: int = 0
    range_bitmap: int = 0
    pairs: list[tuple[int, int]] = attrs.Factory(list)


class HmatTables:
    """QEMU's HMAT state while ``-numa`` options are read; each ``add_*`` gives QEMU's
    refusal (the text after ``-numa TEXT:``) or None."""

    def __init__(self) -> None:
        self._lb: dict[tuple[str, str], _LbTable] = {}
        self._provided: dict[int, int] = {}  # node -> latency/bandwidth bits given
        self._caches: dict[tuple[int, int], int] = {}  # (node, level) -> size

    @property
    def lb_kinds(self) -> tuple[tuple[str, str], ...]:
        """The (hierarchy, data type) of each latency/bandwidth table given, in order."""
        return tuple(self._lb)

    @property
    def cache_count(self) -> int:
        """How many memory-side caches ``-numa hmat-cache`` described."""
        return len(self._caches)

    def add_lb(
        self, option: NumaHmatLb, *, present: Collection[int], initiators: Collection[int]
    ) -> str | None:
        """``parse_numa_hmat_lb``: ``present`` nodes, ``initiators`` nodes with CPUs so far."""
        count = len(present)
        initiator, target = option.initiator, option.target
        # QEMU compares with ">", so the node count itself passes these two.
        if initiator > count:
            return f"Invalid initiator={initiator}, it should be less than {count}"
        if target > count:
            return f"Invalid target={target}, it should be less than {count}"
        if initiator not in initiators:
            return f"Invalid initiator={initiator}, it isn't an initiator proximity domain"
        if target not in present:
            return f"The target={target} should point to an existing node"
        table = self._lb.setdefault((option.hierarchy, option.data_type), _LbTable())
        pair = f"initiator={initiator} and target={target}"
        if option.data_type in _LATENCY_TYPES:
            reason = self._add_latency(table, option, pair)
        else:
            reason = self._add_bandwidth(table, option, pair)
        if reason is None:
            table.pairs.append((initiator, target))
        return reason

    def _add_latency(self, table: _LbTable, option: NumaHmatLb, pair: str) -> str | None:
        if option.latency is None:
            return "Missing 'latency' option"
        if option.bandwidth is not None:
            return "Invalid option 'bandwidth' since the data type is latency"
        if (option.initiator, option.target) in table.pairs:
            return f"Duplicate configuration of the latency for {pair}"
        table.base = table.base or _UINT64_MAX
        latency = option.latency
        if latency:
            entry, base = latency, 1
            while entry % 10 == 0:
                entry //= 10
                base *= 10
            base = min(table.base, base)
            # QEMU divides by the table's base before this option changes it.
            entry = max(table.range_bitmap, latency // table.base)
            if entry >= _UINT16_MAX:
                return (
                    f"Latency {latency} between {pair} should not differ from previously "
                    f"entered min or max values on more than {_UINT16_MAX - 1}"
                )
            table.base, table.range_bitmap = base, entry
            self._provided[option.target] = self._provided.get(option.target, 0) | _LATENCY_GIVEN
        return None

    def _add_bandwidth(self, table: _LbTable, option: NumaHmatLb, pair: str) -> str | None:
        if option.bandwidth is None:
            return "Missing 'bandwidth' option"
        if option.latency is not None:
            return "Invalid option 'latency' since the data type is bandwidth"
        bandwidth = option.bandwidth
        if bandwidth % _MIB:
            return f"Bandwidth {bandwidth} between {pair} should be 1MB aligned"
        if (option.initiator, option.target) in table.pairs:
            return f"Duplicate configuration of the bandwidth for {pair}"
        table.base = table.base or 1
        if bandwidth:
            bits = table.range_bitmap | bandwidth
            first = (bits & -bits).bit_length() - 1
            if bits.bit_length() - first > _UINT16_BITS or bandwidth >> first >= _UINT16_MAX:
                return (
                    f"Bandwidth {bandwidth} between {pair} should not differ from previously "
                    f"entered values on more than {_UINT16_MAX - 1}"
                )
            table.base, table.range_bitmap = 1 << first, bits
            given = self._provided.get(option.target, 0) | _BANDWIDTH_GIVEN
            self._provided[option.target] = given
        return None

    def add_cache(self, option: NumaHmatCache, *, node_count: int) -> str | None:
        """``parse_numa_hmat_cache``."""
        node, level, size = option.node_id, option.level, option.size
        if node >= node_count:
            return f"Invalid node-id={node}, it should be less than {node_count}"
        if self._provided.get(node, 0) != _LATENCY_GIVEN | _BANDWIDTH_GIVEN:
            return (
                f"The latency and bandwidth information of node-id={node} should be provided "
                "before memory side cache attributes"
            )
        if not 1 <= level <= _CACHE_LEVELS:
            return (
                f"Invalid level={level}, it should be larger than 0 and less than or equal to "
                f"{_CACHE_LEVELS}"
            )
        if (node, level) in self._caches:
            return f"Duplicate configuration of the side cache for node-id={node} and level={level}"
        below = self._caches.get((node, level - 1))
        if level > 1 and below is None:
            return f"Cache level={level - 1} shall be defined first"
        if below is not None and size <= below:
            return (
                f"Invalid size={size}, the size of level={level} should be larger than the "
                f"size({below}) of level={level - 1}"
            )
        above = self._caches.get((node, level + 1))
        if above is not None and size >= above:
            return (
                f"Invalid size={size}, the size of level={level} should be less than the "
                f"size({above}) of level={level + 1}"
            )
        self._caches[node, level] = size
        return None
