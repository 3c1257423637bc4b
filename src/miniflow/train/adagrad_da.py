"""Adagrad dual averaging: ``g_acc += grad``, ``gg_acc += grad**2``, then the variable
is recomputed from the accumulators alone,
``var = -lr * sign(g_acc) * max(|g_acc| - l1*T, 0) / (l2*T*lr + sqrt(gg_acc))``
(no shrinkage term when ``l1 == 0``), ``T`` being the global step plus one."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.ops import array_ops
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


def _dual_average(g_acc, gg_acc, lr, l1, l2, step):
    step = float(step)
    num = np.sign(g_acc) * np.maximum(np.abs(g_acc) - l1 * step, 0) if l1 > 0 else g_acc
    return (-lr * num / (l2 * step * lr + np.sqrt(gg_acc))).astype(g_acc.dtype, copy=False)


@update_op("ApplyAdagradDA")
def _apply_adagrad_da(slot, grad, lr, l1, l2, global_step, var=None, slot_vars=()):
    value, g_acc, gg_acc = buffers(slot, var, slot_vars)
    g_acc += grad
    gg_acc += grad * grad
    value[...] = _dual_average(g_acc, gg_acc, lr, l1, l2, global_step)
    return value


@update_op("SparseApplyAdagradDA")
def _sparse_apply_adagrad_da(
    slot, values, indices, lr, l1, l2, global_step, var=None, slot_vars=()
):
    value, g_acc, gg_acc = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    a, aa = g_acc[rows] + g, gg_acc[rows] + g * g
    g_acc[rows], gg_acc[rows] = a, aa
    value[rows] = _dual_average(a, aa, lr, l1, l2, global_step)
    return value


class AdagradDAOptimizer(Optimizer):
    """Adagrad dual averaging (slots ``"gradient_accumulator"`` and
    ``"gradient_squared_accumulator"``), TF1's update with L1/L2 regularization.

    ``tf.train.AdagradDAOptimizer(learning_rate, global_step,
    initial_gradient_squared_accumulator_value=0.1, l1_regularization_strength=0.0,
    l2_regularization_strength=0.0, use_locking=False, name="AdagradDA")``; the
    ``global_step`` variable is read (plus one) by every update and must be incremented
    by the caller (``minimize(loss, global_step=global_step)``).

    Raises:
        ValueError: ``initial_gradient_squared_accumulator_value`` is not positive.
    """

    def __init__(
        self,
        learning_rate,
        global_step,
        initial_gradient_squared_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        use_locking=False,
        name="AdagradDA",
    ):
        if initial_gradient_squared_accumulator_value <= 0.0:
            raise ValueError(
                "initial_gradient_squared_accumulator_value must be positive: "
                f"{initial_gradient_squared_accumulator_value}"
            )
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_value = initial_gradient_squared_accumulator_value
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength
        self._global_step = global_step

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, fill_slot(v, 0.0), "gradient_accumulator", self._name)
            self._get_or_make_slot(
                v, fill_slot(v, self._initial_value), "gradient_squared_accumulator", self._name
            )

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._l1_t = hyper(self._l1, "l1_regularization_strength")
        self._l2_t = hyper(self._l2, "l2_regularization_strength")
        step = array_ops.cast(array_ops.identity(self._global_step), dtypes.int64)
        self._step_t = step + 1

    def _inputs(self, var):
        return [like(t, var) for t in (self._lr_t, self._l1_t, self._l2_t)] + [self._step_t]

    def _slot_vars(self, var):
        return (
            self.get_slot(var, "gradient_accumulator"),
            self.get_slot(var, "gradient_squared_accumulator"),
        )

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyAdagradDA", grad, *self._inputs(var), var=var, slot_vars=self._slot_vars(var)
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyAdagradDA",
            grad.values,
            grad.indices,
            *self._inputs(var),
            var=var,
            slot_vars=self._slot_vars(var),
        )
