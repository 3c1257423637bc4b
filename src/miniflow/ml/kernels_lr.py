"""Compiled (numba) kernels for the sparse-LR training step: the de-duplication of a
minibatch's feature ids, the margins, the per-key gradient sum and a fused FTRL update.

Imported only when :func:`miniflow.ml.compiled.enabled` (this module imports numba).
The NumPy code in :class:`~miniflow.ml.sparse_lr.SparseLRTrainer`,
:mod:`miniflow.ml.optimizers` and :mod:`miniflow.core.update_rules` stays the
reference; these give the same arrays bit for bit (tests run both):

- ``dedup(ids, table) -> (keys, local, ok)``: the unique ids in the order of their first
  occurrence and each occurrence's index into them (``ids == keys[local]``). ``table``
  is an int32 array indexed by the id itself (any contents: an entry counts only if it
  points at a key equal to the id), so each occurrence costs one random access where
  the NumPy version makes two passes; ``ok`` is False for an id outside the table. The
  keys' order differs from the NumPy version's (last occurrence); nothing downstream
  depends on it.
- ``margins(w, local, indptr, values, bias) -> float64``: ``bias + sum_j w[local_j]
  x_j`` per row, summed as :func:`~miniflow.core.update_rules.sparse_margins` sums:
  NumPy's pairwise summation in the weights' dtype (``np.add.reduceat``) when no row is
  empty, else in float64 in occurrence order (``np.bincount``).
- ``linear_gradient(d_margin, indptr, local, n_keys, values) -> float64 grads``:
  ``sum_i d_margin_i x_ij`` per key, summed in occurrence order as ``np.bincount`` does.
- ``ftrl_gather(keys, z_col, n_col, alpha, l1, two_l2) -> (z, n, w)``: the FTRL state of
  ``keys`` and its weights (:func:`~miniflow.core.update_rules.ftrl_weights`);
  ``ftrl_update(keys, local, indptr, values, d_margin, z, n, w, z_col, n_col, alpha)``:
  the gradient sum, its cast to the state's dtype and TF1's FTRL step
  (:func:`~miniflow.core.update_rules.ftrl`, ``learning_rate_power`` -0.5, no
  shrinkage), written back to the state columns. Arithmetic stays in the state's dtype
  (float32 scalars in, float32 operations), in the NumPy expressions' order.
"""

from __future__ import annotations

import numba
import numpy as np

from miniflow.ml import compiled

__all__ = ["dedup", "margins", "linear_gradient", "ftrl_gather", "ftrl_update"]

_jit = numba.njit(cache=True, nogil=True)


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


@_jit
def _block_sum(a, s, n, neg_zero):
    """``a[s:s+n]``, ``n <= 128``, summed as NumPy's ``pairwise_sum`` sums a block:
    below 8 terms in order from -0, else with 8 accumulators."""
    if n < 8:
        res = neg_zero
        for i in range(s, s + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[s], a[s + 1], a[s + 2], a[s + 3]
    r4, r5, r6, r7 = a[s + 4], a[s + 5], a[s + 6], a[s + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[s + i]
        r1 += a[s + i + 1]
        r2 += a[s + i + 2]
        r3 += a[s + i + 3]
        r4 += a[s + i + 4]
        r5 += a[s + i + 5]
        r6 += a[s + i + 6]
        r7 += a[s + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[s + i]
        i += 1
    return res


@_jit
def _pairwise_sum(a, s, n, neg_zero):
    """``a[s:s+n]`` summed as NumPy's ``pairwise_sum`` (``loops_utils.h.src``): blocks of
    at most 128 (:func:`_block_sum`), longer runs split at ``n/2`` rounded down to a
    multiple of 8 and the halves added. The recursion runs on an explicit stack (numba's
    cache does not keep recursive functions)."""
    if n <= 128:
        return _block_sum(a, s, n, neg_zero)
    starts = np.empty(64, np.int64)
    sizes = np.empty(64, np.int64)
    phase = np.zeros(64, np.int64)
    sums = np.empty(64, a.dtype)
    starts[0], sizes[0], phase[0] = s, n, 0
    top, done = 1, 0
    while top:
        f = top - 1
        size = sizes[f]
        if size <= 128:
            sums[done] = _block_sum(a, starts[f], size, neg_zero)
            done += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if phase[f] < 2:  # push the left half, then the right half
            phase[f] += 1
            left = phase[f] == 1
            starts[top] = starts[f] if left else starts[f] + half
            sizes[top] = half if left else size - half
            phase[top] = 0
            top += 1
        else:  # both halves summed: left + right
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
            top -= 1
    return sums[0]


@compiled.kernel
def margins(w, local, indptr, values, bias):
    n_rows = max(len(indptr) - 1, 0)
    out = np.empty(n_rows, np.float64)
    base = indptr[0] if len(indptr) else 0
    longest = 0
    pairwise = n_rows > 0 and indptr[n_rows] > base
    for r in range(n_rows):
        length = indptr[r + 1] - indptr[r]
        longest = max(longest, length)
        pairwise &= length > 0
    terms = np.empty(max(longest, 1), w.dtype)  # one row's w_j x_j in the weights' dtype
    terms[0] = -0.0
    neg_zero = terms[0]
    for r in range(n_rows):
        s, e = indptr[r] - base, indptr[r + 1] - base
        if pairwise:  # np.add.reduceat: the first term, plus the pairwise sum of the rest
            for j in range(s, e):
                if values is None:
                    terms[j - s] = w[local[j]]
                else:
                    terms[j - s] = w[local[j]] * values[j]
            total = terms[0]
            if e - s > 1:
                total = total + _pairwise_sum(terms, 1, e - s - 1, neg_zero)
            out[r] = np.float64(total) + bias
        else:  # np.bincount: float64, in order
            acc = 0.0
            for j in range(s, e):
                if values is None:
                    acc += np.float64(w[local[j]])
                else:
                    acc += np.float64(w[local[j]] * values[j])
            out[r] = acc + bias
    return out


@_jit
def _gradient(d_margin, indptr, local, n_keys, values):
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


@compiled.kernel
def linear_gradient(d_margin, indptr, local, n_keys, values):
    return _gradient(d_margin, indptr, local, n_keys, values)


@compiled.kernel
def ftrl_gather(keys, z_col, n_col, alpha, l1, two_l2):
    k = len(keys)
    z = np.empty(k, z_col.dtype)
    n = np.empty(k, n_col.dtype)
    w = np.empty(k, z_col.dtype)
    for r in range(k):
        key = keys[r]
        zz, nn = z_col[key], n_col[key]
        z[r], n[r] = zz, nn
        if abs(zz) > l1:  # (sign(z) l1 - z) / (sqrt(n) / alpha + 2 l2)
            signed_l1 = l1 if zz > 0 else -l1
            w[r] = (signed_l1 - zz) / (np.sqrt(nn) / alpha + two_l2)
        else:
            w[r] = 0
    return z, n, w


@compiled.kernel
def ftrl_update(keys, local, indptr, values, d_margin, z, n, w, z_col, n_col, alpha):
    grads = _gradient(d_margin, indptr, local, len(keys), values)
    g_state = np.empty(len(keys), z.dtype)  # the cast update() makes: round to the dtype
    for r in range(len(keys)):
        g_state[r] = grads[r]
    for r in range(len(keys)):
        g, nn = g_state[r], n[r]
        new_n = nn + g * g
        z_col[keys[r]] = (z[r] + g) - ((np.sqrt(new_n) - np.sqrt(nn)) / alpha) * w[r]
        n_col[keys[r]] = new_n
