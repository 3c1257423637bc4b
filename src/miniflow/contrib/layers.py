"""`tf.contrib.layers`: regularizers and initializers, spelled as in TF 1.15."""

from miniflow.layers import flatten as flatten  # noqa: F401
from miniflow.ops.init_ops import variance_scaling_initializer as variance_scaling_initializer
from miniflow.ops.init_ops import xavier_initializer as xavier_initializer
from miniflow.ops.losses_impl import apply_regularization as apply_regularization
from miniflow.ops.losses_impl import l1_l2_regularizer as l1_l2_regularizer
from miniflow.ops.losses_impl import l1_regularizer as l1_regularizer
from miniflow.ops.losses_impl import l2_regularizer as l2_regularizer
from miniflow.ops.losses_impl import sum_regularizer as sum_regularizer

xavier_initializer_conv2d = xavier_initializer
