"""The classic TF1 `tf.layers` convolutional network tutorial (train and test graphs
built twice with `reuse`), on scikit-learn's 8x8 digits instead of MNIST.

Usage: python cnn_digits.py LOGDIR
"""

import sys

import numpy as np
from sklearn.datasets import load_digits

import miniflow as tf

# Training parameters
learning_rate = 0.01
num_steps = 80
batch_size = 32
num_classes = 10
dropout = 0.25

digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[..., None]
targets = digits.target.astype(np.int64)
x_train, y_train = images[:1500], targets[:1500]
x_test, y_test = images[1500:], targets[1500:]

tf.set_random_seed(1)
dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
dataset = dataset.shuffle(1500, seed=1).repeat().batch(batch_size)
features, labels = dataset.make_one_shot_iterator().get_next()
test_x = tf.placeholder(tf.float32, [None, 8, 8, 1], name="test_x")
test_y = tf.placeholder(tf.int64, [None], name="test_y")


def conv_net(x, n_classes, dropout, reuse, is_training):
    with tf.variable_scope("ConvNet", reuse=reuse):
        conv1 = tf.layers.conv2d(x, 16, 3, activation=tf.nn.relu, padding="same")
        conv1 = tf.layers.max_pooling2d(conv1, 2, 2)
        conv2 = tf.layers.conv2d(conv1, 32, 3, activation=tf.nn.relu, padding="same")
        conv2 = tf.layers.max_pooling2d(conv2, 2, 2)
        fc1 = tf.contrib.layers.flatten(conv2)
        fc1 = tf.layers.dense(fc1, 64, activation=tf.nn.relu)
        fc1 = tf.layers.dropout(fc1, rate=dropout, training=is_training)
        out = tf.layers.dense(fc1, n_classes)
        out = tf.nn.softmax(out) if not is_training else out
    return out


# The same network twice: the test graph reuses the training graph's variables.
logits_train = conv_net(features, num_classes, dropout, reuse=False, is_training=True)
logits_test = conv_net(test_x, num_classes, dropout, reuse=True, is_training=False)

loss_op = tf.reduce_mean(
    tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits_train, labels=labels)
)
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op, global_step=tf.train.get_or_create_global_step())

accuracy, accuracy_op = tf.metrics.accuracy(labels=test_y, predictions=tf.argmax(logits_test, 1))
tf.summary.scalar("loss", loss_op)
for var in tf.trainable_variables():
    tf.summary.histogram(var.name, var)
merged = tf.summary.merge_all()

with tf.Session() as sess:
    sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
    writer = tf.summary.FileWriter(sys.argv[1], sess.graph)
    for step in range(1, num_steps + 1):
        _, loss, summary = sess.run([train_op, loss_op, merged])
        if step % 40 == 0:
            writer.add_summary(summary, step)
            print("Step " + str(step) + ", Minibatch Loss= " + f"{loss:.4f}")
    writer.close()
    sess.run(accuracy_op, feed_dict={test_x: x_test, test_y: y_test})
    print("Testing Accuracy:", sess.run(accuracy))
