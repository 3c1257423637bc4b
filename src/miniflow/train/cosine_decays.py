"""Cosine learning-rate schedules with restarts and with a linear envelope (TF1
formulas, built from ordinary ops like `learning_rate_decay`)."""

from __future__ import annotations

import numpy as np

from miniflow.ops import array_ops, control_flow_ops, math_ops, random_ops
from miniflow.train.learning_rate_decay import _step_and_rate


def cosine_decay_restarts(
    learning_rate, global_step, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name=None
):
    """SGDR: a cosine from ``learning_rate`` to ``alpha * learning_rate`` over
    ``first_decay_steps``, restarted with periods ``t_mul`` times longer and peaks
    ``m_mul`` times lower each time.

    ``tf.train.cosine_decay_restarts(learning_rate, global_step, first_decay_steps,
    t_mul=2.0, m_mul=1.0, alpha=0.0, name=None)``
    """
    with control_flow_ops.name_scope(name, "SGDRDecay") as scope:
        lr, step = _step_and_rate(learning_rate, global_step, "cosine decay restarts")
        dtype = lr.dtype
        frac = step / array_ops.cast(first_decay_steps, dtype)
        t_mul = array_ops.cast(t_mul, dtype)
        m_mul = array_ops.cast(m_mul, dtype)
        # Restart index and fraction of the current period, for geometric periods (t_mul
        # != 1) and for equal ones; `where` picks, as TF's cond does.
        safe_t = array_ops.where(
            math_ops.equal(t_mul, 1.0), 2.0 * array_ops.ones_like(t_mul), t_mul
        )
        i_geo = math_ops.floor(math_ops.log(1.0 - frac * (1.0 - safe_t)) / math_ops.log(safe_t))
        sum_r = (1.0 - math_ops.pow(safe_t, i_geo)) / (1.0 - safe_t)
        frac_geo = (frac - sum_r) / math_ops.pow(safe_t, i_geo)
        i_lin = math_ops.floor(frac)
        equal = math_ops.equal(t_mul, 1.0)
        i_restart = array_ops.where(equal, i_lin, i_geo)
        frac = array_ops.where(equal, frac - i_lin, frac_geo)
        cosine = 0.5 * math_ops.pow(m_mul, i_restart) * (1.0 + math_ops.cos(np.pi * frac))
        alpha = array_ops.cast(alpha, dtype)
        return math_ops.multiply(lr, (1 - alpha) * cosine + alpha, name=scope)


def _linear_cosine(
    scope, learning_rate, global_step, decay_steps, num_periods, alpha, beta, noise_std=None
):
    lr, step = _step_and_rate(learning_rate, global_step, "linear cosine decay")
    dtype = lr.dtype
    steps = array_ops.cast(decay_steps, dtype)
    step = math_ops.minimum(step, steps)
    linear = (steps - step) / steps
    if noise_std is not None:
        linear = linear + random_ops.random_normal([], stddev=noise_std(step), dtype=dtype)
    fraction = 2.0 * array_ops.cast(num_periods, dtype) * step / steps
    cosine = 0.5 * (1.0 + math_ops.cos(np.pi * fraction))
    return math_ops.multiply(
        lr,
        (array_ops.cast(alpha, dtype) + linear) * cosine + array_ops.cast(beta, dtype),
        name=scope,
    )


def linear_cosine_decay(
    learning_rate, global_step, decay_steps, num_periods=0.5, alpha=0.0, beta=0.001, name=None
):
    """``lr * ((alpha + linear) * cosine + beta)`` with ``linear = (T - s) / T`` and
    ``cosine = 0.5 * (1 + cos(pi * 2 * num_periods * s / T))``, ``s = min(step, T)``.

    ``tf.train.linear_cosine_decay(learning_rate, global_step, decay_steps,
    num_periods=0.5, alpha=0.0, beta=0.001, name=None)``
    """
    with control_flow_ops.name_scope(name, "LinearCosineDecay") as scope:
        return _linear_cosine(
            scope, learning_rate, global_step, decay_steps, num_periods, alpha, beta
        )


def noisy_linear_cosine_decay(
    learning_rate,
    global_step,
    decay_steps,
    initial_variance=1.0,
    variance_decay=0.55,
    num_periods=0.5,
    alpha=0.0,
    beta=0.001,
    name=None,
):
    """`linear_cosine_decay` with Gaussian noise of variance
    ``initial_variance / (1 + s) ** variance_decay`` added to the linear term (random
    seeds as for ``tf.random_normal``: the graph-level seed makes it repeatable).

    ``tf.train.noisy_linear_cosine_decay(learning_rate, global_step, decay_steps,
    initial_variance=1.0, variance_decay=0.55, num_periods=0.5, alpha=0.0, beta=0.001,
    name=None)``
    """

    def std(step):
        dtype = step.dtype
        variance = array_ops.cast(initial_variance, dtype) / math_ops.pow(
            1.0 + step, array_ops.cast(variance_decay, dtype)
        )
        return math_ops.sqrt(variance)

    with control_flow_ops.name_scope(name, "NoisyLinearCosineDecay") as scope:
        return _linear_cosine(
            scope, learning_rate, global_step, decay_steps, num_periods, alpha, beta, noise_std=std
        )
