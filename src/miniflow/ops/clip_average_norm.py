"""`tf.clip_by_average_norm`: TF1's clip by the L2 norm divided by the element count."""

from __future__ import annotations

from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope


def clip_by_average_norm(t, clip_norm, name=None):
    """``t * clip_norm / max(l2norm(t) / size(t), clip_norm)`` (composed as TF does, so
    it is differentiable)."""
    with name_scope(name, "clip_by_average_norm") as scope:
        t = _arr.convert_to_tensor(t)
        n = _arr.cast(_arr.size(t), t.dtype)
        inv = _math.rsqrt(_math.reduce_sum(t * t))
        clip = _arr.convert_to_tensor(clip_norm, dtype=t.dtype)
        return _arr.identity(t * clip * _math.minimum(inv * n, 1.0 / clip), name=scope or None)
