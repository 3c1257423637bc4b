"""Adadelta: ``accum = rho*accum + (1-rho)*grad**2;
update = sqrt(accum_update + eps) / sqrt(accum + eps) * grad;
accum_update = rho*accum_update + (1-rho)*update**2; var -= lr * update``."""

from __future__ import annotations

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


def _adadelta(g, accum, accum_update, lr, rho, epsilon):
    """New (accum, accum_update, delta of var) for gradient ``g``."""
    accum = rho * accum + (1 - rho) * g * g
    update = np.sqrt(accum_update + epsilon) / np.sqrt(accum + epsilon) * g
    accum_update = rho * accum_update + (1 - rho) * update * update
    return accum, accum_update, lr * update


@update_op("ApplyAdadelta")
def _apply_adadelta(slot, lr, rho, epsilon, grad, var=None, slot_vars=()):
    value, accum, accum_update = buffers(slot, var, slot_vars)
    accum[...], accum_update[...], delta = _adadelta(grad, accum, accum_update, lr, rho, epsilon)
    value -= delta
    return value


@update_op("SparseApplyAdadelta")
def _sparse_apply_adadelta(slot, lr, rho, epsilon, values, indices, var=None, slot_vars=()):
    value, accum, accum_update = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    accum[rows], accum_update[rows], delta = _adadelta(
        g, accum[rows], accum_update[rows], lr, rho, epsilon
    )
    value[rows] -= delta
    return value


class AdadeltaOptimizer(Optimizer):
    """Adadelta (slots ``"accum"`` and ``"accum_update"``), with TF1's defaults.

    Args:
        learning_rate: scales the Adadelta step (TF1 default 0.001).
        rho: decay rate of both accumulators.
        epsilon: added inside the square roots.
        use_locking: ignored.
        name: prefix of the created ops and slot variables.

    Example::

        train_op = tf.train.AdadeltaOptimizer(1.0, rho=0.95).minimize(loss)
    """

    def __init__(
        self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False, name="Adadelta"
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._rho = rho
        self._epsilon = epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, fill_slot(v, 0.0), "accum", self._name)
            self._get_or_make_slot(v, fill_slot(v, 0.0), "accum_update", self._name)

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "lr")
        self._rho_t = hyper(self._rho, "rho")
        self._epsilon_t = hyper(self._epsilon, "epsilon")

    def _hypers(self, var):
        return like(self._lr_t, var), like(self._rho_t, var), like(self._epsilon_t, var)

    def _slot_vars(self, var):
        return (self.get_slot(var, "accum"), self.get_slot(var, "accum_update"))

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyAdadelta", *self._hypers(var), grad, var=var, slot_vars=self._slot_vars(var)
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyAdadelta",
            *self._hypers(var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=self._slot_vars(var),
        )
