"""tf.estimator.Estimator: train and resume, evaluate, predict, checkpoints, argument
checks. Expected values are computed by hand from the checkpointed weights (TF 2.21
ships no tf.estimator; the semantics followed are TF 1.15's)."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import miniflow as tf
from tests.estimator.helpers import X, Y, eval_input_fn, linear_model_fn, train_input_fn


def _weights(est):
    return est.get_variable_value("w"), est.get_variable_value("b")


def test_learns_y_equals_2x_plus_1(estimator):
    estimator.train(train_input_fn, steps=100)
    w, b = _weights(estimator)
    np.testing.assert_allclose(w, [[2.0]], atol=1e-3)
    np.testing.assert_allclose(b, [1.0], atol=1e-3)


def test_second_train_resumes_from_the_checkpoint_and_max_steps_holds(estimator):
    estimator.train(train_input_fn, steps=7)
    assert estimator.get_variable_value("global_step") == 7
    w7 = estimator.get_variable_value("w")
    estimator.train(train_input_fn, steps=5)
    assert estimator.get_variable_value("global_step") == 12
    assert estimator.latest_checkpoint().endswith("model.ckpt-12")
    assert not np.array_equal(w7, estimator.get_variable_value("w"))
    estimator.train(train_input_fn, max_steps=15)
    assert estimator.get_variable_value("global_step") == 15
    estimator.train(train_input_fn, max_steps=10)  # already past: skipped, nothing saved
    assert estimator.latest_checkpoint().endswith("model.ckpt-15")


def test_resumed_training_equals_one_uninterrupted_run(tmp_path):
    """Training 4 + 6 steps on a deterministic input equals 10 steps in one call."""

    def input_fn():
        return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).repeat().batch(16)

    a = tf.estimator.Estimator(linear_model_fn, str(tmp_path / "a"), params={"lr": 0.1})
    b = tf.estimator.Estimator(linear_model_fn, str(tmp_path / "b"), params={"lr": 0.1})
    a.train(input_fn, steps=10)
    b.train(input_fn, steps=4)
    b.train(input_fn, steps=6)
    # The dataset restarts with each train call: steps 5..10 of b see batches 1..6.
    w = np.zeros((1, 1), np.float32)
    c = np.zeros(1, np.float32)
    for step in range(10):
        i = step if step < 4 else step - 4
        x, y = X[16 * i : 16 * i + 16], Y[16 * i : 16 * i + 16]
        err = x @ w + c - y
        w, c = w - 0.1 * 2 * x.T @ err / len(x), c - 0.1 * 2 * err.mean(0)
    np.testing.assert_allclose(b.get_variable_value("w"), w, rtol=1e-5)
    np.testing.assert_allclose(b.get_variable_value("b"), c, rtol=1e-5)
    assert a.get_variable_value("global_step") == b.get_variable_value("global_step") == 10


def test_training_stops_when_the_input_ends(estimator):
    estimator.train(lambda: eval_input_fn(batch=100))  # 256 rows: 3 batches
    assert estimator.get_variable_value("global_step") == 3


def test_input_fn_may_return_a_features_labels_tuple(estimator):
    estimator.train(lambda: ({"x": tf.constant(X)}, tf.constant(Y)), steps=3)
    assert estimator.get_variable_value("global_step") == 3


def test_checkpoints_and_variable_access(tmp_path):
    config = tf.estimator.RunConfig(save_checkpoints_steps=2, keep_checkpoint_max=2)
    est = tf.estimator.Estimator(linear_model_fn, str(tmp_path), config=config, params={"lr": 0.5})
    with pytest.raises(ValueError, match="Could not find trained model"):
        est.get_variable_names()
    assert est.latest_checkpoint() is None
    est.train(train_input_fn, steps=7)
    assert est.get_variable_names() == ["b", "global_step", "w"]
    kept = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "*.index")))
    assert kept == ["model.ckpt-6.index", "model.ckpt-7.index"]
    assert est.latest_checkpoint() == str(tmp_path / "model.ckpt-7")
    np.testing.assert_array_equal(
        est.get_variable_value("w"), tf.train.load_variable(str(tmp_path), "w")
    )


def test_evaluate_metrics_loss_and_summaries(estimator):
    estimator._params = {"lr": 0.1}
    estimator.train(train_input_fn, steps=3)
    w, b = _weights(estimator)
    pred = X @ w + b
    result = estimator.evaluate(lambda: eval_input_fn(batch=100))  # batches 100, 100, 56
    assert sorted(result) == ["global_step", "loss", "mae"]
    assert result["global_step"] == 3
    batch_mse = [np.mean((pred[i : i + 100] - Y[i : i + 100]) ** 2) for i in (0, 100, 200)]
    # loss: the mean of the batch losses; a metric: over all examples.
    np.testing.assert_allclose(result["loss"], np.mean(batch_mse), rtol=1e-5)
    np.testing.assert_allclose(result["mae"], np.mean(np.abs(pred - Y)), rtol=1e-5)
    assert isinstance(result["loss"], np.float32)
    one = estimator.evaluate(lambda: eval_input_fn(batch=100), steps=1, name="one")
    np.testing.assert_allclose(one["loss"], batch_mse[0], rtol=1e-5)
    tags = {}
    for path in glob.glob(os.path.join(estimator.eval_dir(), "events.*")):
        for event in tf.train.summary_iterator(path):
            for v in event.summary.value:
                tags[v.tag] = (event.step, v.simple_value)
    assert tags["loss"][0] == 3 and tags["mae"][0] == 3
    np.testing.assert_allclose(tags["loss"][1], result["loss"], rtol=1e-6)
    assert glob.glob(os.path.join(estimator.model_dir, "eval_one", "events.*"))


def test_evaluate_without_a_checkpoint_uses_the_initial_values(estimator):
    result = estimator.evaluate(eval_input_fn)
    assert result["global_step"] == 0
    np.testing.assert_allclose(result["mae"], np.mean(np.abs(Y)), rtol=1e-5)


def test_predict_equals_a_session_restored_from_the_checkpoint(estimator):
    estimator.train(train_input_fn, steps=2)
    x = X[:5]
    with tf.Graph().as_default():
        xs = tf.placeholder(tf.float32, [None, 1])
        w = tf.get_variable("w", [1, 1])
        b = tf.get_variable("b", [1])
        with tf.Session() as sess:
            tf.train.Saver([w, b]).restore(sess, estimator.latest_checkpoint())
            want = sess.run(tf.matmul(xs, w) + b, {xs: x})

    def input_fn():
        return tf.data.Dataset.from_tensor_slices({"x": x}).batch(2)

    got = list(estimator.predict(input_fn))
    assert len(got) == 5 and sorted(got[0]) == ["twice", "y"]
    np.testing.assert_allclose([p["y"] for p in got], want, rtol=1e-6)
    only = list(estimator.predict(input_fn, predict_keys=["twice"]))
    assert sorted(only[0]) == ["twice"]
    np.testing.assert_allclose([p["twice"] for p in only], 2 * want, rtol=1e-6)
    batches = list(estimator.predict(input_fn, yield_single_examples=False))
    assert [len(b["y"]) for b in batches] == [2, 2, 1]
    with pytest.raises(ValueError, match="Expected to run at least one output"):
        list(estimator.predict(input_fn, predict_keys=["nope"]))


def test_predict_of_a_single_tensor_yields_rows(tmp_path):
    def model_fn(features, mode):
        return tf.estimator.EstimatorSpec(mode, predictions=features * 3.0)

    est = tf.estimator.Estimator(model_fn, str(tmp_path))
    got = list(
        est.predict(
            lambda: tf.data.Dataset.from_tensor_slices(np.array([1.0, 2.0, 4.0], np.float32)).batch(
                2
            )
        )
    )
    np.testing.assert_allclose(got, [3.0, 6.0, 12.0])
    with pytest.raises(ValueError, match="non-dict predictions"):
        next(est.predict(lambda: tf.constant([1.0]), predict_keys=["a"]))


class _CountingHook(tf.train.SessionRunHook):
    def __init__(self):
        self.runs = 0
        self.ended = False

    def after_run(self, run_context, run_values):
        self.runs += 1

    def end(self, session):
        self.ended = True


class _Listener(tf.train.CheckpointSaverListener):
    def __init__(self):
        self.saved = []

    def after_save(self, session, global_step_value):
        self.saved.append(global_step_value)


def test_train_runs_hooks_and_saving_listeners(tmp_path):
    config = tf.estimator.RunConfig(save_checkpoints_steps=3)
    est = tf.estimator.Estimator(linear_model_fn, str(tmp_path), config=config, params={"lr": 0.5})
    hook, listener = _CountingHook(), _Listener()
    est.train(train_input_fn, hooks=[hook], steps=7, saving_listeners=[listener])
    assert hook.runs == 7 and hook.ended
    assert listener.saved == [0, 3, 6, 7]


def test_saving_listeners_need_a_checkpoint_saver(tmp_path):
    config = tf.estimator.RunConfig(save_checkpoints_secs=None, save_checkpoints_steps=None)
    est = tf.estimator.Estimator(linear_model_fn, str(tmp_path), config=config, params={"lr": 0.5})
    with pytest.raises(ValueError, match="There should be a CheckpointSaverHook"):
        est.train(train_input_fn, steps=1, saving_listeners=[_Listener()])


def test_random_seed_makes_initialization_repeatable(tmp_path):
    def model_fn(features, labels, mode):
        w = tf.get_variable("w", [1, 3])
        loss = tf.reduce_sum(w) * 0.0 + tf.reduce_mean(features)
        return tf.estimator.EstimatorSpec(
            mode, loss=loss, train_op=tf.assign_add(tf.train.get_global_step(), 1)
        )

    values = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        est = tf.estimator.Estimator(
            model_fn, str(tmp_path / name), config=tf.estimator.RunConfig(tf_random_seed=seed)
        )
        est.train(lambda: (tf.constant([1.0]), None), steps=1)
        values.append(est.get_variable_value("w"))
    np.testing.assert_array_equal(values[0], values[1])
    assert not np.array_equal(values[0], values[2])


def test_model_fn_and_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="must include features argument"):
        tf.estimator.Estimator(lambda x, mode: None, str(tmp_path))
    with pytest.raises(ValueError, match="does not include params argument"):
        tf.estimator.Estimator(lambda features, labels, mode: None, str(tmp_path), params={"a": 1})
    with pytest.raises(ValueError, match="config must be an instance of `RunConfig`"):
        tf.estimator.Estimator(linear_model_fn, str(tmp_path), config={})
    with pytest.raises(ValueError, match="set both in constructor and `RunConfig`"):
        tf.estimator.Estimator(
            linear_model_fn,
            str(tmp_path / "a"),
            config=tf.estimator.RunConfig(model_dir=str(tmp_path / "b")),
        )
    est = tf.estimator.Estimator(linear_model_fn, str(tmp_path), params={"lr": 0.1})
    with pytest.raises(ValueError, match="Can not provide both steps and max_steps"):
        est.train(train_input_fn, steps=1, max_steps=2)
    with pytest.raises(ValueError, match="Must specify steps > 0, given: 0"):
        est.train(train_input_fn, steps=0)
    with pytest.raises(ValueError, match="Must specify max_steps > 0, given: -1"):
        est.train(train_input_fn, max_steps=-1)
    with pytest.raises(TypeError, match="All hooks must be SessionRunHook instances"):
        est.train(train_input_fn, hooks=[object()], steps=1)
    with pytest.raises(ValueError, match="input_fn should return"):
        est.train(lambda: (1, 2, 3), steps=1)
    no_labels = tf.estimator.Estimator(lambda features, mode: None, str(tmp_path / "c"))
    with pytest.raises(ValueError, match="model_fn does not take labels"):
        no_labels.train(train_input_fn, steps=1)
    bad = tf.estimator.Estimator(lambda features, labels: {"a": 1}, str(tmp_path / "d"))
    with pytest.raises(ValueError, match="model_fn should return an EstimatorSpec"):
        bad.train(train_input_fn, steps=1)


def test_model_dir_defaults_to_a_temporary_directory():
    est = tf.estimator.Estimator(linear_model_fn, params={"lr": 0.1})
    assert os.path.isdir(est.model_dir)
    assert est.config.model_dir == est.model_dir
    assert est.params == {"lr": 0.1}


def test_inside_eager_mode_the_estimator_still_builds_graphs(tmp_path):
    """As TF's Estimator, each call builds its graph in graph mode; the numbers equal
    those of the same calls made in graph mode."""
    results = []
    for name, mode in (("graph", tf.graph_mode), ("eager", tf.eager_mode)):
        with mode():
            est = tf.estimator.Estimator(linear_model_fn, str(tmp_path / name), params={"lr": 0.1})
            est.train(lambda: eval_input_fn(batch=32), steps=3)
            metrics = est.evaluate(eval_input_fn)
            preds = [
                p["y"]
                for p in est.predict(
                    lambda: tf.data.Dataset.from_tensor_slices({"x": X[:3]}).batch(3)
                )
            ]
            assert tf.executing_eagerly() == (name == "eager")
        results.append((metrics["loss"], metrics["global_step"], preds))
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6)
    assert results[0][:2] == results[1][:2] and results[0][1] == 3


def test_warm_start_initializes_trainable_variables_from_another_model(estimator, tmp_path):
    estimator.train(train_input_fn, steps=4)
    warm = tf.estimator.Estimator(
        linear_model_fn,
        str(tmp_path / "warm"),
        params={"lr": 0.5},
        warm_start_from=estimator.model_dir,
    )
    warm.train(train_input_fn, steps=1)
    start = tf.train.load_variable(str(tmp_path / "warm" / "model.ckpt-0"), "w")
    np.testing.assert_array_equal(start, estimator.get_variable_value("w"))
    assert warm.get_variable_value("global_step") == 1  # the step is not warm-started
