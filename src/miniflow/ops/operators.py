"""Python operators on tensors and variables, as TF1 defines them (``==`` stays identity).

Importing this module installs them, once, on graph tensors, variables and eager
tensors (as TF's ``math_ops`` overrides ``Tensor`` operators), and gives `tf.dtypes` its
op functions (``cast``, ``saturate_cast``, ...): the classes and modules below the ops
never import them.
"""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.dispatch import binary_operator
from miniflow.eager.tensor import EagerTensor
from miniflow.graph.operation import Tensor
from miniflow.ops import array_ops as a, math_ops as m
from miniflow.ops.complex_ops import complex as _complex
from miniflow.ops.dtype_cast_ops import saturate_cast
from miniflow.ops.string_ops import as_string
from miniflow.ops.variables import Variable

_BINARY = {
    "add": m.add,
    "sub": m.subtract,
    "mul": m.multiply,
    "truediv": m.truediv,
    "floordiv": m.floordiv,
    "mod": m.floormod,
    "pow": m.pow,
    "matmul": m.matmul,
    "and": m.logical_and,
    "or": m.logical_or,
    "xor": m.logical_xor,
}
_COMPARE = {"lt": m.less, "le": m.less_equal, "gt": m.greater, "ge": m.greater_equal}
_UNARY = {"neg": m.negative, "abs": m.abs, "invert": m.logical_not, "pos": lambda x: x}


# Binary operators name their op after the operator ("add", "mul", ...), as TF1 does;
# comparisons keep the op type ("Less").


def _forward(fn, name):
    if hasattr(fn, "op_type"):  # a plain apply_op: skip the function call
        return binary_operator(fn.op_type, name)
    return lambda self, other: fn(self, other, name=name)


def _reflected(fn, name):
    if hasattr(fn, "op_type"):
        return binary_operator(fn.op_type, name, reflected=True)
    return lambda self, other: fn(other, self, name=name)


def install(cls) -> None:
    """Adds TF1's operator overloads to a tensor-like class."""
    for name, fn in _BINARY.items():
        setattr(cls, f"__{name}__", _forward(fn, name))
        setattr(cls, f"__r{name}__", _reflected(fn, name))
    for name, fn in _COMPARE.items():
        setattr(cls, f"__{name}__", _forward(fn, None))
    for name, fn in _UNARY.items():
        setattr(cls, f"__{name}__", lambda self, fn=fn: fn(self))
    cls.__getitem__ = lambda self, key: a.getitem(self, key)
    cls.__div__ = cls.__truediv__


for _cls in (Tensor, Variable, EagerTensor):
    install(_cls)
dtypes.register_functions(
    cast=a.cast, saturate_cast=saturate_cast, complex=_complex, as_string=as_string
)
