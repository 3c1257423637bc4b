"""Prints the reference numbers of test_tf_reference.py from real TensorFlow.

TF 2.21 ships no tf.estimator; run this with ``tensorflow-cpu==2.15.*`` and
``tensorflow-estimator==2.15.*`` (tf.compat.v1.estimator, TF1 semantics), e.g. in a
separate venv: ``python tests/estimator/make_tf_reference.py``. With the argument
``miniflow`` it runs the same program on miniflow instead.
"""

from __future__ import annotations

import sys
import tempfile

import numpy as np


def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2)).astype(np.float32)
    labels = (x[:, 0] - x[:, 1] + 0.7 * rng.normal(size=60) > 0).astype(np.int64)
    weights = rng.uniform(0.1, 2.0, 60).astype(np.float32)
    return x, labels, weights


def input_fn(tf, x, labels, batch, **extra):
    return lambda: tf.data.Dataset.from_tensor_slices(({"x": x, **extra}, labels)).batch(batch)


def _show(name, result):
    print(name, {k: float(v) for k, v in sorted(result.items())})


def main(tf):
    x, labels, weights = data()
    cols = [tf.feature_column.numeric_column("x", shape=[2])]
    est = tf.estimator.LinearClassifier(cols, model_dir=tempfile.mkdtemp())
    est.train(input_fn(tf, x, labels, 20), steps=2)
    _show("binary", est.evaluate(input_fn(tf, x, labels, 30)))
    print("logits", [float(p["logits"][0]) for p in est.predict(input_fn(tf, x, labels, 60))][:4])
    y3 = np.digitize(x[:, 0], [-0.5, 0.5]).astype(np.int64)
    est = tf.estimator.LinearClassifier(
        cols, n_classes=3, weight_column="w", model_dir=tempfile.mkdtemp()
    )
    est.train(input_fn(tf, x, y3, 20, w=weights), steps=3)
    _show("multiclass", est.evaluate(input_fn(tf, x, y3, 30, w=weights)))
    y = (x @ np.array([[2.0], [-1.0]]) + 1).astype(np.float32)
    est = tf.estimator.LinearRegressor(cols, model_dir=tempfile.mkdtemp())
    est.train(input_fn(tf, x, y, 20), steps=3)
    _show("regression", est.evaluate(input_fn(tf, x, y, 30)))


if __name__ == "__main__":
    if sys.argv[1:] == ["miniflow"]:
        import miniflow

        main(miniflow)
    else:
        import tensorflow.compat.v1 as tf1

        tf1.disable_eager_execution()
        main(tf1)
