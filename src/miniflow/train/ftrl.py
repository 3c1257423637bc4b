"""FTRL-proximal, as TF1 computes it:
``new_accum = accum + g**2``;
``linear += g + 2*l2_shrinkage*var - (new_accum**-p - accum**-p) / lr * var``;
``quadratic = new_accum**-p / lr + 2*l2``;
``var = (sign(linear)*l1 - linear) / quadratic if |linear| > l1 else 0``
(``p`` is ``learning_rate_power``; the shrinkage term is absent when it is 0)."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import buffers, fill_slot, hyper, like, unique_rows, update_op


@update_op("ApplyFtrl")
def _apply_ftrl(slot, lr, l1, l2, l2_shrinkage, grad, var=None, slot_vars=(), lr_power=-0.5):
    value, accum, linear = buffers(slot, var, slot_vars)
    value[...], accum[...], linear[...] = update_rules.ftrl(
        value, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power
    )
    return value


@update_op("SparseApplyFtrl")
def _sparse_apply_ftrl(
    slot, lr, l1, l2, l2_shrinkage, values, indices, var=None, slot_vars=(), lr_power=-0.5
):
    value, accum, linear = buffers(slot, var, slot_vars)
    rows, g = unique_rows(values, indices, value.shape[0])
    value[rows], accum[rows], linear[rows] = update_rules.ftrl(
        value[rows], accum[rows], linear[rows], g, lr, l1, l2, l2_shrinkage, lr_power
    )
    return value


class FtrlOptimizer(Optimizer):
    """FTRL-proximal (slots ``"accum"``, starting at ``initial_accumulator_value``, and
    ``"linear"``), with TF1's update, L1/L2 regularization and L2 shrinkage.

    Args:
        learning_rate: a float, tensor or zero-argument callable.
        learning_rate_power: how the per-coordinate rate decays; <= 0 (0: fixed rate).
        initial_accumulator_value: the accumulators' starting value; >= 0.
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0 (a stabilizing penalty).
        use_locking: ignored.
        name: prefix of the created ops and slot variables.
        accum_name: name suffix of the ``"accum"`` slot variables (default ``name``).
        linear_name: name suffix of the ``"linear"`` slot variables (default
            ``name + "_1"``).
        l2_shrinkage_regularization_strength: >= 0; a magnitude penalty added to the
            gradient as ``2 * l2_shrinkage * var``.

    Raises:
        ValueError: a hyperparameter is outside its range.

    Example::

        opt = tf.train.FtrlOptimizer(0.1, l1_regularization_strength=0.01)
    """

    def __init__(
        self,
        learning_rate,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        use_locking=False,
        name="Ftrl",
        accum_name=None,
        linear_name=None,
        l2_shrinkage_regularization_strength=0.0,
    ):
        checks = [
            (
                initial_accumulator_value,
                "initial_accumulator_value %s needs to be positive or zero",
                lambda x: x >= 0,
            ),
            (
                learning_rate_power,
                "learning_rate_power %s needs to be negative or zero",
                lambda x: x <= 0,
            ),
            (
                l1_regularization_strength,
                "l1_regularization_strength %s needs to be positive or zero",
                lambda x: x >= 0,
            ),
            (
                l2_regularization_strength,
                "l2_regularization_strength %s needs to be positive or zero",
                lambda x: x >= 0,
            ),
            (
                l2_shrinkage_regularization_strength,
                "l2_shrinkage_regularization_strength %s needs to be positive or zero",
                lambda x: x >= 0,
            ),
        ]
        for value, msg, ok in checks:
            if not ok(value):
                raise ValueError(msg % value)
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_power = float(learning_rate_power)
        self._initial_accumulator_value = initial_accumulator_value
        self._l1 = l1_regularization_strength
        self._l2 = l2_regularization_strength
        self._l2_shrinkage = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            self._get_or_make_slot(
                v,
                fill_slot(v, self._initial_accumulator_value),
                "accum",
                self._accum_name or self._name,
            )
            self._get_or_make_slot(
                v, fill_slot(v, 0.0), "linear", self._linear_name or self._name + "_1"
            )

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")
        self._l1_t = hyper(self._l1, "l1_regularization_strength")
        self._l2_t = hyper(self._l2, "l2_regularization_strength")
        self._l2_shrinkage_t = hyper(self._l2_shrinkage, "l2_shrinkage_regularization_strength")

    def _inputs(self, var):
        return [like(t, var) for t in (self._lr_t, self._l1_t, self._l2_t, self._l2_shrinkage_t)]

    def _slot_vars(self, var):
        return (self.get_slot(var, "accum"), self.get_slot(var, "linear"))

    def _apply_dense(self, grad, var):
        return apply_op(
            "ApplyFtrl",
            *self._inputs(var),
            grad,
            var=var,
            slot_vars=self._slot_vars(var),
            lr_power=self._learning_rate_power,
        )

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyFtrl",
            *self._inputs(var),
            grad.values,
            grad.indices,
            var=var,
            slot_vars=self._slot_vars(var),
            lr_power=self._learning_rate_power,
        )
