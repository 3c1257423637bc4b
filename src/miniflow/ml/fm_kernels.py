"""Compiled twins of one FM/FFM training step (numba, :mod:`miniflow.ml.compiled`).

:class:`~miniflow.ml.fm.FMTrainer` runs these when compiled kernels are enabled and
its optimizers have a rule here; :mod:`miniflow.ml.fm_math` and
:mod:`miniflow.ml.optimizers` stay the reference they are tested against. Profiling
the NumPy step on the benchmark's crossed data showed where the time goes: a dozen
full-array passes per factor for the pairwise term, the per-pair index arrays of FFM
(``nnz^2`` of them per batch), and the gathers and scatters of the factor optimizer's
state. Here each is one loop:

* :func:`gather` copies the state of the table rows ``slots`` (the storage rows of
  :meth:`~miniflow.ml.fm.FMTrainer.storage_rows`) into contiguous arrays, computes
  the weights from them (FTRL: from ``z, n``) and adds the initial factors of the row
  keys (same hash as :func:`~miniflow.ml.fm_math.initial_factors`, bit for bit);
* :func:`fm_step` and :func:`ffm_positions` / :func:`ffm_step` are the pairwise term
  and its gradient, FFM pairs enumerated inside the loop instead of materialised;
* :func:`update` applies FTRL, Adagrad or SGD to :func:`gather`'s copies, in the
  state's dtype, with the operations of :mod:`miniflow.core.update_rules` in the same
  order (so an update from the same gradient is bit-identical), and writes them back.

Profiling one FFM pass after that (docs/ml.md) moved the time again: the rule's square
roots and divisions ran as scalar code between random reads (hence the contiguous
copies, which LLVM vectorises), and fresh work arrays were faulted in on every step
(hence :class:`Scratch`).

Gradients are summed in float64 in a different order than NumPy's ``bincount`` /
``reduceat``, so a compiled step differs from the NumPy one by float64 rounding before
the cast to the state's float32 (tests allow 1e-5 relative).
"""

from __future__ import annotations

import numpy as np

from miniflow.ml import compiled
from miniflow.ml.fm_math import _M1, _M2

__all__ = ["Scratch", "rule_of", "pull", "apply_update", "gather", "update", "dedup", "fm_step"]
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


class Scratch:
    """Work arrays kept from step to step (grown when too small): a fresh array of a
    step's size (hundreds of KB) is a fresh mapping, whose pages the OS faults in and
    zeroes on every step; a reused one stays mapped and warm in cache."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}

    def __call__(self, name: str, n: int, dtype=np.float64) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or len(a) < n or a.dtype != dtype:
            a = np.empty(max(n, 2 * len(a) if a is not None else 1024), dtype)
            self._arrays[name] = a
        return a[:n]


def _fresh(name: str, n: int, dtype=np.float64) -> np.ndarray:
    return np.empty(n, dtype)


def pull(opt, rule, rows, k: int, seed=0, scale: float = 0.0, slots=None, scratch=_fresh):
    """``(values, state)``: the float64 values of keys ``slots*k + f`` (the weights,
    plus the initial factors of keys ``rows*k + f`` when ``scale > 0``, see
    :func:`gather`; ``slots`` defaults to ``rows``) and a contiguous copy of the rule's
    two state arrays at those keys, for :func:`apply_update`. The arrays come from
    ``scratch(name, n, dtype)`` (a :class:`Scratch`; default: new arrays)."""
    kind, s0, s1 = rule
    m = len(rows) * k
    v = scratch("values", m)
    state = (scratch("state0", m, s0.dtype), scratch("state1", m, s0.dtype))
    slots = rows if slots is None else slots
    gather(kind, s0, s1, rows, slots, k, hyperparameters(opt, kind), seed, scale, v, *state)
    return v, state


def apply_update(opt, rule, slots, k, grads, state, values=None, l2=0.0, scratch=_fresh):
    """``opt.update(slots*k + f, grads + l2 * values)`` through :func:`update` (one step
    counted); ``grads`` and ``values`` float64 (the penalty is added and cast to the
    state's dtype per key, as NumPy's ``(grads + l2 * values).astype(dtype)`` would);
    ``state`` is :func:`pull`'s copy of the keys' state, unchanged since."""
    kind, s0, s1 = rule
    opt.step += 1
    if hasattr(opt, "_pulled"):
        opt._pulled = None  # FTRL's cache of the last gather is not ours
    g = grads.reshape(-1)
    v = g if values is None or not l2 else values.reshape(-1)
    cast = scratch("grads", len(g), s0.dtype)
    update(kind, s0, s1, slots, k, g, v, float(l2), hyperparameters(opt, kind), *state, cast)


class _vector_kernel(compiled.kernel):
    """:class:`~miniflow.ml.compiled.kernel` with NumPy's float error model: a division
    by zero gives inf/nan as in NumPy, without the per-division check that stops LLVM
    from vectorising a loop (the optimizers' divisors are never 0 where it matters)."""

    def _compiled(self):
        if self._dispatcher is None:
            numba = compiled._numba()
            if numba is None:
                return super()._compiled()  # raises the kernel's error
            self._dispatcher = numba.njit(cache=True, nogil=True, error_model="numpy")(self.py_func)
        return self._dispatcher


@_vector_kernel
def gather(kind, s0, s1, rows, slots, k, hp, seed, scale, out, c0, c1):
    """``out[i*k + f]`` = weight at state index ``slots[i]*k + f`` in float64, plus the
    initial factor of key ``rows[i]*k + f`` when ``scale`` > 0 (``scale = init_std *
    sqrt(3)``; ``seed`` the key offset of :func:`~miniflow.ml.fm_math.seed_offset`);
    ``c0, c1`` get the two state arrays at those indices. One loop reads the table;
    the weights are computed on the contiguous copies (SIMD square roots and
    divisions)."""
    lr, l1, two_l2, zero = hp[0], hp[1], hp[2], hp[3]
    m = len(rows) * k
    for i in range(len(rows)):
        at = slots[i] * k
        for f in range(k):
            c0[i * k + f] = s0[at + f]
            c1[i * k + f] = s1[at + f]
    if kind == FTRL:
        for j in range(m):
            z = c0[j]
            q = np.sqrt(c1[j]) / lr + two_l2
            w = ((l1 if z > zero else -l1) - z) / q if abs(z) > l1 else zero
            out[j] = np.float64(w)
    else:
        for j in range(m):
            out[j] = np.float64(c0[j])
    if scale > 0.0:
        mask, offset = np.uint64(0xFFFF), np.uint64(seed)
        step = scale / 65536.0
        for i in range(len(rows)):
            base = np.uint64(rows[i] * k) + offset
            for f in range(k):
                h = base + np.uint64(f)
                h ^= h >> np.uint64(31)
                h *= np.uint64(_M1)
                h ^= h >> np.uint64(29)
                h *= np.uint64(_M2)
                h ^= h >> np.uint64(32)
                quarters = (
                    (h & mask)
                    + ((h >> np.uint64(16)) & mask)
                    + ((h >> np.uint64(32)) & mask)
                    + ((h >> np.uint64(48)) & mask)
                )
                out[i * k + f] += np.float64(quarters) * step - 2.0 * scale


@_vector_kernel
def update(kind, s0, s1, slots, k, grads, values, l2, hp, c0, c1, g):
    """One step of the rule at state indices ``slots[i]*k + f``, in place, with gradient
    ``grads[i*k + f] + l2 * values[i*k + f]`` (float64) cast to the state's dtype;
    ``c0, c1`` hold the keys' state as :func:`gather` copied it. The rule runs on
    those contiguous copies (SIMD), then one loop writes them to the table. FTRL
    recomputes each key's weight from ``z, n`` (bit for bit :func:`gather`'s)."""
    lr, eps, zero = hp[0], hp[1], hp[3]
    l1, two_l2 = hp[1], hp[2]  # FTRL's (hyperparameters() per rule)
    m = len(slots) * k  # g (state's dtype, length m): assigning to it rounds as astype
    if l2 != 0.0:
        for j in range(m):
            g[j] = grads[j] + l2 * values[j]
    else:
        for j in range(m):
            g[j] = grads[j]
    if kind == FTRL:
        for j in range(m):
            z, n, gj = c0[j], c1[j], g[j]
            root = np.sqrt(n)
            w = ((l1 if z > zero else -l1) - z) / (root / lr + two_l2) if abs(z) > l1 else zero
            n_new = n + gj * gj
            c0[j] = z + gj - (np.sqrt(n_new) - root) / lr * w
            c1[j] = n_new
    elif kind == ADAGRAD:
        for j in range(m):
            n_new = c1[j] + g[j] * g[j]
            c1[j] = n_new
            if eps != zero:
                c0[j] = c0[j] - lr * g[j] / (np.sqrt(n_new) + eps)
            else:
                c0[j] = c0[j] - lr * g[j] / np.sqrt(n_new)
    else:
        for j in range(m):
            c0[j] = c0[j] - lr * g[j]
    for i in range(len(slots)):
        at = slots[i] * k
        for f in range(k):
            s0[at + f] = c0[i * k + f]
            if kind != SGD:
                s1[at + f] = c1[i * k + f]


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
def ffm_positions(indptr, local, field, fields, keys, factor_slot, position, rows, slots):
    """Numbers the factor rows the batch's pairs use, in order of first use:
    ``position[local*fields + field]`` (-1 beforehand), their keys ``rows`` (``feature
    * fields + field``) and table rows ``slots`` (``(factor_slot[feature] - 1) * fields
    + field``, see :meth:`~miniflow.ml.fm.FMTrainer.storage_rows`); returns how many."""
    count = 0
    for r in range(len(indptr) - 1):
        lo, hi = indptr[r], indptr[r + 1]
        for a in range(lo, hi):
            feature = keys[local[a]]
            for b in range(lo, hi):
                if a != b:
                    c = local[a] * fields + field[b]
                    if position[c] < 0:
                        position[c] = count
                        rows[count] = feature * fields + field[b]
                        slots[count] = (factor_slot[feature] - 1) * fields + field[b]
                        count += 1
    return count


@_vector_kernel
def ffm_step(indptr, local, field, x, has_x, fields, position, V, w, bias, y, gV, gw):
    """:func:`fm_step` for FFM: pairs a < b of a row multiply ``V[position[local_a *
    fields + F(b)]]`` and ``V[position[local_b * fields + F(a)]]``. A row's factor rows
    are looked up once into a small matrix ``P[a, b]`` that both passes read; k = 4
    (xLearn's default) has its own loops of constant length, which LLVM unrolls."""
    k = V.shape[1]
    loss, gbias = 0.0, 0.0
    longest = 0
    for r in range(len(indptr) - 1):
        longest = max(longest, indptr[r + 1] - indptr[r])
    P = np.empty((longest, longest), np.int64)  # P[a, b]: a's factor row for b's field
    for r in range(len(indptr) - 1):
        lo, n = indptr[r], indptr[r + 1] - indptr[r]
        for a in range(n):
            base = local[lo + a] * fields
            for b in range(n):
                P[a, b] = position[base + field[lo + b]]
        m = bias
        for a in range(n):
            xa = x[lo + a] if has_x else 1.0
            m += w[local[lo + a]] * xa
            for b in range(a + 1, n):
                ra, rb = P[a, b], P[b, a]
                d = 0.0
                if k == 4:
                    for f in range(4):
                        d += V[ra, f] * V[rb, f]
                else:
                    for f in range(k):
                        d += V[ra, f] * V[rb, f]
                if has_x:
                    d *= xa * x[lo + b]
                m += d
        # log loss and its gradient, without overflow: logaddexp(0, m) - y m
        e = np.exp(-abs(m))
        prob = 1.0 / (1.0 + e) if m >= 0.0 else e / (1.0 + e)
        loss += max(m, 0.0) + np.log1p(e) - y[r] * m
        p_minus_y = prob - y[r]
        gbias += p_minus_y
        for a in range(n):
            xa = x[lo + a] if has_x else 1.0
            gw[local[lo + a]] += p_minus_y * xa
            for b in range(a + 1, n):
                ra, rb = P[a, b], P[b, a]
                gp = p_minus_y * xa * x[lo + b] if has_x else p_minus_y
                if k == 4:
                    for f in range(4):
                        gV[ra, f] += gp * V[rb, f]
                        gV[rb, f] += gp * V[ra, f]
                else:
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
