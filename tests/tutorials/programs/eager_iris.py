"""The TF 1.7 eager "custom training walkthrough" (iris), written with `tfe`:
`tfe.Network`, `tfe.implicit_value_and_gradients`, `tfe.Iterator`, `tfe.metrics` and a
`tfe.Saver` round trip.

Usage: python eager_iris.py CHECKPOINT_DIR
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_iris

import miniflow as tf

tfe = tf.contrib.eager
tf.enable_eager_execution()

iris = load_iris()
features = ((iris.data - iris.data.mean(0)) / iris.data.std(0)).astype(np.float32)
labels = iris.target.astype(np.int32)
train_dataset = tf.data.Dataset.from_tensor_slices((features, labels))
train_dataset = train_dataset.shuffle(150, seed=1).batch(32)


class IrisModel(tfe.Network):
    def __init__(self):
        super().__init__()
        self.hidden = self.track_layer(tf.layers.Dense(10, activation=tf.nn.relu))
        self.logits = self.track_layer(tf.layers.Dense(3))

    def call(self, x):
        return self.logits(self.hidden(x))


model = IrisModel()


def loss(model, x, y):
    return tf.losses.sparse_softmax_cross_entropy(labels=y, logits=model(x))


value_and_grads = tfe.implicit_value_and_gradients(loss)
optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.1)
global_step = tf.train.get_or_create_global_step()

for epoch in range(60):
    epoch_loss_avg = tfe.metrics.Mean()
    epoch_accuracy = tfe.metrics.Accuracy()
    for x, y in tfe.Iterator(train_dataset):
        value, grads = value_and_grads(model, x, y)
        optimizer.apply_gradients(grads, global_step=global_step)
        epoch_loss_avg(value)
        epoch_accuracy(y, tf.argmax(model(x), axis=1, output_type=tf.int32))
    if epoch % 20 == 0:
        print(
            f"Epoch {epoch:03d}: Loss: {float(epoch_loss_avg.result()):.3f}, Accuracy: {float(epoch_accuracy.result()):.3%}"
        )

saver = tfe.Saver(model.variables)
path = saver.save(os.path.join(sys.argv[1], "iris.ckpt"))
trained = [v.numpy().copy() for v in model.variables]
for v in model.variables:
    v.assign(tf.zeros_like(v))
saver.restore(path)
assert all(np.array_equal(a, v.numpy()) for a, v in zip(trained, model.variables))
print("Final accuracy:", float(epoch_accuracy.result()), "steps:", global_step.numpy())
