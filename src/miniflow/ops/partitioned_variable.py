"""`PartitionedVariable`: what ``tf.get_variable(partitioner=...)`` returns in graph mode.

The pieces are ordinary variables ``name/part_0``, ``name/part_1``, ... cut along one
axis (the first pieces take the remainder, as TF does), so a device function such as
``replica_device_setter`` places each piece on its own ps task. It is a list of its
pieces (``embedding_lookup`` looks rows up piece by piece, touching only the pieces
and rows asked for) and converts to the whole value (their concatenation) wherever a
tensor is expected.
"""

from __future__ import annotations

import numpy as np

from miniflow.core.shapes import TensorShape
from miniflow.ops import array_ops

__all__ = ["PartitionedVariable", "SaveSliceInfo", "piece_shapes"]


class SaveSliceInfo:
    """Where a piece lies in its whole variable: the Saver writes the whole under
    ``full_name`` (TF's checkpoint key for a partitioned variable) and restores each
    piece from its slice."""

    def __init__(self, full_name, full_shape, var_offset, var_shape):
        self.full_name = full_name
        self.full_shape = [int(d) for d in full_shape]
        self.var_offset = [int(d) for d in var_offset]
        self.var_shape = [int(d) for d in var_shape]

    @property
    def spec(self) -> str:
        """TF's shape-and-slice string, e.g. ``"6 2 0,3:0,2"``."""
        extents = ":".join(f"{o},{n}" for o, n in zip(self.var_offset, self.var_shape))
        return " ".join(str(d) for d in self.full_shape) + " " + extents

    def index(self) -> tuple:
        return tuple(slice(o, o + n) for o, n in zip(self.var_offset, self.var_shape))


def piece_shapes(shape: list, slicing: list) -> tuple[int, list, list]:
    """(axis, piece shapes, piece offsets along the axis) of cutting ``shape``.

    Raises:
        ValueError: more than one axis is cut, the lengths differ, or an axis is cut
            into more pieces than it has entries.
    """
    axes = [i for i, n in enumerate(slicing) if n > 1]
    if len(slicing) != len(shape):
        raise ValueError(f"partitions {slicing} must have one entry per dimension of {shape}")
    if len(axes) > 1:
        raise ValueError(f"Can only partition a variable along one axis: partitions {slicing}")
    if not axes:
        return 0, [list(shape)], [0]
    axis = axes[0]
    n = slicing[axis]
    if n > shape[axis]:
        raise ValueError(f"Cannot create {n} partitions of an axis of size {shape[axis]}")
    base, extra = divmod(shape[axis], n)
    sizes = [base + (1 if i < extra else 0) for i in range(n)]
    pieces = [[sizes[i] if d == axis else s for d, s in enumerate(shape)] for i in range(n)]
    return axis, pieces, [int(x) for x in np.cumsum([0] + sizes[:-1])]


class PartitionedVariable(list):
    """The pieces of one variable (a list of `Variable`), with the whole's name and shape."""

    def __init__(self, name, shape, dtype, variable_list, partitions):
        super().__init__(variable_list)
        self.name = name
        self._shape = TensorShape(shape)
        self.dtype = variable_list[0].dtype
        self._partitions = list(partitions)

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    @property
    def op_name(self) -> str:
        return self.name

    def _get_variable_list(self) -> list:
        return list(self)

    def _get_partitions(self) -> list:
        return list(self._partitions)

    def as_tensor(self):
        """The whole value: the pieces concatenated along the partitioned axis."""
        axis = next((i for i, n in enumerate(self._partitions) if n > 1), 0)
        if len(self) == 1:
            return array_ops.identity(self[0].value())
        return array_ops.concat([v.value() for v in self], axis, name=f"{self.name}/concat")

    def __tf_tensor__(self):
        return self.as_tensor()

    def __repr__(self):
        return f"<PartitionedVariable '{self.name}' shape={self._shape} parts={len(self)}>"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other
