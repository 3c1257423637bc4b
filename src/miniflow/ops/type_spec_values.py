"""`tf.type_spec_from_value` and `tf.NoneTensorSpec`: the TypeSpec describing a value."""

from __future__ import annotations

import numbers

import numpy as np

from miniflow.core.dispatch import current_frontend
from miniflow.ops import array_ops
from miniflow.ops.type_spec import SparseTensorSpec, TensorSpec, TypeSpec


class NoneTensorSpec(TypeSpec):
    """The TypeSpec of None (a missing optional component)."""

    value_type = property(lambda self: type(None))

    def _fields(self):
        return ()

    def __repr__(self):
        return "NoneTensorSpec()"


def type_spec_from_value(value):
    """type_spec_from_value(value): TensorSpec (unnamed) for tensors and anything
    convertible to one, SparseTensorSpec for sparse tensors, NoneTensorSpec for None.

    Raises:
        TypeError: the value has no TypeSpec.
    """
    if value is None:
        return NoneTensorSpec()
    spec = getattr(value, "_type_spec", None)
    if isinstance(spec, TypeSpec):
        return spec
    if type(value).__name__ in ("SparseTensor", "SparseTensorValue") and hasattr(
        value, "dense_shape"
    ):
        return SparseTensorSpec.from_value(value)
    if current_frontend().is_tensor(value):
        return TensorSpec(value.shape, value.dtype)
    try:
        if not isinstance(
            value, numbers.Number | str | bytes | np.ndarray | np.generic | list | tuple
        ):
            raise TypeError(type(value))
        tensor = array_ops.convert_to_tensor(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"Could not build a TypeSpec for {value!r} of unsupported type {type(value)}."
        ) from None
    return TensorSpec(tensor.shape, tensor.dtype)
