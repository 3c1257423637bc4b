"""Loss scaling for mixed precision (TF1's ``tf.mixed_precision.LossScale`` family): a
fixed scale, or a dynamic one that grows after ``increment_period`` finite steps and
shrinks (and skips the step) when a gradient is not finite."""

from __future__ import annotations

import abc

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.core.nest import flatten
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.variables import Variable


class LossScale(abc.ABC):
    """Base class: ``loss_scale()`` is the current scale (a float32 scalar tensor) and
    ``update(grads)`` returns ``(update_op, should_apply_gradients)``."""

    def __init__(self):
        self._weights = {}

    @abc.abstractmethod
    def __call__(self):
        """The current loss scale as a scalar float32 tensor."""

    @abc.abstractmethod
    def update(self, grads):
        """Updates the scale from this step's gradients: (update_op, should_apply)."""

    def _add_weight(self, name, initial_value, dtype):
        if name in self._weights:
            raise RuntimeError(f"LossScale already has a weight named {name}")
        if current_frontend().eager:
            var = Variable(initial_value, trainable=False, name=name, dtype=dtype)
        else:
            with get_default_graph().init_scope():
                var = Variable(initial_value, trainable=False, name=name, dtype=dtype)
        self._weights[name] = var
        return var

    def get_config(self):
        """The constructor arguments (``from_config`` rebuilds the loss scale)."""
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class FixedLossScale(LossScale):
    """A loss scale that never changes; every step's gradients are applied."""

    def __init__(self, loss_scale_value):
        super().__init__()
        if not isinstance(loss_scale_value, int | float) or isinstance(loss_scale_value, bool):
            raise ValueError("loss_scale_value must be a Python int or float.")
        if loss_scale_value < 1:
            raise ValueError("loss_scale_value must be at least 1.")
        self._loss_scale_value = float(loss_scale_value)

    def __call__(self):
        return array_ops.convert_to_tensor(self._loss_scale_value, dtype=dtypes.float32)

    def update(self, grads):
        del grads
        return control_flow_ops.no_op(), True

    def __repr__(self):
        return f"FixedLossScale({self._loss_scale_value})"

    def get_config(self):
        return {"loss_scale_value": self._loss_scale_value}


def _is_all_finite(grads):
    finite = [math_ops.reduce_all(math_ops.is_finite(g)) for g in grads if g is not None]
    return math_ops.reduce_all(array_ops.stack(finite)) if finite else array_ops.constant(True)


class DynamicLossScale(LossScale):
    """Multiplies the scale by ``multiplier`` after ``increment_period`` consecutive steps
    with finite gradients (unless the product overflows); divides it by ``multiplier``
    (not below 1) and skips the step when a gradient is inf or NaN."""

    def __init__(self, initial_loss_scale=2**15, increment_period=2000, multiplier=2.0):
        super().__init__()
        self._initial_loss_scale = float(initial_loss_scale)
        self._increment_period = int(increment_period)
        self._multiplier = float(multiplier)
        self._current_loss_scale = self._add_weight(
            "current_loss_scale", self._initial_loss_scale, dtypes.float32
        )
        self._num_good_steps = self._add_weight("good_steps", 0, dtypes.int64)

    @property
    def initial_loss_scale(self):
        return self._initial_loss_scale

    @property
    def increment_period(self):
        return self._increment_period

    @property
    def multiplier(self):
        return self._multiplier

    def __call__(self):
        return self._current_loss_scale.read_value()

    def update(self, grads):
        """Both branches of TF's update as element-wise selects: the same values, and no
        tf.cond is needed around the assignments."""
        is_finite = _is_all_finite(flatten(grads))
        scale, good = self._current_loss_scale.read_value(), self._num_good_steps.read_value()
        grown = scale * self._multiplier
        due = (good + 1) >= self._increment_period
        new_scale = math_ops.where(
            is_finite,
            math_ops.where(math_ops.logical_and(due, math_ops.is_finite(grown)), grown, scale),
            math_ops.maximum(scale / self._multiplier, 1.0),
        )
        zero = array_ops.constant(0, dtypes.int64)
        new_good = math_ops.where(
            math_ops.logical_and(is_finite, math_ops.logical_not(due)), good + 1, zero
        )
        a = self._current_loss_scale.assign(new_scale)
        b = self._num_good_steps.assign(new_good)
        return control_flow_ops.group(a, b), is_finite

    def __repr__(self):
        if current_frontend().eager:
            return (
                f"DynamicLossScale(current_loss_scale="
                f"{float(self._current_loss_scale.numpy())}, num_good_steps="
                f"{int(self._num_good_steps.numpy())}, initial_loss_scale="
                f"{self.initial_loss_scale}, increment_period={self.increment_period}, "
                f"multiplier={self.multiplier})"
            )
        return (
            f"DynamicLossScale(initial_loss_scale={self.initial_loss_scale}, "
            f"increment_period={self.increment_period}, multiplier={self.multiplier})"
        )

    def get_config(self):
        return {
            "initial_loss_scale": self.initial_loss_scale,
            "increment_period": self.increment_period,
            "multiplier": self.multiplier,
        }


def get(identifier):
    """A LossScale from a number (fixed), 'dynamic', a LossScale or None."""
    if isinstance(identifier, int | float) and not isinstance(identifier, bool):
        return FixedLossScale(identifier)
    if identifier == "dynamic":
        return DynamicLossScale()
    if isinstance(identifier, LossScale) or identifier is None:
        return identifier
    raise ValueError(f"Could not interpret loss scale identifier: {identifier}")
