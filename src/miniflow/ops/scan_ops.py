"""Scans along an axis: `tf.cumsum`, `tf.cumprod`, `tf.math.cumulative_logsumexp`, each
with TF's ``exclusive`` and ``reverse`` flags."""

from __future__ import annotations

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.safe_math_ops import xdivy
from miniflow.ops.shape_rules import dims, normalize_axis
from miniflow.ops.trig_ops import float_only


def _scan_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None:
        if not d:
            raise ValueError("Scan ops need an input of rank >= 1, got a scalar")
        normalize_axis(attrs["axis"], len(d))
    return [(d, inputs[0].dtype)]


def _scan(accumulate, identity):
    """A kernel from a ufunc's accumulate: reverse by flipping, exclusive by shifting."""

    def kernel(x, axis=0, exclusive=False, reverse=False):
        x = np.asarray(x)
        if reverse:
            x = np.flip(x, axis)
        out = accumulate(x, axis=axis, dtype=x.dtype)
        if exclusive and x.shape[axis]:
            head = np.full_like(np.take(out, [0], axis=axis), identity)
            out = np.concatenate([head, np.delete(out, -1, axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out

    return kernel


register_op("Cumsum", infer=_scan_infer)(_scan(np.add.accumulate, 0))
register_op("Cumprod", infer=_scan_infer)(_scan(np.multiply.accumulate, 1))
register_op("CumulativeLogsumexp", infer=lambda i, a: (float_only(i, a), _scan_infer(i, a))[1])(
    _scan(np.logaddexp.accumulate, -np.inf)
)


def _attrs(op, **changes):
    a = {k: op.attrs[k] for k in ("axis", "exclusive", "reverse")}
    a.update(changes)
    return a


@register_gradient("Cumsum")
def _cumsum_grad(op, grad):
    """The adjoint of a cumulative sum is the cumulative sum in the other direction."""
    return [apply_op("Cumsum", grad, **_attrs(op, reverse=not op.attrs["reverse"]))]


@register_gradient("Cumprod")
def _cumprod_grad(op, grad):
    """TF's rule: cumsum(prod * g, other direction) / x, taken as 0 where x == 0."""
    x, prod = op.inputs[0], op.outputs[0]
    total = apply_op("Cumsum", prod * grad, **_attrs(op, reverse=not op.attrs["reverse"]))
    return [xdivy(total, x)]


@register_gradient("CumulativeLogsumexp")
def _cumulative_logsumexp_grad(op, grad):
    """TF's rule, in log space: exp(x + clse(log|g| - out, other direction)) for the
    positive and negative parts of g separately."""
    x, out = op.inputs[0], op.outputs[0]
    attrs = _attrs(op, reverse=not op.attrs["reverse"])
    neg_inf = _math.cast(_arr.fill(_arr.shape(grad), -np.inf), grad.dtype)
    zero = _arr.zeros_like(grad)
    pos = _math.where(
        grad > zero, _math.log(_math.where(grad > zero, grad, _arr.ones_like(grad))), neg_inf
    )
    neg = _math.where(
        grad < zero,
        _math.log(_math.where(grad < zero, _math.negative(grad), _arr.ones_like(grad))),
        neg_inf,
    )
    # Where out is -inf (only -inf inputs so far) the terms are 0; masking them keeps
    # -inf - -inf out, whose NaN would reach the second derivative as a cotangent.
    live = out > neg_inf
    safe_out = _math.where(live, out, zero)
    gp = _math.exp(
        apply_op("CumulativeLogsumexp", _math.where(live, pos - safe_out, neg_inf), **attrs) + x
    )
    gn = _math.exp(
        apply_op("CumulativeLogsumexp", _math.where(live, neg - safe_out, neg_inf), **attrs) + x
    )
    return [gp - gn]


def _scan_fn(op_type, doc):
    def fn(x, axis=0, exclusive=False, reverse=False, name=None):
        if not isinstance(axis, int):
            static = _arr.get_static_value(axis)
            if static is None:
                raise ValueError(f"{op_type}: axis must be known when the graph is built")
            axis = int(static)
        return apply_op(
            op_type, x, axis=axis, exclusive=bool(exclusive), reverse=bool(reverse), name=name
        )

    fn.__doc__ = doc
    return fn


cumsum = _scan_fn(
    "Cumsum",
    "Cumulative sum along ``axis`` (``exclusive``: shifted by one; ``reverse``: from the end).",
)
cumprod = _scan_fn(
    "Cumprod", "Cumulative product along ``axis`` (``exclusive``, ``reverse`` as `cumsum`)."
)
cumulative_logsumexp = _scan_fn(
    "CumulativeLogsumexp", "log(cumsum(exp(x))) along ``axis``, without overflow."
)
