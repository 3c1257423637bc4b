"""Gradient table for the quantization ops (issue 13).

Every differentiable quantization op has TF's *straight-through* gradient: the forward
pass is a step function (its true derivative is 0 almost everywhere and undefined at the
steps), and TF defines the gradient as if the op were the identity inside the quantization
range. Finite differences measure the step function, so they cannot check these rules.
Each row here instead names the reference formula from TF's kernels
(``fake_quant_ops_functor.h``, ``quantize_and_dequantize_op.h``), and
``test_op_gradients_quant.py`` compares the built gradient with it on random inputs and
with numbers from real TensorFlow. ``SPECS`` (finite-difference rows) is empty on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SPECS: list = []


def nudged_range(min_, max_, num_bits, narrow_range):
    """TF's Nudge in float32: [min, max] shifted so that 0.0 is a quantization step."""
    f = np.float32
    qmin, qmax = f(1 if narrow_range else 0), f(2**num_bits - 1)
    min_, max_ = np.asarray(min_, f), np.asarray(max_, f)
    scale = (max_ - min_) / (qmax - qmin)
    zp_from_min = qmin - min_ / scale
    zp = np.clip(np.floor(zp_from_min + f(0.5)), qmin, qmax)  # zp_from_min >= 0 here
    zp = np.where(zp_from_min < qmin, qmin, zp)
    return (qmin - zp) * scale, (qmax - zp) * scale


def fake_quant_reference(dy, x, min_, max_, num_bits=8, narrow_range=False):
    """(dx, dmin, dmax): dy inside the nudged range; dy below/above it, summed over all
    axes but the channel one, goes to min/max."""
    lo, hi = nudged_range(min_, max_, num_bits, narrow_range)
    axes = tuple(range(x.ndim - np.ndim(min_)))
    inside = (x >= lo) & (x <= hi)
    return (
        np.where(inside, dy, 0),
        np.sum(np.where(x < lo, dy, 0), axis=axes),
        np.sum(np.where(x > hi, dy, 0), axis=axes),
    )


@dataclass(frozen=True)
class StraightThrough:
    """One op type, the public call building it, and its reference gradient wrt x."""

    op_type: str
    build: Callable  # build(x, min, max) -> y
    reference: Callable  # reference(dy, x, min, max) -> dx (and dmin, dmax for vars)
    per_channel: bool = False
    wrt_range: bool = False  # the rule also returns gradients for min and max


def _rows():
    import miniflow as tf

    q = tf.quantization
    return [
        StraightThrough(
            "FakeQuantWithMinMaxArgs",
            lambda x, a, b: q.fake_quant_with_min_max_args(x, a, b, 5, True),
            lambda dy, x, a, b: fake_quant_reference(dy, x, a, b, 5, True)[:1],
        ),
        StraightThrough(
            "FakeQuantWithMinMaxVars",
            lambda x, a, b: q.fake_quant_with_min_max_vars(x, a, b, 4),
            lambda dy, x, a, b: fake_quant_reference(dy, x, a, b, 4),
            wrt_range=True,
        ),
        StraightThrough(
            "FakeQuantWithMinMaxVarsPerChannel",
            lambda x, a, b: q.fake_quant_with_min_max_vars_per_channel(x, a, b),
            lambda dy, x, a, b: fake_quant_reference(dy, x, a, b),
            per_channel=True,
            wrt_range=True,
        ),
        StraightThrough(
            "QuantizeAndDequantizeV2",
            lambda x, a, b: q.quantize_and_dequantize(x, a, b, range_given=True),
            lambda dy, x, a, b: (dy,),
        ),
        StraightThrough(
            "QuantizeAndDequantizeV4",
            lambda x, a, b: q.quantize_and_dequantize_v2(x, a, b, range_given=True),
            lambda dy, x, a, b: (np.where((x >= a) & (x <= b), dy, 0),),
        ),
    ]


ROWS = _rows()
COVERED_OP_TYPES = {r.op_type for r in ROWS}
