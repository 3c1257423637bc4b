"""`tf.mixed_precision`: loss scaling (fixed or dynamic) and the optimizer wrapper that
applies it. The automatic float16 graph rewrite needs a GPU and is not supported."""

from miniflow import mixed_precision_experimental as experimental  # noqa: F401
from miniflow.train.loss_scale import (
    DynamicLossScale as DynamicLossScale,
    FixedLossScale as FixedLossScale,
    LossScale as LossScale,
)
from miniflow.train.loss_scale_optimizer import (
    MixedPrecisionLossScaleOptimizer as MixedPrecisionLossScaleOptimizer,
    disable_mixed_precision_graph_rewrite as disable_mixed_precision_graph_rewrite,
)
