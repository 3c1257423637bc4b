"""The dtypes added for issue 13 (unsigned, quantized, handles) and the casts of
`tf.dtypes`; expected values were obtained from TensorFlow 2.21 (`tf.compat.v1`)."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def _run(t):
    with tf.Session() as sess:
        return sess.run(t)


def test_unsigned_dtypes_map_to_numpy_both_ways():
    assert tf.uint32.as_numpy_dtype is np.uint32 and tf.uint64.as_numpy_dtype is np.uint64
    assert tf.as_dtype(np.uint32) is tf.uint32 and tf.as_dtype("uint64") is tf.uint64
    assert (tf.uint32.size, tf.uint64.max, tf.uint32.min) == (4, 2**64 - 1, 0)
    assert tf.uint64.is_unsigned and tf.uint64.is_integer
    assert _run(tf.constant([1, 2], tf.uint32)).dtype == np.uint32


@pytest.mark.parametrize(
    "name,storage,size",
    [
        ("qint8", "i1", 1),
        ("qint16", "<i2", 2),
        ("qint32", "<i4", 4),
        ("quint8", "u1", 1),
        ("quint16", "<u2", 2),
    ],
)
def test_quantized_dtypes_have_tf_properties(name, storage, size):
    d = getattr(tf, name)
    assert d is tf.dtypes.as_dtype(name) is tf.as_dtype(d.as_numpy_dtype)
    assert d.as_numpy_dtype == np.dtype([(name, storage)])  # TF's structured type
    assert d.size == size and d.is_quantized and d.is_numeric
    assert not (d.is_integer or d.is_floating or d.is_unsigned)
    assert d in tf.QUANTIZED_DTYPES and d in tf.dtypes.QUANTIZED_DTYPES
    with pytest.raises(TypeError, match="quantized"):
        d.min  # noqa: B018  TF raises TypeError too


def test_quantized_set_and_handles():
    assert tf.QUANTIZED_DTYPES == {tf.qint8, tf.qint16, tf.qint32, tf.quint8, tf.quint16}
    assert not tf.float32.is_quantized and tf.qint8 != tf.int8
    for d in (tf.resource, tf.variant):
        assert d.size == 0 and not (d.is_numeric or d.is_quantized or d.is_integer)
    assert tf.string.size == 0 and tf.complex128.size == 16
    assert tf.complex64.real_dtype is tf.float32 and tf.complex128.real_dtype is tf.float64


def test_saturate_cast_matches_tf():
    got = _run(
        [
            tf.saturate_cast([300.0, -5.0, 1e10], tf.uint8),
            tf.dtypes.saturate_cast([3e9, -1e10, 2.5], tf.int32),
            tf.saturate_cast([-1, 70000], tf.uint16),
            tf.saturate_cast(tf.constant([1.5 + 2j]), tf.float32),
        ]
    )
    np.testing.assert_array_equal(got[0], np.array([255, 0, 255], np.uint8))
    # float32 cannot hold 2**31 - 1: TF saturates to the float just below it.
    np.testing.assert_array_equal(got[1], np.array([2147483520, -2147483648, 2], np.int32))
    np.testing.assert_array_equal(got[2], np.array([0, 65535], np.uint16))
    np.testing.assert_array_equal(got[3], np.array([1.5], np.float32))
    assert tf.saturate_cast([1.0], tf.int8, name="sc").name == "sc:0"


def test_saturate_cast_eager():
    with tf.eager_mode():
        out = tf.saturate_cast(tf.constant([-3.0, 1e5]), tf.int16)
        np.testing.assert_array_equal(out.numpy(), np.array([-3, 32767], np.int16))


def test_bitcast_matches_tf():
    got = _run(
        [
            tf.bitcast(tf.constant([1.0]), tf.int32),
            tf.bitcast(tf.constant([1.0]), tf.uint8),
            tf.bitcast(tf.constant([[1, 2, 3, 4]], tf.uint8), tf.int32),
        ]
    )
    np.testing.assert_array_equal(got[0], [1065353216])
    np.testing.assert_array_equal(got[1], [[0, 0, 128, 63]])
    np.testing.assert_array_equal(got[2], [67305985])
    assert tf.bitcast(tf.constant([1.0]), tf.uint8).shape.as_list() == [1, 4]
    with pytest.raises(ValueError, match="last dimension"):
        tf.bitcast(tf.constant([[1, 2, 3]], tf.uint8), tf.int32)
    with tf.eager_mode():
        assert tf.bitcast(tf.constant([2], tf.int64), tf.float64).numpy()[0] == 1e-323


def test_dtypes_namespace_functions():
    t = tf.dtypes.cast(tf.constant([1.7]), tf.int32)
    c = tf.dtypes.complex(tf.constant([1.0]), tf.constant([2.0]))
    s = tf.dtypes.as_string(tf.constant([3]))
    got = _run([t, c, s])
    np.testing.assert_array_equal(got[0], [1])
    np.testing.assert_array_equal(got[1], [1 + 2j])
    assert got[2].tolist() == [b"3"]


def test_no_dtype_equals_none():
    # np.dtype(None) is float64; TF's DType never compares equal to None.
    import miniflow as tf

    assert not (tf.float64 == None)  # noqa: E711
    assert tf.float64 != None  # noqa: E711
    assert tf.float64 == "float64" and tf.float32 == np.float32
