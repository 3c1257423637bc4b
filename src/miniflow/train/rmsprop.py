"""RMSProp: ``ms = decay*ms + (1-decay)*grad**2``;
``mom = momentum*mom + lr*grad/sqrt(ms + eps)``; ``var -= mom``. Centered: the mean
gradient ``mg`` is tracked too and the denominator is ``sqrt(ms - mg**2 + eps)``."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


@update_op("ApplyRMSProp")
def _apply_rmsprop(slot, lr, rho, momentum, epsilon, grad, var=None, slot_vars=()):
    value, ms, mom, *mg = buffers(slot, var, slot_vars)
    if not mg and value.dtype.kind == "f" and grad.shape == value.shape:
        update_rules.rmsprop_in_place(value, ms, mom, grad, lr, rho, momentum, epsilon)
        return value
    new_ms, new_mom, new_mg = update_rules.rmsprop(
        grad, ms, mom, mg[0] if mg else None, lr, rho, momentum, epsilon
    )
    ms[...], mom[...] = new_ms, new_mom
    if mg:
        mg[0][...] = new_mg
    value -= mom
    return value


@update_op("SparseApplyRMSProp")
def _sparse_apply_rmsprop(
    slot, lr, rho, momentum, epsilon, values, indices, var=None, slot_vars=()
):
    value, ms, mom, *mg = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    new_ms, new_mom, new_mg = update_rules.rmsprop(
        g, ms[rows], mom[rows], mg[0][rows] if mg else None, lr, rho, momentum, epsilon
    )
    ms[rows], mom[rows] = new_ms, new_mom
    if mg:
        mg[0][rows] = new_mg
    value[rows] -= new_mom
    return value


class RMSPropOptimizer(Optimizer):
    """RMSProp (slots ``"rms"`` starting at one, ``"momentum"``, and ``"mg"`` when
    centered), with TF1's update order and defaults.

    Args:
        learning_rate: a float, tensor or zero-argument callable.
        decay: discount of the running mean square (TF's ``rho``).
        momentum: momentum of the step.
        epsilon: added inside the square root.
        use_locking: ignored.
        centered: normalize by the estimated variance of the gradient instead of its
            uncentered second moment (slot ``"mg"`` holds the mean gradient).
        name: prefix of the created ops and slot variables.

    Example::

        train_op = tf.train.RMSPropOptimizer(0.01, momentum=0.9).minimize(loss)
    """

    def __init__(
        self,
        learning_rate,
        decay=0.9,
        momentum=0.0,
        epsilon=1e-10,
        use_locking=False,
        centered=False,
        name="RMSProp",
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = bool(centered)

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(v, fill_slot(v, 1.0), "rms", self._name)
            if self._centered:
                self._get_or_make_slot(v, fill_slot(v, 0.0), "mg", self._name)
            self._get_or_make_slot(v, fill_slot(v, 0.0), "momentum", self._name)

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._decay_t = hyper(self._decay, "decay")
        self._momentum_t = hyper(self._momentum, "momentum")
        self._epsilon_t = hyper(self._epsilon, "epsilon")

    def _hypers(self, var):
        return [
            like(t, var) for t in (self._lr_t, self._decay_t, self._momentum_t, self._epsilon_t)
        ]

    def _slot_vars(self, var):
        names = ("rms", "momentum", "mg") if self._centered else ("rms", "momentum")
        return tuple(self.get_slot(var, n) for n in names)

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyRMSProp", *self._hypers(var), grad, var=var, slot_vars=self._slot_vars(var)
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyRMSProp",
            *self._hypers(var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=self._slot_vars(var),
        )
