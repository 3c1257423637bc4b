"""Gradient clipping by norm: `tf.clip_by_norm`, `tf.global_norm`, `tf.clip_by_global_norm`.

All are compositions of existing ops, so they need no gradient rules of their own.
`IndexedSlices` inputs are clipped through their values and stay sparse.
"""

from __future__ import annotations

from miniflow.core.indexed_slices import IndexedSlices
from miniflow.ops import array_ops, control_flow_ops, math_ops


def _values(t):
    return t.values if isinstance(t, IndexedSlices) else array_ops.convert_to_tensor(t)


def _like(t, values):
    if isinstance(t, IndexedSlices):
        return IndexedSlices(values, t.indices, t.dense_shape)
    return values


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(l2norm(t), clip_norm)``: rescales ``t`` so that its L2 norm
    (over ``axes``, default all) is at most ``clip_norm``; unchanged if already smaller.

    Example::

        g = tf.clip_by_norm(g, 5.0)
    """
    with control_flow_ops.name_scope(name, "clip_by_norm"):
        values = _values(t)
        clip_norm = array_ops.cast(clip_norm, values.dtype)
        l2sum = math_ops.reduce_sum(values * values, axes, keepdims=True)
        # sqrt's gradient at 0 is infinite: take it only where the sum is positive.
        positive = math_ops.greater(l2sum, 0)
        safe = array_ops.where(positive, l2sum, array_ops.ones_like(l2sum))
        l2norm = array_ops.where(positive, math_ops.sqrt(safe), l2sum)
        clipped = values * clip_norm / math_ops.maximum(l2norm, clip_norm)
        return _like(t, array_ops.identity(clipped, name="clipped"))


def global_norm(t_list, name=None):
    """``sqrt(sum(l2norm(t)**2 for t in t_list))``; None entries are ignored.

    Raises:
        TypeError: ``t_list`` is not a list or tuple.
    """
    if not isinstance(t_list, list | tuple) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    with control_flow_ops.name_scope(name, "global_norm"):
        sums = [math_ops.reduce_sum(math_ops.square(_values(t))) for t in t_list if t is not None]
        if not sums:
            raise ValueError("global_norm needs at least one tensor that is not None")
        dtype = sums[0].dtype
        return math_ops.sqrt(
            math_ops.add_n([array_ops.cast(s, dtype) for s in sums]), name="global_norm"
        )


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales every tensor of ``t_list`` by ``clip_norm / max(global_norm, clip_norm)``.

    Returns ``(list_clipped, global_norm)``; None entries stay None and `IndexedSlices`
    stay sparse. If the global norm is infinite or NaN, every value becomes NaN (TF1).

    Raises:
        TypeError: ``t_list`` is not a list or tuple.

    Example::

        grads, norm = tf.clip_by_global_norm(grads, 5.0)
    """
    if not isinstance(t_list, list | tuple) or isinstance(t_list, str):
        raise TypeError("t_list should be a sequence")
    t_list = list(t_list)
    with control_flow_ops.name_scope(name, "clip_by_global_norm"):
        norm = global_norm(t_list) if use_norm is None else array_ops.convert_to_tensor(use_norm)
        clip_norm = array_ops.cast(clip_norm, norm.dtype)
        scale = clip_norm * math_ops.minimum(1.0 / norm, 1.0 / clip_norm)
        scale = scale + (norm - norm)  # NaN when the norm is inf or NaN
        out = [
            None if t is None else _like(t, _values(t) * array_ops.cast(scale, _values(t).dtype))
            for t in t_list
        ]
        return out, norm
