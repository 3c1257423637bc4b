"""Small stateful ops TF1 programs use for bookkeeping: `tf.count_up_to` (a bounded
counter on a variable), `tf.timestamp` (wall time when the op runs) and
`tf.report_uninitialized_variables`."""

from __future__ import annotations

import time

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.state_ops import _uninitialized, _var_state


@register_op("CountUpTo", infer=lambda i, a: [((), a["var"].dtype)], **_var_state(writes=True))
def _count_up_to(slot, var=None, limit=0):
    value = slot.value
    if value is None:
        raise _uninitialized(slot)
    old = value.copy()
    if old >= limit:
        raise errors.OutOfRangeError(None, None, f"Reached limit of {limit}")
    value[()] = old + 1
    return old


@register_op("Timestamp", infer=lambda i, a: [((), dtypes.float64)])
def _timestamp():
    return np.float64(time.time())


not_differentiable("CountUpTo", "Timestamp")


def count_up_to(ref, limit, name=None):
    """Increments the integer scalar variable ``ref`` until it reaches ``limit``; returns
    the value before the increment (`OutOfRangeError` once the limit is reached).

    Raises:
        TypeError: ref is not an int32/int64 scalar variable.
    """
    if not ref.dtype.is_integer or ref.shape.ndims != 0:
        raise TypeError(
            f"count_up_to needs an int32 or int64 scalar variable, got "
            f"{ref.dtype.name} of shape {ref.shape}"
        )
    return apply_op("CountUpTo", var=ref, limit=int(limit), name=name)


def timestamp(name=None):
    """The time (float64 seconds since the epoch) at which the op runs."""
    return apply_op("Timestamp", name=name)


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    """A 1-D string tensor with the names of the variables of ``var_list`` (default: global
    and local variables) that are not initialized yet."""
    from miniflow.ops import math_ops
    from miniflow.ops.variables import global_variables, local_variables

    if var_list is None:
        var_list = global_variables() + local_variables()
    if current_frontend().eager:
        return _arr.constant(np.zeros((0,), dtype=object), dtype=dtypes.string)
    with name_scope(name):
        names = _arr.constant(
            np.array([v.op_name.encode() for v in var_list] or [b""], dtype=object),
            dtype=dtypes.string,
        )
        if not var_list:
            return _arr.boolean_mask(names, _arr.constant([False]))
        done = _arr.stack([apply_op("IsVariableInitialized", var=v) for v in var_list])
        return _arr.boolean_mask(names, math_ops.logical_not(done))
