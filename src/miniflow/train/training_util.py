"""The global step: one int64 scalar variable per graph counting training steps."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import init_ops, variable_scope, variables


def get_global_step(graph=None):
    """The graph's global step variable, or None if it has none.

    It is the single entry of the ``GLOBAL_STEP`` collection, else the tensor named
    ``global_step:0``.

    Raises:
        TypeError: the collection holds several variables, or the global step is not an
            integer scalar.
    """
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError(f"Multiple tensors in global_step collection: {found}")
    if found:
        step = found[0]
    else:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except (KeyError, ValueError):
            return None
    if not step.dtype.is_integer or step.shape.as_tuple() not in ((), None):
        raise TypeError(
            f"Existing 'global_step' does not have integer type or is not a scalar: {step!r}"
        )
    return step


def create_global_step(graph=None):
    """Creates the global step (``global_step``, int64, initially 0, not trainable).

    Raises:
        ValueError: the graph already has a global step.
    """
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    if current_frontend().eager:  # as TF: a new variable, found through the collection
        step = variables.Variable(0, dtype=dtypes.int64, trainable=False, name="global_step")
        for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP):
            graph.add_to_collection(key, step)
        return step
    with graph.as_default(), graph.name_scope(None):
        return variable_scope.get_variable(
            "global_step",
            shape=[],
            dtype=dtypes.int64,
            initializer=init_ops.zeros_initializer(),
            trainable=False,
            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP],
        )


def get_or_create_global_step(graph=None):
    """The graph's global step, created first if it does not exist.

    Example::

        step = tf.train.get_or_create_global_step()
        train_op = opt.minimize(loss, global_step=step)
    """
    graph = graph or get_default_graph()
    step = get_global_step(graph)  # not `or`: an eager step's truth value is its value
    return step if step is not None else create_global_step(graph)


def global_step(sess, global_step_tensor):
    """The global step's current value in ``sess`` as a Python int."""
    return int(sess.run(global_step_tensor))
