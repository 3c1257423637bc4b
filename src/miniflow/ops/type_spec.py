"""Type specifications: `tf.TypeSpec` and its minimal TF1-visible kinds `tf.TensorSpec`,
`tf.SparseTensorSpec`, `tf.IndexedSlicesSpec`, `tf.TensorArraySpec` (a dtype and a static
shape; used to describe and check values, e.g. a function's signature)."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.shapes import TensorShape


class TypeSpec:
    """The base class: a spec compares equal to another with the same fields."""

    def _fields(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self._fields() == other._fields()

    def __hash__(self):
        return hash((type(self).__name__, repr(self._fields())))

    @property
    def value_type(self):
        raise NotImplementedError


def _shape_key(shape):
    return None if shape.ndims is None else tuple(shape.as_list())


class TensorSpec(TypeSpec):
    """``TensorSpec(shape, dtype=tf.float32, name=None)``."""

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(
            tensor.shape,
            tensor.dtype,
            name if name is not None else getattr(tensor, "op", None) and tensor.op.name,
        )

    @classmethod
    def from_spec(cls, spec, name=None):
        return cls(spec.shape, spec.dtype, name if name is not None else spec.name)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    def _fields(self):
        return (_shape_key(self._shape), self._dtype, self._name)

    def is_compatible_with(self, spec_or_tensor):
        """Same dtype and compatible shapes (a spec, tensor or value)."""
        other = spec_or_tensor
        if not hasattr(other, "dtype") or not hasattr(other, "shape"):
            return False
        return dtypes.as_dtype(other.dtype) == self._dtype and self._shape.is_compatible_with(
            TensorShape(other.shape)
        )

    def most_specific_compatible_type(self, other):
        """The spec both fit: unequal dimensions become unknown.

        Raises:
            ValueError: the dtypes differ.
        """
        if self._dtype != other.dtype:
            raise ValueError(f"No TypeSpec is compatible with both {self} and {other}")
        a, b = self._shape, TensorShape(other.shape)
        if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
            shape = TensorShape(None)
        else:
            shape = TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])
        return TensorSpec(shape, self._dtype)

    def __repr__(self):
        shape = _shape_key(self._shape)
        shape_repr = "<unknown>" if shape is None else repr(shape)
        return f"TensorSpec(shape={shape_repr}, dtype=tf.{self._dtype.name}, name={self._name!r})"


class SparseTensorSpec(TypeSpec):
    """``SparseTensorSpec(shape=None, dtype=tf.float32)``."""

    def __init__(self, shape=None, dtype=dtypes.float32):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)

    @classmethod
    def from_value(cls, value):
        return cls(value.dense_shape.shape if value.shape is None else value.shape, value.dtype)

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    def _fields(self):
        return (_shape_key(self._shape), self._dtype)

    def __repr__(self):
        return f"SparseTensorSpec({self._shape!r}, tf.{self._dtype.name})"


class IndexedSlicesSpec(TypeSpec):
    """``IndexedSlicesSpec(shape=None, dtype=tf.float32, indices_dtype=tf.int64,
    dense_shape_dtype=None, indices_shape=None)``."""

    def __init__(
        self,
        shape=None,
        dtype=dtypes.float32,
        indices_dtype=dtypes.int64,
        dense_shape_dtype=None,
        indices_shape=None,
    ):
        self._shape = TensorShape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._indices_dtype = dtypes.as_dtype(indices_dtype)
        self._dense_shape_dtype = (
            None if dense_shape_dtype is None else dtypes.as_dtype(dense_shape_dtype)
        )
        self._indices_shape = TensorShape(indices_shape if indices_shape is not None else [None])

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    def _fields(self):
        return (
            _shape_key(self._shape),
            self._dtype,
            self._indices_dtype,
            self._dense_shape_dtype,
            _shape_key(self._indices_shape),
        )

    def __repr__(self):
        return (
            f"IndexedSlicesSpec({self._shape}, tf.{self._dtype.name}, "
            f"tf.{self._indices_dtype.name}, {self._dense_shape_dtype}, "
            f"{self._indices_shape})"
        )


class TensorArraySpec(TypeSpec):
    """``TensorArraySpec(element_shape=None, dtype=tf.float32, dynamic_size=False,
    infer_shape=True)``."""

    def __init__(
        self, element_shape=None, dtype=dtypes.float32, dynamic_size=False, infer_shape=True
    ):
        self._element_shape = TensorShape(element_shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = dynamic_size
        self._infer_shape = infer_shape

    @classmethod
    def from_value(cls, value):
        return cls(value.element_shape, value.dtype, value.dynamic_size)

    @property
    def shape(self):
        return TensorShape(None)

    @property
    def dtype(self):
        return self._dtype

    @property
    def element_shape(self):
        return self._element_shape

    def _fields(self):
        return (_shape_key(self._element_shape), self._dtype, self._dynamic_size, self._infer_shape)

    def __repr__(self):
        shape = _shape_key(self._element_shape)
        shape = "None" if shape is None else list(shape)
        return (
            f"TensorArraySpec(TensorShape({shape}), tf.{self._dtype.name}, "
            f"{self._dynamic_size}, {self._infer_shape})"
        )
