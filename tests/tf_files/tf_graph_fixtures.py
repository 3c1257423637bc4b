"""Helpers of the graph tests (test_graph_*.py): the fixtures written by real
TensorFlow (``fixtures/make_tf_models.py``) and a fresh default graph per test."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import miniflow as tf

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
# The models whose meta graphs miniflow imports (all of them).
IMPORTABLE = ["linear", "mlp", "cnn", "adam", "partitioned", "cond", "lstm"]


def fixture_path(model: str, *parts: str) -> str:
    return os.path.join(FIXTURES, model, *parts)


def inputs(model: str) -> tuple[str, np.ndarray, np.ndarray]:
    """(input tensor name, fixed input, TensorFlow's output ``y``) of a fixture model."""
    io = np.load(fixture_path(model, "io.npz"))
    name = "ids" if model == "partitioned" else "x"
    return f"{name}:0", io[name], io["y"]


def builder(model: str):
    """The fixture's ``build_<model>(tf)`` function (the same program TF ran)."""
    sys.path.insert(0, FIXTURES)
    try:
        import make_tf_models
    finally:
        sys.path.remove(FIXTURES)
    return make_tf_models.MODELS[model][0]


@pytest.fixture
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
