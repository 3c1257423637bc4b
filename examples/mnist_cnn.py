"""A small convolutional network on the 8x8 digits, in graph mode or eager mode.

python examples/mnist_cnn.py [graph|eager]
"""

import sys

import numpy as np

import miniflow as tf

try:
    from examples import digits_data
except ImportError:  # run as a script from examples/
    import digits_data


def build_model():
    he = tf.variance_scaling_initializer(2.0)
    return [
        tf.layers.Conv2D(
            16, 3, padding="same", activation=tf.nn.relu, kernel_initializer=he, name="conv"
        ),
        tf.layers.MaxPooling2D(2, 2, name="pool"),
        tf.layers.Flatten(name="flatten"),
        tf.layers.Dense(10, name="logits"),
    ]


def forward(model, x):
    x = tf.reshape(x, [-1, 8, 8, 1])
    for layer in model:
        x = layer(x)
    return x


def loss_fn(logits, labels):
    return tf.losses.sparse_softmax_cross_entropy(labels, logits)


def learning_rate(epoch, epochs, base):
    """Plain SGD, decayed tenfold for the last third of training."""
    return base if epoch < 2 * epochs // 3 else base / 10


def load(seed):
    """The digits split, standardised with the training set's pixel statistics."""
    x_train, x_test, y_train, y_test = digits_data.load(seed)
    mu, sd = x_train.mean(), x_train.std()
    return (x_train - mu) / sd, (x_test - mu) / sd, y_train, y_test


def train(mode="graph", epochs=9, batch_size=32, base_lr=0.1, seed=0):
    """Trains and returns the test accuracy."""
    x_train, x_test, y_train, y_test = load(seed)
    rng = np.random.default_rng(seed)
    if mode == "eager":
        with tf.eager_mode():
            tf.set_random_seed(seed)
            model = build_model()
            for epoch in range(epochs):
                opt = tf.train.GradientDescentOptimizer(learning_rate(epoch, epochs, base_lr))
                for idx in digits_data.batches(len(x_train), batch_size, rng):
                    xb, yb = tf.constant(x_train[idx]), y_train[idx]
                    with tf.GradientTape() as tape:
                        loss = loss_fn(forward(model, xb), yb)
                    variables = tape.watched_variables()
                    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            pred = tf.argmax(forward(model, tf.constant(x_test)), axis=1).numpy()
        return float(np.mean(pred == y_test))
    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, 64])
        y = tf.placeholder(tf.int64, [None])
        lr = tf.placeholder(tf.float32, [])
        logits = forward(build_model(), x)
        train_op = tf.train.GradientDescentOptimizer(lr).minimize(loss_fn(logits, y))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, axis=1), y), tf.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for epoch in range(epochs):
                rate = learning_rate(epoch, epochs, base_lr)
                for idx in digits_data.batches(len(x_train), batch_size, rng):
                    sess.run(train_op, {x: x_train[idx], y: y_train[idx], lr: rate})
            return float(sess.run(accuracy, {x: x_test, y: y_test}))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "graph"
    print(f"{mode} mode: test accuracy {train(mode):.4f}")
