"""Convolution and pooling families against outputs saved from real TensorFlow
(tests/nn/data/*.npz, written by tf.compat.v1 graph mode on the same inputs), in eager
and graph mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.nn.helpers import assert_both

DATA = Path(__file__).parent / "data"
C3 = np.load(DATA / "tf_conv3d.npz")
CC = np.load(DATA / "tf_conv_compose.npz")
DW = np.load(DATA / "tf_depthwise.npz")


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("s", [1, 2])
def test_conv3d_and_3d_pools_match_tf(padding, s):
    strides = [1, s, 1, s, 1]
    key = f"{padding}{s}"
    assert_both(
        lambda x, w: tf.nn.conv3d(x, w, strides, padding),
        C3["c" + key],
        C3["x"],
        C3["w"],
        rtol=1e-5,
        atol=1e-5,
        dtype=np.float32,
    )
    assert_both(
        lambda x: tf.nn.max_pool3d(x, [1, 2, 2, 3, 1], strides, padding), C3["m" + key], C3["x"]
    )
    assert_both(
        lambda x: tf.nn.avg_pool3d(x, [1, 2, 2, 3, 1], strides, padding), C3["a" + key], C3["x"]
    )


def test_conv3d_transpose_matches_tf():
    s = [1, 2, 1, 2, 1]
    assert_both(
        lambda x, w: tf.nn.conv3d_transpose(tf.nn.conv3d(x, w, s, "SAME"), w, [2, 5, 6, 4, 3], s),
        C3["tr"],
        C3["x"],
        C3["w"],
        rtol=1e-4,
        atol=1e-4,
    )


def test_conv3d_static_shape_and_errors():
    x = tf.placeholder(tf.float32, [None, 5, 6, 4, 3])
    y = tf.nn.conv3d(x, tf.zeros([2, 3, 2, 3, 4]), [1, 2, 1, 2, 1], "SAME")
    assert y.shape.as_list() == [None, 3, 6, 2, 4]
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.nn.conv3d(x, tf.zeros([2, 3, 2, 2, 4]), [1] * 5, "SAME")
    with pytest.raises(ValueError, match="batch and depth"):
        tf.nn.conv3d(x, tf.zeros([2, 3, 2, 3, 4]), [2, 1, 1, 1, 1], "SAME")


def test_conv1d_pool1d_convolution_atrous_match_tf():
    x, w, x2, w2 = CC["x"], CC["w"], CC["x2"], CC["w2"]
    tol = dict(rtol=1e-5, atol=1e-5)
    assert_both(lambda a, b: tf.nn.conv1d(a, b, 2, "SAME"), CC["c1"], x, w, **tol)
    assert_both(lambda a, b: tf.nn.conv1d(a, b, 1, "VALID", dilations=2), CC["c1d"], x, w, **tol)
    assert_both(lambda a: tf.nn.max_pool1d(a, 2, 2, "SAME"), CC["mp"], x)
    assert_both(lambda a: tf.nn.avg_pool1d(a, 3, 2, "SAME"), CC["ap"], x)
    assert_both(
        lambda a, b: tf.nn.convolution(a, b, "SAME", dilation_rate=[2, 2]), CC["cv"], x2, w2, **tol
    )
    assert_both(lambda a: tf.nn.pool(a, [2, 3], "AVG", "VALID", strides=[1, 2]), CC["pl"], x2)
    assert_both(
        lambda a, b: tf.nn.conv1d_transpose(tf.nn.conv1d(a, b, 2, "SAME"), b, [2, 7, 3], 2),
        CC["c1t"],
        x,
        w,
        **tol,
    )
    assert_both(lambda a, b: tf.nn.atrous_conv2d(a, b, 2, "VALID"), CC["at"], x2, w2, **tol)
    assert_both(
        lambda a, b: tf.nn.atrous_conv2d_transpose(
            tf.nn.atrous_conv2d(a, b, 2, "SAME"), b, [1, 6, 5, 3], 2, "SAME"
        ),
        CC["att"],
        x2,
        w2,
        rtol=1e-4,
        atol=1e-4,
    )


def test_rank_dispatch_and_names():
    x3 = tf.placeholder(tf.float32, [2, 7, 3])
    assert tf.nn.conv1d(x3, tf.zeros([3, 3, 4]), 1, "SAME").name == "conv1d/Squeeze:0"
    assert tf.nn.max_pool_v2(x3, 2, 2, "VALID").shape.as_list() == [2, 3, 3]
    x5 = tf.placeholder(tf.float32, [1, 4, 4, 4, 2])
    assert tf.nn.avg_pool_v2(x5, 2, 2, "VALID").shape.as_list() == [1, 2, 2, 2, 2]
    assert tf.nn.convolution(x5, tf.zeros([1, 1, 1, 2, 5]), "VALID").shape.as_list() == [
        1,
        4,
        4,
        4,
        5,
    ]
    with pytest.raises(ValueError, match="dilation_rate"):
        tf.nn.pool(x3, [2], "MAX", "SAME", dilation_rate=[2])


def test_depthwise_and_separable_match_tf():
    x, w, pw = DW["x"], DW["w"], DW["pw"]
    tol = dict(rtol=1e-5, atol=1e-5)
    assert_both(
        lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME"), DW["d1"], x, w, **tol
    )
    assert_both(
        lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 2, 2, 1], "VALID"), DW["d2"], x, w, **tol
    )
    assert_both(
        lambda a, b: tf.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME", rate=[2, 2]),
        DW["d3"],
        x,
        w,
        **tol,
    )
    assert_both(
        lambda a, b, c: tf.nn.separable_conv2d(a, b, c, [1, 2, 2, 1], "SAME"),
        DW["sep"],
        x,
        w,
        pw,
        **tol,
    )
    dy = np.ones((2, 3, 3, 6), np.float32)
    assert_both(
        lambda b, g: tf.nn.depthwise_conv2d_native_backprop_input(
            [2, 6, 5, 3], b, g, [1, 2, 2, 1], "SAME"
        ),
        DW["bi"],
        w,
        dy,
        **tol,
    )
    assert_both(
        lambda a, g: tf.nn.depthwise_conv2d_backprop_filter(
            a, [3, 2, 3, 2], g, [1, 2, 2, 1], "SAME"
        ),
        DW["bf"],
        x,
        dy,
        **tol,
    )


def test_depthwise_unequal_strides_is_invalid_argument_like_tf():
    y = tf.nn.depthwise_conv2d(DW["x"], DW["w"], [1, 2, 1, 1], "SAME")
    assert y.name == "depthwise:0"
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="equal length strides"),
    ):
        sess.run(y)


def test_extract_volume_patches_matches_tf():
    r = np.load(DATA / "tf_volume_patches.npz")
    assert_both(
        lambda x: tf.extract_volume_patches(x, [1, 2, 3, 2, 1], [1, 2, 1, 1, 1], "SAME"),
        r["p"],
        r["x"],
        dtype=np.float32,
    )
    assert_both(
        lambda x: tf.extract_volume_patches(x, [1, 1, 2, 2, 1], [1, 1, 2, 1, 1], "VALID"),
        r["p2"],
        r["x"],
    )


def test_nchw_conv2d_and_pools_equal_nhwc_transposed():
    """TF's CPU kernels refuse NCHW at run time; miniflow computes it (documented)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    xn = x.transpose(0, 2, 3, 1)
    with tf.Session() as sess:
        pairs = sess.run(
            [
                (
                    tf.nn.conv2d(x, w, [1, 1, 2, 1], "SAME", data_format="NCHW"),
                    tf.nn.conv2d(xn, w, [1, 2, 1, 1], "SAME"),
                ),
                (
                    tf.nn.max_pool(x, [1, 1, 2, 3], [1, 1, 2, 2], "VALID", data_format="NCHW"),
                    tf.nn.max_pool(xn, [1, 2, 3, 1], [1, 2, 2, 1], "VALID"),
                ),
                (
                    tf.nn.avg_pool(x, [1, 1, 2, 2], [1, 1, 1, 2], "SAME", data_format="NCHW"),
                    tf.nn.avg_pool(xn, [1, 2, 2, 1], [1, 1, 2, 1], "SAME"),
                ),
            ]
        )
    for nchw, nhwc in pairs:
        np.testing.assert_allclose(nchw, nhwc.transpose(0, 3, 1, 2), rtol=1e-6, atol=1e-6)
    y = tf.nn.conv2d(
        tf.placeholder(tf.float32, [None, 3, 6, 5]), w, [1, 1, 2, 1], "SAME", data_format="NCHW"
    )
    assert y.shape.as_list() == [None, 4, 3, 5]


def test_conv2d_transpose_matches_tf():
    r = np.load(DATA / "tf_conv2d_transpose.npz")
    assert_both(
        lambda v, w: tf.nn.conv2d_transpose(v, w, [2, 6, 8, 4], [1, 2, 2, 1], "SAME"),
        r["a"],
        r["v"],
        r["w"],
        rtol=1e-5,
        atol=1e-5,
    )
    assert_both(
        lambda v, w: tf.nn.conv2d_transpose(v, w, [2, 7, 9, 4], [1, 2, 2, 1], "VALID"),
        r["b"],
        r["v"],
        r["w"],
        rtol=1e-5,
        atol=1e-5,
    )
    y = tf.nn.conv2d_transpose(r["v"], r["w"], [2, 6, 8, 4], [1, 2, 2, 1], "SAME")
    z = tf.nn.conv3d_transpose(
        tf.zeros([1, 2, 2, 2, 3]), tf.zeros([2, 2, 2, 4, 3]), [1, 4, 4, 4, 4], [1, 2, 2, 2, 1]
    )
    assert (y.name, z.name) == ("conv2d_transpose:0", "conv3d_transpose:0")  # as TF


def test_generic_conv_and_v2_backprops_match_tf():
    x2, w2 = CC["x2"], CC["w2"]
    tol = dict(rtol=1e-5, atol=1e-5)
    assert_both(lambda a, b: tf.conv(a, b, [1, 2, 1, 1], "SAME"), CC["conv_a"], x2, w2, **tol)
    assert_both(
        lambda a, b: tf.conv(a, b, [1, 1, 1, 1], "VALID", dilations=[1, 2, 1, 1]),
        CC["conv_b"],
        x2,
        w2,
        **tol,
    )
    dy = np.ones((1, 3, 5, 2), np.float32)  # TF has no CPU kernel for the V2 ops: the
    # reference is TF's V1 op on the same shapes
    assert_both(
        lambda a, b, g: tf.conv2d_backprop_filter_v2(a, b, g, [1, 2, 1, 1], "SAME"),
        CC["bf2"],
        x2,
        w2,
        dy,
        **tol,
    )
    assert_both(
        lambda a, b, g: tf.conv2d_backprop_input_v2(a, b, g, [1, 2, 1, 1], "SAME"),
        CC["bi2"],
        x2,
        w2,
        dy,
        **tol,
    )
    with pytest.raises(ValueError, match="groups"):
        tf.conv(x2, w2, [1, 1, 1, 1], "SAME", groups=3)
    values, indices = tf.approx_top_k(np.array([[3.0, 1.0, 2.0]]), 2, is_max_k=False)
    with tf.Session() as sess:
        v, i = sess.run([values, indices])
    assert v.tolist() == [[1.0, 2.0]] and i.tolist() == [[1, 2]]
