"""Placeholders and feeds: the same graph evaluated on different inputs.

Run: ``python examples/placeholders_and_feeds.py``
"""

import numpy as np

import miniflow as tf


def main(verbose=True):
    """Feeds scalars and batches through placeholders; returns the fetched values."""
    tf.reset_default_graph()
    a = tf.placeholder(tf.int32, name="a")
    b = tf.placeholder(tf.int32, name="b")
    add, mul = tf.add(a, b), tf.multiply(a, b)
    x = tf.placeholder(tf.float32, shape=[None, 3], name="x")
    w = tf.constant([[1.0], [2.0], [3.0]])
    scores = tf.matmul(x, w)
    batch = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], np.float32)
    with tf.Session() as sess:
        results = {
            "add": sess.run(add, feed_dict={a: 2, b: 3}),
            "mul": sess.run(mul, feed_dict={a: 2, b: 3}),
            "add_by_name": sess.run("Add:0", feed_dict={"a:0": 10, "b:0": 5}),
            "scores": sess.run(scores, feed_dict={x: batch}),
            "default": sess.run(tf.placeholder_with_default(7.0, shape=[]) * 2.0),
        }
    if verbose:
        for name, value in results.items():
            print(f"{name:>12} = {np.asarray(value).tolist()}")
    return results


if __name__ == "__main__":
    main()
