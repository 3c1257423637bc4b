"""`Optimizer`: the TF1 base class — compute gradients, create slot variables, apply
dense or sparse (`IndexedSlices`) updates in place, bump the global step."""

from __future__ import annotations

import contextlib

from miniflow.core.dispatch import current_frontend
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.graph.gradients import gradients
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops, control_flow_ops
from miniflow.ops.variables import Variable


class Optimizer:
    """Base class of the optimizers; subclasses implement ``_apply_dense`` (and
    ``_apply_sparse`` for row updates), optionally ``_create_slots`` and ``_prepare``."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict] = {}

    def get_name(self) -> str:
        return self._name

    # -- gradients ------------------------------------------------------------------
    def compute_gradients(
        self,
        loss,
        var_list=None,
        gate_gradients=GATE_OP,
        aggregation_method=None,
        colocate_gradients_with_ops=False,
        grad_loss=None,
    ):
        """[(gradient or None, variable)] for ``var_list`` (default: trainable vars)."""
        if callable(loss) or current_frontend().eager:
            return self._compute_gradients_eager(loss, var_list, grad_loss)
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES)
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss])
        return list(zip(grads, var_list))

    def _compute_gradients_eager(self, loss, var_list, grad_loss):
        """Raises:
        RuntimeError: ``loss`` is a tensor, computed before any tape could see it."""
        from miniflow.eager.tape import GradientTape  # provided by the eager front end

        if not callable(loss):
            raise RuntimeError(
                "`loss` passed to Optimizer.compute_gradients should be a "
                "function when eager execution is enabled."
            )

        with GradientTape() as tape:
            value = loss() if callable(loss) else loss
        if var_list is None:
            var_list = tape.watched_variables()
        var_list = list(var_list)
        grads = tape.gradient(value, var_list, output_gradients=grad_loss)
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """Applies the updates; returns the op (graph mode) that runs them all.

        Raises:
            ValueError: no variable has a gradient.
        """
        pairs = [(g, v) for g, v in grads_and_vars]
        variables = [v for g, v in pairs if g is not None]
        if not variables:
            raise ValueError(
                "No gradients provided for any variable, check your graph for "
                "ops that do not support gradients, between variables "
                f"{[v.name for _, v in pairs]} and loss."
            )
        if current_frontend().eager:  # no names to scope: the updates run now
            self._create_slots(variables)
            self._prepare()
            for g, v in pairs:
                if g is not None:
                    self._apply_one(g, v)
            self._finish((), None)  # e.g. Adam's beta powers
            return None if global_step is None else global_step.assign_add(1)
        with control_flow_ops.name_scope(name or self._name) as scope_name:
            with control_flow_ops.name_scope(None):
                self._create_slots(variables)
            self._prepare()
            updates = []
            for g, v in pairs:
                if g is None:
                    continue
                with control_flow_ops.name_scope("update_" + v.op_name.replace(":", "_")):
                    updates.append(self._apply_one(g, v))
            # With a global step, TF names the group "update" and gives the scope's own
            # name to the step increment, so the two ops never share a name.
            finish = self._finish(
                updates, (scope_name or None) if global_step is None else "update"
            )
            if global_step is None:
                train_op = finish
            else:
                with control_flow_ops.control_dependencies([finish]):
                    train_op = global_step.assign_add(1, name=scope_name or None).op
        if train_op is not None:  # as TF1's apply_gradients does
            train_ops = train_op.graph.get_collection_ref(GraphKeys.TRAIN_OP)
            if train_op not in train_ops:
                train_ops.append(train_op)
        return train_op

    def _apply_one(self, grad, var):
        if isinstance(grad, IndexedSlices):
            return self._apply_sparse(grad, var)
        if not current_frontend().is_tensor(grad):
            grad = array_ops.convert_to_tensor(grad)
        return self._apply_dense(grad, var)

    def minimize(
        self,
        loss,
        global_step=None,
        var_list=None,
        gate_gradients=GATE_OP,
        aggregation_method=None,
        colocate_gradients_with_ops=False,
        name=None,
        grad_loss=None,
    ):
        """compute_gradients + apply_gradients: the training op."""
        gv = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        if not any(g is not None for g, _ in gv):
            raise ValueError(
                "No gradients provided for any variable, check your graph for "
                "ops that do not support gradients, between variables "
                f"{[v.name for _, v in gv]} and loss {loss}."
            )
        return self.apply_gradients(gv, global_step=global_step, name=name)

    # -- hooks for subclasses ---------------------------------------------------------
    def _create_slots(self, var_list):
        pass

    def _prepare(self):
        pass

    def _apply_dense(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} does not implement dense updates")

    def _apply_sparse(self, grad, var):
        raise NotImplementedError(f"{type(self).__name__} does not implement sparse updates")

    def _finish(self, update_ops, name_scope):
        if current_frontend().eager:
            return None
        return control_flow_ops.group(*update_ops, name=name_scope)

    # -- slots ----------------------------------------------------------------------
    def _zeros_slot(self, var, slot_name, op_name):
        return self._get_or_make_slot(
            var, lambda: array_ops.zeros(var.shape.as_list(), var.dtype), slot_name, op_name
        )

    def _get_or_make_slot(self, var, initial, slot_name, op_name):
        named = self._slots.setdefault(slot_name, {})
        if var not in named:
            graph = getattr(var, "graph", None)  # slots live on their variable's device
            with graph.colocate_with(var) if graph is not None else contextlib.nullcontext():
                named[var] = Variable(
                    initial, trainable=False, name=f"{var.op_name}/{op_name}", dtype=var.dtype
                )
        return named[var]

    def get_slot(self, var, name):
        """The slot variable ``name`` created for ``var`` (None if there is none)."""
        return self._slots.get(name, {}).get(var)

    def get_slot_names(self):
        return sorted(self._slots)

    def variables(self):
        return [v for named in self._slots.values() for v in named.values()]
