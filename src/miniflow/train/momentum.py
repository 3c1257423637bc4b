"""Momentum: ``accum = momentum * accum + grad; var -= lr * accum`` (Nesterov:
``var -= lr * grad + lr * momentum * accum``)."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


@update_op("ApplyMomentum")
def _apply_momentum(slot, lr, grad, momentum, var=None, slot_vars=(), use_nesterov=False):
    value, accum = buffers(slot, var, slot_vars)
    update_rules.momentum(value, accum, grad, lr, momentum, use_nesterov)
    return value


@update_op("SparseApplyMomentum")
def _sparse_apply_momentum(
    slot, lr, values, indices, momentum, var=None, slot_vars=(), use_nesterov=False
):
    value, accum = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    w, a = value[rows], accum[rows]
    update_rules.momentum(w, a, g, lr, momentum, use_nesterov)
    value[rows], accum[rows] = w, a
    return value


class MomentumOptimizer(Optimizer):
    """Gradient descent with momentum (slot ``"momentum"``).

    ``accumulation = momentum * accumulation + gradient`` then
    ``variable -= learning_rate * accumulation``; with ``use_nesterov=True`` the variable
    moves by ``learning_rate * (gradient + momentum * accumulation)``. Sparse gradients
    update only their rows of the variable and of the accumulation.

    Args:
        learning_rate: a float, tensor or zero-argument callable.
        momentum: a float or tensor.
        use_locking: ignored (updates are not concurrent).
        name: prefix of the created ops and slot variables.
        use_nesterov: use Nesterov momentum.

    Example::

        train_op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
    """

    def __init__(
        self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = bool(use_nesterov)

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, fill_slot(v, 0.0), "momentum", self._name)

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._momentum_t = hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyMomentum",
            like(self._lr_t, var),
            grad,
            like(self._momentum_t, var),
            var=var,
            slot_vars=(self.get_slot(var, "momentum"),),
            use_nesterov=self._use_nesterov,
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyMomentum",
            like(self._lr_t, var),
            grad.values,
            grad.indices,
            like(self._momentum_t, var),
            var=var,
            slot_vars=(self.get_slot(var, "momentum"),),
            use_nesterov=self._use_nesterov,
        )
