"""`ExponentialMovingAverage`: shadow variables that track ``decay``-weighted averages.

Also the ``ApplyMovingAverage`` op: one shadow's update as a single stateful op, so a ps
task can run it on its own state (``SyncReplicasOptimizer(variable_averages=...)``
sends it as a template: the task averages the variable it just updated).
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.state_ops import _uninitialized
from miniflow.ops.variables import Variable, global_variables, trainable_variables
from miniflow.train.slot_apply import update_op


@update_op("ApplyMovingAverage")
def _apply_moving_average(slot, decay, *num_updates, var=None, slot_vars=()):
    """``shadow -= (shadow - value) * (1 - decay)`` in place; ``slot`` is the shadow,
    ``slot_vars[0]`` the averaged variable. With ``num_updates`` the decay is
    ``min(decay, (1 + n) / (10 + n))``, in float32 as `ExponentialMovingAverage.apply`
    computes it, so both give the same numbers."""
    (source,) = slot_vars
    shadow, value = slot.value, source.value
    if shadow is None:
        raise _uninitialized(var)
    if value is None:
        raise _uninitialized(source)
    d = np.float32(decay)
    if num_updates:
        n = np.float32(num_updates[0])
        d = min(d, (np.float32(1) + n) / (np.float32(10) + n))
    shadow -= (shadow - value) * (1 - np.asarray(d, shadow.dtype))
    return shadow


def assign_moving_average(variable, value, decay, zero_debias=True, name=None):
    """``variable -= (1 - decay) * (variable - value)``; returns the new value.

    With ``zero_debias`` (for averages that start at zero) a biased average and a step
    count are kept beside ``variable``, which is set to ``biased / (1 - decay ** step)``.
    """
    with control_flow_ops.name_scope(name, "AssignMovingAvg"):
        decay = array_ops.cast(decay, variable.dtype)
        if not zero_debias:
            return variable.assign_sub((variable.value() - value) * (1 - decay))
        with get_default_graph().control_dependencies(None), control_flow_ops.name_scope(None):
            biased = Variable(
                array_ops.zeros(variable.shape.as_list(), variable.dtype),
                trainable=False,
                name=f"{variable.op_name}/biased",
            )
            step = Variable(
                array_ops.zeros([], variable.dtype),
                trainable=False,
                name=f"{variable.op_name}/local_step",
            )
        # The write ops' outputs are the new values, so these reads follow the writes.
        new_biased = biased.assign_sub((biased.value() - value) * (1 - decay))
        new_step = step.assign_add(array_ops.ones([], variable.dtype))
        return variable.assign(new_biased / (1 - math_ops.pow(decay, new_step)))


class ExponentialMovingAverage:
    """Keeps moving averages of variables (or tensors) in shadow variables.

    ``apply(var_list)`` creates, for each variable ``v``, a non-trainable shadow named
    ``v.op.name + "/" + name`` that starts at ``v``'s initial value, and returns an op
    that moves every shadow by ``shadow -= (1 - decay) * (shadow - v)``. With
    ``num_updates`` the decay is ``min(decay, (1 + num_updates) / (10 + num_updates))``.

    Args:
        decay: the decay, e.g. 0.999.
        num_updates: optional count of updates (e.g. the global step) that lowers the
            decay early in training.
        zero_debias: debias averages of tensors (which start at zero).
        name: the shadow variables' name suffix and the ops' name prefix.

    Example::

        ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step)
        with tf.control_dependencies([train_op]):
            train_op = ema.apply(tf.trainable_variables())
        avg_w = ema.average(w)
    """

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list=None):
        """Creates the shadows of ``var_list`` (default: the trainable variables) and
        returns the op that updates them all.

        Raises:
            TypeError: an entry is not of a floating dtype.
            ValueError: an average was already computed for an entry.
        """
        if current_frontend().eager:
            raise NotImplementedError("ExponentialMovingAverage needs graph mode")
        var_list = trainable_variables() if var_list is None else list(var_list)
        debiased = self._create_averages(var_list)
        with control_flow_ops.name_scope(self._name) as scope:
            decay = array_ops.convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                n = array_ops.cast(self._num_updates, dtypes.float32, name="num_updates")
                decay = math_ops.minimum(decay, (1.0 + n) / (10.0 + n))
            updates = [
                assign_moving_average(
                    self._averages[v], v, decay, zero_debias=self._averages[v] in debiased
                )
                for v in var_list
            ]
            return control_flow_ops.group(*updates, name=scope or None)

    def _create_averages(self, var_list) -> set:
        """Creates the shadows of ``var_list``; returns those to debias. A variable's
        shadow is colocated with it (as TF's slots: on its ps task under
        ``replica_device_setter``) and starts at its initial value.

        Raises:
            TypeError: an entry is not of a floating dtype.
            ValueError: an average was already computed for an entry.
        """
        graph = get_default_graph()
        debiased = set()
        for var in var_list:
            if var.dtype.base_dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                raise ValueError(f"Moving average already computed for: {var.name}")
            with graph.control_dependencies(None), control_flow_ops.name_scope(None):
                if isinstance(var, Variable):
                    with graph.colocate_with(var):
                        avg = Variable(
                            var.initialized_value,
                            trainable=False,
                            name=f"{var.op_name}/{self._name}",
                            dtype=var.dtype,
                        )
                else:
                    avg = Variable(
                        array_ops.zeros(var.shape.as_list(), var.dtype),
                        trainable=False,
                        dtype=var.dtype,
                        name=f"{var.op.name}/{self._name}",
                    )
                    if self._zero_debias:
                        debiased.add(avg)
            graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
            self._averages[var] = avg
        return debiased

    def _variable_updates(self, var_list) -> list:
        """Creates the shadows of the Variables ``var_list`` and returns one
        ``ApplyMovingAverage`` op per variable (inputs: the decay, then ``num_updates``
        if set). `SyncReplicasOptimizer` sends them to the ps tasks as templates."""
        self._create_averages(var_list)
        with control_flow_ops.name_scope(self._name):
            inputs = [array_ops.convert_to_tensor(self._decay, dtypes.float32, name="decay")]
            if self._num_updates is not None:
                inputs.append(array_ops.convert_to_tensor(self._num_updates, name="num_updates"))
            return [
                apply_op("ApplyMovingAverage", *inputs, var=self._averages[v], slot_vars=(v,)).op
                for v in var_list
            ]

    def average(self, var):
        """The shadow variable of ``var`` (None if ``apply`` did not cover it)."""
        return self._averages.get(var)

    def average_name(self, var):
        """The name of ``var``'s shadow variable (also before ``apply``), as checkpoints
        store it."""
        if var in self._averages:
            return self._averages[var].op_name
        return f"{var.op.name}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None):
        """``{checkpoint name: variable}`` that restores the averages into the variables
        themselves (for evaluation), and every other global variable under its own name.
        """
        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + get_default_graph().get_collection(
                GraphKeys.MOVING_AVERAGE_VARIABLES
            )
        tracked = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in tracked}
        tracked_names = {v.name for v in tracked}
        for v in global_variables():
            if v.name not in tracked_names and v.op_name not in name_map:
                name_map[v.op_name] = v
        return name_map


def moving_average_variables(scope=None):
    """The variables `ExponentialMovingAverage.apply` has averaged (the
    ``MOVING_AVERAGE_VARIABLES`` collection), filtered by a name regex ``scope``."""
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)
