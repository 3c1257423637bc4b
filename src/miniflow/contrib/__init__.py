"""`tf.contrib`: the parts of TF 1.15's contrib that TF1 programs commonly use: `eager`
(``tfe``), `rnn`, `layers`, `framework` and `metrics`."""

from miniflow.contrib import (
    eager as eager,  # noqa: F401
    framework as framework,
    layers as layers,
    metrics as metrics,
    rnn as rnn,
)
