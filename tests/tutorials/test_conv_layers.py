"""`tf.layers` 1-D, 2-D, 3-D and separable convolutions and poolings, against NumPy
references (and the adjoint identity for the transposed convolution)."""

import numpy as np
import pytest

import miniflow as tf

RNG = np.random.RandomState(0)


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def _correlate(x, w, stride):
    """Valid N-D cross-correlation: x [b, *spatial, c], w [*k, c, f]."""
    k = w.shape[:-2]
    out_sp = [(n - kk) // s + 1 for n, kk, s in zip(x.shape[1:-1], k, stride)]
    out = np.zeros([x.shape[0], *out_sp, w.shape[-1]])
    for idx in np.ndindex(*out_sp):
        window = tuple(slice(i * s, i * s + kk) for i, s, kk in zip(idx, stride, k))
        patch = x[(slice(None), *window)]
        out[(slice(None), *idx)] = np.tensordot(patch, w, axes=len(k) + 1)
    return out


@pytest.mark.parametrize(
    "layer, x_shape, kernel, stride",
    [
        (tf.layers.conv1d, (2, 9, 3), (3,), (2,)),
        (tf.layers.conv2d, (2, 7, 6, 3), (3, 2), (2, 1)),
        (tf.layers.conv3d, (1, 4, 5, 4, 2), (2, 3, 2), (1, 2, 1)),
    ],
)
def test_conv1d_conv2d_conv3d_match_numpy(layer, x_shape, kernel, stride):
    x = RNG.randn(*x_shape).astype(np.float32)
    w = RNG.randn(*kernel, x_shape[-1], 4).astype(np.float32)
    out = layer(
        tf.constant(x),
        4,
        kernel,
        strides=stride,
        padding="valid",
        kernel_initializer=tf.constant_initializer(w),
        bias_initializer=tf.constant_initializer(0.5),
    )
    np.testing.assert_allclose(_run(out), _correlate(x, w, stride) + 0.5, rtol=1e-4, atol=1e-4)
    assert [v.name for v in tf.trainable_variables()] == [
        f"conv{len(kernel)}d/kernel:0",
        f"conv{len(kernel)}d/bias:0",
    ]


def test_separable_convolutions_match_numpy():
    x = RNG.randn(2, 6, 6, 3).astype(np.float32)
    dw = RNG.randn(3, 3, 3, 2).astype(np.float32)
    pw = RNG.randn(1, 1, 6, 4).astype(np.float32)
    out = tf.layers.separable_conv2d(
        tf.constant(x),
        4,
        3,
        depth_multiplier=2,
        depthwise_initializer=tf.constant_initializer(dw),
        pointwise_initializer=tf.constant_initializer(pw),
    )
    depthwise = np.concatenate(
        [_correlate(x[..., c : c + 1], dw[:, :, c : c + 1, :], (1, 1)) for c in range(3)], axis=-1
    )
    np.testing.assert_allclose(
        _run(out), np.tensordot(depthwise, pw[0, 0], 1), rtol=1e-4, atol=1e-4
    )
    x1 = RNG.randn(2, 7, 3).astype(np.float32)
    out1 = tf.layers.separable_conv1d(
        tf.constant(x1),
        4,
        3,
        depth_multiplier=2,
        depthwise_initializer=tf.constant_initializer(dw[0]),
        pointwise_initializer=tf.constant_initializer(pw[0]),
    )
    depthwise1 = np.concatenate(
        [_correlate(x1[..., c : c + 1], dw[0][:, c : c + 1, :], (1,)) for c in range(3)], axis=-1
    )
    np.testing.assert_allclose(
        _run(out1), np.tensordot(depthwise1, pw[0, 0], 1), rtol=1e-4, atol=1e-4
    )
    shapes = {v.name: v.shape.as_list() for v in tf.trainable_variables()}
    assert shapes["separable_conv1d/depthwise_kernel:0"] == [3, 3, 2]
    assert shapes["separable_conv1d/pointwise_kernel:0"] == [1, 6, 4]


def test_poolings_match_numpy():
    x1 = RNG.randn(2, 8, 3).astype(np.float32)
    x3 = RNG.randn(1, 4, 4, 6, 2).astype(np.float32)
    got = _run(
        [
            tf.layers.max_pooling1d(x1, 2, 2),
            tf.layers.average_pooling1d(x1, 2, 2),
            tf.layers.MaxPooling3D(2, 2)(x3),
            tf.layers.average_pooling3d(x3, 2, 2),
        ]
    )
    p1 = x1.reshape(2, 4, 2, 3)
    p3 = x3.reshape(1, 2, 2, 2, 2, 3, 2, 2)
    np.testing.assert_allclose(got[0], p1.max(2))
    np.testing.assert_allclose(got[1], p1.mean(2), rtol=1e-6)
    np.testing.assert_allclose(got[2], p3.max((2, 4, 6)))
    np.testing.assert_allclose(got[3], p3.mean((2, 4, 6)), rtol=1e-5)


def test_conv3d_transpose_is_the_adjoint_of_conv3d():
    w = RNG.randn(2, 2, 2, 3, 2).astype(np.float32)  # [d, h, w, out=3, in=2]
    y = RNG.randn(1, 2, 3, 2, 2).astype(np.float32)
    x = RNG.randn(1, 4, 6, 4, 3).astype(np.float32)
    up = tf.layers.conv3d_transpose(
        tf.constant(y),
        3,
        2,
        strides=2,
        padding="same",
        use_bias=False,
        kernel_initializer=tf.constant_initializer(w),
    )
    down = tf.nn.conv3d(tf.constant(x), w, [1, 2, 2, 2, 1], "SAME")
    up_v, down_v = _run([up, down])
    assert up_v.shape == (1, 4, 6, 4, 3)
    np.testing.assert_allclose(np.sum(up_v * x), np.sum(y * down_v), rtol=1e-4)


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    w = RNG.randn(3, 2, 3, 2).astype(np.float32)  # [h, w, out=3, in=2]
    y = RNG.randn(2, 3, 2, 2).astype(np.float32)
    x = RNG.randn(2, 6, 4, 3).astype(np.float32)
    up = tf.layers.conv2d_transpose(
        tf.constant(y),
        3,
        (3, 2),
        strides=2,
        padding="same",
        use_bias=False,
        kernel_initializer=tf.constant_initializer(w),
    )
    down = tf.nn.conv2d(tf.constant(x), w, [1, 2, 2, 1], "SAME")
    up_v, down_v = _run([up, down])
    assert tf.trainable_variables()[0].shape.as_list() == [3, 2, 3, 2]
    assert up_v.shape == (2, 6, 4, 3)
    np.testing.assert_allclose(np.sum(up_v * x), np.sum(y * down_v), rtol=1e-4)
