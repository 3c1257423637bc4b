"""Compiled element-wise parts of the fused LSTM cell (`LSTMBlockCell` and its gradient)
for float32, with numba (the optional ``[fast]`` extra); `rnn_cell_ops` keeps the NumPy
kernels as the reference and the fallback.

Why: after its gate GEMM the cell is ~20 NumPy passes over [batch, units] blocks, and
NumPy's float32 ``exp``/``tanh`` are scalar on CPUs without AVX-512 (2.5-4 ns an
element): on W6 (128 x 128 blocks, one thread) the forward passes cost ~450 us against
the GEMM's ~330 us. One compiled loop with Eigen's rational ``tanh`` (what TensorFlow's
CPU kernels use; within 3e-7 of tanh) and ``sigmoid(x) = (1 + tanh(x / 2)) / 2``, which
numba vectorises (AVX2, 8 lanes), takes ~100 us; the backward pass 210 -> 75 us.

``MINIFLOW_NO_NUMBA=1`` forces the NumPy kernels (`miniflow.core.compiled`). fastmath
lets the tanh clamps turn NaN into a number, so the forward kernel also returns the sum of
its inputs and the caller reruns the NumPy kernel when that sum is not finite.
"""

from __future__ import annotations

import numpy as np

from miniflow.core import compiled

# fastmath (with nnan: the clamps vectorise as min/max) and no ZeroDivisionError checks
_OPTS = {"error_model": "numpy", "fastmath": True}


def enabled(dtype) -> bool:
    """True when the compiled kernels run for ``dtype``: float32 only (the rational tanh
    is float32-accurate) and :func:`miniflow.core.compiled.enabled`."""
    return dtype == np.float32 and compiled.enabled()


# Eigen's generic_fast_tanh_float: odd 13/6 rational approximation on [-7.9053, 7.9053]
# (tanh rounds to +-1 in float32 beyond it). The constants are written out in the loop:
# numba then vectorises it, which it did not for a helper function, inlined or not.
@compiled.jit(**_OPTS)
def _tanh_inplace(v, scale, shift):
    """v = shift + scale * tanh(scale * v) on a 1-D array: tanh (1, 0) or sigmoid
    (1/2, 1/2, as sigmoid(x) = (1 + tanh(x / 2)) / 2)."""
    f = np.float32
    hi, lo = f(7.90531110763549805), f(-7.90531110763549805)
    for k in range(v.size):
        x = v[k] * scale
        x = hi if x > hi else x
        x = lo if x < lo else x
        x2 = x * x
        p = f(-2.76076847742355e-16)
        p = p * x2 + f(2.00018790482477e-13)
        p = p * x2 + f(-8.60467152213735e-11)
        p = p * x2 + f(5.12229709037114e-08)
        p = p * x2 + f(1.48572235717979e-05)
        p = p * x2 + f(6.37261928875436e-04)
        p = p * x2 + f(4.89352455891786e-03)
        q = f(1.19825839466702e-06)
        q = q * x2 + f(1.18534705686654e-04)
        q = q * x2 + f(2.26843463243900e-03)
        q = q * x2 + f(4.89352518554385e-03)
        v[k] = shift + scale * (x * p / q)


@compiled.jit(**_OPTS)
def _cell_fwd(gates, b, cs_prev, wci, wcf, wco, fb, clip, peep, i, cs, f, o, ci, co, h):
    """Fills (i, cs, f, o, ci, co, h) from the gate pre-activations ``gates = xh @ w``
    (no bias). Returns the sum of the pre-activations and cs_prev: not finite when an
    input was NaN or inf, which the clamps of the fast-math tanh would hide."""
    n, u = cs_prev.shape
    one, half, zero = np.float32(1), np.float32(0.5), np.float32(0)
    total = np.float32(0)
    for r in range(n):
        for c in range(u):
            cp = cs_prev[r, c]
            gi = gates[r, c] + b[c]
            gci = gates[r, c + u] + b[c + u]
            gf = gates[r, c + 2 * u] + b[c + 2 * u] + fb
            go = gates[r, c + 3 * u] + b[c + 3 * u]
            total += gi + gci + gf + go + cp
            if peep:
                gi += cp * wci[c]
                gf += cp * wcf[c]
            i[r, c], ci[r, c], f[r, c], o[r, c] = gi, gci, gf, go
    i1, f1, o1, ci1 = i.reshape(-1), f.reshape(-1), o.reshape(-1), ci.reshape(-1)
    cs1, co1, h1, cp1 = cs.reshape(-1), co.reshape(-1), h.reshape(-1), cs_prev.reshape(-1)
    _tanh_inplace(i1, half, half)
    _tanh_inplace(f1, half, half)
    _tanh_inplace(ci1, one, zero)
    for k in range(cs1.size):
        cs1[k] = ci1[k] * i1[k] + cp1[k] * f1[k]
    if clip > 0:
        for k in range(cs1.size):
            s = cs1[k]
            s = clip if s > clip else s
            cs1[k] = -clip if s < -clip else s
    co1[:] = cs1
    if peep:
        for r in range(n):
            for c in range(u):
                o[r, c] += cs[r, c] * wco[c]
    _tanh_inplace(o1, half, half)
    _tanh_inplace(co1, one, zero)
    for k in range(h1.size):
        h1[k] = co1[k] * o1[k]
    return total


@compiled.jit(**_OPTS)
def _cell_bwd(cs_prev, i, f, o, ci, co, cs_grad, h_grad, wci, wcf, wco, peep, cs_prev_grad, dicfo):
    """(cs_prev_grad, dicfo [batch, 4u] in TF's i, ci, f, o order) as LSTMBlockCellGrad."""
    n, u = cs_prev.shape
    one = np.float32(1)
    for r in range(n):
        for c in range(u):
            og, fg, ig, cig, cog = o[r, c], f[r, c], i[r, c], ci[r, c], co[r, c]
            hg = h_grad[r, c]
            do = hg * cog * og * (one - og)
            dcs = (one - cog * cog) * hg * og + cs_grad[r, c]
            if peep:
                dcs += do * wco[c]
            dci = dcs * ig * (one - cig * cig)
            df = dcs * cs_prev[r, c] * fg * (one - fg)
            di = dcs * cig * ig * (one - ig)
            g = dcs * fg
            if peep:
                g += di * wci[c] + df * wcf[c]
            cs_prev_grad[r, c] = g
            dicfo[r, c] = di
            dicfo[r, c + u] = dci
            dicfo[r, c + 2 * u] = df
            dicfo[r, c + 3 * u] = do


def cell_forward(gates, b, cs_prev, wci, wcf, wco, forget_bias, cell_clip, use_peephole):
    """The cell's 7 outputs from ``gates = [x, h_prev] @ w`` (float32, C-contiguous), or
    None when an input is not finite (the caller then runs the NumPy kernel)."""
    out = tuple(np.empty(cs_prev.shape, np.float32) for _ in range(7))
    total = _cell_fwd(
        gates,
        *(np.ascontiguousarray(a) for a in (b, cs_prev, wci, wcf, wco)),
        np.float32(forget_bias),
        np.float32(cell_clip),
        bool(use_peephole),
        *out,
    )
    return out if np.isfinite(total) else None


def cell_backward(cs_prev, i, f, o, ci, co, cs_grad, h_grad, wci, wcf, wco, use_peephole):
    """(cs_prev_grad, dicfo) of LSTMBlockCellGrad."""
    cs_prev_grad = np.empty(cs_prev.shape, np.float32)
    dicfo = np.empty((cs_prev.shape[0], 4 * cs_prev.shape[1]), np.float32)
    _cell_bwd(
        *(np.ascontiguousarray(a) for a in (cs_prev, i, f, o, ci, co, cs_grad, h_grad)),
        *(np.ascontiguousarray(a) for a in (wci, wcf, wco)),
        bool(use_peephole),
        cs_prev_grad,
        dicfo,
    )
    return cs_prev_grad, dicfo
