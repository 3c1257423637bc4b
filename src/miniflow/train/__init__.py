"""`tf.train`: optimizers (in-place update ops beside each one) and training utilities."""

from miniflow.train.gradient_descent import GradientDescentOptimizer as GradientDescentOptimizer
from miniflow.train.optimizer import Optimizer as Optimizer

__all__ = ["GradientDescentOptimizer", "Optimizer"]
