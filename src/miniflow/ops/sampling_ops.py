"""Samples from distributions given by tensors: `tf.random.categorical` (`tf.multinomial`)
and `tf.random.poisson`. Seeded like the other random ops (`random_ops.get_seed`: a
graph seed plus an op seed), each op with its own generator; no gradients (TF has none).
The streams are NumPy's, so values differ from TF's for the same seeds.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.array_ops import _const_value, _int_tensor, _shape_from_tensor
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.random_ops import _rng, get_seed
from miniflow.ops.shape_rules import dims


def _multinomial_infer(inputs, attrs):
    logits, num_samples = inputs
    d = dims(logits)
    if d is not None and len(d) != 2:
        raise ValueError(
            f"Shape must be rank 2 but is rank {len(d)} for 'Multinomial': "
            "logits must be [batch_size, num_classes]"
        )
    n = _const_value(num_samples)
    return [((d[0] if d else None, None if n is None else int(n)), attrs["output_dtype"])]


@register_op("Multinomial", infer=_multinomial_infer, stateful=True, make_state=_rng)
def _multinomial(rng, logits, num_samples, output_dtype=None, seed=None, seed2=None):
    logits = np.asarray(logits, dtype=np.float64)
    n = int(num_samples)
    if logits.ndim != 2:
        raise errors.InvalidArgumentError(
            None, None, f"logits should be a matrix, got shape {list(logits.shape)}"
        )
    batch, classes = logits.shape
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"num_samples should be nonnegative, got {n}")
    out = np.zeros((batch, n), dtype=output_dtype.np)
    if not n or not batch:
        return out
    if not classes:
        raise errors.InvalidArgumentError(None, None, "num_classes should be positive, got 0")
    top = logits.max(axis=1, keepdims=True)
    weights = np.exp(logits - np.where(np.isfinite(top), top, 0.0))
    cdf = np.cumsum(weights, axis=1)
    u = rng.random((batch, n)) * cdf[:, -1:]
    for row in range(batch):  # inverse CDF: the first class whose cumulative weight > u
        out[row] = np.searchsorted(cdf[row], u[row], side="right").clip(0, classes - 1)
    return out


def _poisson_infer(inputs, attrs):
    shape, rate = inputs
    sample, batch = _shape_from_tensor(shape), dims(rate)
    return [(None if sample is None or batch is None else sample + batch, attrs["dtype"])]


@register_op("RandomPoissonV2", infer=_poisson_infer, stateful=True, make_state=_rng)
def _poisson(rng, shape, rate, dtype=None, seed=None, seed2=None):
    rate = np.asarray(rate)
    if np.any(rate < 0):
        raise errors.InvalidArgumentError(None, None, "Poisson rates must be nonnegative")
    return rng.poisson(rate, size=tuple(np.ravel(shape)) + rate.shape).astype(dtype.np)


not_differentiable("Multinomial", "RandomPoissonV2")


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """``num_samples`` class indices per row of ``logits`` [batch, classes], drawn with
    probabilities ``softmax(logits)``; int64 unless ``dtype`` says otherwise."""
    return _draw(logits, num_samples, dtype, seed, name, "categorical")


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """TF1's name of `categorical` (deprecated there)."""
    return _draw(logits, num_samples, output_dtype, seed, name, "multinomial")


def _draw(logits, num_samples, dtype, seed, name, default_name):
    with name_scope(name, default_name):
        logits = _arr.convert_to_tensor(logits, name="logits")
        seed, seed2 = get_seed(seed)
        return apply_op(
            "Multinomial",
            logits,
            _int_tensor(num_samples),
            output_dtype=dtypes.as_dtype(dtype or dtypes.int64),
            seed=seed,
            seed2=seed2,
        )


def random_poisson(lam, shape, dtype=dtypes.float32, seed=None, name=None):
    """Poisson samples of shape ``shape + lam.shape`` with rates ``lam``."""
    with name_scope(name, "random_poisson"):
        rate = _arr.convert_to_tensor(lam, name="lam")
        seed, seed2 = get_seed(seed)
        return apply_op(
            "RandomPoissonV2",
            _int_tensor(shape),
            rate,
            dtype=dtypes.as_dtype(dtype),
            seed=seed,
            seed2=seed2,
        )


poisson = random_poisson
