"""TF1 initializers beyond ``init_ops.py``: LeCun, identity, uniform unit scaling.

Each is built on the initializers and ops that exist (no new op types).
"""

from __future__ import annotations

import math

from miniflow import dtypes
from miniflow.ops import linalg_ops, random_ops
from miniflow.ops.init_ops import Initializer, VarianceScaling


def lecun_normal(seed=None):
    """Truncated normal with stddev ``sqrt(1 / fan_in)`` (after truncation)."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    """Uniform in ``[-l, l]`` with ``l = sqrt(3 / fan_in)``."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def _float_dtype(dtype):
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Argument `dtype` is expected to be floating point. Received: {dtype!r}.")
    return dtype


class Identity(Initializer):
    """``gain`` times the identity matrix; 2-D shapes only."""

    def __init__(self, gain=1.0, dtype=dtypes.float32):
        self.gain = gain
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = list(shape)
        if len(shape) != 2:
            raise ValueError(
                "The tensor to initialize, specified by argument `shape` must "
                f"be at least two-dimensional. Received shape={shape}"
            )
        return self.gain * linalg_ops.eye(*shape, dtype=_float_dtype(dtype or self.dtype))

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


class UniformUnitScaling(Initializer):
    """Uniform in ``[-m, m]``, ``m = factor * sqrt(3 / input_size)``, where input_size is
    the product of all dimensions but the last (deprecated in TF1, kept for old code)."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor, self.seed = factor, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        full = list(shape if partition_info is None else partition_info.full_shape)
        input_size = max(math.prod(float(d) for d in full[:-1]), 1.0)
        max_val = math.sqrt(3 / input_size) * self.factor
        return random_ops.random_uniform(
            shape, -max_val, max_val, dtype or self.dtype, seed=self.seed
        )

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


uniform_unit_scaling_initializer = UniformUnitScaling
