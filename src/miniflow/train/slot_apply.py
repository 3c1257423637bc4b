"""Plumbing shared by the optimizers' in-place Apply ops.

An Apply op is stateful on its variable (``state_key`` is ``attrs["var"]``), so its
kernel receives the variable's `Slot` first. The slot variables it also updates
(accumulators, moments) are named, in order, in the ``slot_vars`` attr; the session
hands the kernel their Slots in its place (a kernel also accepts the Variables
themselves and then uses their eager Slots). Kernels change ``slot.value`` in place, so
a step never copies a variable; sparse kernels touch only the gradient's rows.
"""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.state_ops import Slot, _uninitialized


def _infer(inputs, attrs):
    var = attrs["var"]
    return [(var.shape.as_tuple(), var.dtype)]


def update_op(op_type: str):
    """Registers an in-place Apply kernel ``kernel(slot, *inputs, var, slot_vars, ...)``."""

    def deco(kernel):
        register_op(
            op_type,
            infer=_infer,
            stateful=True,
            make_state=lambda a: Slot(),
            state_key=lambda a: a["var"],
            writes=True,
        )(kernel)
        not_differentiable(op_type)
        return kernel

    return deco


def buffers(slot, var, slot_vars) -> list:
    """The ndarrays of the variable and of its slot variables, in ``slot_vars`` order.

    Raises:
        FailedPreconditionError: the variable or one of its slots is uninitialized.
    """
    out = [slot.value] + [s.value for s in slot_vars]  # Slots, in either mode
    if any(b is None for b in out):
        if out[0] is None:
            raise _uninitialized(var)
        raise errors.FailedPreconditionError(
            None,
            None,
            f"Attempting to use uninitialized value of a slot variable of "
            f"{var.op_name}; run the initializers of the optimizer's variables "
            f"(tf.global_variables_initializer() after minimize()).",
        )
    return out


def unique_rows(values, indices, num_rows: int):
    """``(rows, row_values)`` with duplicate indices summed (TF's unique + segment sum
    before a sparse apply), so each touched row is updated exactly once.

    Raises:
        InvalidArgumentError: an index is outside ``[0, num_rows)``.
    """
    idx = np.asarray(indices).reshape(-1)
    values = np.asarray(values)
    if idx.size == 0:
        return idx, values
    lo, hi = idx.min(), idx.max()
    if lo < 0 or hi >= num_rows:
        bad = int(lo if lo < 0 else hi)
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Index {bad} at offset {int(np.argmax(idx == bad))} in indices is "
            f"out of range [0, {num_rows})",
        )
    rows, inverse = np.unique(idx, return_inverse=True)
    if rows.size == idx.size:
        return idx, values
    summed = np.zeros((rows.size,) + values.shape[1:], dtype=values.dtype)
    np.add.at(summed, inverse.reshape(-1), values)
    return rows, summed


def hyper(value, name):
    """A hyperparameter (number, tensor or zero-argument callable) as a tensor. In eager
    mode a Python number converts once, not at every step."""
    if callable(value):
        value = value()
    kind = type(value)
    if (
        (kind is float or kind is int) and value and value == value and current_frontend().eager
    ):  # (not 0: 0.0 == -0.0; not NaN: NaN != NaN)
        t = _EAGER_NUMBERS.get((kind, value))
        if t is None:
            if len(_EAGER_NUMBERS) >= 256:
                _EAGER_NUMBERS.clear()
            t = _EAGER_NUMBERS[(kind, value)] = array_ops.convert_to_tensor(value)
        return t
    return array_ops.convert_to_tensor(value, name=name)


_EAGER_NUMBERS: dict = {}  # (type, number) -> its (immutable) eager tensor


def like(t, var):
    """``t`` cast to ``var``'s dtype (kernels compute in the variable's precision)."""
    return array_ops.cast(t, var.dtype)


def fill_slot(var, value):
    """An initial value for a slot: ``var``'s shape filled with ``value`` by a `Fill` op
    (not a graph constant the size of the variable, which a large embedding's slots
    would otherwise keep in the graph)."""
    return lambda: array_ops.fill(var.shape.as_list(), np.asarray(value, var.dtype.np))
