"""Shared pieces of the estimator tests: a linear model_fn and its data (y = 2x + 1)."""

from __future__ import annotations

import numpy as np

import miniflow as tf

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (256, 1)).astype(np.float32)
Y = 2 * X + 1


def train_input_fn(batch=32):
    """An endless shuffled dataset of ({"x": x}, y) batches."""
    return (
        tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).shuffle(256, seed=1).repeat().batch(batch)
    )


def eval_input_fn(x=X, y=Y, batch=64):
    """One pass over (x, y) in batches."""
    return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(batch)


def linear_model_fn(features, labels, mode, params):
    """y = x w + b, squared error, plain gradient descent; metric: mean absolute error."""
    w = tf.get_variable("w", [1, 1], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    pred = tf.matmul(features["x"], w) + b
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"y": pred, "twice": 2 * pred})
    loss = tf.losses.mean_squared_error(labels, pred)
    train_op = tf.train.GradientDescentOptimizer(params.get("lr", 0.5)).minimize(
        loss, global_step=tf.train.get_global_step()
    )
    return tf.estimator.EstimatorSpec(
        mode,
        loss=loss,
        train_op=train_op,
        eval_metric_ops={"mae": tf.metrics.mean_absolute_error(labels, pred)},
    )
