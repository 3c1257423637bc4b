"""`MixedPrecisionLossScaleOptimizer`: TF1's wrapper that multiplies the loss by a loss
scale, divides the gradients by it, and applies them only when they are all finite."""

from __future__ import annotations

from miniflow.core.dispatch import current_frontend
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.ops import array_ops, control_flow_ops, functional_ops, math_ops
from miniflow.train import loss_scale as loss_scale_module
from miniflow.train.optimizer import Optimizer


class MixedPrecisionLossScaleOptimizer(Optimizer):
    """Wraps ``opt``: ``compute_gradients`` scales the loss and unscales the gradients,
    ``apply_gradients`` updates the loss scale and skips non-finite steps."""

    def __init__(self, opt, loss_scale):
        if not isinstance(opt, Optimizer):
            raise ValueError(f'"opt" must be an instance of Optimizer, but got: {type(opt)}')
        self._optimizer = opt
        super().__init__(opt._use_locking, opt.get_name())
        self._loss_scale = loss_scale_module.get(loss_scale)
        if self._loss_scale is None:
            raise ValueError("loss_scale cannot be None")

    @property
    def loss_scale(self):
        return self._loss_scale

    def compute_gradients(
        self,
        loss,
        var_list=None,
        gate_gradients=Optimizer.GATE_OP,
        aggregation_method=None,
        colocate_gradients_with_ops=False,
        grad_loss=None,
    ):
        """The wrapped optimizer's [(gradient / loss_scale, variable)] of loss * loss_scale."""
        scaled = self._optimizer.compute_gradients(
            self._scale_loss(loss),
            var_list=var_list,
            gate_gradients=gate_gradients,
            aggregation_method=aggregation_method,
            colocate_gradients_with_ops=colocate_gradients_with_ops,
            grad_loss=grad_loss,
        )
        grads = self._unscale_grads([g for g, _ in scaled])
        return list(zip(grads, [v for _, v in scaled]))

    def _scale_loss(self, loss):
        scale = self._loss_scale()
        if callable(loss):

            def scaled_loss():
                value = loss()
                return value * math_ops.cast(scale, value.dtype)

            return scaled_loss
        loss = array_ops.convert_to_tensor(loss)
        return loss * math_ops.cast(scale, loss.dtype)

    def _unscale_grads(self, grads):
        reciprocal = 1 / self._loss_scale()
        return [None if g is None else self._scale_grad(g, reciprocal) for g in grads]

    @staticmethod
    def _scale_grad(grad, reciprocal):
        if isinstance(grad, IndexedSlices):
            return IndexedSlices(
                grad.values * math_ops.cast(reciprocal, grad.values.dtype),
                grad.indices,
                grad.dense_shape,
            )
        return grad * math_ops.cast(reciprocal, grad.dtype)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Updates the loss scale; applies the gradients only if all are finite."""
        grads_and_vars = tuple(grads_and_vars)
        name = name if name is not None else self.get_name()
        update_op, should_apply = self._loss_scale.update([g for g, _ in grads_and_vars])

        def apply_fn():
            return self._optimizer.apply_gradients(grads_and_vars, global_step, name + "-wrapped")

        if isinstance(should_apply, bool):
            applied = apply_fn() if should_apply else control_flow_ops.no_op()
        elif current_frontend().eager:
            applied = apply_fn() if bool(should_apply) else None
        else:
            applied = self._apply_if(should_apply, apply_fn, grads_and_vars)
        return control_flow_ops.group(applied, update_op, name=name)

    def _apply_if(self, pred, apply_fn, grads_and_vars):
        """tf.cond over the wrapped update (its slots are made outside the branch first)."""
        with control_flow_ops.name_scope(None):
            self._optimizer._create_slots([v for g, v in grads_and_vars if g is not None])

        def taken():
            with control_flow_ops.control_dependencies([apply_fn()]):
                return array_ops.constant(True)

        def skipped():
            return array_ops.constant(False)

        return functional_ops.cond(pred, taken, skipped).op

    def get_slot(self, var, name):
        return self._optimizer.get_slot(var, name)

    def get_slot_names(self):
        return self._optimizer.get_slot_names()

    def variables(self):
        return self._optimizer.variables() + list(self._loss_scale._weights.values())


def disable_mixed_precision_graph_rewrite():
    """Turns the automatic float16 graph rewrite off: a no-op, since miniflow never
    enables it (the rewrite targets GPU kernels)."""
