"""Each tf.data test starts from an empty default graph."""

import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
