"""Which unknown ``-smp`` member QEMU names when several are given.

QEMU reports only one: the first key left in a GLib hash table after the known
members were taken out. The table is filled in the iteration order of QEMU's
``QDict`` (512 buckets by ``tdb_hash``, the newest key first inside a bucket),
and iterated in slot order, so the answer depends on both hash functions and on
GLib's open addressing. This module replays them: GLib 2.74 (Debian bookworm,
the QEMU 7.2 reference) with quadratic probing, ``hash * 11 % prime`` slots and
in-place resizing. Checked against QEMU 7.2 on random key sets
(``tests/differential/test_smp.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

__all__ = ["hash_table_order", "replayed_hash_table_order", "reported_unknown_member"]

_MASK: Final = 0xFFFFFFFF
_QDICT_BUCKETS: Final = 512
# GLib's primes for the slot index, one per table size 2^shift.
_PRIME_MOD: Final = (1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381)
_MIN_SHIFT: Final = 3
_UNUSED: Final = 0
_TOMBSTONE: Final = 1


def _tdb_hash(name: str) -> int:
    data = name.encode()
    value = (0x238F13AF * len(data)) & _MASK
    for index, byte in enumerate(data):
        value = (value + (byte << (index * 5 % 24))) & _MASK
    return (1103515243 * value + 12345) & _MASK


def _g_str_hash(name: str) -> int:
    value = 5381
    for byte in name.encode():
        signed = byte - 256 if byte >= 128 else byte  # gchar is signed
        value = (value * 33 + signed) & _MASK
    return max(value, 2)  # 0 and 1 mark empty and deleted slots


def _qdict_order(keys: Iterable[str]) -> list[str]:
    buckets: dict[int, list[str]] = {}
    for key in dict.fromkeys(keys):
        buckets.setdefault(_tdb_hash(key) % _QDICT_BUCKETS, []).insert(0, key)
    return [key for bucket in sorted(buckets) for key in buckets[bucket]]


class _GlibHashSet:
    """The slot layout of a GLib 2.74 ``GHashTable`` used as a set of strings."""

    def __init__(self) -> None:
        self._set_shift(_MIN_SHIFT)
        self.hashes = [_UNUSED] * self.size
        self.keys: list[str | None] = [None] * self.size
        self.nodes = 0
        self.occupied = 0

    def _set_shift(self, shift: int) -> None:
        self.size = 1 << shift
        self.prime = _PRIME_MOD[shift]
        self.mask = self.size - 1

    def _index(self, hash_value: int) -> int:
        return ((hash_value * 11) & _MASK) % self.prime

    def _lookup(self, key: str) -> tuple[int, int]:
        hash_value = _g_str_hash(key)
        index = self._index(hash_value)
        step = 0
        first_tombstone = None
        while self.hashes[index] != _UNUSED:
            if self.hashes[index] == hash_value and self.keys[index] == key:
                return index, hash_value
            if self.hashes[index] == _TOMBSTONE and first_tombstone is None:
                first_tombstone = index
            step += 1
            index = (index + step) & self.mask
        return (index if first_tombstone is None else first_tombstone), hash_value

    def add(self, key: str) -> None:
        index, hash_value = self._lookup(key)
        if self.hashes[index] >= 2:
            return
        was_unused = self.hashes[index] == _UNUSED
        self.hashes[index], self.keys[index] = hash_value, key
        self.nodes += 1
        if was_unused:
            self.occupied += 1
            self._maybe_resize()

    def discard(self, key: str) -> None:
        index, _ = self._lookup(key)
        if self.hashes[index] < 2:
            return
        self.hashes[index], self.keys[index] = _TOMBSTONE, None
        self.nodes -= 1
        self._maybe_resize()

    def _maybe_resize(self) -> None:
        too_sparse = self.size > self.nodes * 4 and self.size > 1 << _MIN_SHIFT
        too_full = self.size <= self.occupied + self.occupied // 16
        if too_sparse or too_full:
            self._resize()

    def _resize(self) -> None:
        old_size = self.size
        wanted, shift = int(self.nodes * 1.333), 0
        while wanted:
            wanted >>= 1
            shift += 1
        self._set_shift(max(shift, _MIN_SHIFT))
        if self.size > old_size:
            self.hashes += [_UNUSED] * (self.size - old_size)
            self.keys += [None] * (self.size - old_size)
        # GLib rehashes in place: each moved entry displaces the one in its new
        # slot, which is then placed in turn; a bitmap marks settled slots.
        settled: set[int] = set()
        for index in range(old_size):
            hash_value = self.hashes[index]
            if hash_value < 2:
                self.hashes[index] = _UNUSED
                continue
            if index in settled:
                continue
            self.hashes[index] = _UNUSED
            key, self.keys[index] = self.keys[index], None
            while True:
                target, step = self._index(hash_value), 0
                while target in settled:
                    step += 1
                    target = (target + step) & self.mask
                settled.add(target)
                displaced = self.hashes[target]
                self.hashes[target] = hash_value
                if displaced < 2:
                    self.keys[target] = key
                    break
                hash_value = displaced
                key, self.keys[target] = self.keys[target], key
        if self.size < old_size:
            del self.hashes[self.size :], self.keys[self.size :]
        self.occupied = self.nodes

    def in_slot_order(self) -> list[str]:
        return [
            key
            for hash_value, key in zip(self.hashes, self.keys, strict=True)
            if hash_value >= 2 and key is not None
        ]

    def first(self) -> str | None:
        for hash_value, key in zip(self.hashes, self.keys, strict=True):
            if hash_value >= 2:
                return key
        return None


def reported_unknown_member(given: Sequence[str], known: Iterable[str]) -> str | None:
    """The member QEMU names in ``Parameter 'smp.X' is unexpected``, or None.

    ``given`` are the top-level keys of the option in the order given; ``known``
    the members the QEMU version knows.

    >>> reported_unknown_member(["cpus", "foo", "bar"], ["cpus", "sockets"])
    'bar'
    >>> reported_unknown_member(["zz", "aa"], ["cpus"])
    'aa'
    """
    table = _GlibHashSet()
    for key in _qdict_order(given):
        table.add(key)
    for member in known:
        table.discard(member)
    return table.first()


def hash_table_order(keys: Sequence[str]) -> list[str]:
    """The order GLib iterates a string-keyed ``GHashTable`` filled with ``keys`` in turn.

    QOM keeps an object's properties (its children among them) in such a table,
    so this is the order QEMU walks ``/objects`` or ``/machine/peripheral`` in
    (checked against QEMU's ``query-memdev`` and ``qom-list``).

    >>> hash_table_order(["m1", "m0", "mz"])
    ['m0', 'mz', 'm1']
    """
    return replayed_hash_table_order([(key, True) for key in keys])


def replayed_hash_table_order(history: Sequence[tuple[str, bool]]) -> list[str]:
    """:func:`hash_table_order` after a history of insertions (``(key, True)``) and
    removals (``(key, False)``): a removed key leaves a tombstone that can move
    the keys added after it.

    >>> replayed_hash_table_order([("a", True), ("b", True), ("a", False)])
    ['b']
    """
    table = _GlibHashSet()
    for key, added in history:
        if added:
            table.add(key)
        else:
            table.discard(key)
    return table.in_slot_order()
