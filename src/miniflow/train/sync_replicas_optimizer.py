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

With ``variable_averages`` (an `ExponentialMovingAverage`) each averaged variable's
shadow is created colocated with it, and the shadow's update (one ``ApplyMovingAverage``
op) is a template too: the variable's task runs it after the step's updates, so the
shadow moves once per aggregated step towards the updated value, as TF's chief does
after the step. A ``num_updates`` that is the global step counts the step just applied.
"""

from __future__ import annotations

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import control_flow_ops
from miniflow.ops.variables import Variable, trainable_variables
from miniflow.train.moving_averages import ExponentialMovingAverage
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


def _is_slot(opt, var) -> bool:
    return any(var is s for named in opt._slots.values() for s in named.values())


def _is_read_of(value, var) -> bool:
    """Whether ``value`` is ``var`` or its value tensor."""
    if value is var:
        return True
    op = getattr(value, "op", None)
    return getattr(op, "type", None) == "VariableV2" and op.attrs.get("var") is var


class _ChiefQueueRunner:
    """What ``get_chief_queue_runner`` returns. TF's chief runs a thread that takes the
    aggregated gradients, applies them and hands out tokens; here each ps task does that
    when the step's gradients are in, so the runner has no threads to start (a program
    that starts it, by hand or through ``tf.train.add_queue_runner``, still works)."""

    name = "sync_replicas/chief_queue_runner"
    queue = None
    enqueue_ops: list = []
    exceptions_raised: list = []

    def create_threads(self, sess, coord=None, daemon=False, start=False) -> list:
        return []


class _SyncReplicasHook(SessionRunHook):
    """The hook of ``make_session_run_hook``: checks, as TF's, that the train op was
    built, and gets the chief's runner and init tokens (which have nothing to run)."""

    def __init__(self, opt, is_chief: bool, num_tokens: int):
        self._opt, self.is_chief, self._num_tokens = opt, bool(is_chief), num_tokens

    def begin(self):
        if not self._opt._gradients_applied:
            raise ValueError(
                "SyncReplicasOptimizer.apply_gradient should be called before using the hook."
            )
        if self.is_chief:
            self._q_runner = self._opt.get_chief_queue_runner()
            self._init_tokens_op = self._opt.get_init_tokens_op(self._num_tokens)

    def after_create_session(self, session, coord):
        if self.is_chief:
            session.run(self._init_tokens_op)
            self._q_runner.create_threads(session, coord=coord, daemon=True, start=True)


class SyncReplicasOptimizer(Optimizer):
    """Aggregates ``replicas_to_aggregate`` workers' gradients per step before applying.

    Args:
        opt: the optimizer whose update rule is applied (on the ps tasks).
        replicas_to_aggregate: gradients averaged per step.
        total_num_replicas: the workers (default: ``replicas_to_aggregate``); with more
            workers than gradients aggregated, the slowest ones' pushes are dropped.
        variable_averages: an `ExponentialMovingAverage` of ``variables_to_average``
            (default: the trainable variables), moved once per aggregated step after
            the step's update, on the variables' ps tasks.
        variables_to_average: the variables to average (only with ``variable_averages``).

    Raises:
        ValueError: ``replicas_to_aggregate`` or ``total_num_replicas`` below 1.
        TypeError: ``variable_averages`` is not an `ExponentialMovingAverage`.
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
        if variable_averages is not None and not isinstance(
            variable_averages, ExponentialMovingAverage
        ):
            raise TypeError(
                "variable_averages must be a tf.train.ExponentialMovingAverage, got "
                f"{type(variable_averages).__name__}"
            )
        super().__init__(use_locking, name)
        self._variable_averages = variable_averages
        self._variables_to_average = variables_to_average
        self._opt = opt
        self._replicas_to_aggregate = int(replicas_to_aggregate)
        self._total_num_replicas = int(total_num_replicas)
        self._gradients_applied = False

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The sync train op (returns once the step is applied on every ps task).

        Raises:
            ValueError: no gradients, no ``global_step``, or called twice; a variable
                to average already has an average.
            TypeError: a variable to average is not a variable, or not of a float dtype.
            UnimplementedError: the wrapped optimizer updates state other than its
                variables, slots and (by Assign) its own non-slot variables.
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
        # State of the optimizer besides slots (Adam's beta powers): assigned once per
        # aggregated step, from the value the pushing worker computed from the step's state.
        non_slot = {v for v in self._opt.variables() if not _is_slot(self._opt, v)}
        initializers = {v.initializer for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
        templates = []
        for op in graph.get_operations()[before:]:
            if not op.opdef.extra.get("writes") or op in initializers:
                continue
            var = op.attrs.get("var")
            if var in non_slot and op.type == "Assign":
                templates.append(op)
                continue
            if var not in variables or not remote_op_allowed(op.type):
                raise errors.UnimplementedError(
                    None,
                    op,
                    f"SyncReplicasOptimizer: {type(self._opt).__name__} also updates "
                    f"{op.type} op '{op.name}' outside its variables' Apply ops; "
                    "use an optimizer whose state is its slots and Assigns of its own "
                    "variables (GradientDescent, Adagrad, Momentum, RMSProp, Ftrl, Adam, ...)",
                )
            templates.append(op)
        # What the inner optimizer built after its updates (Adam's ``beta * beta_power``)
        # waits for them by control dependencies; the templates never run in the worker,
        # so those edges go (the ps applies a step's Assigns after its Apply ops).
        names = {op.name for op in templates}
        for op in graph.get_operations()[before:]:
            if any(c.name in names for c in op.control_inputs):
                op.control_inputs = tuple(c for c in op.control_inputs if c.name not in names)
        averages, counts_steps = self._average_templates(global_step)
        updates = templates + averages
        inputs = [global_step.value()] + [t for op in updates for t in op.inputs]
        with control_flow_ops.name_scope(name or self._name):
            step = apply_op(
                "SyncReplicasPush",
                *inputs,
                updates=tuple(templates),
                averages=tuple(averages),
                averages_count_steps=counts_steps,
                global_step=global_step,
                replicas_to_aggregate=self._replicas_to_aggregate,
                name="push",
            )
        train_op = step.op
        train_ops.append(train_op)
        return train_op

    def _average_templates(self, global_step) -> tuple[list, bool]:
        """The ``ApplyMovingAverage`` templates of ``variable_averages`` (creating the
        shadows), and whether their ``num_updates`` is the global step (then the ps
        tasks give it the step's value after the step; any other ``num_updates`` is
        evaluated by the pushing worker)."""
        ema = self._variable_averages
        if ema is None:
            return [], False
        var_list = self._variables_to_average
        var_list = trainable_variables() if var_list is None else list(var_list)
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(
                    "SyncReplicasOptimizer averages variables on their ps tasks; "
                    f"variables_to_average holds {v!r}, which is not a tf.Variable"
                )
        with get_default_graph().control_dependencies(None):
            with control_flow_ops.name_scope(None):
                averages = ema._variable_updates(var_list)
        counts_steps = ema._num_updates is not None and _is_read_of(ema._num_updates, global_step)
        return averages, counts_steps

    # -- TF's other methods -----------------------------------------------------------
    def make_session_run_hook(self, is_chief, num_tokens=-1):
        return _SyncReplicasHook(self, is_chief, num_tokens)

    def get_chief_queue_runner(self):
        """The chief's runner, with no threads to start (the ps tasks aggregate).

        Raises:
            ValueError: called before ``apply_gradients`` (as TF).
        """
        if not self._gradients_applied:
            raise ValueError("Should be called after apply_gradients().")
        return _ChiefQueueRunner()

    def get_init_tokens_op(self, num_tokens=-1):
        """A no-op: there is no token queue. A worker's train op returns when its step
        is applied (or its gradient dropped as stale), as a TF worker does once it gets
        the token the chief enqueues after the step; TF's initial tokens, which let a
        worker push again before the first step is applied, have no equivalent.

        Raises:
            ValueError: called before ``apply_gradients``, or fewer tokens than
                ``replicas_to_aggregate - total_num_replicas`` (TF's checks).
        """
        if not self._gradients_applied:
            raise ValueError("get_init_tokens_op() should be called after apply_gradients().")
        needed = self._replicas_to_aggregate - self._total_num_replicas
        if num_tokens != -1 and num_tokens < needed:
            raise ValueError(
                f"Too few tokens to finish the first step: {num_tokens} (given) vs "
                f"{needed} (needed)"
            )
        return control_flow_ops.no_op(name="sync_token_init")

    def get_slot(self, *args, **kwargs):
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._opt.get_slot_names(*args, **kwargs)

    def variables(self):
        return self._opt.variables()
