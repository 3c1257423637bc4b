"""`tf.bitwise`: element-wise bit operations on integer tensors."""

from miniflow.ops.bitwise_ops import bitwise_and as bitwise_and
from miniflow.ops.bitwise_ops import bitwise_or as bitwise_or
from miniflow.ops.bitwise_ops import bitwise_xor as bitwise_xor
from miniflow.ops.bitwise_ops import invert as invert
from miniflow.ops.bitwise_ops import left_shift as left_shift
from miniflow.ops.bitwise_ops import right_shift as right_shift

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]
