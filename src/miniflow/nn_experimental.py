"""`tf.nn.experimental`: dropout with a stateless seed or a caller-given sampler."""

from miniflow.ops.dropout_ops import (
    general_dropout as general_dropout,
    stateless_dropout as stateless_dropout,
)
