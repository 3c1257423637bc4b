"""Converting values to tensors, TF1's extra entry points: `tf.is_symbolic_tensor`,
`tf.convert_to_tensor_or_indexed_slices`, `tf.convert_to_tensor_or_sparse_tensor`,
`tf.register_tensor_conversion_function`, and `tf.make_tensor_proto` /
`tf.make_ndarray` (a `TensorProto` that serializes to TF's wire format)."""

from __future__ import annotations

import numbers

import numpy as np

from miniflow import dtypes
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.graph.operation import Tensor
from miniflow.ops import array_ops as _arr
from miniflow.ops.parsing_ops import parse_tensor_proto, tensor_proto_bytes
from miniflow.ops.sparse_ops import SparseTensor


def is_symbolic_tensor(tensor):
    """True for a graph tensor (one that has no value until a session runs it)."""
    return isinstance(tensor, Tensor)


def convert_to_tensor_or_indexed_slices(value, dtype=None, name=None):
    """``value`` as is if it is `IndexedSlices`, else as a tensor."""
    if isinstance(value, IndexedSlices):
        if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name}"
                f" for IndexedSlices with dtype {value.dtype.name}"
            )
        return value
    return _arr.convert_to_tensor(value, dtype=dtype, name=name)


def convert_to_tensor_or_sparse_tensor(value, dtype=None, name=None):
    """``value`` as a `SparseTensor` if it is one (or a SparseTensorValue), else as a
    tensor."""
    if isinstance(value, SparseTensor):
        return value
    if type(value).__name__ == "SparseTensorValue":
        return SparseTensor.from_value(value)
    return _arr.convert_to_tensor(value, dtype=dtype, name=name)


_BUILTINS = (numbers.Number, str, bytes, list, tuple, dict, np.ndarray, np.generic)


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """Makes instances of ``base_type`` convertible: wherever miniflow converts one to a
    tensor it calls ``conversion_func(value, dtype=None, name=None, as_ref=False)``.

    Raises:
        TypeError: base_type is a Python or NumPy builtin type, or the function is not
            callable.
    """
    types = base_type if isinstance(base_type, tuple) else (base_type,)
    if not callable(conversion_func):
        raise TypeError("conversion_func must be callable.")
    for t in types:
        if not isinstance(t, type) or issubclass(t, _BUILTINS):
            raise TypeError(
                f"Cannot register conversions for Python numeric types and "
                f"NumPy scalars and arrays: {t}"
            )

        def hook(self, _f=conversion_func):
            return _f(self, dtype=None, name=None, as_ref=False)

        t.__tf_tensor__ = hook


class TensorProto:
    """A tensor's value as TF's ``TensorProto`` (dtype, shape, content)."""

    def __init__(self, array):
        self._array = np.asarray(array)

    @property
    def dtype(self):
        return dtypes.as_dtype(self._array.dtype) if self._array.dtype != object else dtypes.string

    @property
    def tensor_shape(self):
        return list(self._array.shape)

    def SerializeToString(self):  # noqa: N802  protobuf's name
        return tensor_proto_bytes(self._array)

    @classmethod
    def FromString(cls, data):  # noqa: N802  protobuf's name
        return cls(parse_tensor_proto(data))

    def __eq__(self, other):
        return (
            isinstance(other, TensorProto) and self.SerializeToString() == other.SerializeToString()
        )

    def __repr__(self):
        return f"TensorProto(dtype={self.dtype.name}, shape={self.tensor_shape})"


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False, allow_broadcast=False):
    """A `TensorProto` holding ``values`` (cast to ``dtype``, reshaped or filled to
    ``shape``).

    Raises:
        TypeError: ``verify_shape`` and the shape of values differs from ``shape``.
        ValueError: values do not fit ``shape``.
    """
    arr = np.asarray(values)
    if dtype is not None:
        arr = arr.astype(dtypes.as_dtype(dtype).np)
    elif arr.dtype == np.float64 and not isinstance(values, np.ndarray):
        arr = arr.astype(np.float32)
    elif (
        arr.dtype == np.int64
        and not isinstance(values, np.ndarray)
        and (arr.size == 0 or (arr.min() >= -(2**31) and arr.max() < 2**31))
    ):
        arr = arr.astype(np.int32)
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        if verify_shape and arr.shape != shape:
            raise TypeError(f"Expected Tensor's shape: {shape}, got {arr.shape}.")
        if arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        elif arr.size == 1 or allow_broadcast:
            arr = np.broadcast_to(arr, shape).copy()
        else:
            raise ValueError(
                f"Too many elements provided. Takes at most "
                f"{int(np.prod(shape))}, but got {arr.size}."
            )
    return TensorProto(arr)


def make_ndarray(tensor):
    """The NumPy array a `TensorProto` (or its serialized bytes) holds."""
    if isinstance(tensor, bytes | bytearray):
        return parse_tensor_proto(bytes(tensor))
    if isinstance(tensor, TensorProto):
        return tensor._array.copy()
    if hasattr(tensor, "SerializeToString"):
        return parse_tensor_proto(tensor.SerializeToString())
    raise TypeError(f"make_ndarray expects a TensorProto, got {type(tensor).__name__}")
