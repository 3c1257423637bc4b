"""`tf.metrics`: streaming (value, update_op) pairs over local variables.

`TF_VALUES` are the values TensorFlow (tf.compat.v1, graph mode) gave for the same
program after the same two updates (the data come from ``RandomState(0)``); the other
checks use sklearn or hand-computed values.
"""

import numpy as np
import pytest
from sklearn import metrics as skm

import miniflow as tf

RNG = np.random.RandomState(0)
B1 = dict(
    lab=RNG.randint(0, 2, 20),
    score=RNG.uniform(0, 1, 20).astype(np.float32),
    w=RNG.uniform(0, 2, 20).astype(np.float32),
)
B2 = dict(
    lab=RNG.randint(0, 2, 15),
    score=RNG.uniform(0, 1, 15).astype(np.float32),
    w=RNG.uniform(0, 2, 15).astype(np.float32),
)
B1["score"][:3] = [0.0, 1.0, 0.5]
THR = [0.0, 0.25, 0.5, 0.9]
KP = np.array(
    [
        [0.1, 0.5, 0.2, 0.9, 0.3],
        [0.8, 0.1, 0.7, 0.2, 0.6],
        [0.3, 0.2, 0.1, 0.5, 0.4],
        [0.1, 0.2, 0.9, 0.8, 0.7],
    ],
    np.float32,
)
KL = np.array([[3, 1], [4, 4], [2, 0], [2, 3]])
K1 = np.array([2, 0, 2, 3])
CLASSES = [
    (np.array([0, 1, 2, 3, 1, 1]), np.array([0, 2, 2, 1, 1, 0])),
    (np.array([3, 3, 0]), np.array([3, 0, 0])),
]

TF_VALUES = {  # from TensorFlow 2.21, tf.compat.v1 graph mode
    "auc_ROC_trapezoidal": 0.5263156890869141,
    "aucw_ROC_trapezoidal": 0.5941084027290344,
    "auc_ROC_careful_interpolation": 0.5263156890869141,
    "auc_ROC_minoring": 0.513157844543457,
    "aucw_ROC_minoring": 0.5912020206451416,
    "auc_ROC_majoring": 0.5394736528396606,
    "aucw_ROC_majoring": 0.5970147252082825,
    "auc_PR_trapezoidal": 0.5387656092643738,
    "aucw_PR_trapezoidal": 0.5819262266159058,
    "auc_PR_careful_interpolation": 0.5352377891540527,
    "aucw_PR_careful_interpolation": 0.5829068422317505,
    "auc_PR_minoring": 0.5137158632278442,
    "aucw_PR_minoring": 0.5640209913253784,
    "auc_PR_majoring": 0.5638153553009033,
    "aucw_PR_majoring": 0.5998315811157227,
    "auc_thr": 0.5460525751113892,
    "p_thr": [0.4438053369522095, 0.45086371898651123, 0.4471510648727417, 0.5383973717689514],
    "r_thr": [1.0, 0.8125, 0.5625, 0.1875],
    "true_positives_at_thresholds": [
        15.576473236083984,
        13.07943058013916,
        10.444857597351074,
        3.644805431365967,
    ],
    "false_positives_at_thresholds": [
        19.521059036254883,
        15.930288314819336,
        12.913818359375,
        3.1249256134033203,
    ],
    "true_negatives_at_thresholds": [
        0.5291112065315247,
        4.119880676269531,
        7.136350631713867,
        16.925243377685547,
    ],
    "false_negatives_at_thresholds": [0.0, 2.497042179107666, 5.131615161895752, 11.93166732788086],
    "true_positives": 10.444857597351074,
    "false_positives": 12.913818359375,
    "true_negatives": 7.136350631713867,
    "false_negatives": 5.131615161895752,
    "sens": 0.5,
    "spec": 0.3684210479259491,
    "spec_w": 0.7933751344680786,
    "mre": 0.19084851443767548,
    "mcos": 0.4910479784011841,
    "iou": 0.3958333432674408,
    "iouw": 0.3958333432674408,
    "mpca": 0.6666666865348816,
    "p@1": 0.5,
    "r@1": 0.2857142857142857,
    "ap@1": 0.5,
    "p1@1": 0.5,
    "r1@1": 0.25,
    "rc@1": 0.0,
    "p@2": 0.5625,
    "r@2": 0.6428571428571429,
    "ap@2": 0.5,
    "p1@2": 0.5,
    "r1@2": 0.5,
    "rc@2": 0.5,
    "p@3": 0.4583333333333333,
    "r@3": 0.7857142857142857,
    "ap@3": 0.5416666666666667,
    "p1@3": 0.5,
    "r1@3": 0.5,
    "rc@3": 0.5,
    "ptop": 0.5625,
    "rtop": 0.7142857142857143,
    "apw": 0.6354166666666666,
    "sp": 0.5625,
}
TF_FIRST_UPDATES = {  # the update ops' values after the first batch
    "auc_ROC_trapezoidal": 0.5404039621353149,
    "p@2": 0.5,
    "ap@3": 0.5833333333333334,
    "p_thr": [0.5983476042747498, 0.6016508340835571, 0.6184117794036865, 0.619158148765564],
    "iou": [[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 1, 0], [0, 1, 0, 0]],  # the confusion matrix
    "mpca": [1.0, 0.3333333432674408, 1.0, 0.0],  # per-class accuracies
}


def _build():
    lab = tf.placeholder(tf.int64, [None])
    score = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    cls_l, cls_p = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.int64, [None])
    kl, kp = tf.placeholder(tf.int64, [None, 2]), tf.placeholder(tf.float32, [None, 5])
    k1 = tf.placeholder(tf.int64, [None])
    m = {}
    for curve in ("ROC", "PR"):
        for how in ("trapezoidal", "careful_interpolation", "minoring", "majoring"):
            m[f"auc_{curve}_{how}"] = tf.metrics.auc(
                lab, score, curve=curve, summation_method=how, num_thresholds=50
            )
            m[f"aucw_{curve}_{how}"] = tf.metrics.auc(
                lab, score, weights=w, curve=curve, summation_method=how
            )
    m["auc_thr"] = tf.metrics.auc(lab, score, thresholds=[0.3, 0.1, 0.7])
    m["p_thr"] = tf.metrics.precision_at_thresholds(lab, score, THR, weights=w)
    m["r_thr"] = tf.metrics.recall_at_thresholds(lab, score, THR)
    for k in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
        m[k + "_at_thresholds"] = getattr(tf.metrics, k + "_at_thresholds")(
            lab, score, THR, weights=w
        )
        m[k] = getattr(tf.metrics, k)(lab, score > 0.5, weights=w)
    m["sens"] = tf.metrics.sensitivity_at_specificity(lab, score, 0.6)
    m["spec"] = tf.metrics.specificity_at_sensitivity(lab, score, 0.6, num_thresholds=30)
    m["spec_w"] = tf.metrics.specificity_at_sensitivity(lab, score, 0.4, weights=w)
    labf = tf.cast(lab, tf.float32)
    m["mre"] = tf.metrics.mean_relative_error(labf, score, normalizer=labf)
    m["mcos"] = tf.metrics.mean_cosine_distance(
        tf.stack([score, 1 - score], 1), tf.stack([w, w], 1) / 2, dim=1
    )
    m["iou"] = tf.metrics.mean_iou(cls_l, cls_p, 4)
    m["iouw"] = tf.metrics.mean_iou(cls_l, cls_p, 4, weights=tf.ones_like(cls_l, tf.float32) * 2)
    m["mpca"] = tf.metrics.mean_per_class_accuracy(cls_l, cls_p, 4)
    for k in (1, 2, 3):
        m[f"p@{k}"] = tf.metrics.precision_at_k(kl, kp, k)
        m[f"r@{k}"] = tf.metrics.recall_at_k(kl, kp, k)
        m[f"ap@{k}"] = tf.metrics.average_precision_at_k(kl, kp, k)
        m[f"p1@{k}"] = tf.metrics.precision_at_k(k1, kp, k, class_id=2)
        m[f"r1@{k}"] = tf.metrics.recall_at_k(k1, kp, k, class_id=2)
        m[f"rc@{k}"] = tf.metrics.recall_at_k(kl, kp, k, class_id=1)
    m["ptop"] = tf.metrics.precision_at_top_k(kl, tf.nn.top_k(kp, 2)[1])
    m["rtop"] = tf.metrics.recall_at_top_k(
        kl, tf.nn.top_k(kp, 2)[1], weights=tf.constant([1.0, 2.0, 0.0, 1.0])
    )
    m["apw"] = tf.metrics.average_precision_at_k(
        kl, kp, 3, weights=tf.constant([1.0, 2.0, 0.0, 1.0])
    )
    m["sp"] = tf.metrics.sparse_precision_at_k(kl, kp, 2)
    feeds = [
        {
            lab: b["lab"],
            score: b["score"],
            w: b["w"],
            cls_l: c[0],
            cls_p: c[1],
            kl: labels,
            kp: KP,
            k1: ones,
        }
        for b, c, labels, ones in ((B1, CLASSES[0], KL, K1), (B2, CLASSES[1], KL[::-1], K1[::-1]))
    ]
    return m, feeds


def test_streaming_metrics_match_tensorflow():
    metrics, feeds = _build()
    updates = {k: v[1] for k, v in metrics.items()}
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        first = sess.run(updates, feeds[0])
        last = sess.run(updates, feeds[1])
        values = sess.run({k: v[0] for k, v in metrics.items()})
    for key, want in TF_VALUES.items():
        np.testing.assert_allclose(values[key], want, rtol=2e-6, atol=1e-7, err_msg=key)
    for key, want in TF_FIRST_UPDATES.items():
        np.testing.assert_allclose(first[key], want, rtol=2e-6, atol=1e-7, err_msg=key)
    for key in TF_VALUES:  # an update returns the value after it
        if key not in ("iou", "iouw", "mpca"):
            np.testing.assert_allclose(last[key], values[key], rtol=1e-6, err_msg=key)
    assert values["p@1"].dtype == np.float64 and values["auc_thr"].dtype == np.float32


def test_mean_family_and_classification_against_sklearn():
    lab, score = tf.placeholder(tf.int64, [None]), tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    labf, pred = tf.cast(lab, tf.float32), tf.cast(score > 0.5, tf.int64)
    m = {
        "acc": tf.metrics.accuracy(lab, pred, weights=w),
        "prec": tf.metrics.precision(lab, pred, weights=w),
        "rec": tf.metrics.recall(lab, pred),
        "mae": tf.metrics.mean_absolute_error(labf, score, weights=w),
        "mse": tf.metrics.mean_squared_error(labf, score),
        "rmse": tf.metrics.root_mean_squared_error(labf, score),
        "pb": tf.metrics.percentage_below(score, 0.4, weights=w),
        "mean": tf.metrics.mean(score, weights=w),
        "mt": tf.metrics.mean_tensor(
            tf.reshape(score[:6], [2, 3]), weights=tf.reshape(w[:6], [2, 3])
        ),
    }
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for b in (B1, B2):
            sess.run({k: v[1] for k, v in m.items()}, {lab: b["lab"], score: b["score"], w: b["w"]})
        got = sess.run({k: v[0] for k, v in m.items()})
    y = np.concatenate([B1["lab"], B2["lab"]])
    s = np.concatenate([B1["score"], B2["score"]]).astype(np.float64)
    wt = np.concatenate([B1["w"], B2["w"]]).astype(np.float64)
    p = (s > 0.5).astype(int)
    want = {
        "acc": skm.accuracy_score(y, p, sample_weight=wt),
        "prec": skm.precision_score(y, p, sample_weight=wt),
        "rec": skm.recall_score(y, p),
        "mae": skm.mean_absolute_error(y, s, sample_weight=wt),
        "mse": skm.mean_squared_error(y, s),
        "rmse": np.sqrt(skm.mean_squared_error(y, s)),
        "pb": np.sum(wt * (s < 0.4)) / wt.sum(),
        "mean": np.sum(wt * s) / wt.sum(),
    }
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, err_msg=key)
    rows = np.stack([B1["score"][:6], B2["score"][:6]]).reshape(2, 2, 3)
    weights = np.stack([B1["w"][:6], B2["w"][:6]]).reshape(2, 2, 3)
    np.testing.assert_allclose(got["mt"], (rows * weights).sum(0) / weights.sum(0), rtol=1e-5)


def test_mean_iou_and_per_class_accuracy_by_hand():
    labels, preds = np.concatenate([c[0] for c in CLASSES]), np.concatenate([c[1] for c in CLASSES])
    iou, iou_up = tf.metrics.mean_iou(tf.constant(labels), tf.constant(preds), 4)
    acc, acc_up = tf.metrics.mean_per_class_accuracy(labels, preds, 4)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        cm, per_class = sess.run([iou_up, acc_up])
        got_iou, got_acc = sess.run([iou, acc])
    np.testing.assert_array_equal(cm, skm.confusion_matrix(labels, preds, labels=range(4)))
    np.testing.assert_allclose(
        got_iou, skm.jaccard_score(labels, preds, average="macro"), rtol=1e-6
    )
    np.testing.assert_allclose(per_class, skm.recall_score(labels, preds, average=None), rtol=1e-6)
    np.testing.assert_allclose(got_acc, skm.balanced_accuracy_score(labels, preds), rtol=1e-6)


def test_variables_collections_and_reset():
    values = tf.placeholder(tf.float32, [None])
    mean, update = tf.metrics.mean(
        values, metrics_collections=["m"], updates_collections=["u"], name="my_mean"
    )
    assert [v.name for v in tf.local_variables()] == ["my_mean/total:0", "my_mean/count:0"]
    assert tf.get_collection(tf.GraphKeys.METRIC_VARIABLES) == tf.local_variables()
    assert tf.trainable_variables() == [] and tf.global_variables() == []
    assert tf.get_collection("m") == [mean] and tf.get_collection("u") == [update]
    assert (mean.name, update.name) == ("my_mean/value:0", "my_mean/update_op:0")
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(mean) == 0.0
        assert sess.run(update, {values: [1.0, 2.0]}) == 1.5
        assert sess.run(update, {values: [6.0]}) == 3.0
        sess.run(tf.local_variables_initializer())
        assert sess.run(mean) == 0.0


def test_metric_variables_ignore_enclosing_control_dependencies():
    x = tf.placeholder(tf.float32, [None])
    with tf.control_dependencies([tf.identity(x)]):
        _, update = tf.metrics.auc(tf.constant([1, 0]), tf.constant([0.7, 0.2]))
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())  # needs no feed for x
        assert sess.run(update, {x: [1.0]}) > 0.99


def test_bad_arguments_and_eager_mode():
    with pytest.raises(ValueError, match="curve must be either ROC or PR, XY unknown"):
        tf.metrics.auc([1], [0.5], curve="XY")
    with pytest.raises(ValueError, match="Invalid summation_method: foo"):
        tf.metrics.auc([1], [0.5], summation_method="foo")
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]"):
        tf.metrics.sensitivity_at_specificity([1], [0.5], 1.5)
    scores = tf.placeholder(tf.float32, [None])
    _, update = tf.metrics.auc([1, 0], scores)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"predictions must be in"):
            sess.run(update, {scores: [0.5, 1.5]})
    with (
        tf.eager_mode(),
        pytest.raises(
            RuntimeError,
            match="tf.metrics.mean_iou is not supported when eager execution is enabled",
        ),
    ):
        tf.metrics.mean_iou([1], [1], 2)


def test_metrics_namespace_has_all_of_tf1():
    names = [
        "accuracy",
        "auc",
        "average_precision_at_k",
        "false_negatives",
        "false_negatives_at_thresholds",
        "false_positives",
        "false_positives_at_thresholds",
        "mean",
        "mean_absolute_error",
        "mean_cosine_distance",
        "mean_iou",
        "mean_per_class_accuracy",
        "mean_relative_error",
        "mean_squared_error",
        "mean_tensor",
        "percentage_below",
        "precision",
        "precision_at_k",
        "precision_at_thresholds",
        "precision_at_top_k",
        "recall",
        "recall_at_k",
        "recall_at_thresholds",
        "recall_at_top_k",
        "root_mean_squared_error",
        "sensitivity_at_specificity",
        "sparse_average_precision_at_k",
        "sparse_precision_at_k",
        "specificity_at_sensitivity",
        "true_negatives",
        "true_negatives_at_thresholds",
        "true_positives",
        "true_positives_at_thresholds",
    ]  # TF's 33
    assert [n for n in names if not callable(getattr(tf.metrics, n, None))] == []
