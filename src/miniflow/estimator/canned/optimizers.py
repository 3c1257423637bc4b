"""The optimizer argument of the canned estimators: a name with a default learning
rate, an `Optimizer`, or a callable returning one (built inside each graph)."""

from __future__ import annotations

import miniflow as tf

_NAMES = {
    "Adagrad": tf.train.AdagradOptimizer,
    "Adam": tf.train.AdamOptimizer,
    "Ftrl": tf.train.FtrlOptimizer,
    "RMSProp": tf.train.RMSPropOptimizer,
    "SGD": tf.train.GradientDescentOptimizer,
}


def get_optimizer_instance(opt, learning_rate=None):
    """``opt`` as an `Optimizer`: names (``Adagrad``, ``Adam``, ``Ftrl``, ``RMSProp``,
    ``SGD``) get ``learning_rate``; callables are called.

    Raises:
        ValueError: an unknown name, or an object that is not an optimizer.
    """
    if isinstance(opt, str):
        if opt not in _NAMES:
            raise ValueError(
                f"Unsupported optimizer name: {opt}. Supported names are: {tuple(sorted(_NAMES))}"
            )
        if learning_rate is None:
            raise ValueError("learning_rate must be specified when opt is string.")
        return _NAMES[opt](learning_rate=learning_rate)
    if callable(opt) and not isinstance(opt, tf.train.Optimizer):
        opt = opt()
    if not isinstance(opt, tf.train.Optimizer):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {opt}")
    return opt
