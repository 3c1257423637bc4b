"""Reductions (`reduce_sum`, `reduce_mean`, `reduce_max`, ...) and their gradients."""

from __future__ import annotations

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import shape_rules as rules
from miniflow.ops.arithmetic_ops import dtype_rule, equal, logical_and, ragged_impl
from miniflow.ops.constant_ops import cast, ones_like, zeros_like
from miniflow.ops.selection_ops import where
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Reductions.


def _reduce(op_type, kernel):
    register_op(op_type, infer=rules.reduced)(kernel)


def _np_reduce(fn):
    def kernel(x, axis=None, keepdims=False):
        # ufunc.reduce directly (np.sum & co. add a Python dispatch layer); NumPy widens
        # small integer sums/products to int64, TF keeps the input dtype
        x = np.asarray(x)
        r = fn(x, axis=axis, keepdims=keepdims)
        return (
            r
            if r.dtype == x.dtype and type(r) is np.ndarray
            else np.asarray(r).astype(x.dtype, copy=False)
        )

    return kernel


def _mean_kernel(x, axis=None, keepdims=False):
    x = np.asarray(x)
    if x.dtype.kind in "iu":  # TF's integer mean divides like C: truncating toward zero
        total = np.sum(x, axis=axis, keepdims=keepdims)
        n = max(x.size // max(total.size, 1), 1) if x.size else 1
        return (np.sign(total) * (np.abs(total) // n)).astype(x.dtype)
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    n = x.size // max(total.size, 1) if x.size else 0
    r = np.true_divide(total, n, dtype=x.dtype) if n else np.full(total.shape, np.nan, x.dtype)
    return r if type(r) is np.ndarray else np.asarray(r, dtype=x.dtype)


_reduce("Sum", _np_reduce(np.add.reduce))
register_op("Mean", infer=dtype_rule("iufc", "numeric types", "input", rules.reduced))(_mean_kernel)


def _extreme(fn, float_init, int_init):
    """Max/Min: over an empty axis TF returns the reduction's identity (-inf/+inf, an
    integer dtype's min/max) where NumPy raises."""
    reduce = _np_reduce(fn)

    def kernel(x, axis=None, keepdims=False):
        x = np.asarray(x)
        if x.size:
            return reduce(x, axis=axis, keepdims=keepdims)
        init = (
            float_init
            if x.dtype.kind in "fc"
            else getattr(np.iinfo(x.dtype), int_init)
            if x.dtype.kind in "iu"
            else int_init == "max"
        )
        return np.asarray(fn(x, axis=axis, keepdims=keepdims, initial=init), dtype=x.dtype)

    return kernel


_reduce("Max", _extreme(np.max, -np.inf, "min"))
_reduce("Min", _extreme(np.min, np.inf, "max"))
_reduce("Prod", _np_reduce(np.multiply.reduce))
_reduce("All", _np_reduce(np.all))
_reduce("Any", _np_reduce(np.any))
not_differentiable("All", "Any")


@register_op("ReduceBroadcast", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _reduce_broadcast(g, x, axis=None, keepdims=False):
    """Broadcasts a reduction's gradient back to the reduced input's shape."""
    xs = np.shape(x)
    if not keepdims and axis is not None:
        g = np.reshape(g, [1 if i in _axes(axis, len(xs)) else d for i, d in enumerate(xs)])
    out = np.empty(xs, dtype=np.result_type(g))
    out[...] = g  # a real array: cheaper than a broadcast view for the ops that follow
    return out


@register_gradient("ReduceBroadcast")
def _reduce_broadcast_grad(op, grad):
    return [reduce_sum(grad, axis=op.attrs["axis"], keepdims=op.attrs["keepdims"]), None]


def _axes(axis, rank):
    return {a % rank for a in ((axis,) if isinstance(axis, int) else axis)}


def _spread(op, grad):
    return apply_op(
        "ReduceBroadcast", grad, op.inputs[0], axis=op.attrs["axis"], keepdims=op.attrs["keepdims"]
    )


@register_gradient("Sum")
def _sum_grad(op, grad):
    return [_spread(op, grad)]


@register_gradient("Mean")
def _mean_grad(op, grad):
    return [
        apply_op(
            "MeanGrad", grad, op.inputs[0], axis=op.attrs["axis"], keepdims=op.attrs["keepdims"]
        )
    ]


@register_op("MeanGrad", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _mean_grad_kernel(g, x, axis=None, keepdims=False):
    """A mean's gradient: g spread over the reduced input's shape, divided by the count
    (a float g before spreading: the same quotients, one pass over the output less)."""
    size = int(np.prod(np.shape(x)))
    n = size // max(np.size(g), 1) if size else 1
    if np.result_type(g).kind in "fc":
        return _reduce_broadcast(np.true_divide(g, n, dtype=np.result_type(g)), x, axis, keepdims)
    out = _reduce_broadcast(g, x, axis, keepdims)
    out /= n
    return out


@register_gradient("MeanGrad")
def _mean_grad_grad(op, grad):
    """MeanGrad is linear in g; its adjoint is the mean over the broadcast positions."""
    return [reduce_mean(grad, axis=op.attrs["axis"], keepdims=op.attrs["keepdims"]), None]


def _minmax_grad(op, grad):
    """Gradient flows to the extreme elements, split evenly among ties."""
    x = op.inputs[0]
    y = apply_op(
        "ReduceBroadcast", op.outputs[0], x, axis=op.attrs["axis"], keepdims=op.attrs["keepdims"]
    )
    mask = cast(equal(x, y), x.dtype)
    ties = reduce_sum(mask, axis=op.attrs["axis"], keepdims=op.attrs["keepdims"])
    return [_spread(op, grad / ties) * mask]


register_gradient("Max")(_minmax_grad)
register_gradient("Min")(_minmax_grad)


@register_gradient("Prod")
def _prod_grad(op, grad):
    """d(prod x)/dx_i = the product of the other elements, exact with zeros: with no zero
    it is prod / x_i; with one zero, the product of the non-zeros at that zero and 0
    elsewhere; with more zeros, 0."""
    x = op.inputs[0]
    axis, keep = op.attrs["axis"], op.attrs["keepdims"]
    is_zero = equal(x, zeros_like(x))
    safe_x = where(is_zero, ones_like(x), x)
    zeros = _spread(op, reduce_sum(cast(is_zero, x.dtype), axis=axis, keepdims=keep))
    nonzero_prod = _spread(op, reduce_prod(safe_x, axis=axis, keepdims=keep))
    at_single_zero = where(
        logical_and(is_zero, equal(zeros, ones_like(zeros))), nonzero_prod, zeros_like(x)
    )
    others = where(equal(zeros, zeros_like(zeros)), nonzero_prod / safe_x, at_single_zero)
    return [_spread(op, grad) * others]


def _reduce_fn(op_type):
    def fn(
        input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None, keep_dims=None
    ):
        if axis is None:
            axis = reduction_indices
        keep = bool(keepdims if keepdims is not None else keep_dims)
        if axis is not None:
            axis = (int(axis),) if np.ndim(axis) == 0 else tuple(int(a) for a in axis)
        try:
            return apply_op(op_type, input_tensor, axis=axis, keepdims=keep, name=name)
        except TypeError:
            impl = ragged_impl(fn, input_tensor)
            if impl is None:
                raise
            axis = axis if axis is None or len(axis) != 1 else axis[0]
            return impl(input_tensor, axis=axis, keepdims=keep, name=name)

    fn.__doc__ = f"Reduces ``input_tensor`` along ``axis`` ({op_type}); all axes if None."
    return fn


reduce_sum = _reduce_fn("Sum")
reduce_mean = _reduce_fn("Mean")
reduce_max = _reduce_fn("Max")
reduce_min = _reduce_fn("Min")
reduce_prod = _reduce_fn("Prod")
reduce_all = _reduce_fn("All")
reduce_any = _reduce_fn("Any")
