"""Stateless random ops against numbers obtained from TensorFlow 2.21 on CPU
(`tf.random.stateless_*`, same seeds): uniform, integer, float64, float16 and
categorical draws are bit-exact; float32 normals agree to an ulp or two (TF's float32
log/sin/cos polynomials differ from NumPy's)."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


# From TF 2.21: tf.random.stateless_* with seed=[1, 2] unless stated.
TF_UNIFORM = np.array([0.8440604, 0.19204533, 0.9962232, 0.1603874, 0.27199018], np.float32)
TF_UNIFORM64 = np.array([0.7524837538, 0.9697857726, 0.1759223391])
TF_NORMAL = np.array([0.5441101, 0.20738031, 0.07356432, 0.04643455, -1.3015898], np.float32)
TF_NORMAL64 = np.array([-0.14231181, 0.7406072462, -1.4690476694])
TF_TRUNC = np.array(
    [0.5441101, 0.20738031, 0.07356432, 0.04643455, 0.16820592, -1.6850333], np.float32
)


def test_uniform_and_normal_match_tf():
    got = _run(
        [
            tf.random.stateless_uniform([5], seed=[1, 2]),
            tf.random.stateless_uniform([3], seed=[1, 2], dtype=tf.float64),
            tf.random.stateless_normal([5], seed=[1, 2]),
            tf.random.stateless_normal([3], seed=[1, 2], dtype=tf.float64),
            tf.random.stateless_truncated_normal([6], seed=[1, 2]),
            tf.random.stateless_uniform([2], seed=[1, 2], dtype=tf.float16),
            tf.random.stateless_uniform([2], seed=[-1, 2**40]),
        ]
    )
    np.testing.assert_array_equal(got[0], TF_UNIFORM)
    np.testing.assert_allclose(got[1], TF_UNIFORM64, rtol=1e-9)
    np.testing.assert_allclose(got[2], TF_NORMAL, rtol=0, atol=2e-6)
    np.testing.assert_allclose(got[3], TF_NORMAL64, rtol=1e-9)
    np.testing.assert_allclose(got[4], TF_TRUNC, rtol=0, atol=2e-6)
    np.testing.assert_array_equal(got[5], np.array([0.543, 0.2354], np.float16))
    np.testing.assert_array_equal(got[6], np.array([0.49345243, 0.21545756], np.float32))
    assert [g.dtype for g in got[:2]] == [np.float32, np.float64]


def test_integer_draws_split_and_fold_in_match_tf():
    got = _run(
        [
            tf.random.stateless_uniform([5], [1, 2], minval=0, maxval=10, dtype=tf.int32),
            tf.random.stateless_uniform([3], [1, 2], minval=0, maxval=10, dtype=tf.int64),
            tf.random.stateless_uniform([3], [1, 2], minval=None, maxval=None, dtype=tf.int64),
            tf.random.stateless_uniform([3], [1, 2], minval=None, maxval=None, dtype=tf.uint32),
            tf.random.split([1, 2], 3),
            tf.random.fold_in([1, 2], 7),
            tf.random.stateless_categorical([[0.0, 1.0, 2.0], [1.0, 1.0, -1.0]], 5, seed=[3, 4]),
        ]
    )
    np.testing.assert_array_equal(got[0], [0, 9, 4, 9, 7])
    np.testing.assert_array_equal(got[1], [4, 8, 7])
    np.testing.assert_array_equal(
        got[2], [7464880146280614444, 1591045637757961278, -1057468755545501549]
    )
    np.testing.assert_array_equal(got[3], np.array([1105988140, 1738052849, 3959391294], np.uint32))
    np.testing.assert_array_equal(
        got[4], [[1105988140, 1738052849], [-335576002, 370444179], [10670227, -246211131]]
    )
    np.testing.assert_array_equal(got[5], [1105988140, 7])
    np.testing.assert_array_equal(got[6], [[2, 2, 1, 2, 2], [1, 0, 0, 1, 0]])
    assert got[6].dtype == np.int64 and got[4].dtype == np.int32


def test_same_seed_same_values_other_seed_other_values_in_eager_mode():
    with tf.eager_mode():
        a = tf.random.stateless_normal([4, 3], seed=[7, 8], mean=2.0, stddev=0.5).numpy()
        b = tf.random.stateless_normal([4, 3], seed=[7, 8], mean=2.0, stddev=0.5).numpy()
        c = tf.random.stateless_normal([4, 3], seed=[7, 9], mean=2.0, stddev=0.5).numpy()
        u = tf.random.stateless_uniform([1000], seed=[3, 3], minval=-1.0, maxval=3.0).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.any(a == c) and a.shape == (4, 3)
    assert -1.0 <= u.min() and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.1


def test_static_shapes_names_and_errors():
    t = tf.random.stateless_uniform([2, 3], seed=[1, 2], name="u")
    assert t.shape.as_list() == [2, 3] and t.dtype == tf.float32 and t.name == "u:0"
    with pytest.raises(ValueError, match="seed"):
        tf.random.stateless_normal([2], seed=[1, 2, 3])
    with pytest.raises(ValueError, match="both"):
        tf.random.stateless_uniform([2], seed=[1, 2], minval=None, maxval=4, dtype=tf.int32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="minval < maxval"):
        _run(tf.random.stateless_uniform([2], [1, 2], minval=3, maxval=3, dtype=tf.int32))


def test_truncated_normal_stays_within_two_stddevs():
    x = _run(tf.random.stateless_truncated_normal([5000], seed=[4, 2], dtype=tf.float64))
    assert np.abs(x).max() < 2.0 and abs(x.std() - 0.8796) < 0.03  # truncated N(0,1) std


def test_uniform_bounds_are_differentiable():
    lo, hi = tf.constant(1.0), tf.constant(3.0)
    u = tf.random.stateless_uniform([4], seed=[1, 2], minval=lo, maxval=hi)
    g_lo, g_hi = _run(tf.gradients(tf.reduce_sum(u), [lo, hi]))
    np.testing.assert_allclose(
        [g_lo, g_hi], [4 - TF_UNIFORM[:4].sum(), TF_UNIFORM[:4].sum()], rtol=1e-5
    )
