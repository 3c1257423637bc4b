"""`tf.gradients`: symbolic reverse mode over the graph via the shared sweep."""

from __future__ import annotations

import numpy as np

from miniflow.core import autodiff
from miniflow.core.dispatch import apply_op
from miniflow.graph.builder import convert_to_tensor
from miniflow.graph.graph import get_default_graph


def _as_list(x):
    return list(x) if isinstance(x, list | tuple) else [x]


def _ones_for(y, name):
    """The default seed d(y)/d(y): a constant when y's shape is known, else OnesLike(y)."""
    shape = y.shape
    if shape.is_fully_defined():
        return apply_op(
            "Const", value=np.ones(shape.as_tuple(), dtype=y.dtype.np), dtype=y.dtype, name=name
        )
    return apply_op("OnesLike", y, name=name)


def gradients(
    ys,
    xs,
    grad_ys=None,
    name="gradients",
    colocate_gradients_with_ops=False,
    gate_gradients=False,
    aggregation_method=None,
    stop_gradients=None,
    unconnected_gradients="none",
):
    """Symbolic partial derivatives of ``sum(ys)`` with respect to each x in ``xs``.

    Returns a list with one tensor (or `IndexedSlices`) per x, None where x does not
    affect ys (zeros if ``unconnected_gradients="zero"``). The result is made of
    ordinary ops, so it can be fetched, named, and differentiated again.
    """
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [convert_to_tensor(x) for x in _as_list(xs)]
    stop = [convert_to_tensor(s) for s in _as_list(stop_gradients or [])]
    graph = get_default_graph()
    with graph.name_scope(name):
        if grad_ys is None:
            grad_ys = [None] * len(ys)
        seeds = [
            _ones_for(y, f"grad_ys_{i}") if g is None else convert_to_tensor(g, dtype=y.dtype)
            for i, (y, g) in enumerate(zip(ys, _as_list(grad_ys)))
        ]
        grads = autodiff.backward(ys, seeds, xs, producer=lambda t: t.op, stop=stop)
        if unconnected_gradients == "zero":
            grads = [apply_op("ZerosLike", x) if g is None else g for x, g in zip(xs, grads)]
    return grads
