"""``tf.train.assert_global_step``: TF's checks that a tensor can be a global step."""

from __future__ import annotations

from miniflow.core.dispatch import is_tensor
from miniflow.ops.variables import Variable


def assert_global_step(global_step_tensor) -> None:
    """Raises unless ``global_step_tensor`` is an integer scalar tensor or variable.
    ``tf.train.assert_global_step(global_step_tensor)``

    Raises:
        TypeError: not a tensor or variable, not of an integer type, or of a known
            non-scalar shape (TF's messages).
    """
    if not (isinstance(global_step_tensor, Variable) or is_tensor(global_step_tensor)):
        raise TypeError(
            f'Existing "global_step" must be a Variable or Tensor: {global_step_tensor}.'
        )
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(
            f'Existing "global_step" does not have integer type: {global_step_tensor.dtype}'
        )
    shape = global_step_tensor.shape
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')
