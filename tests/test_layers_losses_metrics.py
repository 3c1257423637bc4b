"""tf.layers, tf.losses, regularizers, tf.metrics against hand-computed NumPy values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import miniflow as tf

RNG = np.random.default_rng(3)


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as g:
        yield g


def _run(fetches, feed=None, init=True):
    with tf.Session() as sess:
        if init:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.local_variables_initializer())
        return sess.run(fetches, feed)


def test_dense_layer_values_names_and_reuse():
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    y = tf.layers.dense(
        x,
        2,
        activation=tf.nn.relu,
        name="fc",
        kernel_initializer=tf.constant_initializer(0.5),
        bias_initializer=tf.constant_initializer(-0.1),
    )
    y2 = tf.layers.dense(x, 2, name="fc", reuse=True)
    assert [v.name for v in tf.trainable_variables()] == ["fc/kernel:0", "fc/bias:0"]
    with pytest.raises(ValueError, match="already exists"):
        tf.layers.dense(x, 2, name="fc")
    got, got2 = _run([y, y2])
    np.testing.assert_allclose(got, np.maximum(x @ np.full((3, 2), 0.5) - 0.1, 0), rtol=1e-6)
    np.testing.assert_allclose(got2, x @ np.full((3, 2), 0.5) - 0.1, rtol=1e-6)
    tf.layers.dense(x, 2)
    tf.layers.dense(x, 2)
    names = [v.name for v in tf.trainable_variables()]
    assert "dense/kernel:0" in names and "dense_1/kernel:0" in names


def test_dense_requires_a_known_last_dimension():
    with pytest.raises(ValueError, match="last dimension"):
        tf.layers.dense(tf.placeholder(tf.float32, [None, None]), 3)


def test_conv_pool_flatten_shapes_and_values():
    x = RNG.standard_normal((2, 6, 6, 3)).astype(np.float32)
    c = tf.layers.conv2d(x, 4, 3, strides=1, padding="same", name="c")
    p = tf.layers.max_pooling2d(c, 2, 2)
    a = tf.layers.average_pooling2d(c, 3, 3)
    f = tf.layers.flatten(p)
    assert c.shape.as_list() == [2, 6, 6, 4] and p.shape.as_list() == [2, 3, 3, 4]
    assert a.shape.as_list() == [2, 2, 2, 4] and f.shape.as_list() == [2, 36]
    kernel = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)[0]
    cv, fv, k = _run([c, f, kernel])
    want = tf.Session().run(tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME"))
    np.testing.assert_allclose(cv, want, rtol=1e-5)
    np.testing.assert_allclose(
        fv, cv.reshape(2, 3, 2, 3, 2, 4).max(axis=(2, 4)).reshape(2, -1), rtol=1e-6
    )


def test_dropout_layer_training_flag():
    x = np.ones((100, 10), np.float32)
    training = tf.placeholder(tf.bool, [])
    d = tf.layers.dropout(x, rate=0.5, training=training)
    off = tf.layers.dropout(x, rate=0.5)
    with tf.Session() as sess:
        on = sess.run(d, {training: True})
        got_off = sess.run(d, {training: False})
        static_off = sess.run(off)
    assert set(np.unique(on)) <= {0.0, 2.0} and 0.3 < np.mean(on == 0) < 0.7
    np.testing.assert_array_equal(got_off, x)
    np.testing.assert_array_equal(static_off, x)


def test_batch_normalization_layer_updates_moving_statistics():
    x = RNG.standard_normal((8, 3)).astype(np.float32) * 2 + 1
    y = tf.layers.batch_normalization(x, momentum=0.9, training=True)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    mm = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, _ = sess.run([y, updates])
        moving = sess.run(mm)
    np.testing.assert_allclose(got, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), atol=1e-5)
    np.testing.assert_allclose(moving, 0.1 * x.mean(0), rtol=1e-5)


def test_layers_in_eager_mode_own_their_variables():
    with tf.eager_mode():
        layer = tf.layers.Dense(3, kernel_initializer=tf.ones_initializer())
        x = tf.constant(np.ones((2, 4), np.float32))
        np.testing.assert_allclose(layer(x).numpy(), np.full((2, 3), 4.0))
        layer(x)
        assert len(layer.trainable_weights) == 2
        bn = tf.layers.BatchNormalization(momentum=0.5)
        bn(tf.constant(RNG.standard_normal((6, 2)).astype(np.float32)), training=True)
        assert not np.allclose(bn.moving_mean.numpy(), 0.0)  # updated at once in eager


LOSS_CASES = [
    (tf.losses.mean_squared_error, lambda y, p: (p - y) ** 2),
    (tf.losses.absolute_difference, lambda y, p: np.abs(p - y)),
    (
        tf.losses.huber_loss,
        lambda y, p: np.where(np.abs(p - y) <= 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5),
    ),
    (tf.losses.log_loss, lambda y, p: -y * np.log(p + 1e-7) - (1 - y) * np.log(1 - p + 1e-7)),
    (tf.losses.hinge_loss, lambda y, p: np.maximum(0, 1 - (2 * y - 1) * p)),
]


@pytest.mark.parametrize("fn,ref", LOSS_CASES, ids=[c[0].__name__ for c in LOSS_CASES])
def test_losses_and_reductions(fn, ref):
    labels = RNG.integers(0, 2, (4, 3)).astype(np.float64)
    preds = RNG.uniform(0.05, 0.95, (4, 3)) * (3 if fn is tf.losses.huber_loss else 1)
    w = np.array([[1.0], [0.0], [2.0], [0.5]])
    per = ref(labels, preds)
    red = tf.losses.Reduction
    got = _run(
        [
            fn(labels, preds, weights=w),
            fn(labels, preds, weights=w, reduction=red.SUM),
            fn(labels, preds, weights=w, reduction=red.MEAN),
            fn(labels, preds, weights=w, reduction=red.SUM_OVER_BATCH_SIZE),
            fn(labels, preds, weights=w, reduction=red.NONE),
            fn(labels, preds),
        ]
    )
    weighted = per * w
    nonzero = np.sum(np.broadcast_to(w != 0, per.shape))
    np.testing.assert_allclose(got[0], weighted.sum() / nonzero, rtol=1e-6)
    np.testing.assert_allclose(got[1], weighted.sum(), rtol=1e-6)
    np.testing.assert_allclose(got[2], weighted.sum() / np.sum(w * np.ones_like(per)), rtol=1e-6)
    np.testing.assert_allclose(got[3], weighted.sum() / per.size, rtol=1e-6)
    np.testing.assert_allclose(got[4], weighted, rtol=1e-6)
    np.testing.assert_allclose(got[5], per.mean(), rtol=1e-6)
    assert len(tf.losses.get_losses()) == 6


def test_cross_entropy_losses_with_smoothing_and_total_loss():
    logits = RNG.standard_normal((5, 4)) * 3
    labels = RNG.integers(0, 4, 5)
    onehot = np.eye(4)[labels]
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    smooth = onehot * 0.8 + 0.2 / 4
    z = RNG.integers(0, 2, (5, 4)).astype(np.float64)
    sig = np.logaddexp(0, logits) - logits * (z * 0.9 + 0.05)
    got = _run(
        [
            tf.losses.sparse_softmax_cross_entropy(labels, logits),
            tf.losses.softmax_cross_entropy(onehot, logits, label_smoothing=0.2),
            tf.losses.sigmoid_cross_entropy(z, logits, label_smoothing=0.1),
            tf.losses.get_total_loss(),
        ]
    )
    np.testing.assert_allclose(got[0], -logp[np.arange(5), labels].mean(), rtol=1e-6)
    np.testing.assert_allclose(got[1], -(smooth * logp).sum(1).mean(), rtol=1e-6)
    np.testing.assert_allclose(got[2], sig.mean(), rtol=1e-6)
    np.testing.assert_allclose(got[3], sum(got[:3]), rtol=1e-6)


def test_regularizers_collect_into_regularization_losses():
    reg = tf.contrib.layers.l2_regularizer(0.1)
    w = tf.get_variable("w", [3], initializer=tf.constant_initializer(2.0), regularizer=reg)
    tf.layers.dense(
        np.ones((1, 2), np.float32),
        1,
        name="d",
        kernel_initializer=tf.ones_initializer(),
        kernel_regularizer=tf.contrib.layers.l1_regularizer(0.5),
    )
    assert len(tf.losses.get_regularization_losses()) == 2
    total = _run(tf.losses.get_regularization_loss())
    np.testing.assert_allclose(total, 0.1 * 3 * 4 / 2 + 0.5 * 2, rtol=1e-6)
    assert w is not None
    with pytest.raises(ValueError, match="integer"):
        tf.contrib.layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        tf.contrib.layers.l1_regularizer(-0.1)
    assert tf.contrib.layers.l2_regularizer(0.0)(w) is None


def test_metrics_accumulate_and_reset():
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int64, [None])
    acc, acc_up = tf.metrics.accuracy(labels, preds)
    prec, prec_up = tf.metrics.precision(labels, preds)
    rec, rec_up = tf.metrics.recall(labels, preds)
    batches = [([1, 0, 1, 1], [1, 1, 0, 1]), ([0, 0, 1], [0, 1, 1])]
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        for lab, pr in batches:
            sess.run([acc_up, prec_up, rec_up], {labels: lab, preds: pr})
        got = sess.run([acc, prec, rec])
        sess.run(tf.local_variables_initializer())
        assert sess.run(acc) == 0.0
    all_l = np.concatenate([b[0] for b in batches])
    all_p = np.concatenate([b[1] for b in batches])
    np.testing.assert_allclose(
        got,
        [
            skm.accuracy_score(all_l, all_p),
            skm.precision_score(all_l, all_p),
            skm.recall_score(all_l, all_p),
        ],
        rtol=1e-6,
    )
    assert len(tf.local_variables()) == 6


def test_auc_approximates_sklearn_and_mean_is_weighted():
    scores = RNG.uniform(0, 1, 300)
    labels = (RNG.uniform(0, 1, 300) < scores).astype(np.int64)
    auc, up = tf.metrics.auc(labels, scores, num_thresholds=500)
    m, mup = tf.metrics.mean([1.0, 2.0, 3.0], weights=[1.0, 0.0, 3.0])
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run([up, mup])
        got, mean = sess.run([auc, m])
    assert abs(got - skm.roc_auc_score(labels, scores)) < 5e-3
    np.testing.assert_allclose(mean, 10.0 / 4.0)


def test_metrics_refuse_eager_mode():
    with tf.eager_mode(), pytest.raises(RuntimeError, match="eager"):
        tf.metrics.accuracy([1], [1])


def test_layer_losses_hold_the_regularization_terms_in_both_modes():
    reg = tf.contrib.layers.l2_regularizer(0.5)
    layer = tf.layers.Dense(2, kernel_initializer=tf.ones_initializer(), kernel_regularizer=reg)
    layer(np.ones((1, 3), np.float32))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(_run(layer.losses[0]), 0.5 * 6 / 2)
    with tf.eager_mode():
        layer = tf.layers.Dense(2, kernel_initializer=tf.ones_initializer(), kernel_regularizer=reg)
        layer(tf.constant(np.ones((1, 3), np.float32)))
        np.testing.assert_allclose(layer.losses[0].numpy(), 1.5)
