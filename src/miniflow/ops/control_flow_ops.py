"""Grouping and ordering: `tf.group`, `tf.no_op`, `tf.tuple`, `tf.control_dependencies`,
`tf.name_scope`."""

from __future__ import annotations

import builtins
import contextlib

from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops


def no_op(name=None):
    """An op that does nothing (a target for control dependencies)."""
    if current_frontend().eager:
        return None
    return apply_op("NoOp", name=name)


def _as_op(x):
    hook = getattr(x, "initializer", None) if hasattr(x, "_as_graph_element") else None
    if hook is not None and hasattr(x, "assign"):  # a Variable: group its read
        return x.op
    return x if hasattr(x, "control_inputs") else x.op


def group(*inputs, name=None):
    """An op that runs after all ``inputs`` (tensors or ops) have run."""
    if current_frontend().eager:
        return None
    flat = []
    for i in inputs:
        if isinstance(i, list | builtins.tuple):
            flat.extend(i)
        elif i is not None:
            flat.append(i)
    with get_default_graph().control_dependencies([_as_op(i) for i in flat]):
        return apply_op("NoOp", name=name or "group_deps")


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001  TF's public name
    """The same tensors, each available only after all of them have been computed."""
    if current_frontend().eager:
        return list(tensors)
    tensors = list(tensors)
    gate = group(*[t for t in tensors if t is not None], *(control_inputs or []))
    with get_default_graph().control_dependencies([gate]):
        return [None if t is None else array_ops.identity(t) for t in tensors]


def control_dependencies(control_inputs):
    """Ops created in the block run only after ``control_inputs``."""
    if current_frontend().eager:
        return contextlib.nullcontext()
    return get_default_graph().control_dependencies(control_inputs)


_EAGER_SCOPE = contextlib.nullcontext("")  # eager ops have no names


def name_scope(name, default_name=None, values=None):
    """Prefixes the names of ops created in the block with ``name/``."""
    if current_frontend().eager:
        return _EAGER_SCOPE
    return get_default_graph().name_scope(name if name is not None else default_name)
