"""`tf.nn.rnn_cell` (also `tf.contrib.rnn`): recurrent cells."""

from miniflow.rnn import BasicLSTMCell as BasicLSTMCell  # noqa: F401
from miniflow.rnn import BasicRNNCell as BasicRNNCell
from miniflow.rnn import DropoutWrapper as DropoutWrapper
from miniflow.rnn import GRUCell as GRUCell
from miniflow.rnn import LSTMCell as LSTMCell
from miniflow.rnn import LSTMStateTuple as LSTMStateTuple
from miniflow.rnn import MultiRNNCell as MultiRNNCell
from miniflow.rnn import RNNCell as RNNCell
from miniflow.rnn import static_rnn as static_rnn

# -- issue 13: leftovers
from miniflow.rnn_residual import ResidualWrapper as ResidualWrapper  # noqa: E402
