"""`EagerTensor`: a concrete value (an ndarray) plus its dtype; the tape tracks it by
identity. Python operators are installed by the ops layer, as for the graph `Tensor`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.shapes import TensorShape

_BY_NP: dict = {}
_NEW_SHAPE = TensorShape.__new__
# Called when Python code reads a tensor's value; set while a backward pass is traced,
# since a plan replaying that pass would not see the values of later steps.
VALUE_READ_HOOK = None


def note_value_read() -> None:
    """Tells a tracing gradient plan that Python code looked at a tensor's value."""
    if VALUE_READ_HOOK is not None:
        VALUE_READ_HOOK()


def dtype_of(value) -> dtypes.DType:
    """The `DType` of an ndarray or NumPy scalar (cached per NumPy dtype)."""
    npd = value.dtype
    dt = _BY_NP.get(npd)
    if dt is None:
        dt = _BY_NP[npd] = dtypes.as_dtype(npd)
    return dt


class EagerTensor:
    """The value of an op run eagerly. Immutable; hashes and compares by identity."""

    __slots__ = ("_value", "dtype", "__weakref__")
    __array_priority__ = 100  # numpy defers to our reflected operators

    def __init__(self, value, dtype):
        self._value = value
        self.dtype = dtype

    def numpy(self):
        """The value as a NumPy array (a NumPy scalar for rank 0); a copy."""
        if VALUE_READ_HOOK is not None:
            VALUE_READ_HOOK()
        v = self._value
        return v.copy() if type(v) is np.ndarray and v.ndim else np.asarray(v)[()]

    def __array__(self, dtype=None, copy=None):
        note_value_read()
        return np.asarray(self._value, dtype=dtype)

    @property
    def shape(self) -> TensorShape:
        shape = _NEW_SHAPE(TensorShape)
        shape._dims = self._value.shape  # already a tuple of ints: skip validation
        return shape

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def ndim(self) -> int:
        return np.ndim(self._value)

    @property
    def device(self) -> str:
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    @property
    def name(self):
        raise AttributeError("Tensor.name is meaningless when eager execution is enabled.")

    @property
    def graph(self):
        raise AttributeError("Tensor.graph is meaningless when eager execution is enabled.")

    def set_shape(self, shape) -> None:
        if not self.shape.is_compatible_with(shape):
            raise ValueError(
                f"Tensor's shape {self.shape} is not compatible with supplied "
                f"shape {TensorShape(shape)}"
            )

    def __bool__(self):
        note_value_read()
        return bool(self._value)

    def __float__(self):
        note_value_read()
        return float(self._value)

    def __int__(self):
        note_value_read()
        return int(self._value)

    def __index__(self):
        note_value_read()
        if self.dtype.is_integer and np.ndim(self._value) == 0:
            return int(self._value)
        raise TypeError("Only integer scalar tensors can be used as an index")

    def __len__(self):
        if np.ndim(self._value) == 0:
            raise TypeError("Scalar tensor has no `len()`")
        return len(self._value)

    def __iter__(self):
        note_value_read()
        if np.ndim(self._value) == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(len(self._value)))

    def __format__(self, spec):
        return format(self.numpy(), spec) if spec else str(self)

    def __repr__(self):
        v = np.array2string(np.asarray(self._value), separator=", ")
        return f"<tf.Tensor: id={id(self)}, shape={self.shape}, dtype={self.dtype.name}, numpy={v}>"

    def __str__(self):
        return f"tf.Tensor({np.asarray(self._value)}, shape={self.shape}, dtype={self.dtype.name})"

    __hash__ = object.__hash__


class VariableHandle(EagerTensor):
    """Stands for an eager variable on the tape: its value is the variable's live buffer.

    Only ops that copy what they read (gather) take a handle as input, so nothing that
    outlives the op aliases the buffer that in-place updates change.
    """

    __slots__ = ("slot", "variable")

    def __init__(self, variable):
        self.slot = variable._slot
        self.variable = variable
        self.dtype = variable.dtype

    @property
    def _value(self):
        return self.slot.value
