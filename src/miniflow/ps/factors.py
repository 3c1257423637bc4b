"""Factorization machines on the parameter server: factor rows are keys like weights.

A job of ``model="fm"`` (or ``"ffm"``) keeps, beside each linear weight, the factor
vectors of the rows its batches touch, on the shards, one key per factor coordinate
(:func:`~miniflow.ps.sharding.factor_keys`). Everything else is the single-process
trainer's (:class:`~miniflow.ml.fm.FMTrainer`), from the shared math:

* a worker pulls the weights, the factor offsets and the bias, adds the seeded initial
  factors (:func:`~miniflow.ml.fm_math.initial_factors`, a pure function of the
  trainer's coordinate ``row * k + f``), runs the pairwise term of
  :mod:`miniflow.ml.fm_math` and the logistic loss and linear gradient of
  :mod:`miniflow.core.update_rules`, and pushes the gradients (:func:`fm_gradient`);
* a shard's :class:`FactorTable` applies the factors' own optimizer (FTRL with
  ``factor_alpha``, or ``factor_lr``) plus the L2 penalty ``factor_l2 * v``, added
  once per step to the summed gradient, exactly where ``FMTrainer.step`` adds it.

So a sync job applies the single-process trainer's updates, up to float summation
order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from miniflow.core import update_rules as rules
from miniflow.ml.batch import Batch
from miniflow.ml.fm_math import batch_interactions, field_bits_for, initial_factors
from miniflow.ml.optimizers import CoordinateOptimizer, make_optimizer
from miniflow.ps.sharding import BIAS_KEY, MAX_FACTORS, decode_factor_keys, factor_keys

__all__ = ["FactorSpec", "FactorTable", "fm_gradient", "fm_step_keys"]


@dataclass
class FactorSpec:
    """The pairwise part of an FM/FFM job (JSON-serialisable: sent to every process).

    Attributes:
        kind: ``"fm"`` or ``"ffm"``.
        factors: k, the length of each factor vector (1..256).
        fields: FFM's number of fields (0 for FM).
        dims_log2: bits of the feature ids (FFM: the field sits in the top bits).
        hyperparameters: the factor optimizer's (``FMTrainer``'s choice for the flags).
        factor_l2, init_std, seed: as :class:`~miniflow.ml.fm.FMTrainer`.
    """

    kind: str = "fm"
    factors: int = 8
    fields: int = 0
    dims_log2: int = 20
    hyperparameters: dict = field(default_factory=dict)
    factor_l2: float = 1e-4
    init_std: float = 0.03
    seed: int = 0

    @property
    def field_bits(self) -> int:
        return field_bits_for(self.fields) if self.kind == "ffm" else 0

    @property
    def rows(self) -> int:
        """Factor rows in the key space (FFM: one per feature and field)."""
        return (1 << self.dims_log2) * max(self.fields, 1)

    def check(self) -> None:
        """Raises ``ValueError`` naming the first bad field."""
        if self.kind not in ("fm", "ffm"):
            raise ValueError(f"model must be 'fm' or 'ffm', got {self.kind!r}")
        if not isinstance(self.factors, int) or not 1 <= self.factors <= MAX_FACTORS:
            raise ValueError(
                f"--factors must be an integer in 1..{MAX_FACTORS}, got {self.factors!r}"
            )
        if self.kind == "ffm" and (not isinstance(self.fields, int) or self.fields < 1):
            raise ValueError("--model ffm needs --fields N (>= 1)")
        if self.kind == "ffm" and self.field_bits >= self.dims_log2:
            raise ValueError(
                f"--dims-log2 {self.dims_log2} leaves no bits for feature ids after the "
                f"{self.field_bits} field bits of {self.fields} fields"
            )
        if (self.rows - 1).bit_length() > 54:
            raise ValueError(
                f"--dims-log2 {self.dims_log2} is too large for factor keys (<= 54 bits)"
            )
        for name in ("factor_l2", "init_std"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be a finite number >= 0, got {value!r}"
                )


def _trainer_coordinates(keys: np.ndarray, k: int) -> np.ndarray:
    """``FMTrainer``'s optimizer coordinate ``row * k + f`` of each factor key (what the
    initial factors are seeded by)."""
    rows, f = decode_factor_keys(keys)
    return rows * k + f


class FactorTable:
    """A shard's factor coordinates: their optimizer, on the shard's own key store.

    Args:
        spec: a :class:`FactorSpec` (or its dict).
        optimizer: the optimizer's name (the linear part's: ``FMTrainer`` uses one rule).
        store: the shard's key store (factor keys are negative, so they never collide
            with weights; one store keeps checkpoints and accounting in one place).
    """

    def __init__(self, spec: FactorSpec | dict, optimizer: str, store):
        self.spec = spec if isinstance(spec, FactorSpec) else FactorSpec(**spec)
        self.spec.check()
        self.opt: CoordinateOptimizer = make_optimizer(
            optimizer, store=store, **self.spec.hyperparameters
        )

    def initial(self, keys: np.ndarray) -> np.ndarray:
        """The seeded starting value ``v0`` of each factor key (float64)."""
        s = self.spec
        return initial_factors(_trainer_coordinates(keys, s.factors), s.seed, s.init_std)

    def check(self, keys: np.ndarray) -> str | None:
        """Why some factor key is not one of this job's (None: all are)."""
        rows, f = decode_factor_keys(keys)
        bad = (f >= self.spec.factors) | (rows >= self.spec.rows)
        if bad.any():
            return (
                f"factor key {int(keys[bad][0])} (row {int(rows[bad][0])}, factor "
                f"{int(f[bad][0])}) is outside {self.spec.rows} rows x k={self.spec.factors}"
            )
        return None

    def weights(self, keys: np.ndarray) -> np.ndarray:
        """The learned offsets ``v - v0`` (what workers pull; 0 for untouched keys)."""
        return self.opt.weights(keys)

    def update(self, keys: np.ndarray, grads: np.ndarray) -> None:
        """One optimizer step on summed gradients, with ``factor_l2 * v`` added once."""
        if self.spec.factor_l2:
            v = self.opt.weights(keys).astype(np.float64) + self.initial(keys)
            grads = grads + self.spec.factor_l2 * v
        self.opt.update(keys, grads)

    def trained_rows(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, vectors ``(n, k)``) of the rows among ``keys`` that training moved (as
        ``FMTrainer.trained_factor_rows``: an all-zero offset reads as an untrained row)."""
        k = self.spec.factors
        keys = np.sort(keys[keys < BIAS_KEY])[::-1]  # -2, -3, ...: row-major order
        rows, f = decode_factor_keys(keys)
        uniq, row_of = np.unique(rows, return_inverse=True)
        offsets = np.zeros((len(uniq), k))
        offsets[row_of, f] = self.opt.weights(keys)
        moved = offsets.any(axis=1)
        uniq, offsets = uniq[moved], offsets[moved]
        every = factor_keys(uniq, k)
        return uniq, offsets + self.initial(every).reshape(len(uniq), k)


def fm_step_keys(batch: Batch, spec: FactorSpec):
    """(feature keys, occurrence -> key, interactions, factor keys) of one batch."""
    keys, local = np.unique(batch.indices, return_inverse=True)
    x = None if batch.values is None else batch.values.astype(np.float64)
    inter = batch_interactions(
        spec.kind, batch.indptr, batch.indices, keys, local, x,
        spec.dims_log2, spec.field_bits, spec.fields,
    )  # fmt: skip
    return keys, local, inter, factor_keys(inter.rows, spec.factors)


def fm_gradient(batch: Batch, spec: FactorSpec, local, inter, w, offsets, bias):
    """(linear gradient per key, factor gradient per factor key, bias gradient, summed
    log loss) of ``batch`` at the pulled weights, factor offsets and bias.

    The same computation as ``FMTrainer.step`` before its updates; the ``factor_l2``
    term is the shard's (:meth:`FactorTable.update`), so it is added once per step.
    """
    k = spec.factors
    coords = (inter.rows[:, None] * k + np.arange(k)).reshape(-1)
    V = offsets.reshape(len(inter.rows), k).astype(np.float64)
    V += initial_factors(coords, spec.seed, spec.init_std).reshape(V.shape)
    margin = rules.sparse_margins(batch.indptr, w[local], inter.x, bias)
    margin += inter.forward(V)
    g, loss = rules.logistic_loss(margin, batch.labels)
    grads = rules.sparse_linear_gradient(g, batch.indptr, local, len(w), inter.x)
    return grads, inter.backward(g).reshape(-1), float(g.sum()), loss
