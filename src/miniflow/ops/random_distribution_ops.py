"""Gamma, Poisson, binomial and truncated-normal samples with tensor parameters:
`tf.random.gamma` (seeded like the other stateful random ops) and the stateless
`tf.random.stateless_{gamma,poisson,binomial,parameterized_truncated_normal}`, a pure
function of a shape-[2] seed.

The stateless ones draw from NumPy's generators seeded with the seed's Philox key and
counter, so they have TF's semantics (same seed, same values; new seed, independent
values) but not TF's numbers. No gradient with respect to ``alpha`` (TF has an implicit
reparameterization gradient); ``beta`` and the affine parameters are differentiable
through the composed ops.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, math_ops
from miniflow.ops.array_ops import _int_tensor, _shape_from_tensor
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.random_ops import _rng, get_seed
from miniflow.ops.shape_rules import dims
from miniflow.ops.stateless_random_ops import key_counter


def _gamma_infer(inputs, attrs):
    sample, batch = _shape_from_tensor(inputs[0]), dims(inputs[1])
    return [(None if sample is None or batch is None else sample + batch, inputs[1].dtype)]


@register_op("RandomGamma", infer=_gamma_infer, stateful=True, make_state=_rng)
def _random_gamma(rng, shape, alpha, seed=None, seed2=None):
    alpha = np.asarray(alpha)
    out = rng.standard_gamma(alpha, size=tuple(np.ravel(shape)) + alpha.shape)
    return out.astype(alpha.dtype)


def random_gamma(shape, alpha, beta=None, dtype=dtypes.float32, seed=None, name=None):
    """gamma(shape, alpha, beta=None, dtype=tf.float32, seed=None, name=None): Gamma(alpha,
    rate beta) samples of shape ``shape + broadcast(alpha, beta).shape``."""
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "random_gamma") as scope:
        shape = _int_tensor(shape)
        alpha = array_ops.convert_to_tensor(alpha, dtype=dtype, name="alpha")
        beta = array_ops.convert_to_tensor(1.0 if beta is None else beta, dtype=dtype, name="beta")
        seed1, seed2 = get_seed(seed)
        draw = apply_op(
            "RandomGamma", shape, alpha + array_ops.zeros_like(beta), seed=seed1, seed2=seed2
        )
        return math_ops.maximum(np.finfo(dtype.np).tiny, draw / beta, name=scope)


def _seeded(seed):
    key, ctr = key_counter(seed)
    return np.random.default_rng([int(key[0]), int(key[1]), int(ctr[2]), int(ctr[3])])


def _out_shape(shape, *params):
    shape = tuple(int(d) for d in np.asarray(shape).reshape(-1))
    try:
        np.broadcast_shapes(shape, *(np.shape(p) for p in params))
    except ValueError:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"parameter shapes {[list(np.shape(p)) for p in params]} do not "
            f"broadcast to the sample shape {list(shape)}",
        ) from None
    return shape


def _infer(inputs, attrs):
    return [(_shape_from_tensor(inputs[0]), attrs["dtype"])]


@register_op("StatelessRandomGammaV2", infer=_infer)
def _stateless_gamma(shape, seed, alpha, dtype=None):
    shape = _out_shape(shape, alpha)
    return _seeded(seed).standard_gamma(np.broadcast_to(alpha, shape)).astype(dtype.np)


@register_op("StatelessRandomPoisson", infer=_infer)
def _stateless_poisson(shape, seed, lam, dtype=None):
    shape = _out_shape(shape, lam)
    if np.any(np.asarray(lam) < 0):
        raise errors.InvalidArgumentError(None, None, "Poisson rates must be nonnegative")
    return _seeded(seed).poisson(np.broadcast_to(lam, shape)).astype(dtype.np)


@register_op("StatelessRandomBinomial", infer=_infer)
def _stateless_binomial(shape, seed, counts, probs, dtype=None):
    shape = _out_shape(shape, counts, probs)
    p = np.asarray(probs, np.float64)
    if np.any((p < 0) | (p > 1)):
        raise errors.InvalidArgumentError(None, None, "probs must be in [0, 1]")
    n = np.broadcast_to(np.asarray(counts, np.float64), shape).astype(np.int64)
    return _seeded(seed).binomial(n, np.broadcast_to(p, shape)).astype(dtype.np)


@register_op("StatelessParameterizedTruncatedNormal", infer=_infer)
def _stateless_ptn(shape, seed, means, stddevs, minvals, maxvals, dtype=None):
    """Standard normals redrawn until inside [(min - mean) / std, (max - mean) / std];
    for an interval the normal rarely hits, uniform proposals accepted with the normal
    density's ratio to its peak on the interval (both exact rejection samplers)."""
    shape = _out_shape(shape, means, stddevs, minvals, maxvals)
    mean, std, lo, hi = (
        np.broadcast_to(np.asarray(v, np.float64), shape).reshape(-1)
        for v in (means, stddevs, minvals, maxvals)
    )
    if np.any(lo >= hi):
        raise errors.InvalidArgumentError(None, None, "minvals must be less than maxvals")
    a, b = (lo - mean) / std, (hi - mean) / std
    rng, out = _seeded(seed), np.empty(a.shape)
    todo = np.arange(a.size)
    for _ in range(64):
        z = rng.standard_normal(todo.size)
        ok = (z >= a[todo]) & (z <= b[todo])
        out[todo[ok]] = z[ok]
        todo = todo[~ok]
        if not todo.size:
            break
    while todo.size:  # far tails: bounded interval from a (the closer bound) onwards
        lo_t = a[todo]
        hi_t = np.minimum(b[todo], np.where(lo_t > 0, lo_t, -np.inf) + 10.0)
        lo_t = np.maximum(lo_t, np.where(b[todo] < 0, b[todo] - 10.0, -np.inf))
        z = rng.uniform(lo_t, hi_t)
        peak = np.where(lo_t > 0, lo_t, np.where(hi_t < 0, hi_t, 0.0))
        ok = rng.random(todo.size) < np.exp((peak**2 - z**2) / 2)
        out[todo[ok]] = z[ok]
        todo = todo[~ok]
    return (out * std + mean).reshape(shape).astype(dtype.np)


not_differentiable(
    "RandomGamma",
    "StatelessRandomGammaV2",
    "StatelessRandomPoisson",
    "StatelessRandomBinomial",
    "StatelessParameterizedTruncatedNormal",
)


def _seed(seed):
    s = array_ops.convert_to_tensor(seed)
    if not s.dtype.is_integer:
        raise TypeError(f"seed must be an int32 or int64 tensor, got {s.dtype.name}")
    return s


def stateless_random_gamma(shape, seed, alpha, beta=None, dtype=dtypes.float32, name=None):
    """stateless_gamma(shape, seed, alpha, beta=None, dtype=tf.float32, name=None):
    Gamma(alpha, rate beta) samples of shape ``shape`` (the parameters broadcast to it)."""
    dtype = dtypes.as_dtype(dtype)
    with name_scope(name, "stateless_random_gamma") as scope:
        alpha = array_ops.convert_to_tensor(alpha, dtype=dtype, name="alpha")
        beta = array_ops.convert_to_tensor(1.0 if beta is None else beta, dtype=dtype, name="beta")
        draw = apply_op(
            "StatelessRandomGammaV2",
            _int_tensor(shape),
            _seed(seed),
            alpha + array_ops.zeros_like(beta),
            dtype=dtype,
        )
        return math_ops.maximum(np.finfo(dtype.np).tiny, draw / beta, name=scope)


def stateless_random_poisson(shape, seed, lam, dtype=dtypes.int32, name=None):
    """stateless_poisson(shape, seed, lam, dtype=tf.int32, name=None)."""
    with name_scope(name, "stateless_random_poisson") as scope:
        lam = array_ops.convert_to_tensor(lam, name="lam")
        if not lam.dtype.is_floating:
            lam = math_ops.cast(lam, dtypes.float32)
        return apply_op(
            "StatelessRandomPoisson",
            _int_tensor(shape),
            _seed(seed),
            lam,
            dtype=dtypes.as_dtype(dtype),
            name=scope,
        )


def stateless_random_binomial(shape, seed, counts, probs, output_dtype=dtypes.int32, name=None):
    """stateless_binomial(shape, seed, counts, probs, output_dtype=tf.int32, name=None):
    successes in ``counts`` trials of probability ``probs``."""
    with name_scope(name, "stateless_random_binomial") as scope:
        probs = array_ops.convert_to_tensor(probs, name="probs")
        counts = array_ops.convert_to_tensor(counts, dtype=probs.dtype, name="counts")
        return apply_op(
            "StatelessRandomBinomial",
            _int_tensor(shape),
            _seed(seed),
            counts,
            probs,
            dtype=dtypes.as_dtype(output_dtype),
            name=scope,
        )


def stateless_parameterized_truncated_normal(
    shape, seed, means=0.0, stddevs=1.0, minvals=-2.0, maxvals=2.0, name=None
):
    """stateless_parameterized_truncated_normal(shape, seed, means=0.0, stddevs=1.0,
    minvals=-2.0, maxvals=2.0, name=None): N(means, stddevs) cut to [minvals, maxvals]."""
    with name_scope(name, "stateless_parameterized_truncated_normal") as scope:
        means = array_ops.convert_to_tensor(means, name="means")
        params = [
            array_ops.convert_to_tensor(v, dtype=means.dtype) for v in (stddevs, minvals, maxvals)
        ]
        return apply_op(
            "StatelessParameterizedTruncatedNormal",
            _int_tensor(shape),
            _seed(seed),
            means,
            *params,
            dtype=means.dtype,
            name=scope,
        )
