"""Fake quantization (`tf.quantization.fake_quant_with_min_max_*`): float32 values
rounded to the grid of ``num_bits`` levels over TF's nudged [min, max] (0.0 exactly
representable), with TF's straight-through gradients."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops.quantization_ops import round_half_away
from miniflow.ops.shape_rules import dims

_F32 = np.float32


def _invalid(msg):
    return errors.InvalidArgumentError(None, None, msg)


def _float32_only(name, index=0):
    """Shape rule: float32 inputs only (TF's fake-quant kernels); the output is shaped
    like input ``index``."""

    def infer(inputs, attrs):
        for t in inputs:
            if t.dtype != dtypes.float32:
                raise TypeError(f"{name} takes float32 tensors, got {t.dtype.name}")
        return [(dims(inputs[index]), dtypes.float32)]

    return infer


def _nudge(min_, max_, num_bits, narrow_range):
    """TF's Nudge: (nudged_min, nudged_max, scale, zero_point), [min, max] shifted so that
    0.0 is exactly representable."""
    if not 2 <= num_bits <= 16:
        raise _invalid(f"num_bits is out of range, expected between 2 and 16, was: {num_bits}")
    min_, max_ = np.asarray(min_, _F32), np.asarray(max_, _F32)
    qmin = _F32(1 if narrow_range else 0)
    qmax = _F32((1 << num_bits) - 1)
    scale = (max_ - min_) / (qmax - qmin)
    zp_from_min = qmin - min_ / scale
    zp = np.where(
        zp_from_min < qmin, qmin, np.where(zp_from_min > qmax, qmax, round_half_away(zp_from_min))
    ).astype(_F32)
    return (qmin - zp) * scale, (qmax - zp) * scale, scale, zp


def _fake_quant(x, min_, max_, num_bits, narrow_range):
    x = np.asarray(x, _F32)
    lo, hi, scale, zp = _nudge(min_, max_, num_bits, narrow_range)
    qmax, qmin = (1 << num_bits) - 1, 1 if narrow_range else 0
    inv = (_F32(qmax - qmin) / (np.asarray(max_, _F32) - np.asarray(min_, _F32))).astype(_F32)
    shifted = np.minimum(np.maximum(x, lo), hi) - lo
    steps = np.floor(shifted * inv + _F32(0.5))
    # TF multiplies the integer offset from the zero point by the scale (0.0 stays exact)
    return ((steps + (_F32(qmin) - zp)) * scale).astype(_F32)


def _in_range(x, min_, max_, num_bits, narrow_range):
    lo, hi, _, _ = _nudge(min_, max_, num_bits, narrow_range)
    x = np.asarray(x, _F32)
    return x, lo, hi, (x >= lo) & (x <= hi)


def _check_args_range(min, max):  # noqa: A002  TF's attr names
    if not min < max:
        raise _invalid(f"min has to be smaller than max, was: min={min}, max={max}")


def _fq_args(x, min=-6.0, max=6.0, num_bits=8, narrow_range=False):  # noqa: A002
    _check_args_range(min, max)
    return _fake_quant(x, min, max, num_bits, narrow_range)


def _fq_args_grad(g, x, min=-6.0, max=6.0, num_bits=8, narrow_range=False):  # noqa: A002
    _check_args_range(min, max)
    _, _, _, inside = _in_range(x, min, max, num_bits, narrow_range)
    return np.where(inside, np.asarray(g, _F32), _F32(0))


def _fq_vars(x, min_, max_, num_bits=8, narrow_range=False):
    return _fake_quant(x, min_, max_, num_bits, narrow_range)


def _fq_vars_grad(g, x, min_, max_, num_bits=8, narrow_range=False):
    x, lo, hi, inside = _in_range(x, min_, max_, num_bits, narrow_range)
    g = np.asarray(g, _F32)
    axes = tuple(range(x.ndim - np.ndim(min_)))  # per channel: every axis but the last
    below = np.sum(np.where(x < lo, g, _F32(0)), axis=axes, dtype=_F32)
    above = np.sum(np.where(x > hi, g, _F32(0)), axis=axes, dtype=_F32)
    return np.where(inside, g, _F32(0)), below, above


def _per_channel_check(name):
    base = _float32_only(name)

    def infer(inputs, attrs):
        out = base(inputs, attrs)
        x, mn = dims(inputs[-3]), dims(inputs[-2])
        if x is not None and len(x) == 0:
            raise ValueError(f"{name}: inputs must have rank at least 1, got a scalar")
        if x is not None and mn is not None and None not in (x[-1], *mn) and (x[-1],) != mn:
            raise ValueError(
                f"{name}: min and max must have shape [{x[-1]}] (the last "
                f"dimension of the inputs), got {list(mn)}"
            )
        return out

    return infer


def _grad_infer(inputs, attrs):
    _float32_only("FakeQuantWithMinMaxVarsGradient")(inputs, attrs)
    return [(dims(t), dtypes.float32) for t in inputs[1:4]]


register_op("FakeQuantWithMinMaxArgs", infer=_float32_only("FakeQuantWithMinMaxArgs"))(_fq_args)
register_op(
    "FakeQuantWithMinMaxArgsGradient", infer=_float32_only("FakeQuantWithMinMaxArgsGradient", 1)
)(_fq_args_grad)
register_op("FakeQuantWithMinMaxVars", infer=_float32_only("FakeQuantWithMinMaxVars"))(_fq_vars)
register_op(
    "FakeQuantWithMinMaxVarsPerChannel",
    infer=_per_channel_check("FakeQuantWithMinMaxVarsPerChannel"),
)(_fq_vars)
for _t in ("FakeQuantWithMinMaxVarsGradient", "FakeQuantWithMinMaxVarsPerChannelGradient"):
    register_op(_t, num_outputs=3, infer=_grad_infer)(_fq_vars_grad)
not_differentiable(
    "FakeQuantWithMinMaxArgsGradient",
    "FakeQuantWithMinMaxVarsGradient",
    "FakeQuantWithMinMaxVarsPerChannelGradient",
)  # as TF (None)


def _attrs(op, names):
    return {k: op.attrs[k] for k in names}


@register_gradient("FakeQuantWithMinMaxArgs")
def _args_grad(op, grad):
    """Straight-through: grad where the input lies in the nudged range, else 0."""
    return [
        apply_op(
            "FakeQuantWithMinMaxArgsGradient",
            grad,
            op.inputs[0],
            **_attrs(op, ("min", "max", "num_bits", "narrow_range")),
        )
    ]


@register_gradient("FakeQuantWithMinMaxVars")
def _vars_grad(op, grad):
    """Straight-through for the input; min/max get the gradients of clamped values."""
    return list(
        apply_op(
            "FakeQuantWithMinMaxVarsGradient",
            grad,
            *op.inputs,
            **_attrs(op, ("num_bits", "narrow_range")),
        )
    )


@register_gradient("FakeQuantWithMinMaxVarsPerChannel")
def _per_channel_grad(op, grad):
    """Straight-through, per channel of the last dimension."""
    return list(
        apply_op(
            "FakeQuantWithMinMaxVarsPerChannelGradient",
            grad,
            *op.inputs,
            **_attrs(op, ("num_bits", "narrow_range")),
        )
    )


def fake_quant_with_min_max_args(
    inputs,
    min=-6,
    max=6,
    num_bits=8,  # noqa: A002
    narrow_range=False,
    name=None,
):
    """Fake-quantizes float ``inputs`` into [min, max] (nudged so 0 is exact)."""
    return apply_op(
        "FakeQuantWithMinMaxArgs",
        inputs,
        min=float(min),
        max=float(max),
        num_bits=int(num_bits),
        narrow_range=bool(narrow_range),
        name=name,
    )


def fake_quant_with_min_max_args_gradient(
    gradients,
    inputs,
    min=-6,
    max=6,  # noqa: A002
    num_bits=8,
    narrow_range=False,
    name=None,
):
    """Straight-through gradient of fake_quant_with_min_max_args."""
    return apply_op(
        "FakeQuantWithMinMaxArgsGradient",
        gradients,
        inputs,
        min=float(min),
        max=float(max),
        num_bits=int(num_bits),
        narrow_range=bool(narrow_range),
        name=name,
    )


def fake_quant_with_min_max_vars(
    inputs,
    min,
    max,
    num_bits=8,  # noqa: A002
    narrow_range=False,
    name=None,
):
    """Fake-quantizes ``inputs`` into the range given by scalar tensors min and max."""
    return apply_op(
        "FakeQuantWithMinMaxVars",
        inputs,
        min,
        max,
        num_bits=int(num_bits),
        narrow_range=bool(narrow_range),
        name=name,
    )


def fake_quant_with_min_max_vars_gradient(
    gradients,
    inputs,
    min,
    max,  # noqa: A002
    num_bits=8,
    narrow_range=False,
    name=None,
):
    """(backprops_wrt_input, backprop_wrt_min, backprop_wrt_max)."""
    return apply_op(
        "FakeQuantWithMinMaxVarsGradient",
        gradients,
        inputs,
        min,
        max,
        num_bits=int(num_bits),
        narrow_range=bool(narrow_range),
        name=name,
    )


def fake_quant_with_min_max_vars_per_channel(
    inputs,
    min,
    max,
    num_bits=8,  # noqa: A002
    narrow_range=False,
    name=None,
):
    """Fake quantization with one [min, max] per channel of the last dimension."""
    return apply_op(
        "FakeQuantWithMinMaxVarsPerChannel",
        inputs,
        min,
        max,
        num_bits=int(num_bits),
        narrow_range=bool(narrow_range),
        name=name,
    )


def fake_quant_with_min_max_vars_per_channel_gradient(
    gradients,
    inputs,
    min,  # noqa: A002
    max,
    num_bits=8,  # noqa: A002
    narrow_range=False,
    name=None,
):
    """Per-channel (backprops_wrt_input, backprop_wrt_min, backprop_wrt_max)."""
    return apply_op(
        "FakeQuantWithMinMaxVarsPerChannelGradient",
        gradients,
        inputs,
        min,
        max,
        num_bits=int(num_bits),
        narrow_range=bool(narrow_range),
        name=name,
    )
