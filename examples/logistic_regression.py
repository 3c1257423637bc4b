"""L2-regularised logistic regression on scikit-learn's breast-cancer data, TF1 style.

The objective is scikit-learn's ``LogisticRegression(C=C)`` scaled by ``1 / (C n)``:
``mean(log-loss) + ||w||^2 / (2 C n)`` (the bias is not penalised), so the two fits can be
compared directly. Needs scikit-learn (the ``test`` extra) for the data.

Run: ``python examples/logistic_regression.py``
"""

import numpy as np

import miniflow as tf


def load_data():
    """The breast-cancer features standardised to zero mean and unit variance."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    x = data.data.astype(np.float64)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype(np.float32), data.target.astype(np.float32)


def main(C=0.1, learning_rate=0.5, steps=3000, verbose=True):  # noqa: N803  sklearn's name
    """Trains by full-batch gradient descent.

    Returns:
        dict with ``weights`` (30,), ``bias``, ``loss`` (the objective) and ``accuracy``.
    """
    features, labels = load_data()
    n, d = features.shape
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, shape=[None, d], name="x")
    y = tf.placeholder(tf.float32, shape=[None], name="y")
    w = tf.Variable(tf.zeros([d, 1]), name="weights")
    b = tf.Variable(0.0, name="bias")
    logits = tf.reshape(tf.matmul(x, w), [-1]) + b
    # log(1 + exp(-|z|)) + max(z, 0) - z*y: the log-loss without overflow
    log_loss = tf.reduce_mean(
        tf.maximum(logits, 0.0) - logits * y + tf.log1p(tf.exp(-tf.abs(logits)))
    )
    loss = log_loss + tf.reduce_sum(tf.square(w)) / (2.0 * C * n)
    train_op = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss)
    correct = tf.equal(tf.cast(logits > 0.0, tf.float32), y)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    feed = {x: features, y: labels}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(steps):
            sess.run(train_op, feed_dict=feed)
            if verbose and (step + 1) % (steps // 5) == 0:
                print(f"step {step + 1:5d}  loss={sess.run(loss, feed):.6f}")
        w_value, b_value, loss_value, acc = sess.run([w, b, loss, accuracy], feed)
    if verbose:
        print(f"objective={loss_value:.6f} accuracy={acc:.4f}")
    return {
        "weights": w_value.reshape(-1),
        "bias": float(b_value),
        "loss": float(loss_value),
        "accuracy": float(acc),
    }


if __name__ == "__main__":
    main()
