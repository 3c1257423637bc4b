"""Compiled twins of the `Sigmoid`, `SigmoidGrad`, `Relu` and `ReluGrad` kernels of
`arithmetic_ops` (numba, the optional ``[fast]`` extra), bit for bit the same values.

Why: each of these is several NumPy passes over an activation-sized array, each with its
own temporary (`Sigmoid` ~7: abs, negate, exp, compare, cast-max, add, divide;
`SigmoidGrad` 3 ops with 3 outputs; `ReluGrad` a bool mask, then a casting multiply),
or a slow one (`Relu`: NumPy's NaN-propagating maximum against a scalar). One loop does
the element-wise arithmetic in one pass; `Sigmoid` keeps NumPy's ``exp`` (the values the
NumPy kernel and its pinning test use) between two compiled passes. Hot, one thread, on
W7's [256, 784] arrays: `Sigmoid` 0.49 -> 0.37 ms, `SigmoidGrad` 0.10 -> 0.04 ms; on
[256, 256]: `Relu` 45 -> 12 us, `ReluGrad` 27 -> 13 us (issue 22).

The loops do the NumPy kernels' operations in the same order and dtype without fastmath
(no FMA contraction), so NaN, inf and signed zeros come out as there. `arithmetic_ops`
calls them only when :func:`usable` (float32/float64, one shape, C order, at least
``MIN_SIZE`` elements) and keeps the NumPy kernels as the reference and the fallback;
``MINIFLOW_NO_NUMBA=1`` forces NumPy (`miniflow.core.compiled`).
"""

from __future__ import annotations

import numpy as np

from miniflow.core import compiled

# The constants are passed in the arrays' dtype: a Python 1 would widen float32 to float64.
# Below this many elements a NumPy pass costs little more than its call, and a small model
# should not import numba (~0.5 s) for nothing (as `core.compiled_updates`).
MIN_SIZE = 1 << 14
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def usable(*arrays) -> bool:
    """True when the compiled loops apply to ``arrays``: NumPy arrays of one float32 or
    float64 dtype and one shape, C order, ``MIN_SIZE`` elements or more, numba on."""
    a = arrays[0]
    return (
        type(a) is np.ndarray
        and a.dtype in _DTYPES
        and a.size >= MIN_SIZE
        and all(
            type(b) is np.ndarray
            and b.dtype == a.dtype
            and b.shape == a.shape
            and b.flags.c_contiguous
            for b in arrays
        )
        and compiled.enabled()
    )


@compiled.jit(error_model="numpy")
def _neg_abs(x, out):
    for k in range(x.size):
        out[k] = -abs(x[k])


@compiled.jit(error_model="numpy")
def _sigmoid_finish(x, e, one):
    """e = (x >= 0 ? 1 : e) / (1 + e), in place (e = exp(-|x|))."""
    for k in range(x.size):
        ek = e[k]
        e[k] = (one if x[k] >= 0 else ek) / (ek + one)


@compiled.jit(error_model="numpy")
def _relu(x, out, zero):
    for k in range(x.size):
        xk = x[k]
        out[k] = xk if xk > zero or xk != xk else zero  # np.maximum(x, 0): NaN stays, -0 -> 0


@compiled.jit(error_model="numpy")
def _sigmoid_grad(y, dy, out, one):
    for k in range(y.size):
        yk = y[k]
        out[k] = dy[k] * yk * (one - yk)


@compiled.jit(error_model="numpy")
def _relu_grad(g, x, out, one, zero):
    for k in range(g.size):
        out[k] = g[k] * (one if x[k] > 0 else zero)


def sigmoid(x):
    """`arithmetic_ops` Sigmoid (check :func:`usable` first): -|x|, NumPy's exp, then
    the quotient, in one output buffer."""
    out = np.empty_like(x)
    flat, xf = out.reshape(-1), x.reshape(-1)
    _neg_abs(xf, flat)
    np.exp(out, out=out)
    _sigmoid_finish(xf, flat, x.dtype.type(1))
    return out


def relu(x):
    """``np.maximum(x, 0)`` (check :func:`usable` first)."""
    out = np.empty_like(x)
    _relu(x.reshape(-1), out.reshape(-1), x.dtype.type(0))
    return out


def sigmoid_grad(y, dy):
    """``dy * y * (1 - y)`` (check :func:`usable` first)."""
    out = np.empty_like(y)
    _sigmoid_grad(y.reshape(-1), dy.reshape(-1), out.reshape(-1), y.dtype.type(1))
    return out


def relu_grad(g, x):
    """``g * (x > 0)`` (check :func:`usable` first)."""
    out = np.empty_like(g)
    c = g.dtype.type
    _relu_grad(g.reshape(-1), x.reshape(-1), out.reshape(-1), c(1), c(0))
    return out
