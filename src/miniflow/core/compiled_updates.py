"""Compiled twins of the dense in-place Adam and RMSProp updates of `update_rules`: one
pass over the variable and its slots instead of ~11 NumPy passes, each of which streams
the whole variable through memory (W7's 467k weights: 2.1 ms of RMSProp per step in
NumPy).

The loops compute the NumPy versions' operations in the same order and dtype, without
fastmath (no FMA contraction), so the results are bit-identical; `update_rules` calls
them for float arrays of one dtype, one shape and C order when
:func:`miniflow.core.compiled.enabled`.
"""

from __future__ import annotations

import numpy as np

from miniflow.core import compiled


@compiled.jit(error_model="numpy")
def _rmsprop(w, ms, mom, g, one_minus_rho, eps, lr, mu):
    for k in range(w.size):
        gk = g[k]
        m = ms[k] + (gk * gk - ms[k]) * one_minus_rho
        ms[k] = m
        mo = mom[k] * mu + gk * lr / np.sqrt(m + eps)
        mom[k] = mo
        w[k] -= mo


@compiled.jit(error_model="numpy")
def _adam(w, m, v, g, one_minus_beta1, one_minus_beta2, eps, step):
    for k in range(w.size):
        gk = g[k]
        mk = m[k] + (gk - m[k]) * one_minus_beta1
        m[k] = mk
        vk = v[k] + (gk * gk - v[k]) * one_minus_beta2
        v[k] = vk
        w[k] -= mk * step / (np.sqrt(vk) + eps)


# Below this many elements the NumPy passes stay in cache and cost little more than
# their calls, and a small model or a PS shard's few rows should not import numba
# (~100 MB of RSS and ~0.5 s) for nothing.
MIN_SIZE = 1 << 14


def usable(*arrays) -> bool:
    """True when the compiled loops apply: numba on, and float arrays of at least
    ``MIN_SIZE`` elements, one dtype, one shape, C order (flat views of the buffers)."""
    w = arrays[0]
    return (
        w.dtype.kind == "f"
        and w.size >= MIN_SIZE
        and all(a.dtype == w.dtype and a.shape == w.shape and a.flags.c_contiguous for a in arrays)
        and compiled.enabled()
    )


def rmsprop(w, ms, mom, g, lr, rho, mu, eps) -> None:
    """`update_rules.rmsprop_in_place`, compiled (check :func:`usable` first)."""
    c = w.dtype.type
    flat = [a.reshape(-1) for a in (w, ms, mom, g)]
    _rmsprop(*flat, c(1 - rho), c(eps), c(lr), c(mu))


def adam(w, m, v, g, beta1, beta2, eps, step) -> None:
    """`update_rules.adam` (scalar hyperparameters), compiled (check :func:`usable`)."""
    c = w.dtype.type
    flat = [a.reshape(-1) for a in (w, m, v, g)]
    _adam(*flat, c(1 - beta1), c(1 - beta2), c(eps), c(step))
