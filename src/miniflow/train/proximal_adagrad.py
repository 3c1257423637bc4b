"""Proximal Adagrad: ``accum += grad**2``, then the proximal gradient step of
`proximal_gradient_descent` with the per-element rate ``lr / sqrt(accum)``."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


@update_op("ApplyProximalAdagrad")
def _apply_proximal_adagrad(slot, lr, l1, l2, grad, var=None, slot_vars=()):
    value, accum = buffers(slot, var, slot_vars)
    update_rules.proximal_adagrad(value, accum, grad, lr, l1, l2)
    return value


@update_op("SparseApplyProximalAdagrad")
def _sparse_apply_proximal_adagrad(slot, lr, l1, l2, values, indices, var=None, slot_vars=()):
    value, accum = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    w, a = value[rows], accum[rows]
    update_rules.proximal_adagrad(w, a, g, lr, l1, l2)
    value[rows], accum[rows] = w, a
    return value


class ProximalAdagradOptimizer(Optimizer):
    """Adagrad with TF1's L1/L2 proximal map (slot ``"accumulator"``).

    ``tf.train.ProximalAdagradOptimizer(learning_rate, initial_accumulator_value=0.1,
    l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False,
    name="ProximalAdagrad")``.

    Raises:
        ValueError: ``initial_accumulator_value`` is not positive.
    """

    def __init__(
        self,
        learning_rate,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        use_locking=False,
        name="ProximalAdagrad",
    ):
        if initial_accumulator_value <= 0.0:
            raise ValueError(
                f"initial_accumulator_value must be positive: {initial_accumulator_value}"
            )
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(
                v, fill_slot(v, self._initial_accumulator_value), "accumulator", self._name
            )

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._l1_t = hyper(self._l1, "l1_regularization_strength")
        self._l2_t = hyper(self._l2, "l2_regularization_strength")

    def _inputs(self, var):
        return [like(t, var) for t in (self._lr_t, self._l1_t, self._l2_t)]

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyProximalAdagrad",
            *self._inputs(var),
            grad,
            var=var,
            slot_vars=(self.get_slot(var, "accumulator"),),
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyProximalAdagrad",
            *self._inputs(var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=(self.get_slot(var, "accumulator"),),
        )
