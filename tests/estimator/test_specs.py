"""EstimatorSpec, ModeKeys, RunConfig and the export outputs: defaults and checks as in
TF 1.15."""

from __future__ import annotations

import pytest

import miniflow as tf
from miniflow.estimator.export import build_all_signature_defs

MODES = tf.estimator.ModeKeys


def test_mode_keys():
    assert (MODES.TRAIN, MODES.EVAL, MODES.PREDICT) == ("train", "eval", "infer")


def test_estimator_spec_requires_what_each_mode_needs():
    with tf.Graph().as_default():
        loss = tf.constant(1.0)
        with pytest.raises(ValueError, match="Missing train_op"):
            tf.estimator.EstimatorSpec(MODES.TRAIN, loss=loss)
        with pytest.raises(ValueError, match="Missing loss"):
            tf.estimator.EstimatorSpec(MODES.EVAL)
        with pytest.raises(ValueError, match="Missing predictions"):
            tf.estimator.EstimatorSpec(MODES.PREDICT)
        with pytest.raises(ValueError, match="Loss must be scalar"):
            tf.estimator.EstimatorSpec(MODES.EVAL, loss=tf.constant([1.0, 2.0]))
        with pytest.raises(ValueError, match="unrecognized"):
            tf.estimator.EstimatorSpec("fit", loss=loss)
        with pytest.raises(TypeError, match=r"\(metric_value, update_op\) tuples"):
            tf.estimator.EstimatorSpec(MODES.EVAL, loss=loss, eval_metric_ops={"m": loss})
        with pytest.raises(TypeError, match="SessionRunHook"):
            tf.estimator.EstimatorSpec(MODES.EVAL, loss=loss, evaluation_hooks=[object()])
        spec = tf.estimator.EstimatorSpec(MODES.EVAL, loss=loss)
        assert spec.eval_metric_ops == {} and spec.training_hooks == ()
        assert isinstance(spec.scaffold, tf.train.Scaffold)
        with pytest.raises(ValueError, match="cannot be changed"):
            spec._replace(mode=MODES.TRAIN)


def test_predict_spec_gets_a_default_serving_signature():
    with tf.Graph().as_default():
        p = tf.constant([1.0])
        spec = tf.estimator.EstimatorSpec(MODES.PREDICT, predictions={"p": p})
        ((key, out),) = spec.export_outputs.items()
        assert key == "serving_default"
        assert isinstance(out, tf.estimator.export.PredictOutput) and out.outputs == {"p": p}
        reg = tf.estimator.export.RegressionOutput(p)
        spec = tf.estimator.EstimatorSpec(MODES.PREDICT, predictions=p, export_outputs={"r": reg})
        assert spec.export_outputs == {"r": reg, "serving_default": reg}
        with pytest.raises(ValueError, match="none of them are specified as the default"):
            tf.estimator.EstimatorSpec(
                MODES.PREDICT, predictions=p, export_outputs={"a": reg, "b": reg}
            )
        assert tf.estimator.export.PredictOutput(p).outputs == {"output": p}


def test_export_outputs_check_their_tensors_and_receivers():
    with tf.Graph().as_default():
        scores = tf.constant([[0.5, 0.5]])
        classes = tf.constant([["a", "b"]])
        with pytest.raises(ValueError, match="At least one of scores and classes"):
            tf.estimator.export.ClassificationOutput()
        with pytest.raises(ValueError, match="scores must be a float32 Tensor"):
            tf.estimator.export.ClassificationOutput(scores=classes)
        with pytest.raises(ValueError, match="classes must be a string Tensor"):
            tf.estimator.export.ClassificationOutput(classes=scores)
        with pytest.raises(ValueError, match="Regression output value must be a float32"):
            tf.estimator.export.RegressionOutput(classes)
        out = tf.estimator.export.ClassificationOutput(scores=scores, classes=classes)
        examples = tf.placeholder(tf.string, [None])
        sig = out.as_signature_def({"examples": examples})
        assert sig.method_name == "tensorflow/serving/classify"
        assert set(sig.outputs) == {"scores", "classes"}
        with pytest.raises(ValueError, match="Classification input must be a single string"):
            out.as_signature_def({"x": tf.placeholder(tf.float32, [None])})
        # build_all_signature_defs leaves out what cannot take the receiver, as TF does.
        x = tf.placeholder(tf.float32, [None, 1])
        defs = build_all_signature_defs(
            {"x": x},
            {"serving_default": out, "predict": tf.estimator.export.PredictOutput({"s": scores})},
        )
        assert list(defs) == ["predict"]


def test_serving_input_receiver_wraps_single_tensors():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        r = tf.estimator.export.ServingInputReceiver(x, x)
        assert r.features == {"feature": x} and r.receiver_tensors == {"input": x}
        with pytest.raises(ValueError, match="feature must be defined"):
            tf.estimator.export.ServingInputReceiver(None, x)
        with pytest.raises(ValueError, match="keys must be strings"):
            tf.estimator.export.ServingInputReceiver({1: x}, x)
        t = tf.estimator.export.TensorServingInputReceiver(x, {"x": x})
        assert t.features is x


def test_raw_receiver_fn_makes_placeholders_like_the_features():
    with tf.Graph().as_default():
        fn = tf.estimator.export.build_raw_serving_input_receiver_fn(
            {
                "x": tf.placeholder(tf.float32, [8, 3], name="x"),
                "k": tf.placeholder(tf.int64, [8], name="k"),
            },
            default_batch_size=None,
        )
    with tf.Graph().as_default():
        r = fn()
        assert r.receiver_tensors["x"].name == "x:0"
        assert r.receiver_tensors["x"].shape.as_list() == [None, 3]
        assert r.receiver_tensors["k"].dtype == tf.int64
        assert r.features == r.receiver_tensors


def test_run_config_defaults_and_replace():
    c = tf.estimator.RunConfig()
    assert (
        c.model_dir,
        c.tf_random_seed,
        c.save_summary_steps,
        c.save_checkpoints_steps,
        c.save_checkpoints_secs,
        c.keep_checkpoint_max,
        c.log_step_count_steps,
    ) == (None, None, 100, None, 600, 5, 100)
    assert (c.is_chief, c.num_worker_replicas, c.num_ps_replicas, c.task_type) == (
        True,
        1,
        0,
        "worker",
    )
    steps = c.replace(save_checkpoints_steps=10)
    assert (steps.save_checkpoints_steps, steps.save_checkpoints_secs) == (10, None)
    assert c.save_checkpoints_secs == 600  # unchanged
    with pytest.raises(ValueError, match="and `save_checkpoints_secs` cannot be both set"):
        tf.estimator.RunConfig(save_checkpoints_steps=1, save_checkpoints_secs=1)
    with pytest.raises(ValueError, match="Replacing is_chief is not supported"):
        c.replace(is_chief=False)
    with pytest.raises(ValueError, match="log_step_count_steps must be > 0"):
        tf.estimator.RunConfig(log_step_count_steps=0)
    with pytest.raises(ValueError, match="tf_random_seed must be integer"):
        tf.estimator.RunConfig(tf_random_seed=1.5)
