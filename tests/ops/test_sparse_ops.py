"""Sparse ops forward against SciPy / NumPy on the densified inputs, feeds and errors."""

import numpy as np
import pytest
import scipy.sparse

import miniflow as tf


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _random_sparse(rng, shape, density=0.3):
    """Row-major indices, values and the dense equivalent."""
    dense = np.where(rng.rand(*shape) < density, rng.randn(*shape), 0.0)
    idx = np.argwhere(dense != 0)
    return idx.astype(np.int64), dense[tuple(idx.T)], dense


def test_sparse_tensor_holds_its_components_and_static_shape():
    st = tf.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0], [3, 4])
    assert st.indices.dtype == tf.int64 and st.dense_shape.dtype == tf.int64
    assert st.dtype == tf.float32
    assert st.shape.as_list() == [3, 4]
    with tf.Session() as sess:
        v = sess.run(st)
    assert isinstance(v, tf.SparseTensorValue)
    np.testing.assert_array_equal(v.indices, [[0, 0], [1, 2]])
    np.testing.assert_array_equal(v.dense_shape, [3, 4])
    with pytest.raises(ValueError, match="indices must be a matrix"):
        tf.SparseTensor([0, 1], [1.0, 2.0], [3])


def test_sparse_placeholder_fed_with_value_or_tuple():
    sp = tf.sparse_placeholder(tf.float32, name="x")
    assert sp.indices.op.name == "x/indices" and sp.values.op.name == "x/values"
    total = tf.sparse_reduce_sum(sp)
    dense = tf.sparse.to_dense(sp)
    val = tf.SparseTensorValue([[0, 1], [2, 0]], [3.0, 4.0], [3, 2])
    with tf.Session() as sess:
        assert sess.run(total, {sp: val}) == 7.0
        assert sess.run(total, {sp: ([[1, 1]], [2.5], [2, 2])}) == 2.5
        np.testing.assert_array_equal(sess.run(dense, {sp: val}), [[0, 3], [0, 0], [4, 0]])
        got = sess.run(sp, {sp: val})
        np.testing.assert_array_equal(got.values, [3.0, 4.0])
        with pytest.raises(TypeError, match="SparseTensorValue"):
            sess.run(total, {sp: np.zeros((2, 2))})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must feed"):
            sess.run(total)


def test_values_and_indices_of_different_lengths_are_rejected():
    sp = tf.sparse_placeholder(tf.float32)
    ops = [
        tf.sparse_reduce_sum(sp),
        tf.sparse.to_dense(sp),
        tf.sparse_tensor_dense_matmul(sp, np.ones((3, 1), np.float32)),
        tf.sparse_add(sp, sp),
        tf.sparse_add(sp, np.ones((3, 3), np.float32)),
    ]
    bad = ([[0, 0], [1, 1]], [1.0, 2.0, 3.0], [3, 3])
    with tf.Session() as sess:
        for op in ops:
            with pytest.raises(tf.errors.InvalidArgumentError, match="one entry per row"):
                sess.run(op, {sp: bad})


def test_sparse_placeholder_with_partial_shape_fixes_the_rank():
    sp = tf.sparse_placeholder(tf.float32, shape=[None, 3], name="p")
    assert sp.indices.shape.as_list() == [None, 2]
    assert sp.dense_shape.op.type == "Placeholder"
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="Cannot feed value of shape"):  # as TF
            sess.run(tf.sparse_reduce_sum(sp), {sp: ([[0, 0, 0]], [1.0], [1, 3, 1])})
        assert sess.run(tf.sparse_reduce_sum(sp), {sp: ([[4, 2]], [1.5], [5, 3])}) == 1.5


def test_sparse_placeholder_with_known_shape_has_constant_dense_shape():
    sp = tf.sparse_placeholder(tf.float32, shape=[3, 5])
    assert sp.shape.as_list() == [3, 5]
    with tf.Session() as sess:
        out = sess.run(tf.sparse_reduce_sum(sp, axis=0), {sp: ([[0, 4]], [1.0], [3, 5])})
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 1])


@pytest.mark.parametrize("adjoint_a", [False, True])
@pytest.mark.parametrize("adjoint_b", [False, True])
def test_sparse_tensor_dense_matmul_matches_scipy(adjoint_a, adjoint_b):
    rng = np.random.RandomState(0)
    idx, vals, dense = _random_sparse(rng, (6, 5))
    a = scipy.sparse.coo_matrix((vals, tuple(idx.T)), shape=(6, 5))
    a_op = a.T if adjoint_a else a
    b = rng.randn(3, a_op.shape[1]) if adjoint_b else rng.randn(a_op.shape[1], 3)
    want = a_op @ (b.T if adjoint_b else b)
    out = tf.sparse_tensor_dense_matmul(
        tf.SparseTensor(idx, vals, [6, 5]), b, adjoint_a=adjoint_a, adjoint_b=adjoint_b
    )
    assert out.shape.as_list() == list(want.shape)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out), want, rtol=1e-12)


def test_sparse_matmul_rejects_mismatched_inner_dimension():
    out = tf.sparse_tensor_dense_matmul(
        tf.SparseTensor([[0, 0]], [1.0], [2, 3]), np.ones((4, 1), np.float32)
    )
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="inner dimension"),
    ):
        sess.run(out)


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, [0, 2]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sparse_reduce_sum_matches_dense_sum(axis, keepdims):
    idx, vals, dense = _random_sparse(np.random.RandomState(1), (3, 4, 2), 0.5)
    out = tf.sparse_reduce_sum(tf.SparseTensor(idx, vals, [3, 4, 2]), axis=axis, keepdims=keepdims)
    want = dense.sum(axis=None if axis is None else tuple(np.atleast_1d(axis)), keepdims=keepdims)
    assert out.shape.as_list() == list(np.shape(want))
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out), want, rtol=1e-12)


def test_sparse_to_dense_forms_and_validation():
    with tf.Session() as sess:
        np.testing.assert_array_equal(
            sess.run(tf.sparse_to_dense([[0, 1], [2, 0]], [3, 2], [5, 6], default_value=-1)),
            [[-1, 5], [-1, -1], [6, -1]],
        )
        np.testing.assert_array_equal(sess.run(tf.sparse_to_dense([1, 3], [4], 2.0)), [0, 2, 0, 2])
        np.testing.assert_array_equal(sess.run(tf.sparse_to_dense(2, [3], 7)), [0, 0, 7])
        for idx, msg in [
            ([[1, 0], [0, 1]], "out of order"),
            ([[0, 1], [0, 1]], "repeated"),
            ([[0, 5]], "out of bounds"),
        ]:
            with pytest.raises(tf.errors.InvalidArgumentError, match=msg):
                sess.run(tf.sparse_to_dense(idx, [2, 2], [1.0] * len(idx)))
        # Without validation the order does not matter.
        np.testing.assert_array_equal(
            sess.run(tf.sparse_to_dense([[1, 0], [0, 1]], [2, 2], [1, 2], validate_indices=False)),
            [[0, 2], [1, 0]],
        )


def test_reorder_then_to_dense_and_from_dense_round_trip():
    rng = np.random.RandomState(2)
    idx, vals, dense = _random_sparse(rng, (4, 5), 0.5)
    perm = rng.permutation(len(idx))
    st = tf.SparseTensor(idx[perm], vals[perm], [4, 5])
    with tf.Session() as sess:
        back = sess.run(tf.sparse.to_dense(tf.sparse.reorder(st)))
        np.testing.assert_array_equal(back, dense)
        sv = sess.run(tf.sparse.from_dense(dense))
    np.testing.assert_array_equal(sv.indices, idx)
    np.testing.assert_array_equal(sv.values, vals)
    np.testing.assert_array_equal(sv.dense_shape, [4, 5])


def test_sparse_add_sparse_and_dense():
    rng = np.random.RandomState(3)
    ia, va, da = _random_sparse(rng, (4, 3), 0.5)
    ib, vb, db = _random_sparse(rng, (4, 3), 0.5)
    a = tf.SparseTensor(ia, va, [4, 3])
    b = tf.SparseTensor(ib, vb, [4, 3])
    dense = rng.randn(4, 3)
    with tf.Session() as sess:
        s = sess.run(tf.sparse_add(a, b))
        d = sess.run(tf.sparse_add(a, dense))
        d2 = sess.run(tf.sparse_add(dense, b))
        pruned = sess.run(tf.sparse_add(a, b, thresh=0.8))
    out = np.zeros((4, 3))
    out[tuple(s.indices.T)] = s.values
    np.testing.assert_allclose(out, da + db)
    flat = np.ravel_multi_index(tuple(s.indices.T), (4, 3))
    assert np.all(np.diff(flat) > 0), "sum indices must be row-major"
    np.testing.assert_allclose(d, da + dense)
    np.testing.assert_allclose(d2, dense + db)
    assert np.all(np.abs(pruned.values) >= 0.8)
    assert len(pruned.values) == np.sum(np.abs(da + db) >= 0.8)
    with pytest.raises(TypeError, match="At least one input should be SparseTensor"):
        tf.sparse_add(dense, dense)


def test_sparse_add_shape_mismatch_is_invalid_argument():
    a = tf.SparseTensor([[0, 0]], [1.0], [2, 2])
    b = tf.SparseTensor([[0, 0]], [1.0], [2, 3])
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="same ranks/shapes"),
    ):
        sess.run(tf.sparse_add(a, b))


def test_unsorted_segment_sum_and_segment_sum():
    data = np.arange(12.0).reshape(4, 3)
    with tf.Session() as sess:
        got = sess.run(tf.unsorted_segment_sum(data, [2, 0, 2, 1], 4))
        seg = sess.run(tf.segment_sum(data, [0, 0, 1, 3]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
            sess.run(tf.unsorted_segment_sum(data, [0, 5, 0, 0], 3))
    want = np.zeros((4, 3))
    for i, s in enumerate([2, 0, 2, 1]):
        want[s] += data[i]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(seg, [data[0] + data[1], data[2], np.zeros(3), data[3]])


@pytest.mark.parametrize("combiner", ["sum", "mean", "sqrtn"])
@pytest.mark.parametrize("weighted", [False, True])
def test_embedding_lookup_sparse_matches_loop(combiner, weighted):
    rng = np.random.RandomState(4)
    table = rng.randn(10, 3)
    rows = {0: [(3, 0.5), (7, 2.0), (3, 1.0)], 2: [(9, 1.5)], 3: [(0, 0.25), (1, 4.0)]}
    idx = [[r, k] for r, items in rows.items() for k in range(len(items))]
    ids = [i for items in rows.values() for i, _ in items]
    ws = [w for items in rows.values() for _, w in items]
    sp_ids = tf.SparseTensor(idx, tf.constant(ids, tf.int64), [5, 3])
    sp_w = tf.SparseTensor(idx, tf.constant(ws, tf.float64), [5, 3]) if weighted else None
    out = tf.nn.embedding_lookup_sparse(tf.constant(table), sp_ids, sp_w, combiner=combiner)
    want = np.zeros((5, 3))
    for r, items in rows.items():
        w = np.array([w if weighted else 1.0 for _, w in items])
        e = table[[i for i, _ in items]]
        total = (w[:, None] * e).sum(0)
        want[r] = {"sum": total, "mean": total / w.sum(), "sqrtn": total / np.sqrt((w * w).sum())}[
            combiner
        ]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(out), want, rtol=1e-12)


def test_embedding_lookup_sparse_gradient_is_indexed_slices_over_the_ids():
    table = tf.Variable(np.ones((100, 4), np.float32))
    sp_ids = tf.SparseTensor([[0, 0], [1, 0], [1, 1]], tf.constant([5, 17, 5], tf.int64), [2, 2])
    out = tf.nn.embedding_lookup_sparse(table, sp_ids, None, combiner="sum")
    (g,) = tf.gradients(tf.reduce_sum(out), [table])
    assert isinstance(g, tf.IndexedSlices)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gv = sess.run(g)
    assert sorted(np.asarray(gv.indices).tolist()) == [5, 5, 17]
    assert gv.values.shape == (3, 4)


def test_embedding_lookup_sparse_rejects_unknown_combiner_and_dense_ids():
    with pytest.raises(ValueError, match="combiner"):
        tf.nn.embedding_lookup_sparse(
            tf.ones([3, 2]), tf.SparseTensor([[0, 0]], [1], [1, 1]), None, combiner="max"
        )
    with pytest.raises(TypeError, match="SparseTensor"):
        tf.nn.embedding_lookup_sparse(tf.ones([3, 2]), tf.constant([1]), None)


def test_embedding_lookup_sparse_max_norm_and_partition_list():
    table = np.array([[3.0, 4.0], [0.3, 0.4]])
    ids = tf.SparseTensor([[0, 0], [1, 0]], tf.constant([0, 1], tf.int64), [2, 1])
    with tf.Session() as sess:
        got = sess.run(
            tf.nn.embedding_lookup_sparse(
                [tf.constant(table)], ids, None, combiner="sum", max_norm=1.0
            )
        )
    np.testing.assert_allclose(got, [[0.6, 0.8], [0.3, 0.4]])
    with pytest.raises(NotImplementedError, match="partitioned"):
        tf.nn.embedding_lookup_sparse([tf.constant(table)] * 2, ids, None)
