"""Forward values of the issue-13 array ops, eager and graph. Expected values were
obtained from real TensorFlow (tf.compat.v1, graph mode) unless a NumPy formula is given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.nn.helpers import assert_both

X = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)


@pytest.mark.parametrize(
    "fn,want",
    [
        (lambda x: tf.gather_nd(x, [[0, 1], [1, 2]]), [[4, 5, 6, 7], [20, 21, 22, 23]]),
        (lambda x: tf.gather_nd(x, [[1], [0]], batch_dims=1), [[4, 5, 6, 7], [12, 13, 14, 15]]),
        (
            lambda x: tf.gather(x, [[1, 0], [2, 2]], batch_dims=1, axis=2),
            [[[1, 0], [5, 4], [9, 8]], [[14, 14], [18, 18], [22, 22]]],
        ),
        (lambda x: tf.batch_gather(x, [[2], [0]]), [[[8, 9, 10, 11]], [[12, 13, 14, 15]]]),
        (
            lambda x: tf.tensor_scatter_nd_update(x[0], [[0, 1], [2, 3]], [-1.0, -2.0]),
            [[0, -1, 2, 3], [4, 5, 6, 7], [8, 9, 10, -2]],
        ),
        (
            lambda x: tf.tensor_scatter_nd_max(x[0], [[0], [2]], [[5.0, 0, 0, 20], [0, 0, 0, 0]]),
            [[5, 1, 2, 20], [4, 5, 6, 7], [8, 9, 10, 11]],
        ),
        (
            lambda x: tf.reverse_sequence(x, [1, 3], seq_axis=1, batch_axis=0),
            [
                [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]],
                [[20, 21, 22, 23], [16, 17, 18, 19], [12, 13, 14, 15]],
            ],
        ),
        (
            lambda x: tf.roll(x, [1, -1], [1, 2]),
            [
                [[9, 10, 11, 8], [1, 2, 3, 0], [5, 6, 7, 4]],
                [[21, 22, 23, 20], [13, 14, 15, 12], [17, 18, 19, 16]],
            ],
        ),
        (lambda x: tf.reverse(x, [0, -1]), X[::-1, :, ::-1]),
    ],
)
def test_gather_scatter_reorder_match_tf(fn, want):
    assert_both(fn, np.asarray(want, np.float32), X, dtype=np.float32)


def test_scatter_nd_sums_duplicates():
    assert_both(
        lambda u: tf.scatter_nd([[1], [3], [1]], u, [5]),
        [0, 6, 0, 6, 0],
        np.array([5.0, 6.0, 1.0], np.float32),
        dtype=np.float32,
    )


def test_gather_nd_bad_index_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError, match="does not index into param"):
        with tf.Session() as sess:
            sess.run(tf.gather_nd(X, [[5, 0]]))
    with tf.eager_mode(), pytest.raises(tf.errors.InvalidArgumentError):
        tf.scatter_nd([[7]], [1.0], [5])


def test_space_batch_depth_match_tf():
    x12 = np.arange(12.0, dtype=np.float32).reshape(1, 2, 3, 2)
    assert_both(
        lambda x: tf.space_to_batch_nd(x, [2, 2], [[0, 0], [1, 0]]),
        [[[[0, 0], [2, 3]]], [[[0, 1], [4, 5]]], [[[0, 0], [8, 9]]], [[[6, 7], [10, 11]]]],
        x12,
    )
    x16 = np.arange(16.0, dtype=np.float32)
    assert_both(
        lambda x: tf.batch_to_space_nd(tf.reshape(x, [4, 2, 2, 1]), [2, 2], [[0, 1], [1, 0]]),
        [[[[4], [1], [5]], [[12], [9], [13]], [[6], [3], [7]]]],
        x16,
    )
    assert_both(
        lambda x: tf.depth_to_space(tf.reshape(x, [1, 1, 2, 8]), 2),
        [[[[0, 1], [2, 3], [8, 9], [10, 11]], [[4, 5], [6, 7], [12, 13], [14, 15]]]],
        x16,
    )
    img = np.random.default_rng(0).standard_normal((2, 4, 6, 3)).astype(np.float32)
    assert_both(lambda x: tf.depth_to_space(tf.space_to_depth(x, 2), 2), img, img)
    assert_both(
        lambda x: tf.batch_to_space(tf.space_to_batch(x, [[0, 0], [0, 2]], 2), [[0, 0], [0, 2]], 2),
        img,
        img,
    )
    with pytest.raises(ValueError, match="divisible"):
        tf.depth_to_space(tf.zeros([1, 2, 2, 3]), 2)


def test_sequence_mask_meshgrid_diag():
    assert_both(
        lambda n: tf.sequence_mask(n, 4),
        [[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0]],
        np.array([1, 3, 0]),
        dtype=bool,
    )
    assert_both(
        lambda n: tf.sequence_mask(n, dtype=tf.float32),
        [[1, 0, 0], [1, 1, 1]],
        np.array([1, 3]),
        dtype=np.float32,
    )
    assert_both(
        lambda a, b: tf.meshgrid(a, b, indexing="ij"),
        [[[1, 1], [2, 2], [3, 3]], [[4, 5], [4, 5], [4, 5]]],
        np.array([1, 2, 3]),
        np.array([4, 5]),
    )
    assert_both(
        lambda a, b: tf.meshgrid(a, b),
        list(np.meshgrid([1, 2, 3], [4, 5])),
        np.array([1, 2, 3]),
        np.array([4, 5]),
    )
    d = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    want = np.einsum("ij,ik,jl->ijkl", d, np.eye(2), np.eye(2))
    assert_both(tf.diag, want, d, dtype=np.float32)
    assert_both(lambda m: tf.diag_part(tf.diag(m)), d, d)


def test_index_ops_match_tf():
    assert_both(
        lambda s, v: tf.searchsorted(s, v),
        [1, 0, 4],
        np.array([1.0, 2, 2, 3]),
        np.array([2.0, 0, 9]),
        dtype=np.int32,
    )
    assert_both(
        lambda s, v: tf.searchsorted(s, v, side="right"),
        [[2, 3]],
        np.array([[1.0, 2, 3]]),
        np.array([[2.5, 3]]),
    )
    assert_both(
        lambda x, y: tf.setdiff1d(x, y), [[1, 3], [0, 2]], np.array([1, 2, 3, 4]), np.array([2, 4])
    )
    assert_both(lambda i: tf.unravel_index(i, [3, 4]), [[1, 1], [1, 3]], np.array([5, 7]))
    assert_both(tf.invert_permutation, [1, 2, 0], np.array([2, 0, 1], np.int32))
    v = np.array([0.0, 1.0, 2.0, 5.0, -3.0], np.float32)
    assert_both(
        lambda x: tf.histogram_fixed_width(x, [0.0, 4.0], nbins=4), [2, 1, 1, 1], v, dtype=np.int32
    )
    assert_both(
        lambda x: tf.histogram_fixed_width_bins(x, [0.0, 4.0], nbins=4),
        [0, 1, 2, 3, 0],
        v,
        dtype=np.int32,
    )
    assert_both(lambda: tf.linspace(0.0, 1.0, 5), np.linspace(0, 1, 5), dtype=np.float32)
    assert_both(lambda: tf.lin_space(2.0, 3.0, 1), [2.0])


def test_edit_distance_matches_tf():
    hyp = tf.SparseTensorValue([[0, 0], [1, 0], [1, 1]], np.array([b"a", b"b", b"c"]), [3, 2])
    truth = tf.SparseTensorValue([[0, 0], [0, 1], [2, 0]], np.array([b"a", b"c", b"x"]), [3, 2])
    with tf.Session() as sess:  # TF: [0.5, inf, 1.0] and, unnormalized, [1, 2, 1]
        got = sess.run(
            [
                tf.edit_distance(tf.SparseTensor(*hyp), tf.SparseTensor(*truth)),
                tf.edit_distance(tf.SparseTensor(*hyp), tf.SparseTensor(*truth), normalize=False),
            ]
        )
    np.testing.assert_array_equal(got[0], np.float32([0.5, np.inf, 1.0]))
    np.testing.assert_array_equal(got[1], np.float32([1, 2, 1]))


def test_shape_utilities():
    assert tf.broadcast_static_shape(tf.TensorShape([2, 1]), tf.TensorShape([3])) == tf.TensorShape(
        [2, 3]
    )
    with pytest.raises(ValueError):
        tf.broadcast_static_shape(tf.TensorShape([2]), tf.TensorShape([3]))
    assert_both(
        lambda a, b: tf.broadcast_dynamic_shape(a, b),
        [2, 3],
        np.array([2, 1], np.int32),
        np.array([3], np.int32),
    )
    assert_both(lambda a, b: tf.shape_n([a, b]), [[2], [3, 1]], np.zeros(2), np.zeros((3, 1)))
    p = tf.placeholder(tf.float32)
    e = tf.ensure_shape(p, [None, 3])
    assert e.shape.as_list() == [None, 3]
    with tf.Session() as sess:
        assert sess.run(e, {p: np.ones((2, 3))}).shape == (2, 3)
        with pytest.raises(tf.errors.InvalidArgumentError, match="not compatible"):
            sess.run(e, {p: np.ones((2, 4))})
    with pytest.raises(ValueError):
        tf.ensure_shape(tf.zeros([2, 4]), [None, 3])
    a, b = tf.identity_n([tf.ones(2), tf.zeros(3)])
    assert (a.shape.as_list(), b.shape.as_list()) == ([2], [3])
    paddings, crops = tf.required_space_to_batch_paddings([5, 6], [2, 4])
    with tf.Session() as sess:  # TF: both [[0, 1], [0, 2]]
        np.testing.assert_array_equal(sess.run([paddings, crops]), [[[0, 1], [0, 2]]] * 2)


def test_repeat_and_batch_scatter_update_match_tf():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    assert_both(lambda a: tf.repeat(a, 2), np.repeat(x, 2), x, dtype=np.float32)
    assert_both(lambda a: tf.repeat(a, [1, 3], axis=0), x[[0, 1, 1, 1]], x)
    assert_both(lambda a: tf.repeat(a, [2, 0, 1], axis=1), [[0, 0, 2], [3, 3, 5]], x)
    xt = tf.constant(x)
    grad = tf.gradients(tf.reduce_sum(tf.repeat(xt, [2, 0, 1], axis=1) ** 2), xt)[0]
    v = tf.Variable(np.zeros((2, 4), np.float32))
    update = tf.batch_scatter_update(v, [[1, 3], [0, 0]], [[1.0, 2.0], [3.0, 4.0]])
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(grad), [[0, 0, 4], [12, 0, 10]])  # TF
        # TF: [[0, 1, 0, 2], [4, 0, 0, 0]] (the last of two updates to one cell wins)
        np.testing.assert_array_equal(sess.run(update), [[0, 1, 0, 2], [4, 0, 0, 0]])


def test_static_shapes_with_unknown_dimensions():
    p = tf.placeholder(tf.float32, [None, None, None, 3])
    assert tf.space_to_depth(p, 2).shape.as_list() == [None, None, None, 12]
    assert tf.reshape(p, tf.stack([-1, tf.shape(p)[1], 3])).shape.as_list() == [
        None,
        None,
        3,
    ]  # a -1 inside a stacked shape is unknown, not -1
    assert tf.reshape([1, 2, 3], [-1]).shape.as_list() == [3]
    with tf.Session() as sess:
        out = sess.run(tf.depth_to_space(tf.space_to_depth(p, 2), 2), {p: np.ones((1, 4, 2, 3))})
    assert out.shape == (1, 4, 2, 3)


def test_op_names_match_tf():
    """Output tensor names TF 1.x graph mode gives the same calls."""
    x = tf.constant(X)
    p = tf.placeholder(tf.float32)
    got = [
        tf.gather_nd(x, [[0, 1]]),
        tf.scatter_nd([[1]], [1.0], [3]),
        tf.reverse_sequence(x, [1, 2], seq_axis=1, batch_axis=0),
        tf.roll(x, 1, 0),
        tf.reverse(x, [1]),
        tf.sequence_mask([1, 2], 3),
        tf.space_to_depth(tf.zeros([1, 4, 4, 1]), 2),
        tf.space_to_batch_nd(tf.zeros([1, 4, 4, 1]), [2, 2], [[0, 0], [0, 0]]),
        tf.ensure_shape(p, [None, 3]),
        tf.invert_permutation([2, 0, 1]),
        tf.unravel_index([5], [3, 4]),
        tf.broadcast_dynamic_shape([2, 1], [3]),
        tf.setdiff1d([1, 2], [2])[0],
        tf.diag([1.0, 2.0]),
        tf.diag_part(tf.ones([2, 2])),
        tf.linspace(0.0, 1.0, 3),
        tf.nn.conv1d(tf.zeros([1, 5, 2]), tf.zeros([2, 2, 3]), 1, "SAME"),
    ]
    assert [t.name for t in got] == [
        "GatherNd:0",
        "ScatterNd:0",
        "ReverseSequence:0",
        "Roll:0",
        "ReverseV2:0",
        "SequenceMask/Less:0",
        "SpaceToDepth:0",
        "SpaceToBatchND:0",
        "EnsureShape:0",
        "InvertPermutation:0",
        "UnravelIndex:0",
        "BroadcastArgs:0",
        "ListDiff:0",
        "Diag:0",
        "DiagPart:0",
        "linspace/Slice:0",
        "conv1d/Squeeze:0",
    ]


def test_gather_batch_dims_variants_match_tf():
    r = np.load(Path(__file__).parent / "data" / "tf_gather_batch.npz")
    p = np.arange(120.0, dtype=np.float32).reshape(2, 3, 4, 5)
    assert_both(lambda x: tf.gather(x, [[1, 0], [2, 2]], batch_dims=1, axis=-1), r["a"], p)
    assert_both(lambda x: tf.gather(x, [[1, 0, 2], [2, 2, 1]], batch_dims=2, axis=2), r["b"], p)
    assert_both(lambda x: tf.gather(x, [1, 0], batch_dims=1, axis=1), r["c"], p)
    idx = np.array([[[0], [1], [3]], [[1], [1], [2]]])
    assert_both(lambda x: tf.gather(x, idx, batch_dims=-1, axis=2), r["d"], p)
    with pytest.raises(ValueError, match="should be equal"):
        tf.gather(p, [[[0, 1]], [[1, 1]]], batch_dims=-1, axis=2)
    ph = tf.placeholder(tf.int64, [2, None, 2])
    out = tf.gather_nd(p, ph, batch_dims=2)
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="should be equal"),
    ):
        sess.run(out, {ph: np.zeros((2, 1, 2), np.int64)})
