"""The `tf.ragged` operations: constant, range, reductions, operators and
`map_flat_values`, gather/concat/stack, boolean_mask, cross, stack_dynamic_partitions,
segment ids and `tf.ragged_fill_empty_rows`, in graph and eager mode. Expected values were
obtained from TensorFlow 2.21 on the same inputs unless they are plain arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.testing import check_grads
from tests.ragged.test_ragged_tensor import MODES, run


def _rt():
    return tf.ragged.constant([[1.0, 2.0], [], [3.0, 4.0, 5.0]])


def _nested():
    return tf.ragged.constant([[[1, 2], [3]], [[4]], []])


# -- constant, constant_value, range ------------------------------------------------------


def test_constant_dtypes_and_shapes():
    assert tf.ragged.constant([[1, 2], [3]]).dtype == tf.int32
    assert tf.ragged.constant([[1, 2], [3]], dtype=tf.float64).dtype == tf.float64
    assert tf.ragged.constant([["a", "b"], []]).dtype == tf.string
    assert tf.ragged.constant([[]]).dtype == tf.float32
    assert tf.ragged.constant([[], []]).shape.as_list() == [2, None]
    assert tf.ragged.constant([[1], [3]], row_splits_dtype=tf.int32).row_splits.dtype == tf.int32
    assert tf.ragged.constant([[[1, 2]], []], inner_shape=(2,)).shape.as_list() == [2, None, 2]
    assert tf.ragged.constant([[[1, 2]], []], ragged_rank=1).shape.as_list() == [2, None, 2]
    assert isinstance(tf.ragged.constant(5), tf.Tensor)  # a scalar stays dense, as TF


def test_constant_rejects_mixed_depths():
    with pytest.raises(ValueError, match="same nesting depth"):  # TF's message
        tf.ragged.constant([[1, [2]]])
    with pytest.raises(ValueError, match="uniform shape"):
        tf.ragged.constant([[[1, 2], [3]]], ragged_rank=1)


def test_constant_value():
    v = tf.ragged.constant_value([[1, 2], [3]])
    assert isinstance(v, tf.ragged.RaggedTensorValue)
    assert v.values.dtype == np.int64 and v.row_splits.dtype == np.int64  # as TF
    assert tf.ragged.constant_value([[1.0, 2], [3]]).values.dtype == np.float64
    assert tf.ragged.constant_value([[1, 2], [3]], dtype="int32").values.dtype == np.int32
    assert tf.ragged.constant_value([[[1], [2, 3]], []]).to_list() == [[[1], [2, 3]], []]


@pytest.mark.parametrize("mode", MODES)
def test_range(mode):
    assert run(mode, lambda: tf.ragged.range([3, 5], [5, 9])) == [[3, 4], [5, 6, 7, 8]]
    assert run(mode, lambda: tf.ragged.range(3)) == [[0, 1, 2]]
    assert run(mode, lambda: tf.ragged.range([0, 1], 4, 1.5)) == [[0.0, 1.5, 3.0], [1.0, 2.5]]
    assert run(mode, lambda: tf.ragged.range([5, 0], [1, 2], [-2, 1])) == [[5, 3], [0, 1]]
    rt = tf.ragged.range([3, 5], [5, 9]) if mode == "graph" else None
    if rt is not None:
        assert rt.dtype == tf.int32 and rt.row_splits.dtype == tf.int64
        assert rt.shape.as_list() == [2, None]


@pytest.mark.parametrize("mode", MODES)
def test_range_zero_delta(mode):
    with pytest.raises(tf.errors.InvalidArgumentError, match="delta != 0"):  # TF's text
        run(mode, lambda: tf.ragged.range([1, 2], [3, 4], 0))


@pytest.mark.parametrize("mode", MODES)
def test_segment_ids_and_splits(mode):
    got = run(
        mode,
        lambda: [
            tf.ragged.row_splits_to_segment_ids([0, 2, 2, 5]),
            tf.ragged.segment_ids_to_row_splits([0, 0, 2, 2, 2]),
            tf.ragged.segment_ids_to_row_splits([0, 1], num_segments=4),
            tf.ragged.row_splits_to_segment_ids([0]),
        ],
    )
    np.testing.assert_array_equal(got[0], [0, 0, 2, 2, 2])
    np.testing.assert_array_equal(got[1], [0, 2, 2, 5])
    np.testing.assert_array_equal(got[2], [0, 1, 2, 2, 2])
    assert got[3].shape == (0,)
    assert all(np.asarray(g).dtype == np.int64 for g in got)


# -- reductions ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_reductions_over_rows(mode):
    got = run(
        mode,
        lambda: [
            tf.ragged.reduce_sum(_rt(), axis=1),
            tf.ragged.reduce_mean(_rt(), axis=1),
            tf.ragged.reduce_max(_rt(), axis=1),
            tf.ragged.reduce_min(_rt(), axis=1),
            tf.ragged.reduce_prod(_rt(), axis=1),
        ],
    )
    lo, hi = np.finfo(np.float32).min, np.finfo(np.float32).max  # TF's empty-row values
    want = [[3, 0, 12], [1.5, np.nan, 4], [2, lo, 5], [1, hi, 3], [2, 1, 60]]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)
        assert g.dtype == np.float32


@pytest.mark.parametrize("mode", MODES)
def test_reductions_over_columns_and_all(mode):
    got = run(
        mode,
        lambda: [
            tf.ragged.reduce_max(_rt(), axis=0),
            tf.ragged.reduce_mean(_rt(), axis=0),
            tf.ragged.reduce_sum(_rt(), axis=1, keepdims=True),
            tf.ragged.reduce_sum(_rt(), axis=[0, 1]),
            tf.ragged.reduce_mean(_rt()),
            tf.ragged.reduce_sum(_rt(), axis=-1),
        ],
    )
    want = [[3, 4, 5], [2, 3, 5], [[3], [0], [12]], 15, 3, [3, 0, 12]]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)


@pytest.mark.parametrize("mode", MODES)
def test_reductions_of_nested_rows(mode):
    # TF: sum [[4, 2], [4], []], max [[3, 2], [4], []], mean [[2.0, 2.0], [4.0], []]
    assert run(mode, lambda: tf.ragged.reduce_sum(_nested(), axis=1)) == [[4, 2], [4], []]
    assert run(mode, lambda: tf.ragged.reduce_max(_nested(), axis=1)) == [[3, 2], [4], []]
    assert run(mode, lambda: tf.ragged.reduce_mean(_nested(), axis=1)) == [[2.0, 2.0], [4.0], []]
    assert run(mode, lambda: tf.ragged.reduce_sum(_nested(), axis=2)) == [[3, 3], [4], []]


@pytest.mark.parametrize("mode", MODES)
def test_reductions_over_uniform_inner_dims(mode):
    u = lambda: tf.ragged.constant([[[1, 2], [3, 4]], [[5, 6]]], ragged_rank=1)  # noqa: E731
    assert run(mode, lambda: tf.ragged.reduce_sum(u(), axis=2)) == [[3, 7], [11]]
    np.testing.assert_array_equal(
        run(mode, lambda: tf.ragged.reduce_sum(u(), axis=1)), [[4, 6], [5, 6]]
    )


@pytest.mark.parametrize("mode", MODES)
def test_integer_mean_is_float64_and_bool_reductions(mode):
    got = run(mode, lambda: tf.ragged.reduce_mean(tf.ragged.constant([[1, 2], [4]]), axis=1))
    assert got.dtype == np.float64  # as TF
    np.testing.assert_allclose(got, [1.5, 4.0])
    b = lambda: tf.ragged.constant([[True, False], []])  # noqa: E731
    np.testing.assert_array_equal(
        run(mode, lambda: tf.ragged.reduce_any(b(), axis=1)), [True, False]
    )
    np.testing.assert_array_equal(
        run(mode, lambda: tf.ragged.reduce_all(b(), axis=1)), [False, True]
    )


def test_dense_ops_refuse_ragged_input_with_a_pointer():
    # tf.reduce_*, tf.gather, tf.concat and unary ops dispatch (tests/followups)
    with pytest.raises(TypeError, match="tf.ragged.reduce_sum"):
        tf.matmul(_rt(), [[1.0]])
    with pytest.raises(TypeError, match="map_flat_values"):
        tf.maximum(_rt(), 1.0)


# -- element-wise -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_operators(mode):
    a = lambda: tf.ragged.constant([[1.0, 2.0], [3.0]])  # noqa: E731
    assert run(mode, lambda: a() + 1) == [[2, 3], [4]]
    assert run(mode, lambda: 1 - a()) == [[0, -1], [-2]]
    assert run(mode, lambda: a() * a()) == [[1, 4], [9]]
    assert run(mode, lambda: a() / 2) == [[0.5, 1.0], [1.5]]
    np.testing.assert_allclose(run(mode, lambda: (2 / a()).flat_values), [2, 1, 2 / 3], rtol=1e-6)
    assert run(mode, lambda: a() ** 2) == [[1, 4], [9]]
    assert run(mode, lambda: a() // 2) == [[0, 1], [1]]
    assert run(mode, lambda: -a()) == [[-1, -2], [-3]]
    assert run(mode, lambda: abs(-a())) == [[1, 2], [3]]
    assert run(mode, lambda: a() < 2) == [[True, False], [False]]
    assert run(mode, lambda: a() + tf.constant([[1.0], [2.0]])) == [[2, 3], [5]]  # TF


@pytest.mark.parametrize("mode", MODES)
def test_map_flat_values(mode):
    assert run(mode, lambda: tf.ragged.map_flat_values(tf.square, _rt())) == [
        [1, 4],
        [],
        [9, 16, 25],
    ]
    assert run(mode, lambda: tf.ragged.map_flat_values(tf.add, _rt(), 10.0)) == [
        [11, 12],
        [],
        [13, 14, 15],
    ]
    b = lambda: tf.ragged.constant([[2.0, 2.0], [], [4.0, 4.0, 4.0]])  # noqa: E731
    assert run(mode, lambda: tf.ragged.map_flat_values(tf.multiply, _rt(), y=b())) == [
        [2, 4],
        [],
        [12, 16, 20],
    ]


@pytest.mark.parametrize("mode", MODES)
def test_map_flat_values_over_lists_and_shape_check(mode):
    assert run(mode, lambda: tf.ragged.map_flat_values(tf.add_n, [_rt(), _rt(), _rt()])) == [
        [3, 6],
        [],
        [9, 12, 15],
    ]
    if mode == "graph":
        with pytest.raises(ValueError, match="outer dimension"):
            tf.ragged.map_flat_values(tf.reduce_sum, _rt(), keepdims=True)


@pytest.mark.parametrize("mode", MODES)
def test_different_splits_raise_invalid_argument(mode):
    a = lambda: tf.ragged.constant([[1.0, 2.0], [3.0]])  # noqa: E731
    b = lambda: tf.ragged.constant([[1.0], [2.0, 3.0]])  # noqa: E731
    with pytest.raises(tf.errors.InvalidArgumentError, match="identical ragged splits"):
        run(mode, lambda: a() + b())


def test_unsupported_dense_broadcast_is_a_value_error():
    with pytest.raises(ValueError, match="broadcast"):
        _rt() + tf.constant([[1.0, 2.0, 3.0]] * 3)


# -- gradients ----------------------------------------------------------------------------


def test_gradient_of_a_composition_matches_finite_differences():
    def fn(v):
        rt = tf.RaggedTensor.from_row_splits(v, [0, 2, 2, 5])
        rows = tf.ragged.reduce_sum(tf.ragged.map_flat_values(tf.square, rt), axis=1)
        return rows * tf.ragged.reduce_max(rt[:, 1:], axis=1)

    check_grads(fn, [np.array([0.3, -1.2, 0.7, 1.9, -0.4])], order=2)


def test_eager_tape_reaches_flat_values():
    with tf.eager_mode():
        v = tf.constant([1.0, 2.0, 3.0])
        with tf.GradientTape() as tape:
            tape.watch(v)
            rt = tf.RaggedTensor.from_row_lengths(v, [2, 1])
            y = tf.reduce_sum(
                tf.ragged.reduce_sum(tf.ragged.map_flat_values(tf.square, rt), axis=1)
            )
        np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2.0, 4.0, 6.0])


def test_graph_gradient_through_to_tensor_and_gather():
    v = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0])
    rt = tf.RaggedTensor.from_row_splits(v, [0, 2, 2, 5])
    y = tf.reduce_sum(tf.ragged.gather(rt, [2, 2, 0]).to_tensor() * 2.0)
    with tf.Session() as sess:
        np.testing.assert_allclose(
            sess.run(tf.convert_to_tensor(tf.gradients(y, v)[0])), [2, 2, 4, 4, 4]
        )


# -- gather, concat, stack, boolean_mask --------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_gather_and_concat(mode):
    assert run(mode, lambda: tf.ragged.gather(_rt(), [2, 0])) == [[3, 4, 5], [1, 2]]
    assert run(mode, lambda: tf.ragged.gather(_nested(), [1, 0])) == [[[4]], [[1, 2], [3]]]
    assert run(mode, lambda: tf.ragged.concat([_rt(), _rt()], axis=0)) == [
        [1, 2],
        [],
        [3, 4, 5],
        [1, 2],
        [],
        [3, 4, 5],
    ]
    assert run(mode, lambda: tf.ragged.concat([_rt(), _rt()], axis=1)) == [
        [1, 2, 1, 2],
        [],
        [3, 4, 5, 3, 4, 5],
    ]
    assert run(
        mode,
        lambda: tf.ragged.concat(
            [tf.ragged.constant([[[1, 2], [3]]]), tf.ragged.constant([[[4]]])], axis=0
        ),
    ) == [[[1, 2], [3]], [[4]]]


@pytest.mark.parametrize("mode", MODES)
def test_stack(mode):
    assert run(mode, lambda: tf.ragged.stack([_rt(), _rt()])) == [
        [[1, 2], [], [3, 4, 5]],
        [[1, 2], [], [3, 4, 5]],
    ]
    assert run(mode, lambda: tf.ragged.stack([_rt(), _rt()], axis=1)) == [
        [[1, 2], [1, 2]],
        [[], []],
        [[3, 4, 5], [3, 4, 5]],
    ]
    assert run(mode, lambda: tf.ragged.stack([tf.constant([1, 2]), tf.constant([3])])) == [
        [1, 2],
        [3],
    ]

    def mixed():
        return [tf.constant([[1, 2], [3, 4]]), tf.ragged.constant([[5], [6, 7, 8]])]

    assert run(mode, lambda: tf.ragged.stack(mixed(), axis=1)) == [
        [[1, 2], [5]],
        [[3, 4], [6, 7, 8]],
    ]
    assert run(mode, lambda: tf.ragged.stack(mixed(), axis=0)) == [
        [[1, 2], [3, 4]],
        [[5], [6, 7, 8]],
    ]


@pytest.mark.parametrize("mode", MODES)
def test_boolean_mask(mode):
    assert run(
        mode,
        lambda: tf.ragged.boolean_mask(
            [[1, 2, 3], [4, 5, 6]], [[True, False, True], [False, False, True]]
        ),
    ) == [[1, 3], [6]]
    assert run(
        mode,
        lambda: tf.ragged.boolean_mask(
            _rt(), tf.ragged.constant([[True, False], [], [False, True, True]])
        ),
    ) == [[1], [], [4, 5]]
    assert run(mode, lambda: tf.ragged.boolean_mask(_rt(), [True, False, True])) == [
        [1, 2],
        [3, 4, 5],
    ]
    assert run(
        mode,
        lambda: tf.ragged.boolean_mask(
            tf.ragged.constant([[[1], [2]], [[3]]], ragged_rank=1),
            tf.ragged.constant([[True, False], [True]]),
        ),
    ) == [[[1]], [[3]]]


# -- stack_dynamic_partitions, cross ------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_stack_dynamic_partitions(mode):
    got = run(
        mode,
        lambda: tf.ragged.stack_dynamic_partitions(["a", "b", "c", "d", "e"], [3, 0, 2, 2, 3], 5),
    )
    assert got == [[b"b"], [], [b"c", b"d"], [b"a", b"e"], []]  # TF
    with pytest.raises(tf.errors.InvalidArgumentError, match="less than num_partitions"):
        run(mode, lambda: tf.ragged.stack_dynamic_partitions([1.0, 2.0], [0, 3], 2))


@pytest.mark.parametrize("mode", MODES)
def test_cross(mode):
    rows = lambda: tf.ragged.constant([["a"], ["b", "c"]])  # noqa: E731
    dense = lambda: tf.constant([["d"], ["e"]])  # noqa: E731
    assert run(mode, lambda: tf.ragged.cross([rows(), dense()])) == [
        [b"a_X_d"],
        [b"b_X_e", b"c_X_e"],
    ]
    assert run(mode, lambda: tf.ragged.cross([dense(), rows()])) == [
        [b"d_X_a"],
        [b"e_X_b", b"e_X_c"],
    ]  # the given order, as TF
    assert run(mode, lambda: tf.ragged.cross([tf.ragged.constant([[1, 2], [3]]), rows()])) == [
        [b"1_X_a", b"2_X_a"],
        [b"3_X_b", b"3_X_c"],
    ]
    # numbers from TF 2.21
    assert run(mode, lambda: tf.ragged.cross_hashed([rows(), dense()], num_buckets=100)) == [
        [82],
        [61, 41],
    ]
    assert run(mode, lambda: tf.ragged.cross_hashed([tf.constant([[1], [2]]), rows()])) == [
        [6586076667385110638],
        [4367275301703982342, 9033768576385780375],
    ]


# -- ragged_fill_empty_rows ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_fill_empty_rows(mode):
    out = run(mode, lambda: list(tf.ragged_fill_empty_rows([0, 0, 2], [1.0, 2.0, 3.0], 4, 9.0)))
    # TF: rowids [0 0 1 2 3], values [1 2 9 3 9], indicator [F T F T], reverse map [0 1 3]
    np.testing.assert_array_equal(out[0], [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(out[1], [1, 2, 9, 3, 9])
    np.testing.assert_array_equal(out[2], [False, True, False, True])
    np.testing.assert_array_equal(out[3], [0, 1, 3])
    grads = run(
        mode,
        lambda: list(tf.ragged_fill_empty_rows_grad([0, 1, 3, 4], [10.0, 20.0, 30.0, 40.0, 50.0])),
    )
    np.testing.assert_array_equal(grads[0], [10, 20, 40, 50])  # TF
    assert float(grads[1]) == 30.0


@pytest.mark.parametrize("mode", MODES)
def test_fill_empty_rows_validates(mode):
    with pytest.raises(tf.errors.InvalidArgumentError, match="sorted"):
        run(mode, lambda: tf.ragged_fill_empty_rows([2, 0], [1.0, 2.0], 3, 0.0).output_values)
