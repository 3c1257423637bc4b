"""Per-coordinate ("coordinate") optimizers over (keys, gradients), with pluggable state.

These are not the ``tf.train`` optimizers: they take NumPy keys and gradients, not a
graph. The update math is shared, though: every rule is the one TF1's kernel uses,
from :mod:`miniflow.core.update_rules` (docs/ml.md, "One home for the update math").

Every optimizer here updates a parameter vector *coordinate-wise*: one call
``opt.update(keys, grads)`` takes the unique int64 coordinates a minibatch touched and
the gradient summed over that minibatch for each of them, and changes only those
coordinates' state. ``opt.weights(keys)`` returns the current weights of any
coordinates. Neither ever allocates anything proportional to the full dimension, so a
batch touching k features costs O(k) whether the model has 2^18 or 2^30 coordinates.

State (weights, accumulators) lives in a :class:`StateStore`
(:mod:`miniflow.ml.state_store`, re-exported here):

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

import numpy as np

from miniflow.core import update_rules as rules
from miniflow.ml.state_store import DenseStore, HashStore, StateStore

__all__ = [
    "StateStore",
    "DenseStore",
    "HashStore",
    "CoordinateOptimizer",
    "CoordinateSGD",
    "CoordinateMomentum",
    "CoordinateAdagrad",
    "CoordinateAdam",
    "CoordinateFTRL",
    "make_optimizer",
    "OPTIMIZERS",
]


class CoordinateOptimizer:
    """Base class: a per-coordinate update rule over a :class:`StateStore`.

    Subclasses declare ``slots`` (name -> initial value), and implement :meth:`_apply`
    (and :meth:`weights` when the weights are not a slot). Updates are computed in the
    store's dtype (float32 state: float32 arithmetic, as TF's kernels on a float32
    variable). ``l1``/``l2`` are the strengths of ``loss + l1*|w|_1 + (l2/2)*|w|^2``,
    applied *lazily*: only to the coordinates an update touches (the standard practice
    for sparse models).

    Args:
        dim: number of coordinates; builds a :class:`DenseStore` when ``store`` is None.
        store: an existing store (e.g. a :class:`HashStore` on a parameter-server shard).
        dtype: dtype of a store built here.
    """

    name = ""
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
        for what, value in (("l1", l1), ("l2", l2)):
            if not value >= 0:
                raise ValueError(f"{type(self).__name__}: {what} must be >= 0, got {value}")
        self.store = store
        self.dtype = np.dtype(getattr(store, "dtype", np.float64))
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.step = 0

    def _h(self, x):
        """A hyperparameter as a scalar of the state's dtype (arithmetic stays in it)."""
        return self.dtype.type(x)

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
        grads = np.asarray(grads, dtype=self.dtype)
        self.step += 1
        self._apply(keys, grads)

    def _apply(self, keys: np.ndarray, grads: np.ndarray) -> None:
        raise NotImplementedError  # pragma: no cover  (every subclass defines it)

    def _with_l2(self, w: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """d/dw [(l2/2) w^2] = l2 * w, added to the data gradient (rules without a
        proximal form: momentum, Adam)."""
        return grads + self._h(self.l2) * w if self.l2 else grads

    def _l1_shrink(self, w: np.ndarray, lr) -> np.ndarray:
        """Soft-threshold by ``lr * l1`` after a step (exact zeros, no oscillation)."""
        return rules.soft_threshold(w, lr * self._h(self.l1)) if self.l1 else w

    def hyperparameters(self) -> dict:
        """The constructor arguments that define the rule (saved with models)."""
        return {"name": self.name, "l1": self.l1, "l2": self.l2}


class CoordinateSGD(CoordinateOptimizer):
    """SGD, as ``tf.train.GradientDescentOptimizer``: ``w -= lr_t * g``. With ``l1`` or
    ``l2``, TF's ``ProximalGradientDescentOptimizer`` step: ``v = w - lr_t g``, then
    ``w = sign(v) max(|v| - lr_t l1, 0) / (1 + lr_t l2)``.

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
            raise ValueError(
                f"{type(self).__name__}: schedule must be constant|invscaling|inverse, "
                f"got {schedule!r}"
            )
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: lr must be > 0, got {lr}")
        self.lr, self.schedule, self.power_t, self.decay = float(lr), schedule, power_t, decay

    def learning_rate(self) -> float:
        if self.schedule == "invscaling":
            return self.lr / self.step**self.power_t
        if self.schedule == "inverse":
            return self.lr / (1.0 + self.decay * self.step)
        return self.lr

    def _apply(self, keys, grads):
        lr = self._h(self.learning_rate())
        w = self.store.get("w", keys)
        if self.l1 or self.l2:
            w = rules.proximal_sgd(w, grads, lr, self._h(self.l1), self._h(self.l2))
        else:
            rules.sgd(w, grads, lr)
        self.store.put("w", keys, w)

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "lr": self.lr,
            "schedule": self.schedule,
            "power_t": self.power_t,
            "decay": self.decay,
        }


class CoordinateMomentum(CoordinateSGD):
    """Momentum, as ``tf.train.MomentumOptimizer``: ``v = momentum*v + g``;
    ``w -= lr_t*v`` (Nesterov: ``w -= lr_t*g + momentum*lr_t*v``), on touched keys
    only. ``l2`` is added to the gradient, ``l1`` soft-thresholds after the step."""

    name = "momentum"
    slots = {"w": 0.0, "v": 0.0}

    def __init__(self, dim=None, *, momentum: float = 0.9, nesterov: bool = False, **kw):
        super().__init__(dim, **kw)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _apply(self, keys, grads):
        lr = self._h(self.learning_rate())
        w, v = self.store.get_many(("w", "v"), keys)
        rules.momentum(w, v, self._with_l2(w, grads), lr, self._h(self.momentum), self.nesterov)
        self.store.put_many(("w", "v"), keys, [self._l1_shrink(w, lr), v])

    def hyperparameters(self):
        return {**super().hyperparameters(), "momentum": self.momentum, "nesterov": self.nesterov}


class CoordinateAdagrad(CoordinateOptimizer):
    """Adagrad, as ``tf.train.AdagradOptimizer`` plus an ``eps`` (TF2's
    ``ApplyAdagradV2``): ``n += g^2``; ``w -= lr g / (sqrt(n) + eps)``. With ``l1`` or
    ``l2``, ``tf.train.ProximalAdagradOptimizer``'s step with rate
    ``lr / (sqrt(n) + eps)``.

    Args:
        lr: learning rate.
        eps: added to ``sqrt(n)``; 0 gives TF1's formula exactly (then
            ``initial_accumulator`` must be > 0).
        initial_accumulator: the accumulators' starting value (TF1's
            ``initial_accumulator_value``, 0.1 there).
    """

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
        if not (initial_accumulator >= 0 and eps >= 0 and lr > 0):
            raise ValueError(
                f"{type(self).__name__}: needs lr > 0, eps >= 0 and initial_accumulator "
                f">= 0, got lr={lr}, eps={eps}, initial_accumulator={initial_accumulator}"
            )
        if eps == 0 and initial_accumulator == 0:
            raise ValueError(
                f"{type(self).__name__}: eps=0 needs initial_accumulator > 0 (a zero "
                "gradient on a new key would divide 0 by 0)"
            )
        if initial_accumulator:
            self.slots = {"w": 0.0, "n": float(initial_accumulator)}
        super().__init__(dim, **kw)
        self.lr, self.eps, self.initial_accumulator = float(lr), float(eps), initial_accumulator

    def _apply(self, keys, grads):
        w, n = self.store.get_many(("w", "n"), keys)
        lr, eps = self._h(self.lr), self._h(self.eps)
        if self.l1 or self.l2:
            rules.proximal_adagrad(w, n, grads, lr, self._h(self.l1), self._h(self.l2), eps)
        else:
            rules.adagrad(w, n, grads, lr, eps)
        self.store.put_many(("w", "n"), keys, [w, n])

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "lr": self.lr,
            "eps": self.eps,
            "initial_accumulator": self.initial_accumulator,
        }


class CoordinateAdam(CoordinateOptimizer):
    """Adam with TF1's formula (``tf.train.AdamOptimizer``), lazily per coordinate.

    Each coordinate keeps its own ``beta1_power``/``beta2_power`` (``beta^t`` for its
    own update count ``t``), so a rarely touched sparse coordinate gets the full bias
    correction; a coordinate updated at every step follows TF's dense Adam exactly.
    ``l2`` is added to the gradient, ``l1`` soft-thresholds after the step.
    """

    name = "adam"
    slots = {"w": 0.0, "m": 0.0, "v": 0.0, "beta1_power": 1.0, "beta2_power": 1.0}

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
        if not (lr > 0 and 0 <= beta1 < 1 and 0 <= beta2 < 1 and eps >= 0):
            raise ValueError(
                f"{type(self).__name__}: needs lr > 0, 0 <= beta1, beta2 < 1, eps >= 0; got "
                f"lr={lr}, beta1={beta1}, beta2={beta2}, eps={eps}"
            )
        super().__init__(dim, **kw)
        self.lr, self.beta1, self.beta2, self.eps = float(lr), beta1, beta2, eps

    def _apply(self, keys, grads):
        names = tuple(self.slots)
        w, m, v, p1, p2 = self.store.get_many(names, keys)
        beta1, beta2, lr = self._h(self.beta1), self._h(self.beta2), self._h(self.lr)
        p1 *= beta1
        p2 *= beta2
        g = self._with_l2(w, grads)
        rules.adam(w, m, v, g, lr, beta1, beta2, self._h(self.eps), p1, p2)
        self.store.put_many(names, keys, [self._l1_shrink(w, lr), m, v, p1, p2])

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
        }


class CoordinateFTRL(CoordinateOptimizer):
    """FTRL-Proximal (McMahan et al. 2013, Algorithm 1), computed by TF1's FTRL rule.

    Per coordinate, with gradient g and state z (TF's ``linear``), n (TF's ``accum``)::

        z += g - (sqrt(n + g^2) - sqrt(n)) / alpha * w;   n += g^2
        w  = 0 if |z| <= l1 else -(z - sign(z) l1) / ((beta + sqrt(n)) / alpha + l2)

    which is ``tf.train.FtrlOptimizer(learning_rate=alpha, initial_accumulator_value=
    initial_accumulator, l1_regularization_strength=l1, l2_regularization_strength=
    (l2 + beta/alpha) / 2)`` (TF's quadratic term is ``sqrt(n)/lr + 2*l2``).
    ``learning_rate_power`` and ``l2_shrinkage`` are TF's, with TF's meaning. The
    weights are a function of (z, n), so the store holds only those two slots and
    :meth:`weights` computes w for the requested keys.
    """

    name = "ftrl"
    slots = {"z": 0.0, "n": 0.0}

    def __init__(
        self,
        dim=None,
        *,
        alpha: float = 0.1,
        beta: float = 1.0,
        learning_rate_power: float = -0.5,
        l2_shrinkage: float = 0.0,
        initial_accumulator: float = 0.0,
        **kw,
    ):
        if not (alpha > 0 and beta >= 0 and learning_rate_power <= 0):
            raise ValueError(
                f"{type(self).__name__}: needs alpha > 0, beta >= 0 and "
                f"learning_rate_power <= 0; got alpha={alpha}, beta={beta}, "
                f"learning_rate_power={learning_rate_power}"
            )
        if not (l2_shrinkage >= 0 and initial_accumulator >= 0):
            raise ValueError(
                f"{type(self).__name__}: l2_shrinkage and initial_accumulator must be >= 0"
            )
        if initial_accumulator:
            self.slots = {"z": 0.0, "n": float(initial_accumulator)}
        super().__init__(dim, **kw)
        self.alpha, self.beta = float(alpha), float(beta)
        self.learning_rate_power = float(learning_rate_power)
        self.l2_shrinkage = float(l2_shrinkage)
        self.initial_accumulator = float(initial_accumulator)
        # TF's l2_regularization_strength for the same rule
        self.tf_l2 = (self.l2 + self.beta / self.alpha) / 2
        h = self._h
        self._tf = (h(self.alpha), h(self.l1), h(self.tf_l2))
        # an untouched key with n = 0 and no l2/beta has quadratic 0: w = 0 by the l1
        # test, but NumPy evaluates both branches of the where
        self._zero_quadratic = self.tf_l2 == 0 and initial_accumulator == 0
        self._pulled = None

    def _w(self, z: np.ndarray, n: np.ndarray) -> np.ndarray:
        if self._zero_quadratic:
            with np.errstate(divide="ignore", invalid="ignore"):
                return rules.ftrl_weights(z, n, *self._tf, self.learning_rate_power)
        return rules.ftrl_weights(z, n, *self._tf, self.learning_rate_power)

    def dense_state(self):
        """``(z column, n column, alpha, l1, 2 l2)`` (hyperparameters as the state's
        dtype) for a caller that applies this rule itself (the LR trainer's compiled
        step), or None where that does not apply: a non-dense store,
        ``learning_rate_power`` other than -0.5, ``l2_shrinkage``, or a possibly zero
        quadratic term. Forgets the state kept by the last :meth:`weights`, which such a
        caller bypasses; it counts its updates in :attr:`step` itself."""
        self._pulled = None
        if not isinstance(self.store, DenseStore) or self._zero_quadratic:
            return None
        if self.learning_rate_power != -0.5 or self.l2_shrinkage:
            return None
        alpha, l1, l2 = self._tf
        return self.store.array("z"), self.store.array("n"), alpha, l1, l2 + l2

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
        lr, l1, l2 = self._tf
        _, n, z = rules.ftrl(
            w,
            n,
            z,
            grads,
            lr,
            l1,
            l2,
            self._h(self.l2_shrinkage),
            self.learning_rate_power,
            with_weights=False,
        )
        self.store.put_many(("z", "n"), keys, [z, n])

    def hyperparameters(self):
        return {
            **super().hyperparameters(),
            "alpha": self.alpha,
            "beta": self.beta,
            "learning_rate_power": self.learning_rate_power,
            "l2_shrinkage": self.l2_shrinkage,
            "initial_accumulator": self.initial_accumulator,
        }


OPTIMIZERS: dict[str, type[CoordinateOptimizer]] = {
    cls.name: cls
    for cls in (
        CoordinateSGD,
        CoordinateMomentum,
        CoordinateAdagrad,
        CoordinateAdam,
        CoordinateFTRL,
    )
}


def make_optimizer(name: str, dim: int | None = None, **kwargs) -> CoordinateOptimizer:
    """Builds a coordinate optimizer by name (``sgd``, ``momentum``, ``adagrad``, ``adam``,
    ``ftrl``).

    Args:
        name: a key of :data:`OPTIMIZERS`.
        dim: number of coordinates for a dense store (or pass ``store=``).
        **kwargs: the optimizer's hyperparameters (``lr``, ``alpha``, ``l1``...).

    Raises:
        ValueError: unknown name, or a hyperparameter out of range.
    """
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}"
        ) from None
    return cls(dim, **kwargs)
