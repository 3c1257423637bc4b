"""Linear regression ``y = w * x + b`` by gradient descent, TF1 style (the classic).

Run: ``python examples/linear_regression.py``
"""

import numpy as np

import miniflow as tf

# The classic toy data set of the TensorFlow examples.
TRAIN_X = np.asarray(
    [
        3.3,
        4.4,
        5.5,
        6.71,
        6.93,
        4.168,
        9.779,
        6.182,
        7.59,
        2.167,
        7.042,
        10.791,
        5.313,
        7.997,
        5.654,
        9.27,
        3.1,
    ],
    dtype=np.float32,
)
TRAIN_Y = np.asarray(
    [
        1.7,
        2.76,
        2.09,
        3.19,
        1.694,
        1.573,
        3.366,
        2.596,
        2.53,
        1.221,
        2.827,
        3.465,
        1.65,
        2.904,
        2.42,
        2.94,
        1.3,
    ],
    dtype=np.float32,
)


def main(learning_rate=0.02, steps=5000, verbose=True):
    """Fits w and b by full-batch gradient descent on the mean squared error.

    Returns:
        dict with the fitted ``w``, ``b`` and the final ``loss``.
    """
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, shape=[None], name="x")
    y = tf.placeholder(tf.float32, shape=[None], name="y")
    w = tf.Variable(0.0, name="weight")
    b = tf.Variable(0.0, name="bias")
    prediction = w * x + b
    loss = tf.reduce_mean(tf.square(prediction - y))
    train_op = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss)
    feed = {x: TRAIN_X, y: TRAIN_Y}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(steps):
            sess.run(train_op, feed_dict=feed)
            if verbose and (step + 1) % (steps // 5) == 0:
                print(f"step {step + 1:5d}  loss={sess.run(loss, feed):.6f}")
        w_value, b_value, loss_value = sess.run([w, b, loss], feed_dict=feed)
    if verbose:
        print(f"w={w_value:.4f} b={b_value:.4f} loss={loss_value:.6f}")
    return {"w": float(w_value), "b": float(b_value), "loss": float(loss_value)}


if __name__ == "__main__":
    main()
