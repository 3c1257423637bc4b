"""Fixtures of the estimator tests."""

from __future__ import annotations

import pytest

import miniflow as tf
from tests.estimator.helpers import linear_model_fn


@pytest.fixture
def estimator(tmp_path):
    return tf.estimator.Estimator(
        linear_model_fn, model_dir=str(tmp_path / "m"), params={"lr": 0.5}
    )
