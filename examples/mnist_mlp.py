"""A two-layer perceptron on the 8x8 digits, trained in graph mode or eager mode.

python examples/mnist_mlp.py [graph|eager]
"""

import sys

import numpy as np

import miniflow as tf

try:
    from examples import digits_data
except ImportError:  # run as a script from examples/
    import digits_data


def build_model():
    return [
        tf.layers.Dense(64, activation=tf.nn.relu, name="hidden"),
        tf.layers.Dense(10, name="logits"),
    ]


def forward(model, x):
    for layer in model:
        x = layer(x)
    return x


def loss_fn(logits, labels):
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )


def train(mode="graph", epochs=12, batch_size=32, learning_rate=0.5, seed=0):
    """Trains and returns the test accuracy."""
    x_train, x_test, y_train, y_test = digits_data.load(seed)
    rng = np.random.default_rng(seed)
    opt = tf.train.GradientDescentOptimizer(learning_rate)
    if mode == "eager":
        with tf.eager_mode():
            tf.set_random_seed(seed)
            model = build_model()
            for _ in range(epochs):
                for idx in digits_data.batches(len(x_train), batch_size, rng):
                    xb, yb = tf.constant(x_train[idx]), y_train[idx]
                    with tf.GradientTape() as tape:
                        loss = loss_fn(forward(model, xb), yb)
                    variables = [v for layer in model for v in layer.trainable_weights]
                    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            pred = tf.argmax(forward(model, tf.constant(x_test)), axis=1).numpy()
        return float(np.mean(pred == y_test))
    with tf.Graph().as_default():
        tf.set_random_seed(seed)
        x = tf.placeholder(tf.float32, [None, 64])
        y = tf.placeholder(tf.int64, [None])
        logits = forward(build_model(), x)
        train_op = opt.minimize(loss_fn(logits, y))
        correct = tf.equal(tf.argmax(logits, axis=1), y)
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(epochs):
                for idx in digits_data.batches(len(x_train), batch_size, rng):
                    sess.run(train_op, {x: x_train[idx], y: y_train[idx]})
            return float(sess.run(accuracy, {x: x_test, y: y_test}))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "graph"
    print(f"{mode} mode: test accuracy {train(mode):.4f}")
