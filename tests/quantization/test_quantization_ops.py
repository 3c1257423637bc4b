"""Quantization ops against real TensorFlow's numbers (tests/quantization/tf_reference.py),
in graph and eager mode: fake quantization, quantize/dequantize in every mode,
quantize_and_dequantize, quantized_concat and the tf.nn.quantized_* ops."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from tests.quantization.tf_reference import TF

X12 = np.array(TF["x12"], np.float32)
U8 = np.array(TF["u8"], np.uint8)
I8 = U8.view(np.int8)
IMG = np.array(TF["img"], np.uint8)
FILT = np.array(TF["filt"], np.uint8)
FQ = [
    (-1, 1.2, 4, False),
    (-6, 6, 8, False),
    (0.5, 3, 8, True),
    (-3, -0.5, 5, False),
    (-2.3, 1.7, 3, True),
]
RANGES = [(-1.0, 2.0), (0.5, 3.0), (-4.0, -1.0)]
QDQ = [
    dict(range_given=False),
    dict(range_given=True),
    dict(range_given=True, signed_input=False),
    dict(range_given=True, num_bits=4, narrow_range=True),
    dict(range_given=True, round_mode="HALF_UP", num_bits=3),
    dict(range_given=False, num_bits=5, signed_input=False),
]


def q(values, dtype):
    return tf.constant(np.asarray(values).view(dtype.np))


def forward_cases():
    """{key of TF: output(s)} for every forward case, built with the current front end."""
    x = tf.constant(X12)
    x43 = tf.reshape(x, [4, 3])
    ops = {}
    for i, (mn, mx, nb, nr) in enumerate(FQ):
        ops[f"args{i}"] = tf.quantization.fake_quant_with_min_max_args(x, mn, mx, nb, nr)
        ops[f"vars{i}"] = tf.fake_quant_with_min_max_vars(
            x, tf.constant(float(mn)), tf.constant(float(mx)), nb, nr
        )
    ops["pc"] = tf.quantization.fake_quant_with_min_max_vars_per_channel(
        x43, [-1.0, 0.5, -3.0], [1.2, 3.0, -0.5], 4, False
    )
    ops["pc_gop"] = tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient(
        tf.reshape(tf.range(1.0, 13.0), [4, 3]),
        x43,
        [-1.0, 0.5, -3.0],
        [1.2, 3.0, -0.5],
        num_bits=4,
    )
    for name in ("quint8", "qint8"):
        T = getattr(tf, name)
        for mode in ("MIN_COMBINED", "MIN_FIRST", "SCALED"):
            for j, (a, b) in enumerate(RANGES):
                ops[f"q_{name}_{mode}_{j}"] = tf.quantization.quantize(x, a, b, T, mode=mode)
        ops[f"q_{name}_scaled_even_narrow"] = tf.quantize(
            x, -1.0, 2.0, T, mode="SCALED", round_mode="HALF_TO_EVEN", narrow_range=True
        )
    ops["q_axis1"] = tf.quantize_v2(
        x43, [-1.0, -2.0, 0.5], [1.0, 3.0, 2.0], tf.qint8, mode="SCALED", axis=1
    )
    ops["q_axism1"] = tf.quantization.quantize(
        x43, [-1.0, -2.0, 0.5], [1.0, 3.0, 2.0], tf.quint8, axis=-1
    )
    ops["q_ensure"] = tf.quantization.quantize(
        x, -0.001, 0.001, tf.quint8, ensure_minimum_range=0.5
    )
    for mode in ("MIN_COMBINED", "MIN_FIRST", "SCALED"):
        for j, (a, b) in enumerate(RANGES[:2]):
            ops[f"dq_quint8_{mode}_{j}"] = tf.dequantize(q(U8, tf.quint8), a, b, mode=mode)
            ops[f"dq_qint8_{mode}_{j}"] = tf.quantization.dequantize(
                q(I8, tf.qint8), a, b, mode=mode
            )
    ops["dq_qint8_scaled_narrow"] = tf.quantization.dequantize(
        q(I8, tf.qint8), -1.0, 2.0, mode="SCALED", narrow_range=True
    )
    ops["dq_axis"] = tf.quantization.dequantize(
        q(I8.reshape(2, 4), tf.qint8),
        [-1.0, -3.0, 0.5, 1.0],
        [1.0, 2.0, 2.0, 4.0],
        mode="SCALED",
        axis=1,
    )
    for k, kw in enumerate(QDQ):
        ops[f"qdq{k}"] = tf.quantization.quantize_and_dequantize(x, -2.5, 3.0, **kw)
        ops[f"qdq{k}_v4"] = tf.quantization.quantize_and_dequantize_v2(x, -2.5, 3.0, **kw)
    ops["qdq_axis_free"] = tf.quantization.quantize_and_dequantize(
        x43, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], range_given=False, axis=1
    )
    a, b = q(U8[:4].reshape(2, 2), tf.quint8), q(U8[4:].reshape(2, 2), tf.quint8)
    ops["qc_u8"] = tf.quantization.quantized_concat(1, [a, b], [-1.0, 0.5], [2.0, 3.0])
    ops["qc_u8_same"] = tf.quantized_concat(0, [a, a], [-1.0, -1.0], [2.0, 2.0])
    big = np.array([-2000000000, -5, 0, 7, 123456789, 2147483647], np.int32).reshape(2, 3)
    ops["qc_i32"] = tf.quantized_concat(0, [q(big, tf.qint32)] * 2, [-1.0, 0.5], [2.0, 3.0])
    img, filt = q(IMG, tf.quint8), q(FILT, tf.quint8)
    for pad in ("VALID", "SAME"):
        ops[f"avg_{pad}"] = tf.nn.quantized_avg_pool(
            img, -1.0, 3.0, [1, 2, 2, 1], [1, 2, 2, 1], pad
        )
        ops[f"max_{pad}"] = tf.nn.quantized_max_pool(
            img, -1.0, 3.0, [1, 2, 3, 1], [1, 1, 2, 1], pad
        )
        ops[f"avg3_{pad}"] = tf.nn.quantized_avg_pool(
            img, -1.0, 3.0, [1, 3, 3, 1], [1, 2, 2, 1], pad
        )
        ops[f"conv_{pad}"] = tf.nn.quantized_conv2d(
            img, filt, -1.0, 3.0, -0.5, 0.7, [1, 1, 1, 1], pad
        )
    ops["conv_s2"] = tf.nn.quantized_conv2d(img, filt, -1.0, 3.0, -0.5, 0.7, [1, 2, 2, 1], "SAME")
    return ops


def plain(value):
    """A fetched value as plain numbers (quantized arrays as their integers)."""
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    value = np.asarray(value)
    return value[value.dtype.names[0]] if value.dtype.names else value


def check(key, got):
    want = TF[key]
    if isinstance(got, list):
        assert len(got) == len(want), key
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, np.asarray(w, g.dtype), err_msg=key)
    else:
        np.testing.assert_array_equal(got, np.asarray(want, got.dtype), err_msg=key)


def test_forward_graph_mode_matches_tf_exactly():
    with tf.Graph().as_default():
        ops = forward_cases()
        with tf.Session() as sess:
            values = sess.run(ops)
    for key, value in values.items():
        check(key, plain(value))
        if isinstance(ops[key], tuple):  # static dtypes and shapes
            for t, v in zip(ops[key], value):
                assert t.dtype.np == np.asarray(v).dtype, key
                assert t.shape.is_compatible_with(np.shape(v)), key


def test_forward_eager_mode_matches_tf_exactly():
    with tf.eager_mode():
        ops = forward_cases()
        for key, value in ops.items():
            got = [t.numpy() for t in value] if isinstance(value, tuple) else value.numpy()
            check(key, plain(got))


def test_quantized_output_dtypes_and_names():
    with tf.Graph().as_default():
        out, mn, mx = tf.quantization.quantize(
            tf.constant([1.0]), -1.0, 1.0, tf.qint8, name="quant"
        )
        assert (out.dtype, mn.dtype, mx.dtype) == (tf.qint8, tf.float32, tf.float32)
        assert out.name == "quant:0" and mx.name == "quant:2"
        assert mn.shape.as_list() == []
        y = tf.dequantize(out, mn, mx)
        assert y.dtype == tf.float32 and y.op.type == "Dequantize"
        conv = tf.nn.quantized_conv2d(
            q(IMG, tf.quint8), q(FILT, tf.quint8), 0.0, 1.0, 0.0, 1.0, [1, 1, 1, 1], "VALID"
        )
        assert conv[0].dtype == tf.qint32 and conv[0].shape.as_list() == [1, 3, 4, 3]


def test_errors_follow_tf():
    """TF 2.21: TypeError / ValueError at construction for wrong dtypes and modes,
    InvalidArgumentError when the op runs for bad ranges."""
    x = tf.constant([[0.5, -1.2, 2.5]])
    with pytest.raises(TypeError):
        tf.quantization.fake_quant_with_min_max_args(tf.constant([1.0], tf.float64))
    with pytest.raises(ValueError, match="mode"):
        tf.quantization.quantize(x, -1.0, 1.0, tf.quint8, mode="FOO")
    with pytest.raises(TypeError):
        tf.quantization.quantize(x, -1.0, 1.0, tf.float32)
    with pytest.raises(TypeError):
        tf.quantization.dequantize(x, -1.0, 1.0)
    with tf.Session() as sess:
        for bad, message in [
            (tf.quantization.fake_quant_with_min_max_args(x, 1.0, 1.0), "min has to be"),
            (tf.quantization.fake_quant_with_min_max_args(x, -1.0, 1.0, num_bits=1), "num_bits"),
            (tf.quantization.quantize(x, 2.0, 1.0, tf.quint8)[0], "input_max_range"),
            (
                tf.quantization.quantize_and_dequantize_v2(x, 2.0, 1.0, range_given=True),
                "Invalid range",
            ),
        ]:
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(bad)


def test_wide_quantized_types_match_tf():
    """qint16 SCALED and qint32 MIN_COMBINED (TF casts values past int32's range to
    INT32_MIN, as x86 does); numbers from TF 2.21."""
    x = np.array([[0.5, -1.2, 2.5], [3.3, -0.1, 0.9]], np.float32)
    with tf.Session() as sess:
        q16 = sess.run(tf.quantization.quantize(x, -1.0, 2.0, tf.qint16, mode="SCALED"))
        q32 = sess.run(tf.quantization.quantize(x, -1.0, 2.0, tf.qint32))
        v4 = sess.run(
            tf.quantization.quantize_and_dequantize_v2(
                x, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], axis=1, num_bits=4
            )
        )
    np.testing.assert_array_equal(plain(q16[0]), [[8192, -19660, 32767], [32767, -1638, 14745]])
    assert (q16[1], q16[2]) == (np.float32(-2.00006103515625), 2.0)
    np.testing.assert_array_equal(
        plain(q32[0]), [[0, -2147483648, -2147483648], [-2147483648, -858993408, 572662272]]
    )
    np.testing.assert_array_equal(
        v4,
        np.array(
            [
                [0.4714285731315613, -1.2000000476837158, 2.5],
                [3.299999952316284, -0.15000000596046448, 1.0714285373687744],
            ],
            np.float32,
        ),
    )


def test_quantized_relu_x_follows_tf_kernel():
    """TF 2.21's CPU build registers no QuantizedReluX kernel for quint8 or qint32 inputs,
    so this checks the kernel's formula (quantized_activation_ops.cc): clamp to
    [FloatToQuantized(0), FloatToQuantized(max_value)] in the input's range."""
    values = np.array([0, 50, 63, 64, 65, 100, 159, 160, 161, 255], np.uint8)
    with tf.Session() as sess:
        out, mn, mx = sess.run(tf.nn.quantized_relu_x(q(values, tf.quint8), 1.5, -1.0, 3.0))
    # FloatToQuantized(0.0, -1, 3) = round(0 * 63.75) - round(-1 * 63.75) = 64; 1.5 -> 160
    np.testing.assert_array_equal(plain(out), [64, 64, 64, 64, 65, 100, 159, 160, 160, 160])
    assert (mn, mx) == (-1.0, 3.0)


def test_runtime_errors_follow_tf():
    """Cases TF 2.21 rejects when the op runs (InvalidArgumentError / Unimplemented)."""
    x = tf.constant([[0.5, -1.2, 2.5]])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="HALF_TO_EVEN"):
            sess.run(
                tf.quantization.quantize(x, -1.0, 1.0, tf.quint8, round_mode="HALF_TO_EVEN")[0]
            )
        with pytest.raises(tf.errors.UnimplementedError, match="MIN_FIRST"):
            sess.run(
                tf.quantization.quantize(
                    x, [-1.0] * 3, [1.0] * 3, tf.quint8, mode="MIN_FIRST", axis=1
                )[0]
            )
        with pytest.raises(tf.errors.InvalidArgumentError, match="input_min must be a scalar"):
            sess.run(
                tf.quantization.quantize_and_dequantize_v2(
                    x, [-1.0, -2.0, 0.5], [1.0, 3.0, 2.0], range_given=True, axis=1
                )
            )
        a = q(np.array([1, 2], np.int8), tf.qint8)
        with pytest.raises(tf.errors.InvalidArgumentError, match="quint8 and qint32"):
            sess.run(tf.quantized_concat(0, [a, a], [-1.0, -1.0], [1.0, 1.0])[0])
    with pytest.raises(ValueError, match="must have shape"):  # TF: ValueError at build
        tf.quantization.fake_quant_with_min_max_vars_per_channel(
            tf.constant([[0.5, -1.2, 2.5]]), [0.0, 1.0], [1.0, 2.0]
        )


def test_quantize_returns_tf_named_tuple():
    # TF 2.21: tf.quantization.quantize / tf.quantize_v2 return a QuantizeV2 namedtuple
    # with fields ('output', 'output_min', 'output_max').
    g = tf.Graph()
    with g.as_default():
        q = tf.quantization.quantize(tf.constant([1.0, 2.0]), 0.0, 2.0, tf.quint8)
        assert type(q).__name__ == "QuantizeV2"
        assert q._fields == ("output", "output_min", "output_max")
        out, lo, hi = tf.Session(graph=g).run([q.output, q.output_min, q.output_max])
    # quint8 values are NumPy structured scalars, as TF's are: [(128,), (255,)]
    assert [v[0] for v in out.tolist()] == [128, 255] and lo == 0.0 and hi == 2.0
