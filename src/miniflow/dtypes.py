"""TF dtypes (`tf.float32`, ...) and their NumPy counterparts."""

from __future__ import annotations

import numpy as np


class DType:
    """A TensorFlow element type, backed by a NumPy dtype."""

    __slots__ = ("name", "as_numpy_dtype", "_np")

    def __init__(self, name: str, np_type):
        self.name = name
        self.as_numpy_dtype = np_type
        self._np = np.dtype(np_type)

    @property
    def np(self) -> np.dtype:
        return self._np

    @property
    def base_dtype(self) -> DType:
        return self

    @property
    def real_dtype(self) -> DType:
        """float32 for complex64, float64 for complex128, else the dtype itself."""
        if self._np.kind == "c":
            return float32 if self._np.itemsize == 8 else float64
        return self

    @property
    def is_floating(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self._np.kind == "u"

    @property
    def is_bool(self) -> bool:
        return self._np.kind == "b"

    @property
    def is_complex(self) -> bool:
        return self._np.kind == "c"

    @property
    def is_numeric(self) -> bool:
        return self._np.kind in "fiuc" or self.is_quantized

    @property
    def is_quantized(self) -> bool:
        return self.name in _QUANTIZED_NAMES

    @property
    def size(self) -> int:
        """Bytes per element (0 for string, resource and variant, as in TF)."""
        return 0 if self.name in ("string", "resource", "variant") else self._np.itemsize

    @property
    def min(self):
        self._check_range("minimum")
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        self._check_range("maximum")
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def _check_range(self, what):
        if self.is_quantized or not (self.is_floating or self.is_integer or self.is_bool):
            raise TypeError(
                f"Cannot find {what} value of {self} with "
                f"{'quantized type' if self.is_quantized else 'type'} {self}."
            )

    def is_compatible_with(self, other) -> bool:
        return self == as_dtype(other)

    def __eq__(self, other) -> bool:
        if isinstance(other, DType):
            return self.name == other.name
        if other is None:  # np.dtype(None) is float64, but no DType equals None
            return False
        try:
            return self.name == as_dtype(other).name
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = DType("float16", np.float16)
half = float16
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
double = float64
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
bool = DType("bool", np.bool_)  # noqa: A001  TF's public name
string = DType("string", np.object_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)
uint32 = DType("uint32", np.uint32)
uint64 = DType("uint64", np.uint64)
# Quantized types: as in TF, their NumPy type is a one-field structured dtype over the
# integer storage (``[('qint8', 'i1')]``); few ops accept them.
qint8 = DType("qint8", np.dtype([("qint8", np.int8)]))
qint16 = DType("qint16", np.dtype([("qint16", np.int16)]))
qint32 = DType("qint32", np.dtype([("qint32", np.int32)]))
quint8 = DType("quint8", np.dtype([("quint8", np.uint8)]))
quint16 = DType("quint16", np.dtype([("quint16", np.uint16)]))
# Handles: miniflow keeps resources and variants as Python objects (TF has no NumPy type).
resource = DType("resource", np.object_)
variant = DType("variant", np.object_)

_QUANTIZED_NAMES = frozenset({"qint8", "qint16", "qint32", "quint8", "quint16"})
QUANTIZED_DTYPES = frozenset({qint8, qint16, qint32, quint8, quint16})

_ALL = [
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    bool,
    string,
    complex64,
    complex128,
    uint32,
    uint64,
    qint8,
    qint16,
    qint32,
    quint8,
    quint16,
    resource,
    variant,
]
_BY_NAME = {d.name: d for d in _ALL}
_BY_NP = {d.np: d for d in _ALL if d.np.kind != "O"}
_BY_NAME.update(half=float16, double=float64, float=float32)


def as_dtype(value) -> DType:
    """Converts a DType, NumPy dtype, Python type or name to a `DType`.

    Raises:
        TypeError: the value names no supported dtype.
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is str or value is bytes:
        return string
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a miniflow DType") from None
    if npd.kind in "OSU":
        return string
    if npd in _BY_NP:
        return _BY_NP[npd]
    raise TypeError(f"Cannot convert {value!r} to a miniflow DType")


def from_value(value) -> DType:
    """The dtype TF gives a Python or NumPy value: floats -> float32, ints -> int32."""
    if isinstance(value, np.ndarray | np.generic):
        return as_dtype(value.dtype)
    if isinstance(value, builtins_bool):
        return bool
    if isinstance(value, int):
        return int32 if -(2**31) <= value < 2**31 else int64
    if isinstance(value, float):
        return float32
    if isinstance(value, str | bytes):
        return string
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return float32
    if arr.dtype.kind in "iu":
        return int32 if arr.size == 0 or (arr.min() >= -(2**31) and arr.max() < 2**31) else int64
    return as_dtype(arr.dtype)


def register_functions(**functions) -> None:
    """Adds tf.dtypes' op functions (``cast``, ``saturate_cast``, ...): they are defined in
    miniflow.ops, above this leaf module, so the public namespace registers them here."""
    globals().update(functions)
    __all__.extend(sorted(set(functions) - set(__all__)))


import builtins as _builtins  # noqa: E402

builtins_bool = _builtins.bool

__all__ = (
    ["DType", "QUANTIZED_DTYPES", "as_dtype", "from_value"]
    + [d.name for d in _ALL]
    + ["half", "double"]
)
