"""Compiled (numba) kernels for the sparse-LR training step: the de-duplication of a
minibatch's feature ids and the per-key gradient sum.

Imported only when :func:`miniflow.ml.compiled.enabled`. The NumPy code in
:class:`~miniflow.ml.sparse_lr.SparseLRTrainer` and :mod:`miniflow.core.update_rules`
stays the reference; these give the same arrays bit for bit (tests run both):

- ``dedup(ids, table) -> (keys, local, ok)``: the unique ids in the order of their first
  occurrence and each occurrence's index into them (``ids == keys[local]``). ``table``
  is an int32 array indexed by the id itself (any contents: an entry counts only if it
  points at a key equal to the id), so each occurrence costs one random access where
  the NumPy version makes two passes; ``ok`` is False for an id outside the table. The keys' order differs from the NumPy version's
  (last occurrence); nothing downstream depends on it.
- ``linear_gradient(d_margin, indptr, local, n_keys, values) -> float64 grads``:
  ``sum_i d_margin_i x_ij`` per key, summed in occurrence order as ``np.bincount`` does.
"""

from __future__ import annotations

import numpy as np

from miniflow.ml import compiled

__all__ = ["dedup", "linear_gradient"]


@compiled.kernel
def dedup(ids, table):
    n = len(ids)
    keys = np.empty(n, np.int64)
    local = np.empty(n, np.int32)
    n_keys = 0
    for i in range(n):
        x = ids[i]
        if x < 0 or x >= len(table):
            return keys[:0].copy(), local, False
        r = table[x]
        if r < 0 or r >= n_keys or keys[r] != x:  # new in this batch (or a stale entry)
            r = n_keys
            table[x] = r
            keys[r] = x
            n_keys += 1
        local[i] = r
    return keys[:n_keys].copy(), local, True


@compiled.kernel
def linear_gradient(d_margin, indptr, local, n_keys, values):
    grads = np.zeros(n_keys, np.float64)
    for r in range(len(indptr) - 1):
        g = d_margin[r]
        if values is None:
            for j in range(indptr[r] - indptr[0], indptr[r + 1] - indptr[0]):
                grads[local[j]] += g
        else:
            for j in range(indptr[r] - indptr[0], indptr[r + 1] - indptr[0]):
                grads[local[j]] += g * np.float64(values[j])
    return grads
