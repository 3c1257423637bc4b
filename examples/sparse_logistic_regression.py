"""Sparse logistic regression on hashed categorical features, TF1 style.

Each example has a handful of categorical fields ("field=value" strings) hashed into
2**18 buckets. The model is one weight per bucket plus a bias:

    logit = sum of the weights of the example's buckets + b

computed with `tf.nn.embedding_lookup_sparse` over a `tf.sparse_placeholder`, so the
gradient is an `IndexedSlices` and the FTRL optimizer updates only the batch's buckets.
Evaluation scores the test set with `tf.sparse_tensor_dense_matmul` and reports AUC.

Run: ``python examples/sparse_logistic_regression.py``
"""

from __future__ import annotations

import zlib

import numpy as np

import miniflow as tf

BUCKETS = 2**18
FIELDS = [
    ("site", 200),
    ("app", 500),
    ("device", 50),
    ("hour", 24),
    ("country", 80),
    ("ad", 1000),
    ("slot", 10),
    ("os", 12),
]


def make_data(n, seed=0, truth_seed=123):
    """``(buckets [n, len(FIELDS)] int64, labels [n] float32)`` drawn from a logistic
    model over the categorical values (the same true model for every ``seed``)."""
    truth = np.random.RandomState(truth_seed)
    weights = {f: truth.randn(v) * 0.8 for f, v in FIELDS}
    rng = np.random.RandomState(seed)
    values = np.stack([rng.zipf(1.3, n) % v for _, v in FIELDS], axis=1)
    logit = sum(weights[f][values[:, i]] for i, (f, _) in enumerate(FIELDS)) - 0.5
    labels = (rng.rand(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    return hash_features(values), labels


def hash_features(values):
    """The bucket of each "field=value" string (CRC32, stable across runs)."""
    out = np.empty(values.shape, np.int64)
    for i, (field, _) in enumerate(FIELDS):
        for v in np.unique(values[:, i]):
            out[values[:, i] == v, i] = zlib.crc32(f"{field}={v}".encode()) % BUCKETS
    return out


def sparse_batch(buckets):
    """The batch as a SparseTensorValue of bucket ids: one row per example."""
    n, k = buckets.shape
    rows = np.repeat(np.arange(n), k)
    cols = np.tile(np.arange(k), n)
    return tf.SparseTensorValue(np.stack([rows, cols], 1), buckets.reshape(-1), [n, k])


def auc(labels, scores):
    """Area under the ROC curve (rank statistic; ties get their average rank)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def train(train_x, train_y, epochs=3, batch_size=64, learning_rate=1.0, seed=0):
    """Trains the model; returns ``predict(buckets) -> probabilities``."""
    graph = tf.Graph()
    with graph.as_default():
        ids = tf.sparse_placeholder(tf.int64, name="ids")
        labels = tf.placeholder(tf.float32, [None], name="labels")
        w = tf.Variable(tf.zeros([BUCKETS, 1]), name="weights")
        b = tf.Variable(0.0, name="bias")
        logits = tf.reshape(tf.nn.embedding_lookup_sparse(w, ids, None, combiner="sum"), [-1]) + b
        # Log loss, written to be stable for large |logit|.
        loss = tf.reduce_mean(
            tf.maximum(logits, 0.0) - logits * labels + tf.log1p(tf.exp(-tf.abs(logits)))
        )
        step = tf.train.get_or_create_global_step()
        opt = tf.train.FtrlOptimizer(
            learning_rate, l1_regularization_strength=0.001, l2_regularization_strength=0.01
        )
        train_op = opt.minimize(loss, global_step=step)

        # Scoring: the one-hot rows times the weight column.
        x = tf.sparse_placeholder(tf.float32, name="x")
        scores = tf.sigmoid(tf.reshape(tf.sparse_tensor_dense_matmul(x, w), [-1]) + b)

        sess = tf.Session()
        sess.run(tf.global_variables_initializer())
        rng = np.random.RandomState(seed)
        for _ in range(epochs):
            order = rng.permutation(len(train_y))
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                sess.run(train_op, {ids: sparse_batch(train_x[batch]), labels: train_y[batch]})

    def predict(buckets):
        n, k = buckets.shape
        onehot = tf.SparseTensorValue(
            np.stack([np.repeat(np.arange(n), k), buckets.reshape(-1)], 1),
            np.ones(n * k, np.float32),
            [n, BUCKETS],
        )
        return sess.run(scores, {x: onehot})

    return predict


def main():
    train_x, train_y = make_data(40_000, seed=0)
    test_x, test_y = make_data(10_000, seed=1)
    predict = train(train_x, train_y)
    print(
        f"test AUC: {auc(test_y, predict(test_x)):.4f} "
        f"(positives: {test_y.mean():.1%} of {len(test_y)})"
    )


if __name__ == "__main__":
    main()
