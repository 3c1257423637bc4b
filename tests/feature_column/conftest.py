"""Every test starts from an empty default graph; ``run`` evaluates a builder of
feature-column outputs in graph mode (a session with variables and tables initialized)
or eagerly, so one test body checks both modes."""

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _value(x):
    if isinstance(x, tf.SparseTensor):
        return tf.SparseTensorValue(
            *(np.asarray(_value(t)) for t in (x.indices, x.values, x.dense_shape))
        )
    return x.numpy() if hasattr(x, "numpy") else x


@pytest.fixture(params=["graph", "eager"])
def run(request):
    """``run(build)``: ``build()`` (a structure of tensors) evaluated in the mode."""

    def evaluate(build):
        if request.param == "eager":
            with tf.eager_mode():
                return _map(build())
        with tf.Graph().as_default():
            out = build()
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                sess.run(tf.tables_initializer())
                return sess.run(out)

    return evaluate


def _map(x):
    if isinstance(x, dict):
        return {k: _map(v) for k, v in x.items()}
    if isinstance(x, list | tuple) and not isinstance(x, tf.SparseTensorValue):
        return type(x)(_map(v) for v in x)
    return _value(x)
