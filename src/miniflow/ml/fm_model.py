"""A trained factorization machine (FM or FFM): sparse weights and factor rows on disk.

:class:`FMModel` holds the linear part as a :class:`~miniflow.ml.sparse_lr.SparseLinearModel`
(sorted non-zero weights, a bias) plus the factor rows that training touched: sorted
row keys (a feature id for FM, ``feature * fields + field`` for FFM) and their vectors.
A feature the model never saw has no row and contributes no interaction (its vector
reads as zero). Saved as ``model.json`` + ``weights.npz`` (no pickle), like sparse LR,
with ``"format": "miniflow.sparse_fm"``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from miniflow.ml.batch import Batch
from miniflow.ml.fm_math import batch_interactions
from miniflow.ml.linear_model import sigmoid
from miniflow.ml.sparse_lr import (
    SparseLinearModel,
    _as_batch,
    read_model_json,
    write_model_files,
)

__all__ = ["FMModel", "load_fm_model", "FORMAT", "FORMAT_VERSION", "is_fm_model"]

FORMAT = "miniflow.sparse_fm"
FORMAT_VERSION = 1
_OWN_KEYS = ("format", "version", "dims_log2", "bias", "nnz", "kind", "factors", "fields")


class FMModel:
    """A servable FM/FFM: ``p = sigmoid(b + w.x + pairwise(x))``.

    Args:
        linear: the bias and linear weights.
        row_keys: factor row keys (any order; sorted here).
        factors: (len(row_keys), k) vectors.
        kind: ``"fm"`` or ``"ffm"``.
        fields: number of fields (FFM), whose numbers sit in the top
            ``field_bits_for(fields)`` bits of the ``dims_log2``-bit feature ids.
        field_bits: bits of the field number in a feature id (0 for FM).
    """

    def __init__(
        self,
        linear: SparseLinearModel,
        row_keys,
        factors,
        kind: str = "fm",
        fields: int = 0,
        field_bits: int = 0,
        meta: dict | None = None,
    ):
        if kind not in ("fm", "ffm"):
            raise ValueError(f"kind must be 'fm' or 'ffm', got {kind!r}")
        factors = np.asarray(factors, np.float32)
        if factors.ndim != 2 or len(factors) != len(row_keys):
            raise ValueError(
                f"factors must be (len(row_keys), k); got {factors.shape} for "
                f"{len(row_keys)} row keys"
            )
        order = np.argsort(np.asarray(row_keys, np.int64), kind="stable")
        self.linear = linear
        self.row_keys = np.asarray(row_keys, np.int64)[order]
        self.factors = factors[order]
        self.kind = kind
        self.fields = int(fields)
        self.field_bits = int(field_bits)
        self.meta = dict(meta or {})

    @property
    def dims_log2(self) -> int:
        return self.linear.dims_log2

    @property
    def bias(self) -> float:
        return self.linear.bias

    @property
    def k(self) -> int:
        return self.factors.shape[1]

    @property
    def nnz(self) -> int:
        """Stored numbers: non-zero linear weights plus factor entries."""
        return self.linear.nnz + self.factors.size

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """Factor vectors of arbitrary row keys (zeros where the model has none)."""
        out = np.zeros((len(keys), self.k), np.float64)
        if not len(self.row_keys) or not len(keys):
            return out
        pos = np.minimum(np.searchsorted(self.row_keys, keys), len(self.row_keys) - 1)
        hit = self.row_keys[pos] == keys
        out[hit] = self.factors[pos[hit]]
        return out

    def decision_function(self, X) -> np.ndarray:
        """Margins of a :class:`Batch` or SciPy CSR matrix (ids reduced to dims_log2 bits)."""
        batch = _as_batch(X)
        ids = batch.indices & ((1 << self.dims_log2) - 1)
        keys, local = np.unique(ids, return_inverse=True)
        x = np.ones(len(ids)) if batch.values is None else batch.values.astype(np.float64)
        linear = self.linear.decision_function(Batch(batch.indptr, ids, batch.values, batch.labels))
        inter = batch_interactions(
            self.kind,
            batch.indptr,
            ids,
            keys,
            local,
            x,
            self.dims_log2,
            self.field_bits,
            self.fields,
        )
        return linear + inter.forward(self.rows(inter.rows))

    def predict_proba(self, X) -> np.ndarray:
        """P(click) per row (1-D array)."""
        return sigmoid(self.decision_function(X))

    def save(self, directory) -> None:
        """Writes ``model.json`` and ``weights.npz`` into ``directory`` (created)."""
        meta = {
            **self.meta,
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "dims_log2": self.dims_log2,
            "bias": self.bias,
            "nnz": self.nnz,
            "kind": self.kind,
            "factors": self.k,
            "fields": self.fields,
            "field_bits": self.field_bits,
        }
        write_model_files(
            directory,
            meta,
            keys=self.linear.keys,
            values=self.linear.weights,
            row_keys=self.row_keys,
            factors=self.factors,
        )


def is_fm_model(directory) -> bool:
    """True if ``directory/model.json`` declares the sparse FM format."""
    try:
        with open(os.path.join(directory, "model.json")) as f:
            return json.load(f).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def load_fm_model(directory) -> FMModel:
    """Loads a model written by :meth:`FMModel.save` (no pickle involved).

    Raises:
        ValueError: not a miniflow FM model, a newer format version, or inconsistent
            arrays.
    """
    meta = read_model_json(directory, FORMAT, FORMAT_VERSION)
    with np.load(os.path.join(directory, "weights.npz"), allow_pickle=False) as z:
        keys, values, row_keys, factors = z["keys"], z["values"], z["row_keys"], z["factors"]
    if factors.ndim != 2 or factors.shape[1] != meta["factors"]:
        raise ValueError(
            f"{directory}: factors have shape {factors.shape}, model.json says k={meta['factors']}"
        )
    linear = SparseLinearModel(keys, values, meta["bias"], meta["dims_log2"])
    extra = {k: v for k, v in meta.items() if k not in _OWN_KEYS + ("field_bits",)}
    return FMModel(
        linear,
        row_keys,
        factors,
        meta["kind"],
        meta.get("fields", 0),
        meta.get("field_bits", 0),
        extra,
    )
