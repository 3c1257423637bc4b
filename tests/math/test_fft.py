"""FFTs, complex numbers, STFT and MDCT against numbers from real TensorFlow (float64) and
NumPy's FFT, in graph and eager mode."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

X = np.arange(5.0)


def _run(fn, mode):
    if mode == "graph":
        with tf.Graph().as_default(), tf.Session() as sess:
            return sess.run(fn())
    with tf.eager_mode():
        out = fn()
        return [t.numpy() for t in out] if isinstance(out, list) else out.numpy()


CASES = [  # (label, fn, TF's value)
    (
        "fft",
        lambda: tf.signal.fft(tf.complex(X, 2 * X)),
        [
            10 + 20j,
            -9.38191 - 1.559045j,
            -4.124598 - 4.187701j,
            -0.875402 - 5.812299j,
            4.38191 - 8.440955j,
        ],
    ),
    ("rfft", lambda: tf.signal.rfft(X), [10, -2.5 + 3.440955j, -2.5 + 0.812299j]),
    (
        "irfft_padded",
        lambda: tf.signal.irfft(tf.signal.rfft(X, [8])),
        [0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0],
    ),
    (
        "rfft2d",
        lambda: tf.signal.rfft2d(tf.reshape(tf.range(6.0, dtype=tf.float64), [2, 3])),
        [[15, -3 + 1.7320508j], [-9, 0]],
    ),
    ("angle", lambda: tf.math.angle(tf.complex(X, 2 * X)), [0.0] + [1.1071487177940904] * 4),
    (
        "real",
        lambda: tf.math.real(tf.complex(X, 2 * X) * tf.complex(X, 2 * X)),
        [0.0, -3.0, -12.0, -27.0, -48.0],
    ),
    (
        "imag_conj",
        lambda: tf.math.imag(tf.math.conj(tf.complex(X, 2 * X))),
        [0.0, -2.0, -4.0, -6.0, -8.0],
    ),
    (
        "dct4",
        lambda: tf.signal.dct(X, type=4),
        [
            8.585858891882054,
            -12.073612236152929,
            5.65685424949238,
            -5.336394959709644,
            4.475913704897991,
        ],
    ),
    (
        "dct4_ortho",
        lambda: tf.signal.dct(X, type=4, norm="ortho"),
        [
            2.715086976715666,
            -3.8180114251922,
            1.7888543819998317,
            -1.6875162566924946,
            1.41540819178404,
        ],
    ),
    (
        "stft_frame0",
        lambda: tf.signal.stft(tf.range(20.0, dtype=tf.float64), 8, 4)[0, :3],
        [16.0, -8.0 + 3.8284271j, -0.8284271j],
    ),
    (
        "inverse_stft",
        lambda: tf.signal.inverse_stft(
            tf.signal.stft(tf.range(20.0, dtype=tf.float64), 8, 4), 8, 4
        ),
        [
            0.0,
            0.0214467,
            0.5,
            2.1856599,
            4.0,
            3.75,
            3.0,
            5.25,
            8.0,
            6.75,
            5.0,
            8.25,
            12.0,
            9.75,
            7.0,
            11.25,
            16.0,
            12.3854065,
            4.5,
            0.4074849,
        ],
    ),
    (
        "mdct",
        lambda: tf.signal.mdct(tf.range(16.0, dtype=tf.float64), 8),
        [
            [-25.334255, -2.963043, -2.705897, -0.338938],
            [-47.794952, -1.072836, -4.658272, -0.702331],
            [-70.255661, 0.817371, -6.610643, -1.065722],
        ],
    ),
    (
        "inverse_mdct",
        lambda: tf.signal.inverse_mdct(tf.signal.mdct(tf.range(16.0, dtype=tf.float64), 8)),
        [
            -0.1789276,
            -0.6074862,
            1.1532124,
            2.98929,
            4.0,
            5.0,
            6.0,
            7.0,
            8.0,
            9.0,
            10.0,
            11.0,
            12.851798,
            15.949093,
            8.401621,
            0.7692598,
        ],
    ),
    (
        "kaiser",
        lambda: tf.signal.kaiser_window(5, dtype=tf.float64),
        [
            5.277344132009767e-05,
            0.21567274475896708,
            1.0,
            0.21567274475896708,
            5.277344132009767e-05,
        ],
    ),
    (
        "kbd",
        lambda: tf.signal.kaiser_bessel_derived_window(6, dtype=tf.float64),
        [
            0.007131024402786981,
            0.7071067811865476,
            0.9999745739222408,
            0.9999745739222408,
            0.7071067811865476,
            0.007131024402786981,
        ],
    ),
    (
        "vorbis",
        lambda: tf.signal.vorbis_window(4, dtype=tf.float64),
        [0.2280143241916979, 0.9736577776423312, 0.9736577776423312, 0.22801432419169804],
    ),
]


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("label,fn,want", CASES, ids=[c[0] for c in CASES])
def test_matches_tensorflow(label, fn, want, mode):
    np.testing.assert_allclose(_run(fn, mode), want, rtol=1e-5, atol=2e-5, err_msg=label)


def test_dtypes_follow_tensorflow():
    with tf.Graph().as_default():
        assert tf.signal.rfft(tf.zeros([4])).dtype == tf.complex64
        assert tf.signal.rfft(tf.zeros([4], tf.float64)).dtype == tf.complex128
        assert tf.signal.irfft(tf.zeros([3], tf.complex64)).dtype == tf.float32
        assert tf.math.real(tf.complex(1.0, 2.0)).dtype == tf.float32
        assert tf.signal.rfft(tf.zeros([2, 5]), [8]).shape.as_list() == [2, 5]
        with pytest.raises(TypeError):  # TF: float64 not allowed for FFT
            tf.signal.fft(tf.zeros([4]))


def test_nd_transforms_against_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 6))
    with tf.eager_mode():
        z = tf.complex(x, 2 * x)
        np.testing.assert_allclose(tf.signal.fft3d(z).numpy(), np.fft.fftn(x + 2j * x), rtol=1e-12)
        np.testing.assert_allclose(
            tf.signal.ifft2d(z).numpy(), np.fft.ifft2(x + 2j * x), rtol=1e-12
        )
        np.testing.assert_allclose(
            tf.signal.fftnd(z, axes=[0, 2]).numpy(),
            np.fft.fftn(x + 2j * x, axes=[0, 2]),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            tf.signal.rfftnd(x, axes=[0, 2], norm="ortho").numpy(),
            np.fft.rfftn(x, axes=[0, 2], norm="ortho"),
            rtol=1e-12,
        )
        np.testing.assert_allclose(
            tf.signal.irfftnd(np.fft.rfftn(x), fft_length=[2, 4, 6]).numpy(),
            x,
            rtol=1e-12,
            atol=1e-14,
        )
        np.testing.assert_allclose(tf.signal.irfft3d(tf.signal.rfft3d(x)).numpy(), x, atol=1e-12)


def test_stft_round_trip_with_the_inverse_window():
    sig = np.random.default_rng(1).normal(size=64)
    with tf.eager_mode():
        st = tf.signal.stft(sig, 16, 4)
        back = tf.signal.inverse_stft(
            st, 16, 4, window_fn=tf.signal.inverse_stft_window_fn(4)
        ).numpy()
    np.testing.assert_allclose(back[12:-12], sig[12:-12], atol=1e-10)


def test_gradients_match_tensorflow():
    # d/dx of the losses below at x = [0, 1, 2, 3, 4], from real TensorFlow (float64)
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant(X)
        g_fft = tf.gradients(
            tf.reduce_sum(tf.math.real(tf.signal.fft(tf.complex(x, 2 * x))) * x), x
        )[0]
        g_rfft = tf.gradients(tf.reduce_sum(tf.math.imag(tf.signal.rfft(x)) * x[:3]), x)[0]
        g_irfft = tf.gradients(
            tf.reduce_sum(tf.signal.irfft(tf.complex(x, x)) * tf.range(8.0, dtype=tf.float64)), x
        )[0]
        got = sess.run([g_fft, g_rfft, g_irfft])
    np.testing.assert_allclose(
        got[0], [20.0, -18.7638192, -8.24919696, -1.75080304, 8.7638192], rtol=1e-7
    )
    np.testing.assert_allclose(
        got[1], [0.0, 1.31432778, 2.12662702, -1.31432778, 2.12662702], rtol=1e-7, atol=1e-12
    )
    np.testing.assert_allclose(
        got[2], [3.5, 1.41421356, 0.0, -0.58578644, -0.5], rtol=1e-7, atol=1e-12
    )


def test_abs_of_complex_is_real_like_tensorflow():
    with tf.Graph().as_default(), tf.Session() as sess:
        z = tf.complex(tf.constant([3.0, 0.0]), tf.constant([4.0, 0.0]))
        mag = tf.abs(z)
        assert mag.dtype == tf.float32
        # gradient of sum |fft(z)| from real TensorFlow: [1.2 + 1.6j, 0]
        g = tf.gradients(tf.reduce_sum(tf.abs(tf.signal.fft(z))), z)[0]
        got_mag, got_g = sess.run([mag, g])
    np.testing.assert_allclose(got_mag, [5.0, 0.0])
    np.testing.assert_allclose(got_g, [1.2 + 1.6j, 0.0], rtol=1e-6)
