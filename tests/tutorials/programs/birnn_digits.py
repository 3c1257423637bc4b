"""The classic TF1 bidirectional LSTM tutorial (`tf.contrib.rnn`), reading each 8x8
digit image as 8 time steps of 8 pixels."""

import numpy as np
from sklearn.datasets import load_digits

import miniflow as tf
from miniflow.contrib import rnn

learning_rate = 0.01
training_steps = 150
batch_size = 100
num_input = 8
timesteps = 8
num_hidden = 32
num_classes = 10

digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)
onehot = np.eye(num_classes)[digits.target]  # float64 labels, as np.eye makes them

X = tf.placeholder("float", [None, timesteps, num_input])
Y = tf.placeholder(tf.float64, [None, num_classes])

tf.set_random_seed(2)
weights = {
    "out": tf.Variable(
        tf.random_normal([2 * num_hidden, num_classes], stddev=tf.sqrt(1.0 / num_hidden))
    )
}
biases = {"out": tf.Variable(tf.random_normal([num_classes]))}


def BiRNN(x, weights, biases):
    x = tf.unstack(x, timesteps, 1)
    lstm_fw_cell = rnn.BasicLSTMCell(num_hidden, forget_bias=1.0)
    lstm_bw_cell = rnn.BasicLSTMCell(num_hidden, forget_bias=1.0)
    outputs, _, _ = rnn.static_bidirectional_rnn(lstm_fw_cell, lstm_bw_cell, x, dtype=tf.float32)
    return tf.matmul(outputs[-1], weights["out"]) + biases["out"]


logits = BiRNN(X, weights, biases)
prediction = tf.nn.softmax(logits)
loss_op = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=Y))
optimizer = tf.train.AdamOptimizer(learning_rate=learning_rate)
train_op = optimizer.minimize(loss_op)
correct_pred = tf.equal(tf.argmax(prediction, 1), tf.argmax(Y, 1))
accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))

rng = np.random.RandomState(0)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(1, training_steps + 1):
        idx = rng.randint(0, 1500, batch_size)
        sess.run(train_op, feed_dict={X: images[idx], Y: onehot[idx]})
        if step % 50 == 0:
            loss, acc = sess.run([loss_op, accuracy], feed_dict={X: images[idx], Y: onehot[idx]})
            print(
                "Step "
                + str(step)
                + ", Minibatch Loss= "
                + f"{loss:.4f}"
                + ", Training Accuracy= "
                + f"{acc:.3f}"
            )
    print("Testing Accuracy:", sess.run(accuracy, feed_dict={X: images[1500:], Y: onehot[1500:]}))
