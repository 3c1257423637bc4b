"""`tf.RaggedTensor`: factories, components, conversions and indexing, in graph and
eager mode. Expected values were obtained from TensorFlow 2.21 (`tf.compat.v1` graph mode
and TF2 eager) on the same inputs, or are written out by hand where obvious."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

MODES = ["graph", "eager"]


def evaluate(build, feed=None):
    """Builds ``build()`` in the current mode and returns its value with ragged results
    as nested lists and dense ones as NumPy arrays."""
    out = build()
    if tf.executing_eagerly():
        return _plain(out)
    with tf.Session() as sess:
        return _plain(sess.run(out, feed))


def _plain(v):
    if isinstance(v, list | tuple) and not hasattr(v, "_fields"):
        return [_plain(x) for x in v]
    if hasattr(v, "to_list"):
        return v.to_list()
    return v.numpy() if hasattr(v, "numpy") else np.asarray(v)


def run(mode, build, feed=None):
    if mode == "eager":
        with tf.eager_mode():
            return evaluate(build)
    return evaluate(build, feed)


def _rt():
    return tf.ragged.constant([[1.0, 2.0], [], [3.0, 4.0, 5.0]])


# -- static information -------------------------------------------------------------------


def test_static_shape_dtype_and_names():
    rt = _rt()
    assert rt.shape.as_list() == [3, None]
    assert rt.dtype == tf.float32 and rt.row_splits.dtype == tf.int64
    assert rt.ragged_rank == 1
    assert rt.flat_values.name == "RaggedConstant/values:0"  # TF's name too
    nested = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    assert nested.shape.as_list() == [2, None, None] and nested.ragged_rank == 2
    assert nested.dtype == tf.int32
    uniform_inner = tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)
    assert uniform_inner.shape.as_list() == [2, None, 2]
    assert uniform_inner.flat_values.shape.as_list() == [3, 2]


def test_the_constructor_is_private():
    with pytest.raises(ValueError, match="factory methods"):
        tf.RaggedTensor([1.0], [0, 1])


@pytest.mark.parametrize("mode", MODES)
def test_components(mode):
    got = run(
        mode,
        lambda: [
            _rt().row_lengths(),
            _rt().value_rowids(),
            _rt().nrows(),
            _rt().row_starts(),
            _rt().row_limits(),
            _rt().bounding_shape(),
        ],
    )
    want = [[2, 0, 3], [0, 0, 2, 2, 2], 3, [0, 2, 2], [2, 2, 5], [3, 3]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert np.asarray(g).dtype == np.int64


# -- factories ----------------------------------------------------------------------------

FACTORIES = {
    "row_splits": lambda: tf.RaggedTensor.from_row_splits([1, 2, 3, 4], [0, 3, 3, 4]),
    "row_lengths": lambda: tf.RaggedTensor.from_row_lengths([1, 2, 3, 4], [3, 0, 1]),
    "value_rowids": lambda: tf.RaggedTensor.from_value_rowids([1, 2, 3, 4], [0, 0, 0, 2], 3),
    "row_starts": lambda: tf.RaggedTensor.from_row_starts([1, 2, 3, 4], [0, 3, 3]),
    "row_limits": lambda: tf.RaggedTensor.from_row_limits([1, 2, 3, 4], [3, 3, 4]),
    "nested_row_splits": lambda: tf.RaggedTensor.from_nested_row_splits(
        [1, 2, 3, 4], [[0, 2, 3], [0, 3, 3, 4]]
    ).merge_dims(0, 1),
    "sparse": lambda: tf.RaggedTensor.from_sparse(
        tf.SparseTensor([[0, 0], [0, 1], [0, 2], [2, 0]], [1, 2, 3, 4], [3, 5])
    ),
    "tensor_lengths": lambda: tf.RaggedTensor.from_tensor(
        [[1, 2, 3], [9, 9, 9], [4, 9, 9]], lengths=[3, 0, 1]
    ),
    "tensor_padding": lambda: tf.RaggedTensor.from_tensor(
        [[1, 2, 3], [0, 0, 0], [4, 0, 0]], padding=0
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("factory", sorted(FACTORIES))
def test_factories_build_the_same_tensor(mode, factory):
    assert run(mode, FACTORIES[factory]) == [[1, 2, 3], [], [4]]


@pytest.mark.parametrize("mode", MODES)
def test_from_tensor_keeps_inner_padding(mode):
    # TF: [[1], [3, 0, 0]] for lengths; padding drops only trailing padding.
    assert run(
        mode, lambda: tf.RaggedTensor.from_tensor([[1, 2, 0], [3, 0, 0]], lengths=[1, 3])
    ) == [[1], [3, 0, 0]]
    assert run(mode, lambda: tf.RaggedTensor.from_tensor([[0, 2, 0], [0, 0, 0]], padding=0)) == [
        [0, 2],
        [],
    ]


@pytest.mark.parametrize("mode", MODES)
def test_from_tensor_with_more_ragged_dimensions(mode):
    t = [[[1, 2, 0], [3, 0, 0]], [[0, 0, 0], [4, 5, 6]]]
    # TF: shapes (2, 2, 3) and (2, 2, None)
    assert tf.RaggedTensor.from_tensor(t, ragged_rank=2).shape.as_list() == [2, 2, 3]
    assert tf.RaggedTensor.from_tensor(t, ragged_rank=2, padding=0).shape.as_list() == [2, 2, None]
    assert run(mode, lambda: tf.RaggedTensor.from_tensor(t, ragged_rank=2)) == t
    assert run(mode, lambda: tf.RaggedTensor.from_tensor(t, ragged_rank=2, padding=0)) == [
        [[1, 2], [3]],
        [[], [4, 5, 6]],
    ]
    assert run(mode, lambda: tf.RaggedTensor.from_uniform_row_length([1, 2, 3, 4], 2)) == [
        [1, 2],
        [3, 4],
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "splits,what", [([0, 2, 1, 3], "monotonic"), ([0, 2, 2], "valid"), ([1, 2, 3], "zero")]
)
def test_validation_raises_invalid_argument(mode, splits, what):
    with pytest.raises(tf.errors.InvalidArgumentError, match=what):
        run(mode, lambda: tf.RaggedTensor.from_row_splits([1, 2, 3], splits, validate=True))


@pytest.mark.parametrize("mode", MODES)
def test_no_validation_when_asked(mode):
    rt = run(mode, lambda: tf.RaggedTensor.from_row_splits([1, 2, 3], [0, 1, 3], validate=False))
    assert rt == [[1], [2, 3]]


def test_bad_static_arguments():
    with pytest.raises(ValueError, match="int32 or int64"):
        tf.RaggedTensor.from_row_splits([1.0], tf.constant([0.0, 1.0]))
    with pytest.raises(ValueError, match="vector"):
        tf.RaggedTensor.from_row_splits([1.0], [[0, 1]])
    with pytest.raises(ValueError, match="rank at least 1"):
        tf.RaggedTensor.from_row_splits(1.0, [0, 1])
    with pytest.raises(ValueError, match="not both"):
        tf.RaggedTensor.from_tensor([[1]], lengths=[1], padding=0)


# -- conversions --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_to_tensor(mode):
    got = run(
        mode,
        lambda: [
            _rt().to_tensor(),
            _rt().to_tensor(default_value=9.0),
            _rt().to_tensor(shape=[2, 2]),
        ],
    )
    np.testing.assert_array_equal(got[0], [[1, 2, 0], [0, 0, 0], [3, 4, 5]])
    np.testing.assert_array_equal(got[1], [[1, 2, 9], [9, 9, 9], [3, 4, 5]])
    np.testing.assert_array_equal(got[2], [[1, 2], [0, 0]])
    assert got[0].dtype == np.float32


def test_to_tensor_static_shapes():
    # TF: (2, 2), (3, None), (3, 5)
    assert _rt().to_tensor(shape=[2, 2]).shape.as_list() == [2, 2]
    assert _rt().to_tensor().shape.as_list() == [3, None]
    assert _rt().to_tensor(shape=[None, 5]).shape.as_list() == [3, 5]
    assert tf.ragged.reduce_sum(_rt(), axis=1).shape.as_list() == [3]


@pytest.mark.parametrize("mode", MODES)
def test_to_tensor_pads_to_a_wider_shape(mode):
    np.testing.assert_array_equal(
        run(mode, lambda: _rt().to_tensor(shape=[None, 5])),
        [[1, 2, 0, 0, 0], [0, 0, 0, 0, 0], [3, 4, 5, 0, 0]],
    )


@pytest.mark.parametrize("mode", MODES)
def test_to_tensor_of_nested_and_inner_dims(mode):
    got = run(mode, lambda: tf.ragged.constant([[[1, 2], [3]], [[4]]]).to_tensor())
    np.testing.assert_array_equal(got, [[[1, 2], [3, 0]], [[4, 0], [0, 0]]])
    got = run(
        mode, lambda: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1).to_tensor()
    )
    np.testing.assert_array_equal(got, [[[1, 2], [3, 4]], [[5, 6], [0, 0]]])


@pytest.mark.parametrize("mode", MODES)
def test_to_sparse(mode):
    def build():
        sp = _rt().to_sparse()
        return [sp.indices, sp.values, sp.dense_shape]

    idx, vals, shape = run(mode, build)
    np.testing.assert_array_equal(idx, [[0, 0], [0, 1], [2, 0], [2, 1], [2, 2]])
    np.testing.assert_array_equal(vals, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(shape, [3, 3])


@pytest.mark.parametrize("mode", MODES)
def test_nested_to_sparse(mode):
    def build():
        sp = tf.ragged.constant([[[1, 2], [3]], [[4]]]).to_sparse()
        return [sp.indices, sp.values, sp.dense_shape]

    idx, vals, shape = run(mode, build)
    np.testing.assert_array_equal(idx, [[0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(vals, [1, 2, 3, 4])
    np.testing.assert_array_equal(shape, [2, 2, 2])


def test_eager_numpy_is_an_object_array_of_rows():
    with tf.eager_mode():
        out = _rt().numpy()
    assert out.dtype == object and len(out) == 3
    np.testing.assert_array_equal(out[2], np.array([3, 4, 5], np.float32))
    assert out[1].shape == (0,)


def test_iteration_over_rows():
    with tf.eager_mode():
        rows = [r.numpy().tolist() for r in _rt()]
    assert rows == [[1, 2], [], [3, 4, 5]]
    with pytest.raises(TypeError, match="eager"):
        iter(_rt())


def test_graph_to_list_says_to_fetch():
    with pytest.raises(ValueError, match="Session.run"):
        _rt().to_list()


@pytest.mark.parametrize("mode", MODES)
def test_merge_dims(mode):
    c = lambda: tf.ragged.constant([[[1, 2], [3]], [[4]]])  # noqa: E731
    assert run(mode, lambda: c().merge_dims(0, 1)) == [[1, 2], [3], [4]]
    assert run(mode, lambda: c().merge_dims(1, 2)) == [[1, 2, 3], [4]]
    np.testing.assert_array_equal(run(mode, lambda: c().merge_dims(0, 2)), [1, 2, 3, 4])
    u = lambda: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)  # noqa: E731
    assert run(mode, lambda: u().merge_dims(1, 2)) == [[1, 2, 3, 4], [5, 6]]


@pytest.mark.parametrize("mode", MODES)
def test_with_values_and_flat_values(mode):
    assert run(mode, lambda: _rt().with_flat_values(_rt().flat_values * 2)) == [
        [2, 4],
        [],
        [6, 8, 10],
    ]
    assert run(mode, lambda: _rt().with_values(tf.constant([5, 6, 7, 8, 9]))) == [
        [5, 6],
        [],
        [7, 8, 9],
    ]
    assert run(mode, lambda: _rt().with_row_splits_dtype(tf.int32).row_splits).dtype == np.int32


# -- indexing -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_getitem(mode):
    np.testing.assert_array_equal(run(mode, lambda: _rt()[2]), [3, 4, 5])
    np.testing.assert_array_equal(run(mode, lambda: _rt()[-3]), [1, 2])
    assert run(mode, lambda: _rt()[1:]) == [[], [3, 4, 5]]
    assert run(mode, lambda: _rt()[::-2]) == [[3, 4, 5], [1, 2]]
    assert run(mode, lambda: _rt()[:, 1:]) == [[2], [], [4, 5]]  # TF
    assert run(mode, lambda: _rt()[:, :-1]) == [[1], [], [3, 4]]
    assert run(mode, lambda: _rt()[...]) == [[1, 2], [], [3, 4, 5]]
    assert float(run(mode, lambda: _rt()[2, 1])) == 4.0
    nested = lambda: tf.ragged.constant([[[1, 2], [3]], [[4]]])  # noqa: E731
    assert run(mode, lambda: nested()[0]) == [[1, 2], [3]]
    assert run(mode, lambda: nested()[:, :, 1:]) == [[[2], []], [[]]]


def test_integer_index_into_a_ragged_dimension_is_a_value_error():
    with pytest.raises(ValueError, match="inner ragged dimension"):  # TF's message
        _rt()[:, 1]


@pytest.mark.parametrize("mode", MODES)
def test_index_out_of_range_is_invalid_argument(mode):
    with pytest.raises(tf.errors.InvalidArgumentError):
        run(mode, lambda: _rt()[5])


# -- graph fetch and feed -----------------------------------------------------------------


def test_session_run_returns_a_ragged_tensor_value():
    with tf.Session() as sess:
        v = sess.run(_rt())
    assert isinstance(v, tf.ragged.RaggedTensorValue)
    assert v.to_list() == [[1.0, 2.0], [], [3.0, 4.0, 5.0]]
    assert v.shape == (3, None) and v.dtype == np.float32 and v.ragged_rank == 1
    np.testing.assert_array_equal(v.row_splits, [0, 2, 2, 5])
    assert v.row_splits.dtype == np.int64
    assert repr(v) == "<tf.RaggedTensorValue [[1.0, 2.0], [], [3.0, 4.0, 5.0]]>"


def test_nested_fetch_structures_and_eval():
    rt = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    with tf.Session() as sess:
        out = sess.run({"a": rt, "b": [rt.flat_values]})
        assert rt.eval().to_list() == [[[1, 2], [3]], [[4]]]
    assert out["a"].to_list() == [[[1, 2], [3]], [[4]]] and out["a"].ragged_rank == 2
    np.testing.assert_array_equal(out["b"][0], [1, 2, 3, 4])


def test_placeholder_is_fed_with_a_value():
    ph = tf.ragged.placeholder(tf.float32, 1, [])
    assert ph.flat_values.name == "RaggedPlaceholder/flat_values:0"  # TF's names
    assert ph.row_splits.name == "RaggedPlaceholder/row_splits_0:0"
    total = tf.ragged.reduce_sum(ph, axis=1)
    with tf.Session() as sess:
        got = sess.run(total, {ph: tf.ragged.constant_value([[1.0, 2.0], [3.0]])})
        np.testing.assert_allclose(got, [3.0, 3.0])
        got = sess.run(total, {ph: tf.ragged.constant_value([[], [1.0], [2.0, 5.0]])})
        np.testing.assert_allclose(got, [0.0, 1.0, 7.0])
        with pytest.raises(TypeError, match="RaggedTensorValue"):
            sess.run(total, {ph: [[1.0]]})
        with pytest.raises(ValueError, match="ragged_rank"):
            sess.run(total, {ph: tf.ragged.constant_value([[[1.0]]])})


def test_nested_placeholder():
    ph = tf.ragged.placeholder(tf.int32, 2)
    with tf.Session() as sess:
        v = sess.run(ph.merge_dims(0, 1), {ph: tf.ragged.constant_value([[[1], [2, 3]], [[4]]])})
    assert v.to_list() == [[1], [2, 3], [4]]


# -- RaggedTensorSpec, RaggedFeature ------------------------------------------------------


def test_ragged_tensor_spec():
    spec = tf.RaggedTensorSpec(shape=[2, None], dtype=tf.float32)
    assert repr(spec) == "RaggedTensorSpec(TensorShape([2, None]), tf.float32, 1, tf.int64)"
    assert spec.ragged_rank == 1 and spec.row_splits_dtype == tf.int64
    assert spec.value_type is tf.RaggedTensor
    assert (
        repr(tf.RaggedTensorSpec.from_value(_rt()))
        == "RaggedTensorSpec(TensorShape([3, None]), tf.float32, 1, tf.int64)"
    )
    assert tf.RaggedTensorSpec([None, None]).is_compatible_with(_rt())
    assert not tf.RaggedTensorSpec([None, None], tf.int32).is_compatible_with(_rt())
    assert spec == tf.RaggedTensorSpec([2, None], tf.float32, 1)
    with pytest.raises(ValueError, match="ragged_rank"):
        tf.RaggedTensorSpec()
    with pytest.raises(ValueError, match="less than rank"):
        tf.RaggedTensorSpec([2, None], ragged_rank=2)


def test_ragged_feature():
    f = tf.io.RaggedFeature(tf.int64)
    # TF's repr and defaults (row_splits_dtype is int32 here, unlike RaggedTensor's)
    assert repr(f) == (
        "RaggedFeature(dtype=tf.int64, value_key=None, partitions=(), "
        "row_splits_dtype=tf.int32, validate=False)"
    )
    assert repr(tf.io.RaggedFeature.RowLengths("x")) == "RowLengths(key='x')"
    assert repr(tf.io.RaggedFeature.UniformRowLength(3)) == "UniformRowLength(length=3)"
    g = tf.io.RaggedFeature(tf.float32, "v", [tf.io.RaggedFeature.RowSplits("s")])
    assert g.partitions == (tf.io.RaggedFeature.RowSplits("s"),)
    with pytest.raises(ValueError, match="dtype"):
        tf.io.RaggedFeature(tf.int32)
    with pytest.raises(TypeError, match="partition"):
        tf.io.RaggedFeature(tf.int64, partitions=["rows"])
