"""`tf.mixed_precision.experimental`: the loss-scale classes under their older names."""

from miniflow.train.loss_scale import (
    DynamicLossScale as DynamicLossScale,
    FixedLossScale as FixedLossScale,
    LossScale as LossScale,
)
