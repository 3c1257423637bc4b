"""Learning-rate schedules of the global step, built from ordinary ops (TF1 formulas)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops, control_flow_ops, math_ops


def _step_and_rate(learning_rate, global_step, what):
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")
    lr = array_ops.convert_to_tensor(learning_rate, name="learning_rate")
    if not lr.dtype.is_floating:
        lr = array_ops.cast(lr, dtypes.float32)
    return lr, array_ops.cast(global_step, lr.dtype)


def exponential_decay(
    learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None
):
    """``learning_rate * decay_rate ** (global_step / decay_steps)``; with
    ``staircase=True`` the exponent is floored, so the rate drops every ``decay_steps``.

    Example::

        lr = tf.train.exponential_decay(0.1, step, 1000, 0.96, staircase=True)
    """
    with control_flow_ops.name_scope(name, "ExponentialDecay"):
        lr, step = _step_and_rate(learning_rate, global_step, "exponential decay")
        p = _progress(step, decay_steps, lr.dtype, staircase)
        return math_ops.multiply(lr, math_ops.pow(array_ops.cast(decay_rate, lr.dtype), p))


def _progress(step, decay_steps, dtype, staircase):
    """``step / decay_steps``, floored when ``staircase``."""
    p = step / array_ops.cast(decay_steps, dtype)
    return math_ops.floor(p) if staircase else p


def piecewise_constant(x, boundaries, values, name=None):
    """``values[0]`` while ``x <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < x <= boundaries[i]``, and ``values[-1]`` after the last boundary.

    Raises:
        ValueError: ``len(values) != len(boundaries) + 1``.

    Example::

        lr = tf.train.piecewise_constant(step, [1000, 2000], [1.0, 0.5, 0.1])
    """
    if len(values) != len(boundaries) + 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with control_flow_ops.name_scope(name, "PiecewiseConstant"):
        x = array_ops.convert_to_tensor(x)
        vals = [array_ops.convert_to_tensor(v) for v in values]
        result = vals[-1]
        for b, v in zip(reversed(boundaries), reversed(vals[:-1])):
            result = array_ops.where(math_ops.less_equal(x, array_ops.cast(b, x.dtype)), v, result)
        return result


def polynomial_decay(
    learning_rate,
    global_step,
    decay_steps,
    end_learning_rate=0.0001,
    power=1.0,
    cycle=False,
    name=None,
):
    """``(lr - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``; with
    ``cycle=True`` the horizon grows to the next multiple of ``decay_steps`` instead.

    Example::

        lr = tf.train.polynomial_decay(0.1, step, 10000, end_learning_rate=0.01)
    """
    with control_flow_ops.name_scope(name, "PolynomialDecay"):
        lr, step = _step_and_rate(learning_rate, global_step, "polynomial decay")
        steps = array_ops.cast(decay_steps, lr.dtype)
        end = array_ops.cast(end_learning_rate, lr.dtype)
        if cycle:
            # At step 0 the multiplier is 1 rather than ceil(0) = 0.
            mult = array_ops.where(
                math_ops.equal(step, 0), array_ops.ones_like(step), math_ops.ceil(step / steps)
            )
            steps = steps * mult
        else:
            step = math_ops.minimum(step, steps)
        frac = 1 - step / steps
        return (lr - end) * math_ops.pow(frac, array_ops.cast(power, lr.dtype)) + end


def inverse_time_decay(
    learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None
):
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)`` (floored ratio
    when ``staircase``)."""
    with control_flow_ops.name_scope(name, "InverseTimeDecay"):
        lr, step = _step_and_rate(learning_rate, global_step, "inverse time decay")
        p = _progress(step, decay_steps, lr.dtype, staircase)
        return lr / (1 + array_ops.cast(decay_rate, lr.dtype) * p)


def natural_exp_decay(
    learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None
):
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)`` (floored ratio
    when ``staircase``)."""
    with control_flow_ops.name_scope(name, "NaturalExpDecay"):
        lr, step = _step_and_rate(learning_rate, global_step, "natural exp decay")
        p = _progress(step, decay_steps, lr.dtype, staircase)
        return lr * math_ops.exp(-array_ops.cast(decay_rate, lr.dtype) * p)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """``learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``
    with ``s = min(global_step, decay_steps)``: a half cosine from ``learning_rate`` down to
    ``alpha * learning_rate``.

    Example::

        lr = tf.train.cosine_decay(0.1, step, 10000, alpha=0.01)
    """
    with control_flow_ops.name_scope(name, "CosineDecay"):
        lr, step = _step_and_rate(learning_rate, global_step, "cosine decay")
        steps = array_ops.cast(decay_steps, lr.dtype)
        frac = math_ops.minimum(step, steps) / steps
        cosine = 0.5 * (1 + math_ops.cos(np.pi * frac))
        alpha = array_ops.cast(alpha, lr.dtype)
        return lr * ((1 - alpha) * cosine + alpha)
