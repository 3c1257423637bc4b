"""`tf.nn.rnn_cell` (also `tf.contrib.rnn`): recurrent cells."""

from miniflow.rnn import (
    BasicLSTMCell as BasicLSTMCell,  # noqa: F401
    BasicRNNCell as BasicRNNCell,
    DropoutWrapper as DropoutWrapper,
    GRUCell as GRUCell,
    LSTMCell as LSTMCell,
    LSTMStateTuple as LSTMStateTuple,
    MultiRNNCell as MultiRNNCell,
    RNNCell as RNNCell,
    static_rnn as static_rnn,
)

# -- issue 13: leftovers
from miniflow.rnn_residual import ResidualWrapper as ResidualWrapper
