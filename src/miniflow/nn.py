"""`tf.nn`: neural-network ops."""

from miniflow.ops.math_ops import relu as relu
from miniflow.ops.math_ops import sigmoid as sigmoid
from miniflow.ops.math_ops import tanh as tanh
