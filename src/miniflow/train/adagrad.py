"""Adagrad: ``accum += grad**2; var -= lr * grad / sqrt(accum)``."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


@update_op("ApplyAdagrad")
def _apply_adagrad(slot, lr, grad, var=None, slot_vars=()):
    value, accum = buffers(slot, var, slot_vars)
    update_rules.adagrad(value, accum, grad, lr)
    return value


@update_op("SparseApplyAdagrad")
def _sparse_apply_adagrad(slot, lr, values, indices, var=None, slot_vars=()):
    value, accum = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    w, a = value[rows], accum[rows]
    update_rules.adagrad(w, a, g, lr)
    value[rows], accum[rows] = w, a
    return value


class AdagradOptimizer(Optimizer):
    """Adagrad (slot ``"accumulator"``, starting at ``initial_accumulator_value``).

    ``accumulator += gradient ** 2`` then
    ``variable -= learning_rate * gradient / sqrt(accumulator)``. Sparse gradients
    update only their rows of the variable and of the accumulator.

    Args:
        learning_rate: a float, tensor or zero-argument callable.
        initial_accumulator_value: the accumulators' starting value; must be positive.
        use_locking: ignored.
        name: prefix of the created ops and slot variables.

    Raises:
        ValueError: ``initial_accumulator_value`` is not positive.

    Example::

        train_op = tf.train.AdagradOptimizer(0.1).minimize(loss, global_step=step)
    """

    def __init__(
        self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"
    ):
        if initial_accumulator_value <= 0.0:
            raise ValueError(
                f"initial_accumulator_value must be positive: {initial_accumulator_value}"
            )
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(
                v, fill_slot(v, self._initial_accumulator_value), "accumulator", self._name
            )

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyAdagrad",
            like(self._lr_t, var),
            grad,
            var=var,
            slot_vars=(self.get_slot(var, "accumulator"),),
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyAdagrad",
            like(self._lr_t, var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=(self.get_slot(var, "accumulator"),),
        )
