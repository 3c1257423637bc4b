"""``tf.train.SyncReplicasOptimizer``: synchronous training across worker replicas.

The wrapped optimizer builds its Apply ops as usual (and its slots, colocated with
their variables on the ps tasks), but they are not run by the worker: they are the
*templates* of one ``SyncReplicasPush`` op, which sends this worker's gradients
(dense, or only the touched rows of sparse ones) with the current global step to
every ps task. A task aggregates ``replicas_to_aggregate`` pushes of the step, applies
each variable's update once with the averaged gradient (the template's kernel, so the
numbers are the single-process optimizer's on the combined batch), bumps the global
step where it lives, and only then answers: the worker's ``sess.run(train_op)``
returns when the step is applied. A push of an older step is dropped (stale), as TF's
conditional accumulators drop it. It needs a session on a ``tf.train.Server`` target.
"""

from __future__ import annotations

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import control_flow_ops
from miniflow.train.optimizer import Optimizer
from miniflow.train.session_run_hook import SessionRunHook
from miniflow.train.variable_store import remote_op_allowed

__all__ = ["SyncReplicasOptimizer"]


@register_op(
    "SyncReplicasPush",
    infer=lambda inputs, attrs: [((), dtypes.int64)],
    stateful=True,
    make_state=lambda attrs: None,
    writes=True,
)
def _sync_push_local(state, *inputs, **attrs):
    raise errors.UnimplementedError(
        None,
        None,
        "SyncReplicasOptimizer's train op runs in a session on a tf.train.Server "
        "target (tf.Session(server.target) or MonitoredTrainingSession(master=...)), "
        "with its variables on ps tasks",
    )


not_differentiable("SyncReplicasPush")


class _SyncReplicasHook(SessionRunHook):
    """The hook of ``make_session_run_hook``: nothing to start (the ps tasks aggregate;
    there is no chief queue runner or token queue)."""

    def __init__(self, is_chief: bool):
        self.is_chief = bool(is_chief)


class SyncReplicasOptimizer(Optimizer):
    """Aggregates ``replicas_to_aggregate`` workers' gradients per step before applying.

    Args:
        opt: the optimizer whose update rule is applied (on the ps tasks).
        replicas_to_aggregate: gradients averaged per step.
        total_num_replicas: the workers (default: ``replicas_to_aggregate``); with more
            workers than gradients aggregated, the slowest ones' pushes are dropped.
        variable_averages, variables_to_average: not supported (must be None).

    Raises:
        ValueError: ``replicas_to_aggregate`` or ``total_num_replicas`` below 1.
    """

    def __init__(
        self,
        opt,
        replicas_to_aggregate,
        total_num_replicas=None,
        variable_averages=None,
        variables_to_average=None,
        use_locking=False,
        name="sync_replicas",
    ):
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        if int(replicas_to_aggregate) < 1 or int(total_num_replicas) < 1:
            raise ValueError(
                f"replicas_to_aggregate ({replicas_to_aggregate}) and total_num_replicas "
                f"({total_num_replicas}) must be at least 1"
            )
        if variable_averages is not None:
            raise errors.UnimplementedError(
                None, None, "SyncReplicasOptimizer(variable_averages=...) is not supported"
            )
        super().__init__(use_locking, name)
        self._opt = opt
        self._replicas_to_aggregate = int(replicas_to_aggregate)
        self._total_num_replicas = int(total_num_replicas)
        self._gradients_applied = False

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The sync train op (returns once the step is applied on every ps task).

        Raises:
            ValueError: no gradients, no ``global_step``, or called twice.
            UnimplementedError: the wrapped optimizer updates state besides its
                variables and slots (e.g. Adam's beta powers).
        """
        grads_and_vars = [(g, v) for g, v in grads_and_vars if g is not None]
        if not grads_and_vars:
            raise ValueError("Must supply at least one variable")
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        if self._gradients_applied:
            raise ValueError("apply_gradients may only be called once per optimizer")
        self._gradients_applied = True
        graph = get_default_graph()
        before = len(graph.get_operations())
        inner = self._opt.apply_gradients(grads_and_vars)
        train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
        if inner in train_ops:  # the templates are never run by themselves
            train_ops.remove(inner)
        variables = {v for _, v in grads_and_vars}
        initializers = {v.initializer for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
        templates = []
        for op in graph.get_operations()[before:]:
            if not op.opdef.extra.get("writes") or op in initializers:
                continue
            if op.attrs.get("var") not in variables or not remote_op_allowed(op.type):
                raise errors.UnimplementedError(
                    None,
                    op,
                    f"SyncReplicasOptimizer: {type(self._opt).__name__} also updates "
                    f"{op.type} op '{op.name}' outside its variables' Apply ops; "
                    "use an optimizer without extra state (GradientDescent, Adagrad, "
                    "Momentum, RMSProp, Ftrl, ProximalAdagrad, ...)",
                )
            templates.append(op)
        inputs = [global_step.value()] + [t for op in templates for t in op.inputs]
        with control_flow_ops.name_scope(name or self._name):
            step = apply_op(
                "SyncReplicasPush",
                *inputs,
                updates=tuple(templates),
                global_step=global_step,
                replicas_to_aggregate=self._replicas_to_aggregate,
                name="push",
            )
        train_op = step.op
        train_ops.append(train_op)
        return train_op

    # -- TF's other methods -----------------------------------------------------------
    def make_session_run_hook(self, is_chief, num_tokens=-1):
        return _SyncReplicasHook(is_chief)

    def get_chief_queue_runner(self):
        """None: there is no chief queue runner (the ps tasks aggregate)."""
        return None

    def get_init_tokens_op(self, num_tokens=-1):
        """A no-op (there is no token queue)."""
        if num_tokens not in (-1,) and num_tokens < 0:
            raise ValueError(f"num_tokens must be -1 or >= 0, got {num_tokens}")
        return control_flow_ops.no_op(name="sync_token_init")

    def get_slot(self, *args, **kwargs):
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._opt.get_slot_names(*args, **kwargs)

    def variables(self):
        return self._opt.variables()
