"""Proximal gradient descent (FOBOS): a gradient step, then the L1/L2 proximal map
``var = sign(v) / (1 + lr*l2) * max(|v| - lr*l1, 0)`` with ``v = var - lr * grad``."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, hyper, like, unique_rows, update_op


@update_op("ApplyProximalGradientDescent")
def _apply_pgd(slot, lr, l1, l2, grad, var=None, slot_vars=()):
    (value,) = buffers(slot, var, slot_vars)
    value[...] = update_rules.proximal_sgd(value, grad, lr, l1, l2)
    return value


@update_op("SparseApplyProximalGradientDescent")
def _sparse_apply_pgd(slot, lr, l1, l2, values, indices, var=None, slot_vars=()):
    (value,) = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    value[rows] = update_rules.proximal_sgd(value[rows], g, lr, l1, l2)
    return value


class ProximalGradientDescentOptimizer(Optimizer):
    """Gradient descent followed by TF1's L1/L2 proximal map (no slots).

    ``tf.train.ProximalGradientDescentOptimizer(learning_rate,
    l1_regularization_strength=0.0, l2_regularization_strength=0.0, use_locking=False,
    name="ProximalGradientDescent")``; sparse gradients update only their rows.
    """

    def __init__(
        self,
        learning_rate,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        use_locking=False,
        name="ProximalGradientDescent",
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._l1_t = hyper(self._l1, "l1_regularization_strength")
        self._l2_t = hyper(self._l2, "l2_regularization_strength")

    def _inputs(self, var):
        return [like(t, var) for t in (self._lr_t, self._l1_t, self._l2_t)]

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyProximalGradientDescent", *self._inputs(var), grad, var=var, slot_vars=()
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyProximalGradientDescent",
            *self._inputs(var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=(),
        )
