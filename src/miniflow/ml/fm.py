"""Factorization machines (FM) and field-aware FM (FFM) for click data.

:class:`FMTrainer` extends :class:`~miniflow.ml.sparse_lr.SparseLRTrainer` (same
minibatches, de-duplication, progress bar, Ctrl-C handling, holdout metrics) with a
second-order term (math in :mod:`miniflow.ml.fm_math`)::

    p = sigmoid(b + sum_i w_i x_i + sum_{a<b} <v_a, v_b> x_a x_b)               FM
    p = sigmoid(b + sum_i w_i x_i + sum_{a<b} <v_{a,F(b)}, v_{b,F(a)}> x_a x_b)  FFM

Every parameter is a coordinate of a per-coordinate optimizer
(:func:`~miniflow.ml.optimizers.make_optimizer`): linear weight i is key i of one
optimizer, factor f of feature i (FM) is key ``s*k + f`` of a second one, and factor f
of feature i for field j (FFM) is key ``(s*fields + j)*k + f``, where ``s`` is the
feature's storage slot, given in order of first training use (:meth:`storage_rows`:
the rows of the features seen sit together, so memory is touched for them only). A
step calls ``update`` with exactly the keys of the factor rows the batch used, so
FTRL, Adagrad and SGD change only those rows of the factor tables.

The optimizer holds each factor's offset from its random start ``v0`` (seeded, see
:func:`~miniflow.ml.fm_math.initial_factors`); ``factor_l2`` is the L2 penalty on the
factors themselves, ``(factor_l2/2) |v|^2``, applied lazily to the rows a step touches.

With numba (the ``[fast]`` extra, :mod:`miniflow.ml.compiled`) a step runs the
compiled twins of :mod:`miniflow.ml.fm_kernels` instead: the same gradient and update
rules, to float32 rounding of the state; ``MINIFLOW_NO_NUMBA=1`` forces NumPy.
"""

from __future__ import annotations

import numpy as np

from miniflow.ml import compiled, fm_kernels as kernels
from miniflow.ml.batch import Batch
from miniflow.ml.fm_math import (
    Interactions,
    batch_interactions,
    checked_fields,
    factor_keys,
    field_bits_for,
    initial_factors,
    seed_offset,
    segment_sum,
)
from miniflow.ml.fm_model import FMModel
from miniflow.ml.linear_model import sigmoid
from miniflow.ml.optimizers import DenseStore, make_optimizer
from miniflow.ml.sparse_lr import SparseLinearModel, SparseLRTrainer, _as_batch

__all__ = ["FMTrainer"]

_BIAS = np.zeros(1, np.int64)
_NO_VALUES = np.zeros(0)
_MAX_FACTOR_KEYS = 1 << 36


class FMTrainer(SparseLRTrainer):
    """Minibatch FM/FFM over ``2**dims_log2`` hashed features.

    Args:
        dims_log2: bits of the feature ids. For FFM the top ``field_bits_for(fields)``
            of them hold the field (see :mod:`miniflow.ml.fm_data` for libffm input).
        model: ``"fm"`` or ``"ffm"``.
        factors: k, the length of each factor vector.
        fields: number of fields (FFM only).
        optimizer: ``ftrl``, ``adagrad`` or ``sgd`` (others of ``make_optimizer`` work).
        alpha, beta, lr, l1, l2: as :class:`SparseLRTrainer` (linear part and bias).
        factor_alpha: the factors' FTRL alpha (0.1: half the linear default, tuned on
            generated data: factors that move as fast as the weights overfit rare ids).
        factor_lr: the factors' learning rate for adagrad/sgd (default: ``lr``).
        factor_l2: L2 penalty on the factor vectors.
        init_std: standard deviation of the random initial factors.
        seed: seed of the initial factors.
        batch_size: rows per update or ``"auto"`` (as :class:`SparseLRTrainer`).

    Memory: the factor table is a dense store over ``2**dims_log2 * k`` keys (FFM:
    ``* fields``), 8 bytes per key for FTRL/Adagrad in float32; pages are mapped only
    when touched, so the resident size follows the features actually seen.
    """

    def __init__(
        self,
        dims_log2: int = 20,
        optimizer: str = "ftrl",
        *,
        model: str = "fm",
        factors: int = 8,
        fields: int | None = None,
        alpha: float = 0.2,
        beta: float = 1.0,
        lr: float = 0.1,
        l1: float = 0.0,
        l2: float = 0.0,
        factor_alpha: float = 0.1,
        factor_lr: float | None = None,
        factor_l2: float = 1e-4,
        init_std: float = 0.03,
        seed: int = 0,
        batch_size: int | str = "auto",
        dtype=np.float32,
    ):
        if model not in ("fm", "ffm"):
            raise ValueError(f"model must be 'fm' or 'ffm', got {model!r}")
        if int(factors) < 1:
            raise ValueError(f"factors must be >= 1, got {factors}")
        if model == "ffm":
            if fields is None or int(fields) < 1:
                raise ValueError("model='ffm' needs fields=N (the number of fields, >= 1)")
            field_bits = field_bits_for(int(fields))
            if field_bits >= dims_log2:
                raise ValueError(
                    f"dims_log2={dims_log2} leaves no bits for feature ids after the "
                    f"{field_bits} field bits of {fields} fields"
                )
        else:
            fields, field_bits = 0, 0
        if init_std < 0 or factor_l2 < 0:
            raise ValueError(f"init_std and factor_l2 must be >= 0; got {init_std}, {factor_l2}")
        super().__init__(
            dims_log2, optimizer, alpha=alpha, beta=beta, lr=lr, l1=l1, l2=l2,
            batch_size=batch_size, dtype=dtype,
        )  # fmt: skip
        self.model, self.k = model, int(factors)
        self.fields, self.field_bits = int(fields), field_bits
        self.factor_l2, self.init_std, self.seed = float(factor_l2), float(init_std), int(seed)
        rows = (1 << dims_log2) * max(self.fields, 1)
        if rows * self.k > _MAX_FACTOR_KEYS:
            raise ValueError(
                f"the factor table would have {rows * self.k:,} keys (2^{dims_log2} "
                f"features x {max(self.fields, 1)} fields x k={self.k}); lower dims_log2"
            )
        if optimizer == "ftrl":
            hp = {"alpha": factor_alpha, "beta": beta}
        else:
            hp = {"lr": lr if factor_lr is None else factor_lr}
        self.factor_opt = make_optimizer(optimizer, rows * self.k, dtype=dtype, **hp)
        # Features that appeared in a training batch: export scans only their rows.
        self.seen = np.zeros(1 << dims_log2, np.bool_)
        # 1 + the storage slot of each feature's factor rows, given in order of first
        # training use (0: none yet). The rows of the features seen sit together at the
        # start of the table instead of wherever their hashed ids fall, so the pages
        # touched (and zeroed by the OS) follow the features seen: on the benchmark's
        # FFM, 41 MB instead of all 512 MB.
        self._factor_slot = np.zeros(1 << dims_log2, np.int32 if dims_log2 < 31 else np.int64)
        self._slots_used = 0
        self._bind_rules()

    def _bind_rules(self) -> None:
        # (rule, state arrays) per optimizer: views of the stores' tables, so they are
        # bound again after unpickling (pickled views would come back as copies).
        rules = (kernels.rule_of(self.opt), kernels.rule_of(self.factor_opt))
        self._rules = None if None in rules else rules

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_scratch", None)  # the compiled step's work arrays: not model state
        state.pop("_rules", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind_rules()

    def prefault(self) -> None:
        super().prefault()
        if isinstance(self.factor_opt.store, DenseStore):
            self.factor_opt.store.prefault()

    # -- the pairwise term --------------------------------------------------------------
    def _interactions(self, batch: Batch, ids, keys, local) -> Interactions:
        x = None if batch.values is None else batch.values.astype(np.float64)
        return batch_interactions(
            self.model,
            batch.indptr,
            ids,
            keys,
            local,
            x,
            self.dims_log2,
            self.field_bits,
            self.fields,
        )

    def _assign_slots(self, features: np.ndarray) -> None:
        """Gives the (unique) ``features`` that have none a storage slot."""
        new = features[self._factor_slot[features] == 0]
        if len(new):
            first = self._slots_used + 1
            self._factor_slot[new] = np.arange(first, first + len(new))
            self._slots_used += len(new)

    def storage_rows(self, rows: np.ndarray) -> np.ndarray:
        """The factor table row of each factor row key (-1: its feature has no slot)."""
        rows = np.asarray(rows, np.int64)
        if self.model == "fm":
            return self._factor_slot[rows].astype(np.int64) - 1
        slot = self._factor_slot[rows // self.fields].astype(np.int64) - 1
        return np.where(slot >= 0, slot * self.fields + rows % self.fields, -1)

    def _factors(self, rows: np.ndarray, training: bool) -> tuple[np.ndarray, np.ndarray]:
        """(optimizer keys, vectors (len(rows), k)) of factor rows (row keys).

        While training a vector is ``v0 + offset``. For prediction a row whose offset
        is still all zero was never trained and reads as zero, as in the saved model.
        The optimizer keys are those of :meth:`storage_rows` (-1 rows: no slot yet,
        offset zero).
        """
        fkeys = factor_keys(rows, self.k)
        srows = self.storage_rows(rows)
        skeys = factor_keys(srows, self.k)
        v = np.zeros((len(rows), self.k))
        have = srows >= 0
        if have.all():
            v[:] = self.factor_opt.weights(skeys).reshape(v.shape)
        elif have.any():
            v[have] = self.factor_opt.weights(factor_keys(srows[have], self.k)).reshape(-1, self.k)
        if training:
            v += initial_factors(fkeys, self.seed, self.init_std).reshape(v.shape)
        else:
            moved = np.flatnonzero(v.any(axis=1))
            v[moved] += initial_factors(
                factor_keys(rows[moved], self.k), self.seed, self.init_std
            ).reshape(len(moved), self.k)
        return skeys, v

    # -- the hot path -------------------------------------------------------------------
    def _dedup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._slot_bits < self.dims_log2 or not compiled.enabled():
            return super()._dedup(ids)
        local = np.empty(len(ids), np.int32)
        is_rep = np.empty(len(ids), np.bool_)
        kernels.dedup(ids, self._slots, local, is_rep)
        return ids[is_rep], local

    def step(self, batch: Batch) -> float:
        """One update on ``batch``; returns the summed log loss *before* the update."""
        if batch.keys is None:
            batch.keys, batch.local = self._dedup(batch.indices)
        self._assign_slots(batch.keys)
        if self._rules is not None and compiled.enabled():
            return self._compiled_step(batch)
        keys, local = batch.keys, batch.local
        inter = self._interactions(batch, batch.indices, keys, local)
        fkeys, V = self._factors(inter.rows, training=True)
        w = self.opt.weights(keys)[local]
        x = inter.x
        margin = segment_sum(batch.indptr, w if x is None else w * x)
        margin += self.bias + inter.forward(V)
        y = batch.labels.astype(np.float64)
        g = sigmoid(margin) - y
        per_nnz = np.repeat(g, np.diff(batch.indptr))
        if x is not None:
            per_nnz *= x
        self.opt.update(keys, np.bincount(local, weights=per_nnz, minlength=len(keys)))
        gV = inter.backward(g)
        if self.factor_l2:
            gV += self.factor_l2 * V
        self.factor_opt.update(fkeys, gV.reshape(-1))
        self.bias_opt.update(_BIAS, np.array([g.sum()]))
        self.seen[keys] = True
        self.rows_seen += len(batch)
        return float(np.sum(np.logaddexp(0.0, margin) - y * margin))

    def _compiled_step(self, batch: Batch) -> float:
        """:meth:`step` through :mod:`miniflow.ml.fm_kernels`: one pass over the rows
        for margins and gradients, one over the keys for each optimizer."""
        keys, local, indptr, k = batch.keys, batch.local, batch.indptr, self.k
        if not hasattr(self, "_scratch"):
            self._scratch = (kernels.Scratch(), kernels.Scratch())
        lin_scratch, fac_scratch = self._scratch
        has_x = batch.values is not None
        x = batch.values.astype(np.float64) if has_x else _NO_VALUES
        if self.model == "ffm":
            field = checked_fields(batch.indices, self.dims_log2, self.field_bits, self.fields)
            position = fac_scratch("position", len(keys) * self.fields, np.int64)
            position.fill(-1)
            rows = fac_scratch("rows", len(position), np.int64)
            slots = fac_scratch("slots", len(position), np.int64)
            used = kernels.ffm_positions(
                indptr, local, field, self.fields, keys, self._factor_slot, position, rows, slots
            )
            rows, slots = rows[:used], slots[:used]
        else:
            rows, slots = keys, self._factor_slot[keys].astype(np.int64) - 1
        lin, fac = self._rules
        w, lin_state = kernels.pull(self.opt, lin, keys, 1, scratch=lin_scratch)
        init = (seed_offset(self.seed), self.init_std * 3.0**0.5)
        V, fac_state = kernels.pull(self.factor_opt, fac, rows, k, *init, slots, fac_scratch)
        V = V.reshape(len(rows), k)
        gV = fac_scratch("gV", V.size).reshape(V.shape)
        gw = lin_scratch("gw", len(keys))
        gV.fill(0.0)
        gw.fill(0.0)
        y = batch.labels.astype(np.float64)
        if self.model == "fm":
            loss, gbias = kernels.fm_step(indptr, local, x, has_x, V, w, self.bias, y, gV, gw)
        else:
            loss, gbias = kernels.ffm_step(
                indptr, local, field, x, has_x, self.fields, position, V, w, self.bias, y, gV, gw
            )
        kernels.apply_update(self.opt, lin, keys, 1, gw, lin_state, scratch=lin_scratch)
        l2 = self.factor_l2
        kernels.apply_update(self.factor_opt, fac, slots, k, gV, fac_state, V, l2, fac_scratch)
        self.bias_opt.update(_BIAS, np.array([gbias]))
        self.seen[keys] = True
        self.rows_seen += len(batch)
        return loss

    # -- prediction and export ----------------------------------------------------------
    def decision_function(self, X) -> np.ndarray:
        """Margins with the current parameters (untrained factor rows read as zero)."""
        batch = _as_batch(X)
        ids = batch.indices & ((1 << self.dims_log2) - 1)
        keys, local = np.unique(ids, return_inverse=True)  # no write: works on a loaded copy
        inter = self._interactions(batch, ids, keys, local)
        _, V = self._factors(inter.rows, training=False)
        w = self.opt.weights(keys)[local]
        linear = segment_sum(batch.indptr, w if inter.x is None else w * inter.x)
        return linear + self.bias + inter.forward(V)

    def predict_proba(self, X) -> np.ndarray:
        """P(click) per row of a :class:`Batch` or CSR matrix, with the current model."""
        return sigmoid(self.decision_function(X))

    def trained_factor_rows(self, block: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
        """(row keys, vectors) of every factor row training has moved: the rows of the
        features seen in training (all fields for FFM), scanned in blocks."""
        features = np.flatnonzero(self.seen).astype(np.int64)
        out_k, out_v = [np.zeros(0, np.int64)], [np.zeros((0, self.k))]
        for lo in range(0, len(features), block):
            rows = features[lo : lo + block]
            if self.model == "ffm":
                rows = (rows[:, None] * self.fields + np.arange(self.fields)).reshape(-1)
            _, v = self._factors(rows, training=False)
            hit = v.any(axis=1)
            out_k.append(rows[hit])
            out_v.append(v[hit])
        return np.concatenate(out_k), np.concatenate(out_v)

    def to_model(self, meta: dict | None = None) -> FMModel:
        """The servable model: non-zero weights, trained factor rows, hyperparameters."""
        keys, w = self.nonzero_weights()
        rows, V = self.trained_factor_rows()
        info = {
            **self.training_info(),
            "factor_optimizer": self.factor_opt.hyperparameters(),
            "factor_l2": self.factor_l2,
            "init_std": self.init_std,
            "seed": self.seed,
            **(meta or {}),
        }
        linear = SparseLinearModel(keys, w, self.bias, self.dims_log2)
        return FMModel(linear, rows, V, self.model, self.fields, self.field_bits, info)
