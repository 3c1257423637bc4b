"""Canned estimators against numbers printed by real TensorFlow (tensorflow-cpu 2.15 +
tensorflow-estimator 2.15, tf.compat.v1.estimator) running make_tf_reference.py: the
linear models start from zero weights, so training is deterministic and miniflow must
reproduce TF's evaluation to float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from tests.estimator.make_tf_reference import data, input_fn

# Printed by `python tests/estimator/make_tf_reference.py` under TF 2.15.
TF_BINARY = {
    "accuracy": 0.8333333134651184,
    "accuracy_baseline": 0.5166666507720947,
    "auc": 0.9810900688171387,
    "auc_precision_recall": 0.976305365562439,
    "average_loss": 0.55126953125,
    "global_step": 2.0,
    "label/mean": 0.4833333194255829,
    "loss": 16.5380859375,
    "precision": 0.7435897588729858,
    "prediction/mean": 0.5397819876670837,
    "recall": 1.0,
}
TF_LOGITS = [1.5706734657287598, 0.4811452627182007, 0.11311544477939606, -0.35222846269607544]
TF_MULTICLASS = {
    "accuracy": 0.762752890586853,
    "average_loss": 0.8210734128952026,
    "global_step": 3.0,
    "loss": 27.681377410888672,
}
TF_REGRESSION = {
    "average_loss": 3.9567694664001465,
    "global_step": 3.0,
    "label/mean": 0.8883309960365295,
    "loss": 118.70308685302734,
    "prediction/mean": 0.3944610059261322,
}
COLS = [tf.feature_column.numeric_column("x", shape=[2])]


def _check(result, want):
    assert sorted(result) == sorted(want)
    for key, value in want.items():
        assert float(result[key]) == pytest.approx(value, rel=2e-6, abs=1e-7), key


def test_linear_classifier_matches_tensorflow(tmp_path):
    x, labels, _ = data()
    est = tf.estimator.LinearClassifier(COLS, model_dir=str(tmp_path))
    est.train(input_fn(tf, x, labels, 20), steps=2)
    _check(est.evaluate(input_fn(tf, x, labels, 30)), TF_BINARY)
    logits = [p["logits"][0] for p in est.predict(input_fn(tf, x, labels, 60))][:4]
    np.testing.assert_allclose(logits, TF_LOGITS, rtol=1e-6)


def test_weighted_multiclass_linear_classifier_matches_tensorflow(tmp_path):
    x, _, weights = data()
    y3 = np.digitize(x[:, 0], [-0.5, 0.5]).astype(np.int64)
    est = tf.estimator.LinearClassifier(
        COLS, n_classes=3, weight_column="w", model_dir=str(tmp_path)
    )
    est.train(input_fn(tf, x, y3, 20, w=weights), steps=3)
    _check(est.evaluate(input_fn(tf, x, y3, 30, w=weights)), TF_MULTICLASS)


def test_linear_regressor_matches_tensorflow(tmp_path):
    x, _, _ = data()
    y = (x @ np.array([[2.0], [-1.0]]) + 1).astype(np.float32)
    est = tf.estimator.LinearRegressor(COLS, model_dir=str(tmp_path))
    est.train(input_fn(tf, x, y, 20), steps=3)
    _check(est.evaluate(input_fn(tf, x, y, 30)), TF_REGRESSION)
