"""Plain gradient descent: ``var -= learning_rate * grad`` (rows only, for sparse grads)."""

from __future__ import annotations

from miniflow.core import update_rules
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops.state_ops import Slot, _uninitialized
from miniflow.train.optimizer import Optimizer
from miniflow.train.slot_apply import hyper, like

_UPDATE = dict(
    stateful=True,
    make_state=lambda a: Slot(a["var"].op_name),
    state_key=lambda a: a["var"],
    writes=True,
    infer=lambda i, a: [(a["var"].shape.as_tuple(), a["var"].dtype)],
)


@register_op("ApplyGradientDescent", **_UPDATE)
def _apply_gradient_descent(slot, alpha, delta):
    value = slot.value
    if value is None:
        raise _uninitialized(slot)
    update_rules.sgd(value, delta, alpha)  # in place on the variable's buffer
    return value


@register_op("SparseApplyGradientDescent", **_UPDATE)
def _sparse_apply_gradient_descent(slot, alpha, values, indices):
    value = slot.value
    if value is None:
        raise _uninitialized(slot)
    update_rules.sgd_scatter(value, indices, values, alpha)
    return value


not_differentiable("ApplyGradientDescent", "SparseApplyGradientDescent")


class GradientDescentOptimizer(Optimizer):
    """SGD: ``var -= learning_rate * gradient``; sparse gradients touch only their rows."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._lr_t = hyper(self._learning_rate, "learning_rate")

    def _lr(self, var):
        return like(self._lr_t, var)

    def _apply_dense(self, grad, var):
        return apply_op("ApplyGradientDescent", self._lr(var), grad, var=var)

    def _apply_sparse(self, grad, var):
        return apply_op(
            "SparseApplyGradientDescent", self._lr(var), grad.values, grad.indices, var=var
        )
