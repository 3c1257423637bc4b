"""Basic operations: constants, arithmetic and matrix products in a graph, run in a Session.

Run: ``python examples/basic_operations.py``
"""

import numpy as np

import miniflow as tf


def main(verbose=True):
    """Builds a few small graphs, runs them, and returns the fetched values."""
    tf.reset_default_graph()
    a = tf.constant(2)
    b = tf.constant(3)
    m1 = tf.constant([[3.0, 3.0]])
    m2 = tf.constant([[2.0], [2.0]])
    product = tf.matmul(m1, m2)
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    with tf.Session() as sess:
        results = {
            "a": sess.run(a),
            "b": sess.run(b),
            "a+b": sess.run(a + b),
            "a*b": sess.run(a * b),
            "matmul": sess.run(product),
            "row_sums": sess.run(tf.reduce_sum(x, axis=1)),
            "col_means": sess.run(tf.reduce_mean(x, axis=0)),
            "x.T": sess.run(tf.transpose(x)),
        }
    if verbose:
        for name, value in results.items():
            print(f"{name:>10} = {value.tolist()}")
    return results


if __name__ == "__main__":
    main()
