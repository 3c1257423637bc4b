"""`tfe.metrics`: object metrics for eager loops (call with values, read `result()`)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops, math_ops


def _value(v):
    return v.numpy() if hasattr(v, "numpy") else v


class Mean:
    """A running (weighted) mean of everything it was called with."""

    def __init__(self, name=None, dtype=dtypes.float64):
        self.name, self.dtype = name, dtypes.as_dtype(dtype)
        self.init_variables()

    def init_variables(self):
        """Restarts the mean."""
        self._total, self._count = 0.0, 0.0

    def __call__(self, values, weights=None):
        v = np.asarray(_value(values), dtype=np.float64)
        w = (
            np.ones_like(v)
            if weights is None
            else np.broadcast_to(np.asarray(_value(weights), dtype=np.float64), v.shape)
        )
        self._total += float(np.sum(v * w))
        self._count += float(np.sum(w))
        return values

    def result(self):
        mean = self._total / self._count if self._count else 0.0
        return array_ops.constant(mean, dtype=self.dtype)


class Accuracy(Mean):
    """The running fraction of ``predictions`` equal to ``labels``."""

    def __call__(self, labels, predictions, weights=None):
        labels = array_ops.convert_to_tensor(labels)
        equal = math_ops.equal(labels, math_ops.cast(predictions, labels.dtype))
        super().__call__(math_ops.cast(equal, dtypes.float64), weights)
        return predictions
