"""Fixtures for the functional tests: a fresh default graph per test, and ``run`` that
builds a function's ops and returns their values in graph mode or in eager mode (the
test is parametrized over both)."""

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.nest import flatten, pack


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _values(out):
    return pack(out, iter([np.asarray(v) if v is not None else None for v in flatten(out)]))


@pytest.fixture(params=["graph", "eager"])
def run(request):
    """``run(build)``: the values of ``build()``'s (nested) tensors, in the mode of the
    parameter."""

    def runner(build):
        if request.param == "eager":
            with tf.eager_mode():
                return _values(build())
        with tf.Graph().as_default():
            out = build()
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                return sess.run(out)

    runner.mode = request.param
    return runner
