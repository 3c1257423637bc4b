"""An array-backed hash table of optimizer state: int64 keys -> rows of float slots.

A shard owns an arbitrary subset of a 2^34 (or 2^62) key space, so its state cannot be a
dense table; a Python dict costs about 146 bytes per key. :class:`ArrayKeyStore` keeps

* ``keys``: int64, one per stored key, in insertion order (row r holds ``keys[r]``);
* ``rows``: one row-major ``(capacity, slots)`` table of the slots' dtype, so all of a
  key's slots (FTRL: z and n) move with one random memory access;
* ``index``: an open-addressing table of int32 row numbers (-1: empty) with linear
  probing, addressed by a 64-bit mix of the key. Its size is any integer (not a power
  of two), so it grows by 1.4x when 85% full and stays between 61% and 85% full.

Lookups and inserts are vectorised: each probing round handles every still-unresolved
key of the batch with NumPy (gather the index, compare keys, advance the misses), so a
batch of k keys costs O(k * mean probe length) array work and no Python per key.

Growth never holds two copies of the state: rows never move to a new array, they grow
in place (``ndarray.resize``: ``realloc``, which remaps large blocks without copying) by
1/16; a rehash drops the old index before allocating the new one (the keys array is all
it needs) and re-inserts the keys in chunks, so its temporaries stay small.
:meth:`dirty_rows` can name the rows written since it was last asked, which is what
incremental checkpoints write.

Bytes per stored key (:attr:`ArrayKeyStore.nbytes`): 8 (key) + slots x itemsize (FTRL
float32: 8), times the rows' spare capacity (at most 1.0625), plus 4 / index load (4.7
to 6.6): at most 23.6 for FTRL in float32; measured in ``benchmarks/bench_ps.py`` and
docs/ps.md.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["ArrayKeyStore", "mix64"]

_EMPTY = -1
_MAX_LOAD = 0.85
_INDEX_GROWTH = 1.4
_ROW_GROWTH = 1.0625
_MIN_CAPACITY = 1024
_REHASH_CHUNK = 1 << 16  # keys re-inserted per round of a rehash (bounds its temporaries)
_MAX_ROWS = (1 << 31) - 1  # row numbers are int32
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _windows():
    """Buckets examined per probing round: few first (most keys sit at or next to their
    home), then wider, so long clusters cost few NumPy rounds."""
    yield 2
    yield 8
    while True:
        yield 32


def mix64(keys: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 whose every output bit depends on
    every input bit. The shards' own partitioning (Fibonacci hashing of the high bits)
    makes a shard's keys share structure; mixed, they spread over the whole table."""
    h = keys.astype(np.uint64)
    h ^= h >> np.uint64(30)
    h *= _M1
    h ^= h >> np.uint64(27)
    h *= _M2
    h ^= h >> np.uint64(31)
    return h


class ArrayKeyStore:
    """Optimizer state for the keys that were ever written (a ``StateStore``).

    Args:
        slots: slot name -> initial value (what a never-written key reads as).
        dtype: storage dtype of every slot (float32 halves the state).
        capacity: rows to allocate at first.
    """

    def __init__(self, slots: Mapping[str, float], dtype=np.float32, capacity: int = 0):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"ArrayKeyStore: dtype must be a float dtype, got {self.dtype}")
        self._init = dict(slots)
        self._names = tuple(slots)
        self._col = {name: j for j, name in enumerate(self._names)}
        self._init_row = np.array([self._init[s] for s in self._names], self.dtype)
        cap = max(int(capacity), _MIN_CAPACITY)
        self._n = 0
        self._keys = np.empty(cap, np.int64)
        self._rows = np.empty((cap, len(self._names)), self.dtype)
        self._index = np.full(self._index_size_for(cap), _EMPTY, np.int32)
        self.track_dirty = False  # set by a shard that writes incremental checkpoints
        self._touched: list[np.ndarray] = []
        self._touched_len = 0
        self._last: tuple | None = None  # (keys, rows, size) of the last read

    @staticmethod
    def _index_size_for(n: int) -> int:
        return int(np.ceil(n / _MAX_LOAD)) + 1

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held by the keys, the rows (with their spare capacity) and the index."""
        return self._keys.nbytes + self._rows.nbytes + self._index.nbytes

    # -- hashing ------------------------------------------------------------------------
    def _home(self, keys: np.ndarray) -> np.ndarray:
        """Home bucket of each key: the high 32 bits of the mix scaled to the index size
        (multiply-shift instead of a modulo, so any size works)."""
        size = np.uint64(len(self._index))
        return ((mix64(keys) >> np.uint64(32)) * size >> np.uint64(32)).astype(np.int64)

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key, or -1 where the key is not stored."""
        out = np.full(len(keys), -1, np.int64)
        if not self._n or not len(keys):
            return out
        index, stored, size = self._index, self._keys, len(self._index)
        pos, todo = self._home(keys), np.arange(len(keys))
        for width in _windows():
            # the next `width` buckets of each unresolved key at once
            window = pos[:, None] + np.arange(width)
            window[window >= size] -= size
            row = index[window]
            used = row != _EMPTY
            match = used.copy()
            match[used] = stored[row[used]] == np.broadcast_to(keys[todo, None], row.shape)[used]
            stop = match | ~used
            ends = stop.any(axis=1)
            first = stop.argmax(axis=1)
            took = np.arange(len(todo))
            found = ends & match[took, first]
            out[todo[found]] = row[took[found], first[found]]
            todo, pos = todo[~ends], pos[~ends] + width
            if not len(todo):
                return out
            pos[pos >= size] -= size
        raise AssertionError("unreachable")  # pragma: no cover

    def _place(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Puts the (distinct, absent) ``keys`` with their ``rows`` into the index: each
        at the first free bucket from its home on."""
        index, size = self._index, len(self._index)
        pos = self._home(keys)
        for width in _windows():
            window = pos[:, None] + np.arange(width)
            window[window >= size] -= size
            free = index[window] == _EMPTY
            has = free.any(axis=1)
            bucket = window[np.arange(len(pos)), free.argmax(axis=1)]
            # of several keys that chose the same free bucket, the first one takes it
            cand = np.flatnonzero(has)
            _, first = np.unique(bucket[cand], return_index=True)
            won = cand[first]
            index[bucket[won]] = rows[won]
            left = np.ones(len(rows), np.bool_)
            left[won] = False
            # a loser resumes at the bucket it lost (now taken); the rest move on
            pos = np.where(has, bucket, pos + width)[left]
            rows = rows[left]
            if not len(rows):
                return
            pos[pos >= size] -= size
        raise AssertionError("unreachable")  # pragma: no cover

    def _grow_rows(self, needed: int) -> None:
        cap = len(self._keys)
        if needed <= cap:
            return
        if needed > _MAX_ROWS:
            raise MemoryError(f"ArrayKeyStore: more than {_MAX_ROWS} keys in one store")
        cap = min(max(needed, int(cap * _ROW_GROWTH), cap + _MIN_CAPACITY), _MAX_ROWS)
        # in place: no view of these arrays ever leaves the store (every accessor copies)
        self._keys.resize(cap, refcheck=False)
        self._rows.resize((cap, len(self._names)), refcheck=False)

    def _rehash(self, needed: int) -> None:
        size = len(self._index)
        if needed <= size * _MAX_LOAD:
            return
        size = max(self._index_size_for(needed), int(size * _INDEX_GROWTH))
        self._index = None  # freed before the new one exists: the keys rebuild it
        self._index = np.full(size, _EMPTY, np.int32)
        for start in range(0, self._n, _REHASH_CHUNK):
            stop = min(start + _REHASH_CHUNK, self._n)
            self._place(self._keys[start:stop], np.arange(start, stop, dtype=np.int32))

    def _lookup(self, keys: np.ndarray, create: bool) -> np.ndarray:
        keys = np.asarray(keys, np.int64).ravel()
        last = self._last
        if last is not None and last[2] == self._n and np.array_equal(last[0], keys):
            rows = last[1].copy()  # an optimizer reads, then writes the same keys
        else:
            rows = self._find(keys)
        if not create:
            self._last = (keys.copy(), rows.copy(), self._n)
            return rows
        self._last = None
        missing = rows < 0
        if missing.any():
            # new keys get rows in order of first appearance (as a dict would)
            new, first, inverse = np.unique(keys[missing], return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")
            rank = np.empty(len(new), np.int64)
            rank[order] = np.arange(len(new))
            n, k = self._n, len(new)
            self._grow_rows(n + k)
            self._rehash(n + k)
            self._keys[n + rank] = new
            self._rows[n : n + k] = self._init_row
            self._n = n + k
            self._place(new, (n + rank).astype(np.int32))
            rows[missing] = n + rank[inverse.ravel()]
        if self.track_dirty:
            self._touched.append(rows)
            self._touched_len += len(rows)
            if self._touched_len > max(self._n, 1 << 16):  # bounded by the keys stored
                self._touched = [np.unique(np.concatenate(self._touched))]
                self._touched_len = len(self._touched[0])
        return rows

    # -- StateStore ---------------------------------------------------------------------
    def get(self, slot: str, keys: np.ndarray) -> np.ndarray:
        return self.get_many((slot,), keys)[0]

    def put(self, slot: str, keys: np.ndarray, values: np.ndarray) -> None:
        rows = self._lookup(keys, create=True)
        self._rows[rows, self._col[slot]] = values

    def get_many(self, slots: tuple[str, ...], keys: np.ndarray) -> list[np.ndarray]:
        rows = self._lookup(keys, create=False)
        hit = rows >= 0
        table = np.empty((len(rows), len(self._names)), self.dtype)
        table[hit] = self._rows[rows[hit]]
        table[~hit] = self._init_row
        return [table[:, self._col[s]] for s in slots]

    def put_many(self, slots: tuple[str, ...], keys: np.ndarray, values: list) -> None:
        rows = self._lookup(keys, create=True)
        if slots == self._names:
            block = np.empty((len(rows), len(slots)), self.dtype)
            for j, v in enumerate(values):
                block[:, j] = v
            self._rows[rows] = block
            return
        for s, v in zip(slots, values, strict=True):
            self._rows[rows, self._col[s]] = v

    def items(self, slot: str) -> tuple[np.ndarray, np.ndarray]:
        """(keys, values) of every stored key, in insertion order (copies)."""
        n = self._n
        return self._keys[:n].copy(), self._rows[:n, self._col[slot]].copy()

    # -- snapshots ----------------------------------------------------------------------
    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each key has a row."""
        return self._find(np.asarray(keys, np.int64).ravel()) >= 0

    def rows_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys, ``(len(rows), slots)`` values) of the given row numbers (copies)."""
        return self._keys[rows], self._rows[rows]

    def all_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, values) of every row: one copy of each array."""
        n = self._n
        return self._keys[:n].copy(), self._rows[:n].copy()

    def load_rows(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Writes whole rows (all slots, in :attr:`slot_names` order) for ``keys``."""
        values = np.asarray(values, self.dtype).reshape(len(keys), len(self._names))
        self._rows[self._lookup(keys, create=True)] = values

    @property
    def slot_names(self) -> tuple[str, ...]:
        return self._names

    def dirty_rows(self) -> np.ndarray:
        """The rows written or created since the last call (sorted, unique), and forget
        them (only while :attr:`track_dirty` is set)."""
        touched, self._touched, self._touched_len = self._touched, [], 0
        if not touched:
            return np.empty(0, np.int64)
        return np.unique(np.concatenate(touched))
