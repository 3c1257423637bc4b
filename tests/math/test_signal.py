"""`tf.signal` compositions against numbers obtained from real TensorFlow (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.testing import check_grads

X = np.arange(5.0)
CASES = [
    ("fftshift", lambda x: tf.signal.fftshift(x), [3.0, 4.0, 0.0, 1.0, 2.0]),
    ("ifftshift", lambda x: tf.signal.ifftshift(x), [2.0, 3.0, 4.0, 0.0, 1.0]),
    ("frame", lambda x: tf.signal.frame(x, 3, 2), [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]]),
    (
        "frame_pad",
        lambda x: tf.signal.frame(x, 3, 2, pad_end=True),
        [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0], [4.0, 0.0, 0.0]],
    ),
    (
        "overlap_and_add",
        lambda x: tf.signal.overlap_and_add(tf.reshape(tf.concat([x, [5.0]], 0), [3, 2]), 1),
        [0.0, 3.0, 7.0, 5.0],
    ),
    ("dct2", lambda x: tf.signal.dct(x), [20.0, -9.9595931, 0.0, -0.898056, 0.0]),
    (
        "dct2_ortho",
        lambda x: tf.signal.dct(x, norm="ortho"),
        [4.472136, -3.1494999, 0.0, -0.2839902, 0.0],
    ),
    ("dct1", lambda x: tf.signal.dct(x, type=1), [16.0, -6.8284271, 0.0, -1.1715729, 0.0]),
    (
        "dct3",
        lambda x: tf.signal.dct(x, type=3),
        [11.1370285, -12.2389725, 4.0, -3.1774353, 0.2793794],
    ),
    (
        "dct3_ortho",
        lambda x: tf.signal.dct(x, type=3, norm="ortho"),
        [3.5218376, -3.8703029, 1.2649111, -1.0047933, 0.0883475],
    ),
    ("idct2", lambda x: tf.signal.idct(x), [11.1370285, -12.2389725, 4.0, -3.1774353, 0.2793794]),
    (
        "mfccs",
        lambda x: tf.signal.mfccs_from_log_mel_spectrograms(tf.reshape(x, [1, 5])),
        [[6.3245553, -3.1494999, 0.0, -0.2839902, 0.0]],
    ),
]


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("label,fn,want", CASES, ids=[c[0] for c in CASES])
def test_matches_tensorflow(label, fn, want, mode):
    if mode == "graph":
        with tf.Graph().as_default(), tf.Session() as sess:
            got = sess.run(fn(tf.constant(X)))
    else:
        with tf.eager_mode():
            got = fn(tf.constant(X)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_windows_and_mel_matrix():
    with tf.eager_mode():
        np.testing.assert_allclose(
            tf.signal.hann_window(4).numpy(), [0.0, 0.5, 1.0, 0.5], atol=1e-7
        )
        np.testing.assert_allclose(
            tf.signal.hamming_window(5, periodic=False).numpy(),
            [0.08, 0.54, 1.0, 0.54, 0.08],
            rtol=1e-6,
        )
        mel = tf.signal.linear_to_mel_weight_matrix(4, 9, 8000, 100.0, 3000.0, tf.float64)
        want = [
            [0, 0, 0, 0],
            [0.676228, 0.323772, 0, 0],
            [0, 0.5390681, 0.4609319, 0],
            [0, 0, 0.6973016, 0.3026984],
            [0, 0, 0.028684, 0.971316],
            [0, 0, 0, 0.4739936],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
        ]
        np.testing.assert_allclose(mel.numpy(), want, atol=1e-6)


def test_ortho_dct_round_trips_and_is_differentiable():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6))
    with tf.eager_mode():
        back = tf.signal.idct(tf.signal.dct(x, norm="ortho"), norm="ortho").numpy()
    np.testing.assert_allclose(back, x, rtol=1e-12, atol=1e-12)
    check_grads(lambda t: tf.signal.dct(t, type=2), [x])
    check_grads(lambda t: tf.signal.overlap_and_add(tf.signal.frame(t, 3, 2), 2), [x])
