"""Ops on variable state: reading a variable and assigning to it (in place).

A variable's value lives in a `Slot` owned by whoever runs the op: a `Session` (one per
variable per session, as in TF1) or the eager variable itself.
"""

from __future__ import annotations

import operator

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops.shape_rules import dims


class Slot:
    """Mutable holder of one variable's current value (None until initialized).

    Kernels get the slot itself (bound once per plan), so they need no variable lookup.
    """

    __slots__ = ("value", "name")

    def __init__(self, name: str = ""):
        self.value = None
        self.name = name


def _var_state(**kw):
    return dict(
        stateful=True,
        make_state=lambda attrs: Slot(attrs["var"].op_name),
        state_key=lambda attrs: attrs["var"],
        **kw,
    )


def _uninitialized(slot_or_var):
    name = getattr(slot_or_var, "op_name", None) or slot_or_var.name
    return errors.FailedPreconditionError(
        None, None, f"Attempting to use uninitialized value {name}"
    )


@register_op("VariableV2", infer=lambda i, a: [(a["shape"], a["dtype"])], **_var_state())
def _read_variable(slot):
    value = slot.value
    if value is None:
        raise _uninitialized(slot)
    # the buffer itself, as TF1's ref variables: an op ordered after an in-place update
    # (by a control dependency) sees the new value
    return value


not_differentiable("VariableV2")


@register_op("InitializedValue", infer=lambda i, a: [(dims(i[0]), i[0].dtype)], **_var_state())
def _initialized_value(slot, initial, var=None):
    return initial if slot.value is None else slot.value


not_differentiable("InitializedValue")


@register_op("IsVariableInitialized", infer=lambda i, a: [((), _bool())], **_var_state())
def _is_initialized(slot, var=None):
    return np.asarray(slot.value is not None)


def _bool():
    from miniflow import dtypes

    return dtypes.bool


def _check_shape(var, value):
    want = var.shape.as_tuple()
    if want is not None and np.shape(value) != want and None not in want:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Assign requires shapes of both tensors to match. lhs shape= "
            f"{list(want)} rhs shape= {list(np.shape(value))} (variable {var.op_name})",
        )


def _assign_infer(inputs, attrs):
    d = dims(inputs[0])
    if attrs.get("validate_shape", True) and d is not None:
        want = attrs["var"].shape.as_tuple()
        if want is not None and (
            len(want) != len(d)
            or any(m is not None and n is not None and m != n for m, n in zip(want, d))
        ):
            raise ValueError(
                f"Shapes {want} and {d} are incompatible (Assign to {attrs['var'].op_name})"
            )
    return [(d, inputs[0].dtype)]


@register_op("Assign", infer=_assign_infer, **_var_state(writes=True))
def _assign(slot, value, var=None, validate_shape=True):
    if validate_shape:
        _check_shape(var, value)
    old = slot.value
    if old is not None and old.shape == np.shape(value):
        # in place, like AssignAdd: reads ordered after this op (control dependencies)
        # see the new value through the variable's buffer
        np.copyto(old, value, casting="unsafe")
    else:
        slot.value = np.array(value, dtype=var.dtype.np, copy=True)
    return slot.value


def _inplace(ufunc, scalar_op):
    def kernel(slot, delta):
        value = slot.value
        if value is None:
            raise _uninitialized(slot)
        if value.ndim:
            ufunc(value, delta, out=value, casting="unsafe")
        else:
            value[()] = scalar_op(value[()], delta)  # same, without 0-d ufunc overhead
        return value

    return kernel


register_op(
    "AssignAdd",
    infer=lambda i, a: [(a["var"].shape.as_tuple(), i[0].dtype)],
    **_var_state(writes=True),
)(_inplace(np.add, operator.add))
register_op(
    "AssignSub",
    infer=lambda i, a: [(a["var"].shape.as_tuple(), i[0].dtype)],
    **_var_state(writes=True),
)(_inplace(np.subtract, operator.sub))
not_differentiable("Assign", "AssignAdd", "AssignSub", "IsVariableInitialized")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Sets variable ``ref`` to ``value``; returns the new value."""
    return ref.assign(
        value, use_locking=use_locking, name=name, validate_shape=validate_shape is not False
    )


def assign_add(ref, value, use_locking=None, name=None):
    """Adds ``value`` to variable ``ref`` in place; returns the new value."""
    return ref.assign_add(value, use_locking=use_locking, name=name)


def assign_sub(ref, value, use_locking=None, name=None):
    """Subtracts ``value`` from variable ``ref`` in place; returns the new value."""
    return ref.assign_sub(value, use_locking=use_locking, name=name)


def is_variable_initialized(variable):
    return apply_op("IsVariableInitialized", var=variable)
