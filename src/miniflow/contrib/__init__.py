"""`tf.contrib`: the small part of TF 1.15's contrib that TF1 programs commonly use."""

from miniflow import rnn_cell as rnn  # noqa: F401
from miniflow.contrib import layers as layers
