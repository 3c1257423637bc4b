"""Adam, as TF1 computes it: ``lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``,
``m = beta1*m + (1-beta1)*g``, ``v = beta2*v + (1-beta2)*g**2``,
``var -= lr_t * m / (sqrt(v) + epsilon)`` (epsilon outside the square root)."""

from __future__ import annotations

import contextlib

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.ops import control_flow_ops
from miniflow.ops.variables import Variable
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


@update_op("ApplyAdam")
def _apply_adam(
    slot, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad, var=None, slot_vars=()
):
    value, m, v = buffers(slot, var, slot_vars)
    update_rules.adam(value, m, v, grad, lr, beta1, beta2, epsilon, beta1_power, beta2_power)
    return value


# TF1's AdamOptimizer._apply_sparse is not lazy: m and v decay everywhere, the gradient
# is added on its rows only, and the whole variable moves (rows with nonzero m keep
# moving). LazyAdam semantics would differ; this matches TF1.
@update_op("SparseApplyAdam")
def _sparse_apply_adam(
    slot,
    beta1_power,
    beta2_power,
    lr,
    beta1,
    beta2,
    epsilon,
    values,
    indices,
    var=None,
    slot_vars=(),
):
    value, m, v = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    update_rules.adam_sparse_decay(
        value, m, v, rows, g, lr, beta1, beta2, epsilon, beta1_power, beta2_power
    )
    return value


class AdamOptimizer(Optimizer):
    """Adam (slots ``"m"`` and ``"v"``; non-slot variables ``beta1_power`` and
    ``beta2_power`` hold ``beta1^t`` and ``beta2^t``), with TF1's formulas and defaults.

    Sparse gradients follow TF1's ``AdamOptimizer``: the moments decay on every row and
    the gradient is added on its rows (duplicates summed first).

    Args:
        learning_rate: a float, tensor or zero-argument callable.
        beta1: decay of the first moment.
        beta2: decay of the second moment.
        epsilon: added to ``sqrt(v)`` (outside the square root, as in TF1).
        use_locking: ignored.
        name: prefix of the created ops and variables.

    Example::

        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=step)
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        use_locking=False,
        name="Adam",
    ):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon
        self._beta1_power = self._beta2_power = None

    def _create_slots(self, var_list):
        if self._beta1_power is None:
            # float32 whatever the variables' dtype, as TF (its kernels cast them); on the
            # device of the first variable by name, as TF colocates them (one ps task)
            first = min(var_list, key=lambda v: v.op_name)
            graph = getattr(first, "graph", None)
            with graph.colocate_with(first) if graph is not None else contextlib.nullcontext():
                self._beta1_power = Variable(self._beta1, trainable=False, name="beta1_power")
                self._beta2_power = Variable(self._beta2, trainable=False, name="beta2_power")
        for v in var_list:
            self._get_or_make_slot(v, fill_slot(v, 0.0), "m", self._name)
            self._get_or_make_slot(v, fill_slot(v, 0.0), "v", self._name)

    def _get_beta_accumulators(self):
        return self._beta1_power, self._beta2_power

    def variables(self):
        return [v for v in self._get_beta_accumulators() if v is not None] + super().variables()

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._beta1_t = hyper(self._beta1, "beta1")
        self._beta2_t = hyper(self._beta2, "beta2")
        self._epsilon_t = hyper(self._epsilon, "epsilon")

    def _inputs(self, var):
        powers = [like(p.value(), var) for p in self._get_beta_accumulators()]
        return powers + [
            like(t, var) for t in (self._lr_t, self._beta1_t, self._beta2_t, self._epsilon_t)
        ]

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyAdam",
            *self._inputs(var),
            grad,
            var=var,
            slot_vars=(self.get_slot(var, "m"), self.get_slot(var, "v")),
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyAdam",
            *self._inputs(var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=(self.get_slot(var, "m"), self.get_slot(var, "v")),
        )

    def _finish(self, update_ops, name_scope):
        b1, b2 = self._get_beta_accumulators()
        beta1 = like(self._beta1_t, b1)
        beta2 = like(self._beta2_t, b2)
        if current_frontend().eager:
            b1.assign(b1.value() * beta1)
            b2.assign(b2.value() * beta2)
            return None
        with control_flow_ops.control_dependencies(update_ops):
            update_b1 = b1.assign(b1.value() * beta1)
            update_b2 = b2.assign(b2.value() * beta2)
        return control_flow_ops.group(*update_ops, update_b1, update_b2, name=name_scope)
