"""The math of second-order factorization machines (FM) and field-aware FM (FFM).

Shared by the trainer (:mod:`miniflow.ml.fm`) and the saved model
(:mod:`miniflow.ml.fm_model`). A batch is CSR (``indptr``, per-occurrence ``local`` ids
into the batch's unique features, values ``x``); factor vectors come in as one row per
*factor row key* the batch needs:

* FM (Rendle 2010): row key = feature id ``i``; the pairwise term of a row is
  ``sum_{a<b} <v_a, v_b> x_a x_b = 1/2 sum_f [(sum_a v_af x_a)^2 - sum_a v_af^2 x_a^2]``,
  O(nnz * k) (the sum-of-squares identity), with gradient
  ``d/dv_af = x_a (S_f - v_af x_a)``, ``S_f = sum_b v_bf x_b`` (summed over a key's
  occurrences).
* FFM (Juan et al. 2016): row key = ``i * fields + j`` (feature i's vector for field
  j); the pairwise term is ``sum_{a<b} <v_{a,F(b)}, v_{b,F(a)}> x_a x_b`` over explicit
  pairs, O(nnz^2 * k) per row, with gradient ``x_a x_b v_{b,F(a)}`` for ``v_{a,F(b)}``.

A feature's field is stored in the top ``field_bits`` bits of its ``dims_log2``-bit id
(:func:`field_of`), so batches, caches and served instances need nothing but ids.

Factor *initialisation* is a pure function of (row key, factor, seed): ``v0 ~ init_std *
N(0, 1)`` (approximately: a hash and an Irwin-Hall sum, :func:`initial_factors`). The
optimizer holds the learned offset ``v - v0`` (starting at 0 like every coordinate), so
no table of 2^dims * k random numbers is ever drawn and only touched rows are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "segment_sum",
    "field_of",
    "field_bits_for",
    "checked_fields",
    "seed_offset",
    "initial_factors",
    "factor_keys",
    "row_pairs",
    "Interactions",
    "fm_interactions",
    "ffm_interactions",
    "batch_interactions",
]

_M1, _M2, _GOLDEN = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15


def segment_sum(indptr: np.ndarray, arr: np.ndarray, axis: int = 0) -> np.ndarray:
    """Row sums of per-occurrence values along ``axis`` (length nnz), empty rows giving 0."""
    n = len(indptr) - 1
    arr = np.moveaxis(arr, axis, 0)
    if n == 0 or not len(arr):
        return np.moveaxis(np.zeros((n,) + arr.shape[1:]), 0, axis)
    lengths = np.diff(indptr)
    starts = indptr[:-1] - indptr[0]
    if lengths.all():
        return np.moveaxis(np.add.reduceat(arr, starts, axis=0), 0, axis)
    # reduceat reads one element for an empty segment: pad with a zero row, zero them.
    padded = np.concatenate([arr, np.zeros((1,) + arr.shape[1:], arr.dtype)])
    out = np.add.reduceat(padded, starts, axis=0)
    out[lengths == 0] = 0
    return np.moveaxis(out, 0, axis)


def field_bits_for(fields: int) -> int:
    """Bits needed to store a field number in ``0 .. fields-1`` (at least 1)."""
    return max(1, int(fields - 1).bit_length())


def field_of(ids: np.ndarray, dims_log2: int, field_bits: int) -> np.ndarray:
    """The field of each packed feature id: its top ``field_bits`` of ``dims_log2`` bits."""
    return np.asarray(ids, np.int64) >> (dims_log2 - field_bits)


def checked_fields(ids: np.ndarray, dims_log2: int, field_bits: int, fields: int) -> np.ndarray:
    """:func:`field_of` each id, checked to be ``< fields``.

    Raises:
        ValueError: an id whose field (its top ``field_bits`` bits) is not < ``fields``.
    """
    field = field_of(ids, dims_log2, field_bits)
    if len(field) and field.max() >= fields:
        bad = int(np.argmax(field >= fields))
        raise ValueError(
            f"feature id {int(ids[bad])} has field {int(field[bad])} >= fields={fields} "
            f"(FFM ids carry the field in their top {field_bits} of {dims_log2} bits)"
        )
    return field


def seed_offset(seed: int) -> np.uint64:
    """What :func:`initial_factors` adds to every key before hashing: ``seed * golden``."""
    return np.uint64((seed * _GOLDEN) & 0xFFFFFFFFFFFFFFFF)


def initial_factors(coordinates: np.ndarray, seed: int, std: float) -> np.ndarray:
    """About ``std * N(0, 1)`` per factor coordinate key, reproducible from ``seed`` alone.

    One SplitMix64-style hash per key; its four 16-bit quarters are summed (Irwin-Hall:
    mean 2, variance 1/3) and rescaled, a bell curve within +-3.46 std. Three times
    cheaper than Box-Muller, which matters because every step recomputes the rows it uses.
    """
    h = np.asarray(coordinates, np.int64).astype(np.uint64)
    h += seed_offset(seed)
    h ^= h >> np.uint64(31)
    h *= np.uint64(_M1)
    h ^= h >> np.uint64(29)
    h *= np.uint64(_M2)
    h ^= h >> np.uint64(32)
    out = h.view(np.uint16).reshape(-1, 4).sum(axis=1, dtype=np.uint32).astype(np.float64)
    scale = std * 3.0**0.5
    out *= scale / 65536.0
    out -= 2.0 * scale
    return out


def factor_keys(rows: np.ndarray, k: int) -> np.ndarray:
    """Optimizer coordinate of factor f of each row key: ``row * k + f``, row-major."""
    return (np.asarray(rows, np.int64)[:, None] * k + np.arange(k)).reshape(-1)


@lru_cache(maxsize=256)
def _triu(length: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.triu_indices(length, 1)
    return a.astype(np.int64), b.astype(np.int64)


def row_pairs(indptr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of occurrences a < b within a row: (a, b, row), grouped by row length."""
    lengths = np.diff(indptr)
    starts = indptr[:-1] - indptr[0]
    out_a, out_b, out_row = [], [], []
    for length in np.unique(lengths[lengths >= 2]).tolist():
        rows = np.flatnonzero(lengths == length)
        ta, tb = _triu(length)
        out_a.append((starts[rows][:, None] + ta).reshape(-1))
        out_b.append((starts[rows][:, None] + tb).reshape(-1))
        out_row.append(np.repeat(rows, len(ta)))
    if not out_a:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_row)


@dataclass
class Interactions:
    """The pairwise term of one batch: which factor rows it needs and how to use them.

    ``rows`` are the factor row keys (unique); :meth:`forward` takes their vectors
    ``V`` (len(rows), k) and returns each batch row's pairwise margin; :meth:`backward`
    takes d loss / d margin per batch row and returns d loss / d V.
    """

    rows: np.ndarray
    indptr: np.ndarray
    x: np.ndarray | None  # None: every value is 1 (one-hot data)
    # FM: occurrence o uses rows[use_a[o]]. FFM: pair p multiplies rows[use_a[p]] and
    # rows[use_b[p]], with weight xx[p] = x_a x_b, in batch row pair_row[p].
    use_a: np.ndarray
    use_b: np.ndarray | None = None
    pair_row: np.ndarray | None = None
    xx: np.ndarray | None = None
    _saved: tuple = ()

    def forward(self, V: np.ndarray) -> np.ndarray:
        n = len(self.indptr) - 1
        if self.use_b is None:
            # factor-major (k, nnz) layout: contiguous gathers, sums and bincounts
            xv = np.ascontiguousarray(V.T)[:, self.use_a]
            if self.x is not None:
                xv *= self.x
            S = segment_sum(self.indptr, xv, axis=1)
            sq = segment_sum(self.indptr, np.einsum("fi,fi->i", xv, xv))
            self._saved = (V, S)
            return 0.5 * (np.einsum("fi,fi->i", S, S) - sq)
        VT = np.ascontiguousarray(V.T)
        A, B = VT[:, self.use_a], VT[:, self.use_b]  # (k, pairs)
        self._saved = (V, A, B)
        dots = np.einsum("fi,fi->i", A, B)
        if self.xx is not None:
            dots *= self.xx
        return np.bincount(self.pair_row, weights=dots, minlength=n)

    def backward(self, g: np.ndarray) -> np.ndarray:
        V = self._saved[0]
        n, k = len(self.rows), V.shape[1]
        if self.use_b is None:
            # d/dv_uf = sum over u's occurrences o (row r): g_r x_o S_rf - g_r x_o^2 v_uf
            _, S = self._saved
            lengths = np.diff(self.indptr)
            gS = np.repeat(S * g, lengths, axis=1)  # (k, nnz): g_r S_rf per occurrence
            gxx = np.repeat(g, lengths)
            if self.x is not None:
                gS *= self.x
                gxx *= self.x * self.x
            shrink = np.bincount(self.use_a, weights=gxx, minlength=n)
            grad = np.empty((n, k))
            for f in range(k):
                grad[:, f] = np.bincount(self.use_a, weights=gS[f], minlength=n)
                grad[:, f] -= V[:, f] * shrink
            return grad
        _, A, B = self._saved
        gp = g[self.pair_row]
        if self.xx is not None:
            gp *= self.xx
        grad = np.empty((n, k))
        for f in range(k):  # per factor: contiguous weights, no (key, factor) index
            grad[:, f] = np.bincount(self.use_a, weights=gp * B[f], minlength=n)
            grad[:, f] += np.bincount(self.use_b, weights=gp * A[f], minlength=n)
        return grad


def fm_interactions(indptr, keys, local, x) -> Interactions:
    """FM: one factor row per unique feature (``keys``), used by its occurrences."""
    return Interactions(np.asarray(keys, np.int64), indptr, x, np.asarray(local, np.int64))


def ffm_interactions(indptr, keys, local, x, field, fields: int) -> Interactions:
    """FFM: the rows ``i * fields + F(other)`` that the batch's pairs need (unique).

    Args:
        keys, local: unique features and each occurrence's index into them.
        field: each occurrence's field (``< fields``).
    """
    a, b, pair_row = row_pairs(indptr)
    local = np.asarray(local, np.int64)
    field = np.asarray(field, np.int64)
    code_a = local[a] * fields + field[b]  # v_{a, F(b)}
    code_b = local[b] * fields + field[a]  # v_{b, F(a)}
    # De-duplicate the codes on a table of len(keys) * fields flags (no sort).
    used = np.zeros(len(keys) * fields, np.bool_)
    used[code_a] = True
    used[code_b] = True
    codes = np.flatnonzero(used)
    position = np.cumsum(used, dtype=np.int64) - 1
    rows = np.asarray(keys, np.int64)[codes // fields] * fields + codes % fields
    xx = None if x is None else x[a] * x[b]
    return Interactions(rows, indptr, x, position[code_a], position[code_b], pair_row, xx)


def batch_interactions(
    kind: str, indptr, ids, keys, local, x, dims_log2: int, field_bits: int, fields: int
) -> Interactions:
    """The pairwise term of an FM (``kind="fm"``) or FFM batch of ``dims_log2``-bit ids.

    Raises:
        ValueError: an FFM id whose field (its top ``field_bits`` bits) is not < ``fields``.
    """
    if kind == "fm":
        return fm_interactions(indptr, keys, local, x)
    field = checked_fields(ids, dims_log2, field_bits, fields)
    return ffm_interactions(indptr, keys, local, x, field, fields)
