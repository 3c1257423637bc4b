"""`tf.sets`: set operations along the last axis, returning SparseTensors."""

from miniflow.ops.set_ops import set_difference as difference
from miniflow.ops.set_ops import set_difference as set_difference
from miniflow.ops.set_ops import set_intersection as intersection
from miniflow.ops.set_ops import set_intersection as set_intersection
from miniflow.ops.set_ops import set_size as set_size
from miniflow.ops.set_ops import set_size as size
from miniflow.ops.set_ops import set_union as set_union
from miniflow.ops.set_ops import set_union as union

__all__ = [
    "difference",
    "intersection",
    "set_difference",
    "set_intersection",
    "set_size",
    "set_union",
    "size",
    "union",
]
