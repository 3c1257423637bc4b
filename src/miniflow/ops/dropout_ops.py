"""TF2's dropout with a caller-chosen randomness: `tf.nn.experimental.stateless_dropout`
(a stateless seed, so the mask is reproducible) and `general_dropout` (any uniform
sampler). Composed from existing ops: keep where sample >= rate, scale by 1/(1-rate)."""

from __future__ import annotations

import numbers

from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.stateless_random_ops import stateless_random_uniform


def _noise_shape(x, noise_shape):
    if noise_shape is None:
        return array_ops.shape(x)
    x_dims = x.shape.as_list() if x.shape.ndims is not None else None
    dims = list(noise_shape) if isinstance(noise_shape, list | tuple) else None
    if dims is not None and x_dims is not None and len(dims) == len(x_dims):
        return [x_dims[i] if d is None else d for i, d in enumerate(dims)]
    return noise_shape


def _dropout(x, rate, noise_shape, uniform_sampler, name, default_name):
    with control_flow_ops.name_scope(name, default_name, [x]) as scope:
        x = array_ops.convert_to_tensor(x, name="x")
        if not x.dtype.is_floating:
            raise ValueError(
                f"`x.dtype` must be a floating point tensor as `x` will be "
                f"scaled. Received: x_dtype={x.dtype.name}"
            )
        if isinstance(rate, numbers.Real) and not 0 <= rate < 1:
            raise ValueError(
                f"`rate` must be a scalar tensor or a float in the range "
                f"[0, 1). Received: rate={rate}"
            )
        rate = array_ops.convert_to_tensor(rate, dtype=x.dtype, name="rate")
        random = uniform_sampler(shape=_noise_shape(x, noise_shape), dtype=x.dtype)
        scaled = math_ops.multiply(x, 1.0 / (1.0 - rate))
        return array_ops.where(random >= rate, scaled, array_ops.zeros([], x.dtype), name=scope)


def stateless_dropout(x, rate, seed, rng_alg=None, noise_shape=None, name=None):
    """stateless_dropout(x, rate, seed, rng_alg=None, noise_shape=None, name=None): dropout
    whose mask comes from ``tf.random.stateless_uniform(noise_shape, seed)``."""
    if rng_alg not in (None, 1, "philox", "auto_select"):
        raise ValueError(
            f"rng_alg {rng_alg!r} is not supported: miniflow's stateless random "
            f"numbers use TF's Philox algorithm"
        )

    def sampler(shape, dtype):
        return stateless_random_uniform(shape, seed=seed, dtype=dtype)

    return _dropout(x, rate, noise_shape, sampler, name, "stateless_dropout")


def general_dropout(x, rate, uniform_sampler, noise_shape=None, name=None):
    """general_dropout(x, rate, uniform_sampler, noise_shape=None, name=None): dropout
    whose mask comes from ``uniform_sampler(shape=..., dtype=...)`` (values in [0, 1))."""
    return _dropout(x, rate, noise_shape, uniform_sampler, name, "general_dropout")
