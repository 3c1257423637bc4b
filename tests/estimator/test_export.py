"""Estimator.export_saved_model: the SavedModel loads with miniflow's loader and serving
stack and predicts what Estimator.predict does."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from miniflow.serving.servable import load_servable
from tests.estimator.helpers import X, train_input_fn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serving"))
from serving_helpers import ServerProcess


def _example(x):
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=list(map(float, x))))
            }
        )
    ).SerializeToString()


def _raw_receiver():
    with tf.Graph().as_default():
        return tf.estimator.export.build_raw_serving_input_receiver_fn(
            {"x": tf.placeholder(tf.float32, [None, 1], name="x")}
        )


def _predicted(est, x, key):
    return np.array(
        [p[key] for p in est.predict(lambda: tf.data.Dataset.from_tensor_slices({"x": x}).batch(4))]
    )


def test_export_raw_receiver_loads_and_predicts_like_predict(estimator, tmp_path):
    with pytest.raises(ValueError, match="Couldn't find trained model"):
        estimator.export_saved_model(str(tmp_path / "export"), _raw_receiver())
    estimator.train(train_input_fn, steps=3)
    path = estimator.export_saved_model(str(tmp_path / "export"), _raw_receiver())
    assert isinstance(path, bytes)  # as TF returns it
    path = path.decode()
    assert os.path.dirname(path) == str(tmp_path / "export")
    assert os.path.basename(path).isdigit()
    want = _predicted(estimator, X[:6], "y")
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], path)
        sig = meta.signature_def["serving_default"]
        assert sorted(sig.inputs) == ["x"] and sorted(sig.outputs) == ["twice", "y"]
        got = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: X[:6]})
    np.testing.assert_allclose(got, want, rtol=1e-6)
    servable = load_servable(path)
    try:
        out = servable.predict("serving_default", {"x": X[:6]})
    finally:
        servable.close()
    np.testing.assert_allclose(out["twice"], 2 * want, rtol=1e-6)


def test_parsing_receiver_feeds_serialized_examples(estimator, tmp_path):
    estimator.train(train_input_fn, steps=3)
    spec = {"x": tf.io.FixedLenFeature([1], tf.float32)}
    fn = tf.estimator.export.build_parsing_serving_input_receiver_fn(spec)
    path = estimator.export_saved_model(str(tmp_path / "export"), fn).decode()
    runner = tf.saved_model.load_signature_runner(path)
    try:
        assert list(runner.inputs) == ["examples"]
        assert runner.inputs["examples"].name == "input_example_tensor:0"
        out = runner.run({"examples": np.array([_example(x) for x in X[:5]], object)})
    finally:
        runner.close()
    np.testing.assert_allclose(out["y"], _predicted(estimator, X[:5], "y"), rtol=1e-6)


def test_canned_classifier_export_has_tf_signatures(tmp_path):
    cols = [tf.feature_column.numeric_column("x")]
    est = tf.estimator.LinearClassifier(cols, model_dir=str(tmp_path / "m"))
    labels = (X > 0).astype(np.int64)
    est.train(lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, labels)).batch(64))
    fn = tf.estimator.export.build_parsing_serving_input_receiver_fn(
        tf.feature_column.make_parse_example_spec(cols)
    )
    path = est.export_saved_model(str(tmp_path / "export"), fn).decode()
    metas = tf.saved_model.read_saved_model(path)
    sigs = metas[0].signature_def
    assert sorted(sigs) == ["classification", "predict", "regression", "serving_default"]
    assert sigs["serving_default"].method_name == "tensorflow/serving/classify"
    assert sorted(sigs["serving_default"].outputs) == ["classes", "scores"]
    assert sigs["regression"].method_name == "tensorflow/serving/regress"
    runner = tf.saved_model.load_signature_runner(path)
    try:
        out = runner.run({"inputs": np.array([_example(x) for x in X[:4]], object)})
    finally:
        runner.close()
    probs = np.array(
        [
            p["probabilities"]
            for p in est.predict(lambda: tf.data.Dataset.from_tensor_slices({"x": X[:4]}).batch(4))
        ]
    )
    np.testing.assert_allclose(out["scores"], probs, rtol=1e-6)
    assert out["classes"].tolist() == [[b"0", b"1"]] * 4


def test_exported_regressor_is_served_over_http(tmp_path):
    cols = [tf.feature_column.numeric_column("x")]
    est = tf.estimator.LinearRegressor(cols, model_dir=str(tmp_path / "m"))
    est.train(train_input_fn, steps=5)
    est.export_saved_model(str(tmp_path / "serve"), _raw_receiver())
    want = _predicted(est, X[:3], "predictions")
    server = ServerProcess(["--model-dir", str(tmp_path / "serve"), "--name", "lin"])
    try:
        code, body = server.post(
            "/v1/models/lin:predict", {"signature_name": "predict", "instances": X[:3].tolist()}
        )
    finally:
        server.stop()
    assert code == 200, body
    np.testing.assert_allclose(body["predictions"], want, rtol=1e-5)
