"""Random tensors with TF1's seeding: a graph-level seed (`tf.set_random_seed`) plus an
op-level seed make each op's stream deterministic; each op keeps its own generator."""

from __future__ import annotations

import numbers

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.array_ops import _int_tensor, _shape_from_tensor

DEFAULT_GRAPH_SEED = 87654321
_eager_seed = {"seed": None, "count": 0}


def set_random_seed(seed):
    """Sets the graph-level seed (in eager mode, the global seed: seeded streams restart)."""
    frontend = current_frontend()
    if frontend.eager:
        _eager_seed.update(seed=seed, count=0)
        frontend.reset_random_streams()
    else:
        get_default_graph().seed = seed


def get_seed(op_seed):
    """The (graph seed, op seed) pair for a new random op, as TF1 derives it."""
    if current_frontend().eager:
        global_seed = _eager_seed["seed"]
        _eager_seed["count"] += 1
        counter = _eager_seed["count"]
    else:
        g = get_default_graph()
        global_seed, counter = g.seed, g._ids
    if global_seed is not None:
        return global_seed, op_seed if op_seed is not None else counter
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, op_seed
    return None, None


def _rng(attrs):
    seed, seed2 = attrs["seed"], attrs["seed2"]
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(seed2) & 0xFFFFFFFF])


def _random_op(op_type, draw):
    register_op(
        op_type,
        infer=lambda i, a: [(_shape_from_tensor(i[0]), a["dtype"])],
        stateful=True,
        make_state=_rng,
    )(draw)
    not_differentiable(op_type)


def _normal(rng, shape, dtype=None, mean=0.0, stddev=1.0, seed=None, seed2=None):
    return (rng.standard_normal(tuple(shape)) * stddev + mean).astype(dtype.np)


def _truncated(rng, shape, dtype=None, mean=0.0, stddev=1.0, seed=None, seed2=None):
    out = rng.standard_normal(tuple(shape))
    bad = np.abs(out) > 2
    while bad.any():  # redraw values more than two standard deviations out, as TF does
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * stddev + mean).astype(dtype.np)


def _uniform(rng, shape, dtype=None, minval=0.0, maxval=1.0, seed=None, seed2=None):
    if dtype.is_integer:
        return rng.integers(minval, maxval, size=tuple(shape)).astype(dtype.np)
    return rng.uniform(minval, maxval, size=tuple(shape)).astype(dtype.np)


_random_op("RandomStandardNormal", _normal)
_random_op("TruncatedNormal", _truncated)
_random_op("RandomUniform", _uniform)


def _random(op_type, shape, dtype, seed, name, **params):
    seed, seed2 = get_seed(seed)
    return apply_op(
        op_type,
        _int_tensor(shape),
        dtype=dtypes.as_dtype(dtype),
        seed=seed,
        seed2=seed2,
        name=name,
        **params,
    )


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number | np.generic) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    )


def _scaled(op_type, shape, dtype, seed, name, scale, shift):
    """``draw * scale + shift`` for tensor parameters (TF composes the same way)."""
    dtype = dtypes.as_dtype(dtype)
    draw = _random(op_type, shape, dtype, seed, None, **_UNIT[op_type])
    scaled = _math.multiply(draw, _arr.convert_to_tensor(scale, dtype=dtype))
    return _math.add(scaled, _arr.convert_to_tensor(shift, dtype=dtype), name=name)


_UNIT = {
    "RandomStandardNormal": dict(mean=0.0, stddev=1.0),
    "TruncatedNormal": dict(mean=0.0, stddev=1.0),
    "RandomUniform": dict(minval=0.0, maxval=1.0),
}


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from N(mean, stddev^2); ``mean`` and ``stddev`` may be tensors."""
    if not (_is_number(mean) and _is_number(stddev)):
        return _scaled("RandomStandardNormal", shape, dtype, seed, name, stddev, mean)
    return _random(
        "RandomStandardNormal", shape, dtype, seed, name, mean=float(mean), stddev=float(stddev)
    )


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples from N(mean, stddev^2), redrawing values beyond 2 standard deviations."""
    if not (_is_number(mean) and _is_number(stddev)):
        return _scaled("TruncatedNormal", shape, dtype, seed, name, stddev, mean)
    return _random(
        "TruncatedNormal", shape, dtype, seed, name, mean=float(mean), stddev=float(stddev)
    )


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Samples uniformly from [minval, maxval) (maxval defaults to 1 for floats)."""
    dtype = dtypes.as_dtype(dtype)
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1.0
    if not (_is_number(minval) and _is_number(maxval)):
        if dtype.is_integer:  # floor(u * (max - min)) + min, exact for int32 ranges
            lo = _math.cast(_arr.convert_to_tensor(minval, dtype=dtype), dtypes.float64)
            hi = _math.cast(_arr.convert_to_tensor(maxval, dtype=dtype), dtypes.float64)
            u = _random("RandomUniform", shape, dtypes.float64, seed, None, minval=0.0, maxval=1.0)
            return _math.cast(_math.floor(u * (hi - lo)) + lo, dtype, name=name)
        lo = _arr.convert_to_tensor(minval, dtype=dtype)
        return _scaled(
            "RandomUniform",
            shape,
            dtype,
            seed,
            name,
            _arr.convert_to_tensor(maxval, dtype=dtype) - lo,
            lo,
        )
    return _random("RandomUniform", shape, dtype, seed, name, minval=minval, maxval=maxval)


def _shuffle(rng, x, seed=None, seed2=None):
    return rng.permutation(x)


register_op(
    "RandomShuffle",
    infer=lambda i, a: [(i[0].shape.as_tuple(), i[0].dtype)],
    stateful=True,
    make_state=_rng,
)(_shuffle)
not_differentiable("RandomShuffle")


def random_shuffle(value, seed=None, name=None):
    """``value`` with its first dimension randomly permuted."""
    seed, seed2 = get_seed(seed)
    return apply_op("RandomShuffle", value, seed=seed, seed2=seed2, name=name)
