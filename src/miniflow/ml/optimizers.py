"""Per-coordinate optimizers over (keys, gradients), with pluggable state storage.

Every optimizer here updates a parameter vector *coordinate-wise*: one call
``opt.update(keys, grads)`` takes the unique int64 coordinates a minibatch touched and
the gradient summed over that minibatch for each of them, and changes only those
coordinates' state. ``opt.weights(keys)`` returns the current weights of any
coordinates. Neither ever allocates anything proportional to the full dimension, so a
batch touching k features costs O(k) whether the model has 2^18 or 2^30 coordinates.

State (weights, accumulators) lives in a :class:`StateStore`:

* :class:`DenseStore` holds one NumPy array per slot over all ``dim`` coordinates;
  the single-process trainer and the estimators use it.
* :class:`HashStore` holds rows only for coordinates that were ever touched (a
  key -> row dict plus growing arrays per slot); a parameter-server shard that owns an
  arbitrary subset of a 2^30 key space uses it.

The update rules never see which store they run on: they call ``store.get(slot,
keys)`` / ``store.put(slot, keys, values)``, or ``get_many``/``put_many`` to move all
of a key's slots at once (one random access per key in a :class:`DenseStore`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

__all__ = [
    "StateStore",
    "DenseStore",
    "HashStore",
    "Optimizer",
    "SGD",
    "Momentum",
    "Adagrad",
    "Adam",
    "FTRL",
    "make_optimizer",
    "OPTIMIZERS",
]


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
        self._column = {name: self._table[:, j] for j, name in enumerate(self._names)}
        row = _ROW_TYPES.get(self._table.itemsize * len(self._names))
        self._rows = self._table.view(row).reshape(-1) if row else None

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


class Optimizer:
    """Base class: a per-coordinate update rule over a :class:`StateStore`.

    Subclasses declare ``slots`` (name -> initial value), and implement
    :meth:`weights` and :meth:`_apply`. ``l1``/``l2`` are the regularisation strengths
    of the objective ``loss + l1*|w|_1 + (l2/2)*|w|^2`` applied *lazily*: only to the
    coordinates an update touches (the standard practice for sparse models).

    Args:
        dim: number of coordinates; builds a :class:`DenseStore` when ``store`` is None.
        store: an existing store (e.g. a :class:`HashStore` on a parameter-server shard).
        dtype: dtype of a store built here.
    """

    slots: dict[str, float] = {"w": 0.0}

    def __init__(
        self,
        dim: int | None = None,
        *,
        store: StateStore | None = None,
        dtype=np.float64,
        l1: float = 0.0,
        l2: float = 0.0,
    ):
        if store is None:
            if dim is None:
                raise ValueError(f"{type(self).__name__}: pass dim= (dense state) or store=")
            store = DenseStore(dim, self.slots, dtype)
        elif getattr(store, "_init", self.slots) != self.slots:
            raise ValueError(
                f"{type(self).__name__}: the store's slots start at {store._init}, this "
                f"optimizer's at {self.slots}; build the store with the optimizer's slots"
            )
        self.store = store
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.step = 0

    def weights(self, keys: np.ndarray) -> np.ndarray:
        """Current weights at ``keys``."""
        return self.store.get("w", keys)

    def update(self, keys: np.ndarray, grads: np.ndarray) -> None:
        """Applies one step at the unique ``keys`` with loss gradients ``grads`` there.

        Args:
            keys: int64 coordinates. A key may repeat only if every occurrence carries
                the same (total) gradient; it is then updated once, as if unique.
            grads: gradient of the (data) loss at each key, same length.
        """
        keys = np.asarray(keys, dtype=np.int64)
        grads = np.asarray(grads, dtype=np.float64)
        self.step += 1
        self._apply(keys, grads)

    def _apply(self, keys: np.ndarray, grads: np.ndarray) -> None:
        raise NotImplementedError  # pragma: no cover  (every subclass defines it)

    def _regularised(self, w: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """d/dw [(l2/2) w^2] = l2 * w, added to the data gradient."""
        return grads + self.l2 * w if self.l2 else grads

    def _shrink(self, w: np.ndarray, step: np.ndarray | float) -> np.ndarray:
        """Proximal step for l1: soft-threshold by ``step * l1`` (exact zeros, no oscillation)."""
        if not self.l1:
            return w
        return np.sign(w) * np.maximum(np.abs(w) - step * self.l1, 0.0)

    def hyperparameters(self) -> dict:
        """The constructor arguments that define the rule (saved with models)."""
        return {"name": self.name, "l1": self.l1, "l2": self.l2}


class SGD(Optimizer):
    """Plain SGD: ``w -= lr_t * (g + l2 w)``, then soft-threshold for l1.

    Args:
        lr: base learning rate.
        schedule: ``"constant"`` (lr), ``"invscaling"`` (lr / step^power_t) or
            ``"inverse"`` (lr / (1 + decay*step)).
    """

    name = "sgd"

    def __init__(
        self,
        dim=None,
        *,
        lr: float = 0.01,
        schedule: str = "constant",
        power_t: float = 0.5,
        decay: float = 1e-3,
        **kw,
    ):
        super().__init__(dim, **kw)
        if schedule not in ("constant", "invscaling", "inverse"):
            raise ValueError(f"SGD: schedule must be constant|invscaling|inverse, got {schedule!r}")
        self.lr, self.schedule, self.power_t, self.decay = float(lr), schedule, power_t, decay

    def learning_rate(self) -> float:
        if self.schedule == "invscaling":
            return self.lr / self.step**self.power_t
        if self.schedule == "inverse":
            return self.lr / (1.0 + self.decay * self.step)
        return self.lr

    def _apply(self, keys, grads):
        lr = self.learning_rate()
        w = self.store.get("w", keys)
        w = w - lr * self._regularised(w, grads)
        self.store.put("w", keys, self._shrink(w, lr))

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "lr": self.lr,
            "schedule": self.schedule,
            "power_t": self.power_t,
            "decay": self.decay,
        }


class Momentum(SGD):
    """Heavy-ball momentum: ``v = mu v - lr g``; ``w += v`` (lazy: only touched keys)."""

    name = "momentum"
    slots = {"w": 0.0, "v": 0.0}

    def __init__(self, dim=None, *, momentum: float = 0.9, **kw):
        super().__init__(dim, **kw)
        self.momentum = float(momentum)

    def _apply(self, keys, grads):
        lr = self.learning_rate()
        w = self.store.get("w", keys)
        v = self.momentum * self.store.get("v", keys) - lr * self._regularised(w, grads)
        self.store.put("v", keys, v)
        self.store.put("w", keys, self._shrink(w + v, lr))

    def hyperparameters(self):
        return {**super().hyperparameters(), "momentum": self.momentum}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): ``n += g^2``; ``w -= lr g / (sqrt(n) + eps)``."""

    name = "adagrad"
    slots = {"w": 0.0, "n": 0.0}

    def __init__(
        self,
        dim=None,
        *,
        lr: float = 0.1,
        eps: float = 1e-8,
        initial_accumulator: float = 0.0,
        **kw,
    ):
        if initial_accumulator:
            self.slots = {"w": 0.0, "n": float(initial_accumulator)}
        super().__init__(dim, **kw)
        self.lr, self.eps, self.initial_accumulator = float(lr), float(eps), initial_accumulator

    def _apply(self, keys, grads):
        w, n = self.store.get_many(("w", "n"), keys)
        g = self._regularised(w, grads)
        n = n + g * g
        step = self.lr / (np.sqrt(n) + self.eps)
        self.store.put_many(("w", "n"), keys, [self._shrink(w - step * g, step), n])

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "lr": self.lr,
            "eps": self.eps,
            "initial_accumulator": self.initial_accumulator,
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with a per-coordinate step count ("lazy Adam").

    Bias correction uses each coordinate's own number of updates ``t``, so rarely
    touched sparse coordinates are not under-corrected.
    """

    name = "adam"
    slots = {"w": 0.0, "m": 0.0, "v": 0.0, "t": 0.0}

    def __init__(
        self,
        dim=None,
        *,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        **kw,
    ):
        super().__init__(dim, **kw)
        self.lr, self.beta1, self.beta2, self.eps = float(lr), beta1, beta2, eps

    def _apply(self, keys, grads):
        w = self.store.get("w", keys)
        g = self._regularised(w, grads)
        t = self.store.get("t", keys) + 1.0
        m = self.beta1 * self.store.get("m", keys) + (1 - self.beta1) * g
        v = self.beta2 * self.store.get("v", keys) + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        for slot, value in (("t", t), ("m", m), ("v", v)):
            self.store.put(slot, keys, value)
        w = w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        self.store.put("w", keys, self._shrink(w, self.lr))

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
        }


class FTRL(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013, "Ad Click Prediction", Algorithm 1).

    Per coordinate i, with gradient g and accumulators z, n::

        sigma = (sqrt(n + g^2) - sqrt(n)) / alpha
        z    += g - sigma * w
        n    += g^2
        w     = 0                                              if |z| <= l1
              = -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2)   otherwise

    The weights are a function of (z, n), so the store holds only those two slots and
    :meth:`weights` recomputes w for the requested keys.
    """

    name = "ftrl"
    slots = {"z": 0.0, "n": 0.0}

    def __init__(self, dim=None, *, alpha: float = 0.1, beta: float = 1.0, **kw):
        super().__init__(dim, **kw)
        self.alpha, self.beta = float(alpha), float(beta)
        self._pulled = None

    def _w(self, z: np.ndarray, n: np.ndarray) -> np.ndarray:
        denom = np.sqrt(n)
        denom += self.beta
        denom *= 1.0 / self.alpha
        denom += self.l2
        if not self.l1:
            return -z / denom
        w = -(z - np.sign(z) * self.l1) / denom
        return np.where(np.abs(z) > self.l1, w, 0.0)

    def weights(self, keys):
        z, n = self.store.get_many(("z", "n"), keys)
        w = self._w(z, n)
        # The usual pattern is weights(keys) then update(keys, grads) on the same array
        # (a trainer step, a parameter-server pull then push): keep what was gathered.
        self._pulled = (keys, z, n, w)
        return w

    def _apply(self, keys, grads):
        pulled, self._pulled = self._pulled, None
        if pulled is not None and pulled[0] is keys:
            _, z, n, w = pulled
        else:
            z, n = self.store.get_many(("z", "n"), keys)
            w = self._w(z, n)
        n_new = n + grads * grads
        sigma = (np.sqrt(n_new) - np.sqrt(n)) / self.alpha
        self.store.put_many(("z", "n"), keys, [z + grads - sigma * w, n_new])

    def hyperparameters(self):
        return {**super().hyperparameters(), "alpha": self.alpha, "beta": self.beta}


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Adagrad, Adam, FTRL)
}


def make_optimizer(name: str, dim: int | None = None, **kwargs) -> Optimizer:
    """Builds an optimizer by name (``sgd``, ``momentum``, ``adagrad``, ``adam``, ``ftrl``).

    Args:
        name: a key of :data:`OPTIMIZERS`.
        dim: number of coordinates for a dense store (or pass ``store=``).
        **kwargs: the optimizer's hyperparameters (``lr``, ``alpha``, ``l1``...).

    Raises:
        ValueError: unknown name.
    """
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}"
        ) from None
    return cls(dim, **kwargs)
