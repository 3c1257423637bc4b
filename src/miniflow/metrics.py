"""`tf.metrics`: streaming (value, update_op) metrics over local variables."""

from miniflow.ops.metrics_impl import accuracy as accuracy  # noqa: F401
from miniflow.ops.metrics_impl import auc as auc
from miniflow.ops.metrics_impl import mean as mean
from miniflow.ops.metrics_impl import precision as precision
from miniflow.ops.metrics_impl import recall as recall
