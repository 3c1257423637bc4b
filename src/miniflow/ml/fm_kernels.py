"""Compiled twins of one FM/FFM training step (numba, :mod:`miniflow.ml.compiled`).

:class:`~miniflow.ml.fm.FMTrainer` runs these when compiled kernels are enabled and
its optimizers have a rule here; :mod:`miniflow.ml.fm_math` and
:mod:`miniflow.ml.optimizers` stay the reference they are tested against. Profiling
the NumPy step on the benchmark's crossed data showed where the time goes: a dozen
full-array passes per factor for the pairwise term, the per-pair index arrays of FFM
(``nnz^2`` of them per batch), and the gathers and scatters of the factor optimizer's
state. Here each is one loop:

* :func:`gather` reads the weights of ``rows * k + f`` from the optimizer's state
  (FTRL: computed from ``z, n``) and adds the initial factors (same hash as
  :func:`~miniflow.ml.fm_math.initial_factors`, bit for bit);
* :func:`fm_forward` / :func:`fm_backward` and :func:`ffm_mark` /
  :func:`ffm_forward` / :func:`ffm_backward` are the pairwise term and its gradient,
  FFM pairs enumerated inside the loop instead of materialised;
* :func:`update` applies FTRL, Adagrad or SGD to exactly the keys given, in the
  state's dtype, with the operations of :mod:`miniflow.core.update_rules` in the same
  order (so an update from the same gradient is bit-identical).

Gradients are summed in float64 in a different order than NumPy's ``bincount`` /
``reduceat``, so a compiled step differs from the NumPy one by float64 rounding before
the cast to the state's float32 (tests allow 1e-5 relative).
"""

from __future__ import annotations

import numpy as np

from miniflow.ml import compiled
from miniflow.ml.fm_math import _M1, _M2

__all__ = ["rule_of", "pull", "apply_update", "gather", "update", "dedup", "fm_step"]
__all__ += ["ffm_positions", "ffm_step", "FTRL", "ADAGRAD", "SGD"]

FTRL, ADAGRAD, SGD = 0, 1, 2


def rule_of(opt):
    """``(kind, s0, s1)`` for an optimizer the kernels can update in place, or None.

    FTRL (``learning_rate_power=-0.5``, no ``l2_shrinkage``): ``s0, s1 = z, n``;
    Adagrad and constant-rate SGD without l1/l2: ``s0 = w`` (``s1 = n``, or ``w``
    again for SGD). Only dense stores (a :class:`~miniflow.ml.state_store.HashStore`
    has no arrays to index).
    """
    store = opt.store
    if not hasattr(store, "array"):
        return None
    if opt.name == "ftrl" and opt.learning_rate_power == -0.5 and not opt.l2_shrinkage:
        return FTRL, store.array("z"), store.array("n")
    if opt.name == "adagrad" and not (opt.l1 or opt.l2):
        return ADAGRAD, store.array("w"), store.array("n")
    if opt.name == "sgd" and not (opt.l1 or opt.l2) and opt.schedule == "constant":
        return SGD, store.array("w"), store.array("w")
    return None


def hyperparameters(opt, kind: int) -> np.ndarray:
    """The rule's scalars in the state's dtype, as the NumPy optimizer computes them."""
    t = opt.dtype.type
    if kind == FTRL:
        lr, l1, l2 = opt._tf
        return np.array([lr, l1, t(2) * l2, t(0)], opt.dtype)
    if kind == ADAGRAD:
        return np.array([t(opt.lr), t(opt.eps), t(0), t(0)], opt.dtype)
    return np.array([t(opt.lr), t(0), t(0), t(0)], opt.dtype)


def pull(opt, rule, rows: np.ndarray, k: int, seed=0, scale: float = 0.0) -> np.ndarray:
    """The float64 values of keys ``rows*k + f``: the weights, plus the initial
    factors when ``scale > 0`` (see :func:`gather`)."""
    kind, s0, s1 = rule
    v = np.empty(len(rows) * k)
    gather(kind, s0, s1, rows, k, hyperparameters(opt, kind), seed, scale, v)
    return v


def apply_update(opt, rule, rows, k, grads, values=None, l2: float = 0.0) -> None:
    """``opt.update(rows*k + f, grads + l2 * values)`` through :func:`update` (one step
    counted); ``grads`` and ``values`` float64 (the penalty is added and cast to the state's dtype per key,
    as NumPy's ``(grads + l2 * values).astype(dtype)`` would, without temporaries)."""
    kind, s0, s1 = rule
    opt.step += 1
    if hasattr(opt, "_pulled"):
        opt._pulled = None  # FTRL's cache of the last gather is not ours
    g = grads.reshape(-1)
    v = g if values is None or not l2 else values.reshape(-1)
    update(kind, s0, s1, rows, k, g, v, float(l2), hyperparameters(opt, kind))


@compiled.kernel
def gather(kind, s0, s1, rows, k, hp, seed, scale, out):
    """``out[i*k + f]`` = weight of key ``rows[i]*k + f`` in float64, plus its
    initial factor when ``scale`` > 0 (``scale = init_std *
    sqrt(3)``; ``seed`` the key offset of :func:`~miniflow.ml.fm_math.seed_offset`)."""
    lr, l1, two_l2, zero = hp[0], hp[1], hp[2], hp[3]
    for i in range(len(rows)):
        for f in range(k):
            key = rows[i] * k + f
            if kind == FTRL:
                z = s0[key]
                w = zero
                if abs(z) > l1:
                    q = np.sqrt(s1[key]) / lr + two_l2
                    w = ((l1 if z > zero else -l1) - z) / q
            else:
                w = s0[key]
            v = np.float64(w)
            if scale > 0.0:
                h = np.uint64(key) + np.uint64(seed)
                h ^= h >> np.uint64(31)
                h *= np.uint64(_M1)
                h ^= h >> np.uint64(29)
                h *= np.uint64(_M2)
                h ^= h >> np.uint64(32)
                m = np.uint64(0xFFFF)
                quarters = (
                    (h & m)
                    + ((h >> np.uint64(16)) & m)
                    + ((h >> np.uint64(32)) & m)
                    + ((h >> np.uint64(48)) & m)
                )
                v += np.float64(quarters) * (scale / 65536.0) - 2.0 * scale
            out[i * k + f] = v


@compiled.kernel
def update(kind, s0, s1, rows, k, grads, values, l2, hp):
    """One step of the rule at keys ``rows[i]*k + f``, in place, with gradient
    ``grads[i*k + f] + l2 * values[i*k + f]`` (float64) cast to the state's dtype.
    FTRL recomputes each key's weight from the ``z, n`` it reads anyway (bit for bit
    :func:`gather`'s), which is cheaper than reading a stored copy."""
    lr, eps, zero = hp[0], hp[1], hp[3]
    l1, two_l2 = hp[1], hp[2]  # FTRL's (hyperparameters() per rule)
    cast = np.empty(1, hp.dtype)  # assigning to it rounds like NumPy's astype
    for i in range(len(rows)):
        for f in range(k):
            key = rows[i] * k + f
            j = i * k + f
            if l2 != 0.0:
                cast[0] = grads[j] + l2 * values[j]
            else:
                cast[0] = grads[j]
            g = cast[0]
            if kind == FTRL:
                z, n = s0[key], s1[key]
                root = np.sqrt(n)
                w = zero  # the weight, as gather computed it from the same z, n
                if abs(z) > l1:
                    w = ((l1 if z > zero else -l1) - z) / (root / lr + two_l2)
                n_new = n + g * g
                s0[key] = z + g - (np.sqrt(n_new) - root) / lr * w
                s1[key] = n_new
            elif kind == ADAGRAD:
                n_new = s1[key] + g * g
                s1[key] = n_new
                if eps != zero:
                    s0[key] = s0[key] - lr * g / (np.sqrt(n_new) + eps)
                else:
                    s0[key] = s0[key] - lr * g / np.sqrt(n_new)
            else:
                s0[key] = s0[key] - lr * g


@compiled.kernel
def fm_step(indptr, local, x, has_x, V, w, bias, y, gV, gw):
    """Row by row: the FM margin ``bias + sum w x + pairwise``, its log-loss gradient
    g, then ``gw[u] += g x`` and ``gV[u, f] += g x (S_f - V_uf x)`` for the row's
    occurrences (gV, gw zeroed). Returns (summed log loss, d loss / d bias)."""
    k = V.shape[1]
    S = np.empty(k)
    loss, gbias = 0.0, 0.0
    for r in range(len(indptr) - 1):
        lo, hi = indptr[r], indptr[r + 1]
        m = bias
        total = 0.0
        for f in range(k):
            S[f] = 0.0
        for o in range(lo, hi):
            u = local[o]
            xo = x[o] if has_x else 1.0
            m += w[u] * xo
            for f in range(k):
                v = V[u, f] * xo
                S[f] += v
                total -= v * v
        for f in range(k):
            total += S[f] * S[f]
        m += 0.5 * total
        # log loss and its gradient, without overflow: logaddexp(0, m) - y m
        e = np.exp(-abs(m))
        prob = 1.0 / (1.0 + e) if m >= 0.0 else e / (1.0 + e)
        loss += max(m, 0.0) + np.log1p(e) - y[r] * m
        p_minus_y = prob - y[r]
        gbias += p_minus_y
        for o in range(lo, hi):
            u = local[o]
            xo = x[o] if has_x else 1.0
            gx = p_minus_y * xo
            gw[u] += gx
            for f in range(k):
                gV[u, f] += gx * (S[f] - V[u, f] * xo)
    return loss, gbias


@compiled.kernel
def ffm_positions(indptr, local, field, fields, keys, position, rows):
    """Numbers the factor rows the batch's pairs use, in order of first use:
    ``position[local*fields + field]`` (-1 beforehand) and their keys ``rows``
    (``feature * fields + field``); returns how many."""
    count = 0
    for r in range(len(indptr) - 1):
        lo, hi = indptr[r], indptr[r + 1]
        for a in range(lo, hi):
            for b in range(lo, hi):
                if a != b:
                    c = local[a] * fields + field[b]
                    if position[c] < 0:
                        position[c] = count
                        rows[count] = keys[local[a]] * fields + field[b]
                        count += 1
    return count


@compiled.kernel
def ffm_step(indptr, local, field, x, has_x, fields, position, V, w, bias, y, gV, gw):
    """:func:`fm_step` for FFM: pairs a < b of a row multiply ``V[position[local_a *
    fields + F(b)]]`` and ``V[position[local_b * fields + F(a)]]``."""
    k = V.shape[1]
    loss, gbias = 0.0, 0.0
    longest = 0
    for r in range(len(indptr) - 1):
        longest = max(longest, indptr[r + 1] - indptr[r])
    pair_a = np.empty(longest * longest, np.int64)  # a row's pairs, for the second loop
    pair_b = np.empty(longest * longest, np.int64)
    for r in range(len(indptr) - 1):
        lo, hi = indptr[r], indptr[r + 1]
        m = bias
        p = 0
        for a in range(lo, hi):
            m += w[local[a]] * (x[a] if has_x else 1.0)
            for b in range(a + 1, hi):
                ra = position[local[a] * fields + field[b]]
                rb = position[local[b] * fields + field[a]]
                pair_a[p], pair_b[p] = ra, rb
                p += 1
                d = 0.0
                for f in range(k):
                    d += V[ra, f] * V[rb, f]
                if has_x:
                    d *= x[a] * x[b]
                m += d
        # log loss and its gradient, without overflow: logaddexp(0, m) - y m
        e = np.exp(-abs(m))
        prob = 1.0 / (1.0 + e) if m >= 0.0 else e / (1.0 + e)
        loss += max(m, 0.0) + np.log1p(e) - y[r] * m
        p_minus_y = prob - y[r]
        gbias += p_minus_y
        p = 0
        for a in range(lo, hi):
            xa = x[a] if has_x else 1.0
            gw[local[a]] += p_minus_y * xa
            for b in range(a + 1, hi):
                ra, rb = pair_a[p], pair_b[p]
                p += 1
                gp = p_minus_y * xa * x[b] if has_x else p_minus_y
                for f in range(k):
                    gV[ra, f] += gp * V[rb, f]
                    gV[rb, f] += gp * V[ra, f]
    return loss, gbias


@compiled.kernel
def dedup(ids, slots, local, is_rep):
    """:meth:`~miniflow.ml.sparse_lr.SparseLRTrainer._dedup` in three loops, for a
    table ``slots`` as large as the id space: each id's last occurrence represents
    it; returns the number of unique ids (``ids[is_rep]`` in order)."""
    n = len(ids)
    for o in range(n):
        slots[ids[o]] = o
    count = 0
    for o in range(n):
        if slots[ids[o]] == o:
            is_rep[o] = True
            local[o] = count
            count += 1
        else:
            is_rep[o] = False
    for o in range(n):
        local[o] = local[slots[ids[o]]]
    return count


@compiled.kernel
def libffm_chunk(buf, low, field_bits, fields, label_spans, indptr, ids, value_spans):
    """One pass over a libffm chunk (ending with a newline, comments removed): lines
    ``label (field:index:value)*``. Fills ``indptr``, packed ``ids`` (see
    :mod:`miniflow.ml.fm_data`), the byte spans of the labels and ``(start, end,
    position)`` of every value not written ``1``. Returns ``(ok, rows, nnz, n_values)``;
    not ok for anything else (no two ``:``, non-digits, over 16 digits, a field >=
    ``fields`` when that is > 0): the NumPy parser then gives the result or the error."""
    n = len(buf)
    if n == 0 or buf[n - 1] != 10:
        return False, 0, 0, 0
    low_mask = (np.int64(1) << low) - 1
    field_mask = (np.int64(1) << field_bits) - 1
    rows, nnz, n_values, pos = 0, 0, 0, 0
    indptr[0] = 0
    while pos < n:
        c = buf[pos]
        while c <= 32 and c != 10:
            pos += 1
            c = buf[pos]
        if c == 10:
            pos += 1
            continue
        label_spans[rows, 0] = pos
        while c > 32:
            pos += 1
            c = buf[pos]
        label_spans[rows, 1] = pos
        while True:
            while c <= 32 and c != 10:
                pos += 1
                c = buf[pos]
            if c == 10:
                pos += 1
                break
            field, index = np.int64(0), np.int64(0)
            for part in range(2):  # field, then index, each ended by ':'
                s = pos
                value = np.int64(0)
                while c > 32 and c != 58:
                    d = np.int64(c) - 48
                    if d < 0 or d > 9:
                        return False, 0, 0, 0
                    value = value * 10 + d
                    pos += 1
                    c = buf[pos]
                if c != 58 or pos == s or pos - s > 16:
                    return False, 0, 0, 0
                if part == 0:
                    field = value
                else:
                    index = value
                pos += 1
                c = buf[pos]
            s = pos
            while c > 32:
                if c == 58:
                    return False, 0, 0, 0
                pos += 1
                c = buf[pos]
            if pos == s or (fields > 0 and field >= fields):
                return False, 0, 0, 0
            if not (pos - s == 1 and buf[s] == 49):
                value_spans[n_values, 0] = s
                value_spans[n_values, 1] = pos
                value_spans[n_values, 2] = nnz
                n_values += 1
            packed = index & low_mask
            if field_bits > 0:
                packed |= (field & field_mask) << low
            ids[nnz] = packed
            nnz += 1
        rows += 1
        indptr[rows] = nnz
    return True, rows, nnz, n_values
