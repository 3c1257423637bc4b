"""tf.estimator.inputs.numpy_input_fn and the canned parse-example specs."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def _batches(input_fn):
    with tf.Graph().as_default():
        tensors = input_fn()
        out = []
        with tf.train.MonitoredSession() as sess:
            while not sess.should_stop():
                out.append(sess.run(tensors))
    return out


def test_numpy_input_fn_batches_in_order_with_a_partial_last_batch():
    fn = tf.estimator.inputs.numpy_input_fn(
        {"a": np.arange(5.0), "b": np.arange(5) * 10},
        np.arange(5) + 100,
        batch_size=2,
        num_epochs=2,
        shuffle=False,
    )
    got = _batches(fn)
    assert [len(f["a"]) for f, _ in got] == [2, 2, 2, 2, 2]  # 10 rows over two epochs
    np.testing.assert_array_equal(
        np.concatenate([f["b"] for f, _ in got]), np.tile(np.arange(5) * 10, 2)
    )
    np.testing.assert_array_equal(
        np.concatenate([y for _, y in got]), np.tile(np.arange(5) + 100, 2)
    )
    one = _batches(
        tf.estimator.inputs.numpy_input_fn({"a": np.arange(5.0)}, batch_size=2, shuffle=False)
    )
    assert [list(b["a"]) for b in one] == [[0, 1], [2, 3], [4]]


def test_numpy_input_fn_shuffles_each_row_once_per_epoch_and_takes_arrays():
    fn = tf.estimator.inputs.numpy_input_fn(
        np.arange(20.0), np.arange(20), batch_size=7, shuffle=True
    )
    got = _batches(fn)
    xs = np.concatenate([x for x, _ in got])
    np.testing.assert_array_equal(np.sort(xs), np.arange(20.0))
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), xs.astype(int))


def test_numpy_input_fn_checks():
    with pytest.raises(ValueError, match="shuffle must be provided and explicitly set as boolean"):
        tf.estimator.inputs.numpy_input_fn({"a": np.arange(3)})
    with pytest.raises(ValueError, match="Length of tensors in x and y is mismatched"):
        tf.estimator.inputs.numpy_input_fn({"a": np.arange(3)}, np.arange(4), shuffle=False)
    with pytest.raises(ValueError, match="duplicate keys are found in both x and y"):
        tf.estimator.inputs.numpy_input_fn({"a": np.arange(3)}, {"a": np.arange(3)}, shuffle=False)


def test_numpy_input_fn_trains_an_estimator(tmp_path):
    x = np.linspace(-1, 1, 40).astype(np.float32)
    est = tf.estimator.LinearRegressor(
        [tf.feature_column.numeric_column("x")], model_dir=str(tmp_path)
    )
    est.train(
        tf.estimator.inputs.numpy_input_fn(
            {"x": x}, 3 * x, batch_size=8, num_epochs=2, shuffle=False
        )
    )
    assert est.get_variable_value("global_step") == 10


def test_parse_example_specs_add_the_label_and_weight():
    cols = [tf.feature_column.numeric_column("a", shape=[2])]
    spec = tf.estimator.classifier_parse_example_spec(cols, "y", weight_column="w")
    assert spec["y"] == tf.io.FixedLenFeature((1,), tf.int64)
    assert spec["w"] == tf.io.FixedLenFeature((1,), tf.float32)
    assert spec["a"] == tf.io.FixedLenFeature((2,), tf.float32)
    spec = tf.estimator.regressor_parse_example_spec(cols, "y", label_dimension=3)
    assert spec["y"] == tf.io.FixedLenFeature((3,), tf.float32)
    with pytest.raises(ValueError, match="label should not be used as feature"):
        tf.estimator.classifier_parse_example_spec(cols, "a")
