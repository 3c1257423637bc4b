"""`tf.mixed_precision.experimental`: the loss-scale classes under their older names."""

from miniflow.train.loss_scale import DynamicLossScale as DynamicLossScale
from miniflow.train.loss_scale import FixedLossScale as FixedLossScale
from miniflow.train.loss_scale import LossScale as LossScale
