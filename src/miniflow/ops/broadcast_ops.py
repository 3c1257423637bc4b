"""Broadcasting is undone in exactly one place: the `Unbroadcast`/`BroadcastLike` op
pair, which element-wise gradients call (skipped statically when both shapes are fully
known and equal).
"""

from __future__ import annotations

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Broadcasting is undone in exactly one place: the Unbroadcast / BroadcastLike pair.


@register_op("Unbroadcast", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _unbroadcast(g, x):
    xs, gs = x.shape, g.shape  # kernels always see NumPy arrays or NumPy scalars
    if gs == xs:
        return g
    lead = len(gs) - len(xs)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(xs) if d == 1 and gs[lead + i] != 1
    )
    return np.add.reduce(g, axis=axes).reshape(xs) if axes else np.reshape(g, xs)


@register_gradient("Unbroadcast")
def _unbroadcast_grad(op, grad):
    return [broadcast_like(grad, op.inputs[0]), None]


@register_op("BroadcastLike", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _broadcast_like(g, x):
    xs = x.shape
    return g if g.shape == xs else np.broadcast_to(g, xs)


@register_gradient("BroadcastLike")
def _broadcast_like_grad(op, grad):
    return [unbroadcast(grad, op.inputs[0]), None]


def unbroadcast(g, x, other=None):
    """Sums gradient ``g`` down to the shape of ``x`` (undoing NumPy broadcasting).

    ``other`` is the op's other operand: when static shapes prove that x already has the
    broadcast shape (e.g. x is [?, n] and other is [n]), no op is added at all.
    """
    gd, xd = dims(g), dims(x)
    if gd is not None and gd == xd and None not in gd:
        return g
    if other is not None and _has_broadcast_shape(xd, dims(other)):
        return g
    return apply_op("Unbroadcast", g, x)


def _has_broadcast_shape(xd, od) -> bool:
    """True when broadcast(x, other) has exactly x's shape, whatever the unknown dims."""
    if xd is None or od is None or len(od) > len(xd):
        return False
    od = (1,) * (len(xd) - len(od)) + tuple(od)
    return all(b == 1 or (a is not None and a == b) for a, b in zip(xd, od))


def broadcast_like(g, x):
    """Broadcasts ``g`` to the shape of ``x``."""
    gd, xd = dims(g), dims(x)
    if gd is not None and gd == xd and None not in gd:
        return g
    return apply_op("BroadcastLike", g, x)
