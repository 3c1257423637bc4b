"""TrainSpec / EvalSpec / train_and_evaluate (local mode) and the exporters."""

from __future__ import annotations

import os

import numpy as np
import pytest

import miniflow as tf
from tests.estimator.helpers import X, Y, eval_input_fn, linear_model_fn, train_input_fn


def _receiver():
    with tf.Graph().as_default():
        return tf.estimator.export.build_raw_serving_input_receiver_fn(
            {"x": tf.placeholder(tf.float32, [None, 1], name="x")}
        )


class _EvalCounter(tf.train.SessionRunHook):
    def __init__(self):
        self.sessions = 0

    def after_create_session(self, session, coord):
        self.sessions += 1


def test_specs_check_their_arguments():
    with pytest.raises(TypeError, match="`input_fn` must be callable"):
        tf.estimator.TrainSpec(None)
    with pytest.raises(ValueError, match="Must specify max_steps > 0, given: 0"):
        tf.estimator.TrainSpec(train_input_fn, max_steps=0)
    with pytest.raises(ValueError, match="Must specify steps > 0"):
        tf.estimator.EvalSpec(eval_input_fn, steps=0)
    with pytest.raises(ValueError, match="throttle_secs >= 0"):
        tf.estimator.EvalSpec(eval_input_fn, throttle_secs=-1)
    with pytest.raises(TypeError, match="must be an Exporter"):
        tf.estimator.EvalSpec(eval_input_fn, exporters=[object()])
    e = tf.estimator.FinalExporter("e", _receiver())
    with pytest.raises(ValueError, match="unique names"):
        tf.estimator.EvalSpec(eval_input_fn, exporters=[e, e])
    spec = tf.estimator.EvalSpec(eval_input_fn, exporters=e)
    assert (spec.steps, spec.start_delay_secs, spec.throttle_secs, spec.exporters) == (
        100,
        120,
        600,
        (e,),
    )
    with pytest.raises(TypeError, match="`train_spec` must have type"):
        tf.estimator.train_and_evaluate(None, spec, spec)


def test_train_and_evaluate_evaluates_after_checkpoints_and_exports(tmp_path):
    config = tf.estimator.RunConfig(save_checkpoints_steps=4)
    est = tf.estimator.Estimator(linear_model_fn, str(tmp_path), config=config, params={"lr": 0.1})
    counter = _EvalCounter()
    train = tf.estimator.TrainSpec(train_input_fn, max_steps=10)
    evaluate = tf.estimator.EvalSpec(
        eval_input_fn,
        steps=None,
        hooks=[counter],
        throttle_secs=0,
        exporters=[
            tf.estimator.FinalExporter("final", _receiver()),
            tf.estimator.LatestExporter("latest", _receiver(), exports_to_keep=1),
        ],
    )
    metrics, exports = tf.estimator.train_and_evaluate(est, train, evaluate)
    assert metrics["global_step"] == 10
    assert counter.sessions == 3  # after the checkpoints at steps 4, 8 and 10
    w, b = est.get_variable_value("w"), est.get_variable_value("b")
    np.testing.assert_allclose(metrics["mae"], np.mean(np.abs(X @ w + b - Y)), rtol=1e-5)
    final = os.listdir(tmp_path / "export" / "final")
    latest = os.listdir(tmp_path / "export" / "latest")
    assert len(final) == 1 and len(latest) == 1  # latest keeps only the newest
    assert len(exports) == 2  # the last evaluation's: one per exporter (TF 2.15 agrees)
    assert os.path.basename(exports[0].decode()) in final
    assert os.path.basename(exports[1].decode()) in latest
    # max_steps already reached: training and evaluation are skipped, as in TF.
    assert tf.estimator.train_and_evaluate(est, train, evaluate) == (None, None)


def test_without_max_steps_the_final_exporter_does_not_export(tmp_path):
    """TF 2.15 (tf.compat.v1) returns [None] here and writes no export: "final" means
    reaching max_steps."""
    est = tf.estimator.Estimator(
        linear_model_fn,
        str(tmp_path),
        config=tf.estimator.RunConfig(save_checkpoints_steps=4),
        params={"lr": 0.1},
    )
    metrics, exports = tf.estimator.train_and_evaluate(
        est,
        tf.estimator.TrainSpec(lambda: eval_input_fn(batch=8)),
        tf.estimator.EvalSpec(
            eval_input_fn,
            steps=None,
            throttle_secs=0,
            exporters=[tf.estimator.FinalExporter("final", _receiver())],
        ),
    )
    assert metrics["global_step"] == 32 and exports == [None]
    assert not os.path.exists(tmp_path / "export")
