"""`tf.random`: random tensors, as TF 1.15 exposes them."""

from miniflow.ops.random_ops import random_normal as normal  # noqa: F401
from miniflow.ops.random_ops import random_shuffle as shuffle
from miniflow.ops.random_ops import random_uniform as uniform
from miniflow.ops.random_ops import set_random_seed as set_random_seed
from miniflow.ops.random_ops import set_random_seed as set_seed
from miniflow.ops.random_ops import truncated_normal as truncated_normal
