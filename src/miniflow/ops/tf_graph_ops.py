"""Kernels for op forms that only TensorFlow-written graphs contain.

miniflow's own front end never builds these: its gradients undo broadcasting with
``Unbroadcast`` and its reductions take static axes. TF1's symbolic gradients instead
compute the reduction axes at run time (``BroadcastGradientArgs``) and reduce over a
tensor of axes, so importing a TF training graph (`tf.train.import_meta_graph`) needs
these two.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.registry import not_differentiable, register_op


def _bcast_infer(inputs, attrs):
    return [((None,), inputs[0].dtype), ((None,), inputs[0].dtype)]


@register_op("BroadcastGradientArgs", infer=_bcast_infer, num_outputs=2)
def _broadcast_gradient_args(s0, s1):
    """For shapes ``s0`` and ``s1``, the axes of the broadcast result each input's
    gradient must be summed over (TF's ``BroadcastGradientArgs``).

    Raises:
        InvalidArgumentError (ValueError): the shapes do not broadcast.
    """
    s0, s1 = np.asarray(s0).ravel(), np.asarray(s1).ravel()
    dt = s0.dtype if s0.dtype.kind in "iu" else np.int32
    if s0.tolist() == s1.tolist():  # TF's fast path: equal shapes reduce nothing
        return np.zeros(0, dt), np.zeros(0, dt)
    n = max(len(s0), len(s1))
    a = np.concatenate([np.ones(n - len(s0), s0.dtype), s0])
    b = np.concatenate([np.ones(n - len(s1), s1.dtype), s1])
    r0, r1 = [], []
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"Incompatible shapes: {s0.tolist()} vs. {s1.tolist()}")
        if x == 1 and y == 1:
            r0.append(i)  # TF reduces both over an axis where both sizes are 1
            r1.append(i)
        elif x == 1:
            r0.append(i)
        elif y == 1:
            r1.append(i)
    return np.array(r0, dt), np.array(r1, dt)


_REDUCERS = {
    "Sum": np.sum,
    "Mean": np.mean,
    "Prod": np.prod,
    "Max": np.max,
    "Min": np.min,
    "All": np.all,
    "Any": np.any,
}


def _reduce_infer(inputs, attrs):
    x = inputs[0]
    if attrs["reduction"] not in _REDUCERS:
        raise ValueError(f"unknown reduction {attrs['reduction']!r}")
    rank = x.shape.ndims
    dims = (None,) * rank if attrs["keepdims"] and rank is not None else None
    return [(dims, x.dtype)]


@register_op("ReduceDynamicAxes", infer=_reduce_infer)
def _reduce_dynamic_axes(x, axis, reduction="Sum", keepdims=False):
    """TF's ``Sum``/``Mean``/... over a tensor of axes known only at run time."""
    x = np.asarray(x)
    axes = tuple(int(a) % max(x.ndim, 1) for a in np.asarray(axis).ravel().tolist())
    out = _REDUCERS[reduction](x, axis=axes, keepdims=keepdims)
    return np.asarray(out, dtype=x.dtype) if x.dtype != dtypes.string.np else out


not_differentiable("BroadcastGradientArgs", "ReduceDynamicAxes")
