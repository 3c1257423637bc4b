"""`tf.random.gamma` and the stateless gamma / Poisson / binomial / truncated-normal
samplers: shapes, determinism in the seed, and sample moments against the known
distribution moments (these draws are NumPy's, not TF's numbers)."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


def test_gamma_shape_moments_and_beta_gradient():
    beta = tf.constant([2.0, 4.0])
    x = tf.random.gamma([4000], [[3.0, 3.0]], beta=beta, seed=1)
    assert x.shape.as_list() == [4000, 1, 2] and tf.random_gamma is tf.random.gamma
    val, (g,) = _run([x, tf.gradients(tf.reduce_sum(x), [beta])])
    np.testing.assert_allclose(val.mean(axis=(0, 1)), [1.5, 0.75], rtol=0.06)  # alpha/beta
    np.testing.assert_allclose(g, -val.sum(axis=(0, 1)) / np.array([2.0, 4.0]), rtol=1e-5)


def test_stateless_samplers_are_functions_of_the_seed():
    ops = [
        lambda s: tf.random.stateless_gamma([3000], s, alpha=2.0, beta=0.5),
        lambda s: tf.random.stateless_poisson([3000], s, lam=[4.0] * 3000),
        lambda s: tf.random.stateless_binomial([3000], s, counts=20.0, probs=0.25),
        lambda s: tf.random.stateless_parameterized_truncated_normal(
            [3000], s, means=1.0, stddevs=2.0, minvals=0.0, maxvals=1.5
        ),
    ]
    a, b, c = _run(
        [[op([1, 2]) for op in ops], [op([1, 2]) for op in ops], [op([1, 3]) for op in ops]]
    )
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)
    np.testing.assert_allclose([a[0].mean(), a[1].mean(), a[2].mean()], [4.0, 4.0, 5.0], rtol=0.06)
    assert a[1].dtype == np.int32 and a[0].dtype == np.float32
    assert 0.0 <= a[3].min() and a[3].max() <= 1.5


def test_parameterized_truncated_normal_far_tail():
    with tf.eager_mode():
        x = tf.random.stateless_parameterized_truncated_normal(
            [200], [5, 5], means=0.0, stddevs=1.0, minvals=30.0, maxvals=40.0
        ).numpy()
    assert 30.0 <= x.min() and x.max() <= 40.0 and x.mean() < 30.2


def test_bad_parameters_raise_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="nonnegative"):
        _run(tf.random.stateless_poisson([2], [1, 2], lam=-1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="broadcast"):
        _run(tf.random.stateless_gamma([2], [1, 2], alpha=[1.0, 2.0, 3.0]))
