"""Canned estimators: TF 1.15's defaults (FTRL 0.2 for linear, Adagrad 0.05 for DNN,
0.005/0.001 for wide & deep, SUM loss reduction) checked by one hand-computed step from
the step-0 checkpoint (the same computations agree with TF 2.15's tf.compat.v1 canned
estimators to 1e-7); head metrics against scikit-learn on the same predictions."""

from __future__ import annotations

import glob

import numpy as np
import pytest
from sklearn import metrics as skm

import miniflow as tf

RNG = np.random.default_rng(3)
X2 = RNG.normal(size=(60, 2)).astype(np.float32)
LABELS = (X2[:, 0] - X2[:, 1] + 0.7 * RNG.normal(size=60) > 0).astype(np.int64)
COLS = [tf.feature_column.numeric_column("x", shape=[2])]


def _data(labels=LABELS, batch=60, **extra):
    def input_fn():
        return tf.data.Dataset.from_tensor_slices(({"x": X2, **extra}, labels)).batch(batch)

    return input_fn


def _ckpt(est, step, name):
    return tf.train.load_variable(f"{est.model_dir}/model.ckpt-{step}", name)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _ftrl_step(g, lr, accum0=0.1):
    """One FTRL-proximal step from a zero weight (no regularization)."""
    return -g * lr / np.sqrt(accum0 + g * g)


def _adagrad_step(w, g, lr, accum0=0.1):
    return w - lr * g / np.sqrt(accum0 + g * g)


def test_linear_regressor_one_step_is_ftrl_on_the_summed_loss(tmp_path):
    y = (2 * X2[:, :1] + 1).astype(np.float32)
    est = tf.estimator.LinearRegressor(COLS, model_dir=str(tmp_path))
    est.train(_data(y), steps=1)
    # Zero weights predict 0: the gradients of sum((0 - y)^2).
    g_bias = -2 * y.sum(0)
    g_w = -2 * X2.T @ y
    np.testing.assert_allclose(
        est.get_variable_value("linear/linear_model/bias_weights"),
        _ftrl_step(g_bias, 0.2),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        est.get_variable_value("linear/linear_model/x/weights"), _ftrl_step(g_w, 0.2), rtol=1e-5
    )


def test_linear_regressor_learns_and_reports_regression_metrics(tmp_path):
    y = (X2 @ np.array([[2.0], [-1.0]]) + 1).astype(np.float32)
    est = tf.estimator.LinearRegressor(COLS, model_dir=str(tmp_path))
    est.train(
        lambda: tf.data.Dataset.from_tensor_slices(({"x": X2}, y)).repeat().batch(20), steps=300
    )
    np.testing.assert_allclose(
        est.get_variable_value("linear/linear_model/x/weights"), [[2.0], [-1.0]], atol=0.05
    )
    result = est.evaluate(_data(y, batch=20))
    pred = np.array([p["predictions"] for p in est.predict(_data(y))])
    assert sorted(result) == [
        "average_loss",
        "global_step",
        "label/mean",
        "loss",
        "prediction/mean",
    ]
    np.testing.assert_allclose(result["average_loss"], skm.mean_squared_error(y, pred), rtol=1e-4)
    np.testing.assert_allclose(result["loss"], 20 * result["average_loss"], rtol=1e-4)
    np.testing.assert_allclose(result["prediction/mean"], pred.mean(), rtol=1e-5)
    np.testing.assert_allclose(result["label/mean"], y.mean(), rtol=1e-5)


def _dnn_forward(params, x):
    h = np.maximum(x @ params["dnn/hiddenlayer_0/kernel"] + params["dnn/hiddenlayer_0/bias"], 0)
    return h, h @ params["dnn/logits/kernel"] + params["dnn/logits/bias"]


def _dnn_grads(params, x, dlogits):
    h, _ = _dnn_forward(params, x)
    dh = dlogits @ params["dnn/logits/kernel"].T * (h > 0)
    return {
        "dnn/logits/kernel": h.T @ dlogits,
        "dnn/logits/bias": dlogits.sum(0),
        "dnn/hiddenlayer_0/kernel": x.T @ dh,
        "dnn/hiddenlayer_0/bias": dh.sum(0),
    }


DNN_VARS = [
    "dnn/hiddenlayer_0/kernel",
    "dnn/hiddenlayer_0/bias",
    "dnn/logits/kernel",
    "dnn/logits/bias",
]


def test_dnn_classifier_one_step_is_adagrad_on_the_summed_sigmoid_loss(tmp_path):
    est = tf.estimator.DNNClassifier([3], COLS, model_dir=str(tmp_path))
    est.train(_data(), steps=1)
    before = {n: _ckpt(est, 0, n) for n in DNN_VARS}
    _, logits = _dnn_forward(before, X2)
    grads = _dnn_grads(before, X2, _sigmoid(logits) - LABELS[:, None])
    for name in DNN_VARS:
        np.testing.assert_allclose(
            _ckpt(est, 1, name),
            _adagrad_step(before[name], grads[name], 0.05),
            rtol=1e-4,
            atol=1e-6,
            err_msg=name,
        )


def test_binary_head_metrics_match_sklearn(tmp_path):
    est = tf.estimator.LinearClassifier(COLS, model_dir=str(tmp_path))
    est.train(_data(batch=20), steps=2)
    result = est.evaluate(_data(batch=30))
    preds = list(est.predict(_data()))
    p = np.array([q["logistic"][0] for q in preds])
    cls = np.array([q["class_ids"][0] for q in preds])
    np.testing.assert_array_equal(cls, (np.array([q["logits"][0] for q in preds]) > 0))
    assert [q["classes"][0] for q in preds[:2]] == [str(c).encode() for c in cls[:2]]
    np.testing.assert_allclose(
        [q["probabilities"] for q in preds], np.stack([1 - p, p], 1), rtol=1e-5
    )
    assert sorted(result) == [
        "accuracy",
        "accuracy_baseline",
        "auc",
        "auc_precision_recall",
        "average_loss",
        "global_step",
        "label/mean",
        "loss",
        "precision",
        "prediction/mean",
        "recall",
    ]
    np.testing.assert_allclose(result["accuracy"], skm.accuracy_score(LABELS, cls), rtol=1e-6)
    np.testing.assert_allclose(result["precision"], skm.precision_score(LABELS, cls), rtol=1e-6)
    np.testing.assert_allclose(result["recall"], skm.recall_score(LABELS, cls), rtol=1e-6)
    np.testing.assert_allclose(result["average_loss"], skm.log_loss(LABELS, p), rtol=1e-4)
    # loss: the mean over the two batches of each batch's summed loss.
    np.testing.assert_allclose(result["loss"], 30 * result["average_loss"], rtol=1e-4)
    np.testing.assert_allclose(result["label/mean"], LABELS.mean(), rtol=1e-6)
    np.testing.assert_allclose(
        result["accuracy_baseline"], max(LABELS.mean(), 1 - LABELS.mean()), rtol=1e-6
    )
    np.testing.assert_allclose(result["prediction/mean"], p.mean(), rtol=1e-5)
    # TF's AUC is a 200-threshold Riemann approximation.
    np.testing.assert_allclose(result["auc"], skm.roc_auc_score(LABELS, p), atol=0.01)
    assert 0.5 < result["auc_precision_recall"] <= 1.0


def test_weight_column_weights_loss_and_metrics(tmp_path):
    w = RNG.uniform(0.1, 2.0, 60).astype(np.float32)
    est = tf.estimator.LinearClassifier(COLS, model_dir=str(tmp_path), weight_column="w")
    est.train(_data(w=w), steps=1)
    result = est.evaluate(_data(w=w))
    logits = X2 @ est.get_variable_value("linear/linear_model/x/weights") + est.get_variable_value(
        "linear/linear_model/bias_weights"
    )
    p = _sigmoid(logits[:, 0])
    ce = -(LABELS * np.log(p) + (1 - LABELS) * np.log(1 - p))
    np.testing.assert_allclose(result["loss"], (w * ce).sum(), rtol=1e-4)
    np.testing.assert_allclose(result["average_loss"], (w * ce).sum() / w.sum(), rtol=1e-4)
    np.testing.assert_allclose(
        result["accuracy"], skm.accuracy_score(LABELS, logits[:, 0] > 0, sample_weight=w), rtol=1e-5
    )


def test_multiclass_dnn_classifier(tmp_path):
    y3 = np.digitize(X2[:, 0], [-0.5, 0.5]).astype(np.int64)
    est = tf.estimator.DNNClassifier(
        [8], COLS, n_classes=3, model_dir=str(tmp_path), optimizer="Adam"
    )
    est.train(
        lambda: tf.data.Dataset.from_tensor_slices(({"x": X2}, y3)).repeat().batch(30), steps=5
    )
    result = est.evaluate(_data(y3))
    assert sorted(result) == ["accuracy", "average_loss", "global_step", "loss"]
    preds = list(est.predict(_data(y3)))
    assert sorted(preds[0]) == [
        "all_class_ids",
        "all_classes",
        "class_ids",
        "classes",
        "logits",
        "probabilities",
    ]
    probs = np.array([q["probabilities"] for q in preds])
    np.testing.assert_allclose(result["average_loss"], skm.log_loss(y3, probs), rtol=1e-4)
    np.testing.assert_allclose(
        result["accuracy"], skm.accuracy_score(y3, probs.argmax(1)), rtol=1e-6
    )
    assert preds[0]["all_classes"].tolist() == [b"0", b"1", b"2"]
    assert "dnn/logits/kernel/Adam" in est.get_variable_names()
    with pytest.raises(tf.errors.InvalidArgumentError, match="n_classes"):
        est.train(_data(np.full(60, 3, np.int64)), steps=1)


def test_label_vocabulary(tmp_path):
    words = np.array([b"yes" if v else b"no" for v in LABELS], object)
    est = tf.estimator.LinearClassifier(
        COLS, model_dir=str(tmp_path), label_vocabulary=["no", "yes"]
    )
    est.train(_data(words), steps=3)
    preds = list(est.predict(_data()))
    assert {q["classes"][0] for q in preds} <= {b"no", b"yes"}
    assert preds[0]["classes"][0] == (b"yes" if preds[0]["class_ids"][0] else b"no")
    assert est.evaluate(_data(words))["label/mean"] == pytest.approx(LABELS.mean())
    with pytest.raises(tf.errors.InvalidArgumentError):
        est.evaluate(_data(np.array([b"maybe"] * 60, object)))


def test_wide_and_deep_updates_each_part_with_its_optimizer(tmp_path):
    est = tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=COLS,
        dnn_feature_columns=COLS,
        dnn_hidden_units=[3],
        model_dir=str(tmp_path),
    )
    est.train(_data(), steps=1)
    before = {n: _ckpt(est, 0, n) for n in DNN_VARS}
    _, logits = _dnn_forward(before, X2)  # the linear part starts at 0
    dlogits = _sigmoid(logits) - LABELS[:, None]
    grads = _dnn_grads(before, X2, dlogits)
    for name in DNN_VARS:
        np.testing.assert_allclose(
            _ckpt(est, 1, name),
            _adagrad_step(before[name], grads[name], 0.001),
            rtol=1e-4,
            atol=1e-7,
            err_msg=name,
        )
    np.testing.assert_allclose(
        _ckpt(est, 1, "linear/linear_model/bias_weights"),
        _ftrl_step(dlogits.sum(0), 0.005),
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        _ckpt(est, 1, "linear/linear_model/x/weights"), _ftrl_step(X2.T @ dlogits, 0.005), rtol=1e-4
    )
    est.train(lambda: _data()().repeat(), steps=2)
    assert est.get_variable_value("global_step") == 3  # one increment per step


def test_wide_and_deep_regressor_and_dnn_regressor_shapes(tmp_path):
    y = np.stack([X2[:, 0], X2[:, 1] * 2], 1).astype(np.float32)
    for _, est in enumerate(
        [
            tf.estimator.DNNRegressor([4], COLS, label_dimension=2, model_dir=str(tmp_path / "a")),
            tf.estimator.DNNLinearCombinedRegressor(
                linear_feature_columns=COLS,
                dnn_feature_columns=COLS,
                dnn_hidden_units=[4],
                label_dimension=2,
                model_dir=str(tmp_path / "b"),
            ),
        ]
    ):
        est.train(_data(y), steps=2)
        pred = np.array([q["predictions"] for q in est.predict(_data(y))])
        assert pred.shape == (60, 2)
        result = est.evaluate(_data(y))
        np.testing.assert_allclose(result["average_loss"], np.mean((pred - y) ** 2), rtol=1e-4)


def test_canned_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="feature_columns should not be empty"):
        tf.estimator.LinearClassifier([])
    with pytest.raises(ValueError, match="hidden_units"):
        tf.estimator.DNNClassifier([], COLS)
    with pytest.raises(ValueError, match="n_classes must be > 2"):
        tf.estimator.LinearClassifier(COLS, n_classes=1)
    with pytest.raises(ValueError, match="Either linear_feature_columns or dnn_feature"):
        tf.estimator.DNNLinearCombinedClassifier()
    with pytest.raises(ValueError, match="label_vocabulary length"):
        tf.estimator.LinearClassifier(COLS, label_vocabulary=["a"])
    est = tf.estimator.LinearClassifier(COLS, model_dir=str(tmp_path), optimizer="Nope")
    with pytest.raises(ValueError, match="Unsupported optimizer name: Nope"):
        est.train(_data(), steps=1)


def test_wide_and_deep_on_sparse_columns_exports_what_it_predicts(tmp_path):
    """Hash buckets, a cross and embeddings; the parsing export fed serialized Examples
    gives the probabilities `predict` gives."""
    rng = np.random.default_rng(0)
    site = np.array([f"s{i}" for i in rng.integers(0, 20, 100)], object)
    app = np.array([f"a{i}" for i in rng.integers(0, 30, 100)], object)
    hour = rng.integers(0, 24, 100).astype(np.float32)
    clicks = (rng.random(100) < 0.3).astype(np.int64)
    site_c = tf.feature_column.categorical_column_with_hash_bucket("site", 100)
    app_c = tf.feature_column.categorical_column_with_hash_bucket("app", 100)
    hour_c = tf.feature_column.numeric_column("hour")
    wide = [
        site_c,
        app_c,
        tf.feature_column.crossed_column(["site", "app"], 1000),
        tf.feature_column.bucketized_column(hour_c, [6, 12, 18]),
    ]
    deep = [
        tf.feature_column.embedding_column(site_c, 4),
        tf.feature_column.embedding_column(app_c, 4),
        hour_c,
    ]
    est = tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=wide,
        dnn_feature_columns=deep,
        dnn_hidden_units=[8, 4],
        model_dir=str(tmp_path / "m"),
    )
    features = {"site": site, "app": app, "hour": hour}
    est.train(
        lambda: tf.data.Dataset.from_tensor_slices((features, clicks)).repeat().batch(25), steps=5
    )
    assert est.get_variable_value("global_step") == 5
    assert "linear/linear_model/app_X_site/weights" in est.get_variable_names()
    fn = tf.estimator.export.build_parsing_serving_input_receiver_fn(
        tf.feature_column.make_parse_example_spec(wide + deep)
    )
    path = est.export_saved_model(str(tmp_path / "export"), fn).decode()

    def example(i):
        return tf.train.Example(
            features=tf.train.Features(
                feature={
                    "site": tf.train.Feature(
                        bytes_list=tf.train.BytesList(value=[site[i].encode()])
                    ),
                    "app": tf.train.Feature(bytes_list=tf.train.BytesList(value=[app[i].encode()])),
                    "hour": tf.train.Feature(float_list=tf.train.FloatList(value=[hour[i]])),
                }
            )
        ).SerializeToString()

    runner = tf.saved_model.load_signature_runner(path, signature_key="predict")
    try:
        out = runner.run({"examples": np.array([example(i) for i in range(6)], object)})
    finally:
        runner.close()
    want = [
        q["logistic"]
        for q in est.predict(
            lambda: tf.data.Dataset.from_tensor_slices(
                {k: v[:6] for k, v in features.items()}
            ).batch(6)
        )
    ]
    np.testing.assert_allclose(out["logistic"], want, rtol=1e-5)


def test_dnn_training_summaries_have_tf_tags(tmp_path):
    """The tag set TF 2.15's tf.compat.v1 DNNClassifier writes for this run."""
    est = tf.estimator.DNNClassifier(
        [3], COLS, model_dir=str(tmp_path), config=tf.estimator.RunConfig(save_summary_steps=1)
    )
    est.train(lambda: _data()().repeat(), steps=2)
    tags = set()
    for path in glob.glob(str(tmp_path / "events.*")):
        for event in tf.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    assert sorted(tags) == [
        "average_loss",
        "dnn/dnn/hiddenlayer_0/activation",
        "dnn/dnn/hiddenlayer_0/fraction_of_zero_values",
        "dnn/dnn/logits/activation",
        "dnn/dnn/logits/fraction_of_zero_values",
        "loss",
    ]
