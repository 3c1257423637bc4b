"""Small top-level TF1 names: specs, enums, DeviceSpec, tensor conversion and
TensorProto, tf.function, tf.init_scope, feature probes, clip_by_average_norm,
orthogonal_initializer, timestamp and the old aliases. Expected values (including the
TensorProto bytes) were obtained from TensorFlow 2.21 (tf.compat.v1, graph mode)."""

import numpy as np
import pytest

import miniflow as tf


def test_tensor_spec():
    spec = tf.TensorSpec([2, None], tf.int32, name="x")
    assert repr(spec) == "TensorSpec(shape=(2, None), dtype=tf.int32, name='x')"
    assert repr(tf.TensorSpec(None)) == "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"
    assert tf.TensorSpec([2]) == tf.TensorSpec([2])
    assert tf.TensorSpec([2], name="a") != tf.TensorSpec([2])
    assert tf.TensorSpec([2]).is_compatible_with(tf.TensorSpec([None]))
    assert not tf.TensorSpec([2]).is_compatible_with(tf.constant([1, 2]))  # dtype differs
    assert tf.TensorSpec([2, None]).most_specific_compatible_type(
        tf.TensorSpec([3, None])
    ) == tf.TensorSpec([None, None])
    assert isinstance(spec, tf.TypeSpec)
    assert tf.SparseTensorSpec([3], tf.int64).dtype == tf.int64
    assert tf.IndexedSlicesSpec([4, 2]).shape.as_list() == [4, 2]
    assert (
        repr(tf.TensorArraySpec([2], tf.int32))
        == "TensorArraySpec(TensorShape([2]), tf.int32, False, True)"
    )  # TF's repr
    assert tf.TensorArraySpec([2]) == tf.TensorArraySpec.from_value(
        tf.TensorArray(tf.float32, size=1, element_shape=[2])
    )


def test_enums_match_tensorflow():
    assert [m.value for m in tf.UnconnectedGradients] == ["none", "zero"]
    assert (
        tf.AggregationMethod.ADD_N,
        tf.AggregationMethod.DEFAULT,
        tf.AggregationMethod.EXPERIMENTAL_TREE,
        tf.AggregationMethod.EXPERIMENTAL_ACCUMULATE_N,
    ) == (0, 0, 1, 2)
    assert tf.VariableAggregation.ONLY_FIRST_TOWER is tf.VariableAggregation.ONLY_FIRST_REPLICA
    assert tf.VariableAggregation.MEAN.value == 2
    assert tf.VariableSynchronization.ON_READ.value == 3


def test_device_spec():
    d = tf.DeviceSpec.from_string("/job:ps/replica:0/task:2/device:CPU:0")
    assert (d.job, d.replica, d.task, d.device_type, d.device_index) == ("ps", 0, 2, "CPU", 0)
    assert d.replace(job="w").to_string() == "/job:w/replica:0/task:2/device:CPU:0"
    merged = tf.DeviceSpec(job="a").make_merged_spec(
        tf.DeviceSpec(device_type="GPU", device_index=0)
    )
    assert merged.to_string() == "/job:a/device:GPU:0"
    assert tf.DeviceSpec(device_type="gpu").to_string() == "/device:GPU:*"
    assert tf.DeviceSpec.from_string("/cpu:0").to_string() == "/device:CPU:0"
    with pytest.raises(ValueError, match="Unknown attribute 'foo'"):
        tf.DeviceSpec.from_string("/foo:bar")


def test_tensor_proto_round_trip_and_bytes():
    proto = tf.make_tensor_proto([1.0, 2.5], shape=[2])
    assert proto.dtype == tf.float32
    assert (
        proto.SerializeToString() == b'\x08\x01\x12\x04\x12\x02\x08\x02"\x08\x00\x00\x80?\x00\x00 @'
    )  # TF's bytes
    np.testing.assert_array_equal(tf.make_ndarray(proto), [1.0, 2.5])
    assert tf.make_ndarray(tf.make_tensor_proto([[1, 2]])).dtype == np.int32
    np.testing.assert_array_equal(
        tf.make_ndarray(tf.make_tensor_proto(3, shape=[2, 2])), [[3, 3], [3, 3]]
    )
    # TF writes this one as double_val (field 6): the same array as miniflow's content
    tf_bytes = b"\x08\x02\x12\x04\x12\x02\x08\x012\x08\x00\x00\x00\x00\x00\x00\xf8?"
    np.testing.assert_array_equal(tf.make_ndarray(tf_bytes), [1.5])
    proto = tf.make_tensor_proto(np.array([1.5]), dtype=tf.float64)
    assert tf.make_ndarray(proto.SerializeToString()).dtype == np.float64
    with pytest.raises(ValueError, match="Too many elements provided. Takes at most 2"):
        tf.make_tensor_proto([1, 2, 3], shape=[2])


def test_conversions():
    x = tf.constant([1.0, 2.0])
    slices = tf.IndexedSlices(x, tf.constant([0, 1]))
    assert tf.convert_to_tensor_or_indexed_slices(slices) is slices
    assert tf.convert_to_tensor_or_sparse_tensor([1, 2]).dtype == tf.int32
    sparse = tf.SparseTensor([[0]], [1.0], [2])
    assert tf.convert_to_tensor_or_sparse_tensor(sparse) is sparse
    assert tf.is_symbolic_tensor(x) and not tf.is_symbolic_tensor(np.ones(2))
    with tf.eager_mode():
        assert not tf.is_symbolic_tensor(tf.constant(1.0))


class _Boxed:
    def __init__(self, v):
        self.v = v


def test_register_tensor_conversion_function(run):
    tf.register_tensor_conversion_function(
        _Boxed, lambda value, dtype=None, name=None, as_ref=False: tf.constant(value.v)
    )
    assert float(run(lambda: tf.add(_Boxed(2.0), 1.0))) == 3.0
    with pytest.raises(TypeError, match="Python numeric types"):
        tf.register_tensor_conversion_function(int, lambda *a, **k: None)


def test_function_and_input_signature(run):
    @tf.function
    def double(a):
        return a * 2

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def triple(a):
        return a * 3

    a, b = run(lambda: [double(tf.constant(2.0)), triple([1, 2])])
    assert float(a) == 4.0
    np.testing.assert_array_equal(b, [3.0, 6.0])
    assert b.dtype == np.float32
    with pytest.raises(ValueError, match="input_signature"):
        triple(tf.constant([[1.0]]))
    assert tf.wrap_function(lambda t: t + 1, [tf.TensorSpec([], tf.float32)])(1) is not None


def test_init_scope_clears_control_dependencies():
    a = tf.constant(1.0)
    with tf.control_dependencies([a.op]):
        inside = tf.constant(2.0)
        with tf.init_scope():
            lifted = tf.constant(3.0)
    assert list(inside.op.control_inputs) == [a.op]
    assert list(lifted.op.control_inputs) == []


def test_feature_probes():
    assert tf.resource_variables_enabled() is False
    assert tf.control_flow_v2_enabled() is False


def test_clip_by_average_norm(run):
    out = run(lambda: tf.clip_by_average_norm(tf.constant([[3.0, 4.0], [0.0, 0.0]]), 1.0))
    np.testing.assert_allclose(out, [[2.4, 3.2], [0.0, 0.0]], rtol=1e-6)  # TF's values
    kept = run(lambda: tf.clip_by_average_norm(tf.constant([[3.0, 4.0], [0.0, 0.0]]), 2.0))
    np.testing.assert_allclose(kept, [[3.0, 4.0], [0.0, 0.0]], rtol=1e-6)
    assert tf.clip_by_average_norm(tf.constant([1.0]), 1.0).name == "clip_by_average_norm:0"


@pytest.mark.parametrize("shape", [[3, 5], [5, 3], [2, 3, 4]])
def test_orthogonal_initializer(run, shape):
    def build():
        return tf.orthogonal_initializer(gain=2.0, seed=1)(shape)

    q = run(build).reshape(-1, shape[-1])
    small = q @ q.T if q.shape[0] < q.shape[1] else q.T @ q
    np.testing.assert_allclose(small, 4.0 * np.eye(min(q.shape)), atol=1e-5)
    with pytest.raises(ValueError, match="two-dimensional"):
        tf.orthogonal_initializer()([3])


def test_aliases_match_tensorflow(run):
    out = run(
        lambda: [
            tf.arg_max(tf.constant([1, 3, 2]), 0),
            tf.arg_min(tf.constant([[1, 3], [4, 0]]), 1),
            tf.floor_div(-7, 2),
            tf.matrix_diag_part(tf.constant([[1, 2], [3, 4]])),
        ]
    )
    assert int(out[0]) == 1 and np.asarray(out[0]).dtype == np.int64
    np.testing.assert_array_equal(out[1], [0, 1])
    assert int(out[2]) == -4
    np.testing.assert_array_equal(out[3], [1, 4])


def test_timestamp(run):
    import time

    before = time.time()
    value = run(lambda: tf.timestamp())
    assert np.asarray(value).dtype == np.float64
    assert before - 1 <= float(value) <= time.time() + 1


def test_fingerprint_matches_tensorflow(run):
    out = run(
        lambda: [
            tf.fingerprint(tf.constant([[1, 2], [3, 4]], tf.int32)),
            tf.fingerprint(tf.constant([1.5, 2.5])),
            tf.fingerprint(tf.constant(["abc", "de"])),
            tf.fingerprint(tf.constant([["abc", "de"], ["x", ""]])),
        ]
    )
    # the bytes TF 2.21 returns for the same inputs
    np.testing.assert_array_equal(
        out[0], [[76, 18, 253, 133, 168, 204, 240, 10], [254, 162, 60, 240, 103, 244, 53, 255]]
    )
    np.testing.assert_array_equal(
        out[1], [[64, 181, 56, 72, 223, 224, 189, 72], [215, 206, 200, 229, 128, 42, 67, 207]]
    )
    np.testing.assert_array_equal(
        out[2], [[105, 243, 231, 116, 160, 179, 165, 36], [132, 252, 67, 60, 7, 51, 37, 253]]
    )
    np.testing.assert_array_equal(
        out[3], [[233, 237, 232, 132, 79, 140, 59, 169], [148, 230, 180, 30, 126, 89, 65, 150]]
    )
    assert out[0].dtype == np.uint8


def test_fingerprint_rejects_scalars():
    with pytest.raises(ValueError, match="rank 1"):
        tf.fingerprint(tf.constant(1))
    with pytest.raises(ValueError, match="method"):
        tf.fingerprint(tf.constant([1]), method="md5")
