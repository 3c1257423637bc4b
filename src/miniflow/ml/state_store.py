"""Where the coordinate optimizers keep their per-key state (weights, accumulators).

* :class:`DenseStore` holds all slots of all ``dim`` coordinates in one row-major
  table; the single-process trainer and the estimators use it.
* :class:`HashStore` holds rows only for coordinates that were ever touched (a
  key -> row dict plus growing arrays per slot), for any subset of a 2^64 key space.

Both follow the :class:`StateStore` protocol, so the update rules never see which
store they run on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

__all__ = ["StateStore", "DenseStore", "HashStore"]


class StateStore(Protocol):
    """Where an optimizer keeps its per-coordinate slots (``"w"``, ``"n"``, ``"z"``...)."""

    def get(self, slot: str, keys: np.ndarray) -> np.ndarray:
        """Returns a copy of ``slot``'s values at ``keys`` (never-touched keys read as init)."""
        ...

    def put(self, slot: str, keys: np.ndarray, values: np.ndarray) -> None:
        """Writes ``values`` to ``slot`` at ``keys``."""
        ...

    def get_many(self, slots: tuple[str, ...], keys: np.ndarray) -> list[np.ndarray]:
        """``[get(s, keys) for s in slots]``, possibly in one pass over memory."""
        ...

    def put_many(self, slots: tuple[str, ...], keys: np.ndarray, values: list) -> None:
        """``put(s, keys, v)`` for each slot and value array, possibly in one pass."""
        ...

    def items(self, slot: str) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``(keys, values)`` of every coordinate the store holds a row for."""
        ...


# Row sizes that NumPy can gather as one machine word (or two): one random access
# moves all of a key's slots.
_ROW_TYPES = {4: np.uint32, 8: np.uint64, 16: np.complex128}


class DenseStore:
    """All slots of all ``dim`` keys in one row-major table: O(1) gathers, memory
    ``dim * slots * itemsize``.

    A key's slots sit next to each other (one row), so :meth:`get_many` /
    :meth:`put_many` of all slots cost one random memory access per key instead of one
    per slot. That is what keeps a 2^28 model close to a 2^22 one in speed.

    Args:
        dim: number of coordinates (keys are ``0 .. dim-1``).
        slots: slot name -> initial value.
        dtype: storage dtype (float32 halves the memory of a 2^28 model).
    """

    def __init__(self, dim: int, slots: Mapping[str, float], dtype=np.float64):
        self.dim = int(dim)
        self.dtype = np.dtype(dtype)
        self._init = dict(slots)
        self._names = tuple(slots)
        # np.zeros maps untouched pages lazily, so a 2^28 table costs memory only where
        # keys are actually used.
        self._table = np.zeros((self.dim, len(self._names)), self.dtype)
        for j, init in enumerate(self._init.values()):
            if init != 0:
                self._table[:, j] = init
        self._views()

    def _views(self) -> None:
        # Columns and rows are views of the table: they are rebuilt after unpickling,
        # where pickled views would come back as copies that writes never reach.
        self._column = {name: self._table[:, j] for j, name in enumerate(self._names)}
        row = _ROW_TYPES.get(self._table.itemsize * len(self._names))
        self._rows = self._table.view(row).reshape(-1) if row else None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_column", "_rows")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._views()

    def get(self, slot: str, keys: np.ndarray) -> np.ndarray:
        return self._column[slot][keys]

    def put(self, slot: str, keys: np.ndarray, values: np.ndarray) -> None:
        self._column[slot][keys] = values

    def get_many(self, slots: tuple[str, ...], keys: np.ndarray) -> list[np.ndarray]:
        if self._rows is None or slots != self._names:
            return [self.get(s, keys) for s in slots]
        rows = self._rows[keys].view(self.dtype).reshape(len(keys), len(slots))
        return [rows[:, j] for j in range(len(slots))]

    def put_many(self, slots: tuple[str, ...], keys: np.ndarray, values: list) -> None:
        if self._rows is None or slots != self._names:
            for s, v in zip(slots, values, strict=True):
                self.put(s, keys, v)
            return
        rows = np.empty((len(keys), len(slots)), self.dtype)
        for j, v in enumerate(values):
            rows[:, j] = v
        self._rows[keys] = rows.view(self._rows.dtype).reshape(-1)

    def items(self, slot: str) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(self.dim, dtype=np.int64), self._column[slot]

    def prefault(self) -> None:
        """Touches every page now, so first use during training pays no page faults."""
        for j, init in enumerate(self._init.values()):
            self._table[:, j] = init

    def array(self, slot: str) -> np.ndarray:
        """The slot's column of the table (a strided view; writes go to the store)."""
        return self._column[slot]

    @property
    def nbytes(self) -> int:
        return self._table.nbytes


class HashStore:
    """Rows only for touched keys: a key -> row dict and one growing array per slot.

    Memory is proportional to the number of distinct keys seen, not to the key space,
    so a parameter-server shard can own any subset of 2^30 (or 2^64) keys.
    """

    def __init__(self, slots: Mapping[str, float], dtype=np.float64, capacity: int = 1024):
        self.dtype = np.dtype(dtype)
        self._init = dict(slots)
        self._rows: dict[int, int] = {}
        self._keys = np.empty(capacity, dtype=np.int64)
        self._arrays = {name: np.full(capacity, v, dtype=self.dtype) for name, v in slots.items()}

    def __len__(self) -> int:
        return len(self._rows)

    def _lookup(self, keys: np.ndarray, create: bool) -> np.ndarray:
        rows = self._rows
        if not create:
            return np.fromiter((rows.get(k, -1) for k in keys.tolist()), np.int64, len(keys))
        before = len(rows)
        # setdefault evaluates len(rows) before inserting, so a new key gets the next row.
        found = (rows.setdefault(k, len(rows)) for k in keys.tolist())
        out = np.fromiter(found, np.int64, len(keys))
        if len(rows) > before:
            self._grow(len(rows))
            new = out >= before
            self._keys[out[new]] = keys[new]
        return out

    def _grow(self, needed: int) -> None:
        cap = len(self._keys)
        if needed <= cap:
            return
        cap = max(needed, 2 * cap)
        self._keys = np.resize(self._keys, cap)
        for name, arr in self._arrays.items():
            grown = np.full(cap, self._init[name], dtype=self.dtype)
            grown[: len(arr)] = arr
            self._arrays[name] = grown

    def get(self, slot: str, keys: np.ndarray) -> np.ndarray:
        rows = self._lookup(np.asarray(keys, np.int64), create=False)
        out = np.full(len(rows), self._init[slot], dtype=self.dtype)
        hit = rows >= 0
        out[hit] = self._arrays[slot][rows[hit]]
        return out

    def put(self, slot: str, keys: np.ndarray, values: np.ndarray) -> None:
        rows = self._lookup(np.asarray(keys, np.int64), create=True)
        self._arrays[slot][rows] = values

    def get_many(self, slots: tuple[str, ...], keys: np.ndarray) -> list[np.ndarray]:
        rows = self._lookup(np.asarray(keys, np.int64), create=False)
        hit = rows >= 0
        out = []
        for slot in slots:
            values = np.full(len(rows), self._init[slot], dtype=self.dtype)
            values[hit] = self._arrays[slot][rows[hit]]
            out.append(values)
        return out

    def put_many(self, slots: tuple[str, ...], keys: np.ndarray, values: list) -> None:
        rows = self._lookup(np.asarray(keys, np.int64), create=True)
        for slot, v in zip(slots, values, strict=True):
            self._arrays[slot][rows] = v

    def items(self, slot: str) -> tuple[np.ndarray, np.ndarray]:
        n = len(self._rows)
        return self._keys[:n].copy(), self._arrays[slot][:n].copy()
