"""`tf.contrib`: the parts of TF 1.15's contrib that TF1 programs commonly use: `eager`
(``tfe``), `rnn`, `layers`, `framework` and `metrics`."""

from miniflow.contrib import eager as eager  # noqa: F401
from miniflow.contrib import framework as framework
from miniflow.contrib import layers as layers
from miniflow.contrib import metrics as metrics
from miniflow.contrib import rnn as rnn
