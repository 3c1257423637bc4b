"""`tf.orthogonal_initializer`: an orthogonal matrix (rows or columns orthonormal) from
the QR decomposition of a normal random matrix, reshaped to the variable's shape (as
TF: ``shape[:-1]`` flattened by ``shape[-1]``)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math, random_ops
from miniflow.ops.decomposition_ops import qr
from miniflow.ops.init_ops import Initializer
from miniflow.ops.linalg_ops import diag_part


class Orthogonal(Initializer):
    """``orthogonal_initializer(gain=1.0, seed=None, dtype=tf.float32)``.

    Raises:
        ValueError: (when called) a shape of rank < 2.
    """

    def __init__(self, gain=1.0, seed=None, dtype=dtypes.float32):
        super().__init__(dtype)
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = dtypes.as_dtype(dtype or self.dtype)
        shape = [int(d) for d in shape]
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        flat = (cols, rows) if rows < cols else (rows, cols)
        a = random_ops.random_normal(flat, dtype=dtype, seed=self.seed)
        q, r = qr(a, full_matrices=False)
        q = q * _math.sign(diag_part(r))  # makes the distribution uniform
        if rows < cols:
            q = _arr.transpose(q)
        return _arr.reshape(q * _arr.constant(self.gain, dtype), shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


orthogonal_initializer = Orthogonal
