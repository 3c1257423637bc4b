"""Forward values of the issue-13 math ops, in graph and eager mode. Expected numbers were
obtained from real TensorFlow (tf.compat.v1, graph mode) unless a comment says otherwise."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from tests.ops.helpers import evaluate

X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
D = [[1.0, 2.0], [3.0, 0.0], [5.0, 6.0], [7.0, 8.0]]
F32 = np.finfo(np.float32)

# (label, builder, TF's value, TF's dtype)
CASES = [
    (
        "cumsum_excl_rev",
        lambda: tf.cumsum(tf.constant(X), 1, exclusive=True, reverse=True),
        [[5.0, 3.0, 0.0], [11.0, 6.0, 0.0]],
        "float32",
    ),
    (
        "cumprod_excl",
        lambda: tf.cumprod(tf.constant(X), 0, exclusive=True),
        [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]],
        "float32",
    ),
    (
        "cumulative_logsumexp",
        lambda: tf.math.cumulative_logsumexp(tf.constant(X), 1),
        [[1.0, 2.3132617, 3.4076061], [4.0, 5.3132615, 6.4076061]],
        "float32",
    ),
    ("sort_desc_int", lambda: tf.sort([3, 1, 2, 1], direction="DESCENDING"), [3, 2, 1, 1], "int32"),
    ("argsort_ties", lambda: tf.argsort([3.0, 1.0, 2.0, 1.0]), [1, 3, 2, 0], "int32"),
    (
        "segment_max",
        lambda: tf.math.segment_max(tf.constant(D), [0, 0, 2, 2]),
        [[3.0, 2.0], [0.0, 0.0], [7.0, 8.0]],
        "float32",
    ),
    (
        "segment_min",
        lambda: tf.math.segment_min(tf.constant(D), [0, 0, 2, 2]),
        [[1.0, 0.0], [0.0, 0.0], [5.0, 6.0]],
        "float32",
    ),
    (
        "segment_prod",
        lambda: tf.math.segment_prod(tf.constant(D), [0, 0, 2, 2]),
        [[3.0, 0.0], [1.0, 1.0], [35.0, 48.0]],
        "float32",
    ),
    (
        "segment_mean",
        lambda: tf.math.segment_mean(tf.constant(D), [0, 0, 2, 2]),
        [[2.0, 1.0], [0.0, 0.0], [6.0, 7.0]],
        "float32",
    ),
    (
        "unsorted_segment_max",
        lambda: tf.math.unsorted_segment_max(tf.constant(D), [1, -1, 1, 0], 3),
        [[7.0, 8.0], [5.0, 6.0], [F32.min, F32.min]],
        "float32",
    ),
    (
        "unsorted_segment_min",
        lambda: tf.math.unsorted_segment_min(tf.constant(D), [1, -1, 1, 0], 3),
        [[7.0, 8.0], [1.0, 2.0], [F32.max, F32.max]],
        "float32",
    ),
    (
        "unsorted_segment_prod",
        lambda: tf.math.unsorted_segment_prod(tf.constant(D), [1, -1, 1, 0], 3),
        [[7.0, 8.0], [5.0, 12.0], [1.0, 1.0]],
        "float32",
    ),
    (
        "unsorted_segment_mean",
        lambda: tf.math.unsorted_segment_mean(tf.constant(D), [1, -1, 1, 0], 3),
        [[7.0, 8.0], [3.0, 4.0], [0.0, 0.0]],
        "float32",
    ),
    (
        "unsorted_segment_sqrt_n",
        lambda: tf.math.unsorted_segment_sqrt_n(tf.constant(D), [1, -1, 1, 0], 3),
        [[7.0, 8.0], [4.2426410, 5.6568542], [0.0, 0.0]],
        "float32",
    ),
    (
        "einsum",
        lambda: tf.einsum("ij,jk->ik", tf.constant(X), tf.transpose(tf.constant(X))),
        [[14.0, 32.0], [32.0, 77.0]],
        "float32",
    ),
    (
        "tensordot",
        lambda: tf.tensordot(tf.constant(X), tf.transpose(tf.constant(X)), 1),
        [[14.0, 32.0], [32.0, 77.0]],
        "float32",
    ),
    (
        "reduce_variance",
        lambda: tf.math.reduce_variance(tf.constant(X), 1),
        [0.6666667, 0.6666667],
        "float32",
    ),
    ("reduce_std", lambda: tf.math.reduce_std(tf.constant(X)), 1.7078252, "float32"),
    (
        "count_nonzero",
        lambda: tf.count_nonzero(tf.constant([[0.0, 1.0], [2.0, 0.0]]), 0),
        [1, 1],
        "int64",
    ),
    ("bincount", lambda: tf.math.bincount([1, 1, 3], minlength=5), [0, 2, 0, 1, 0], "int32"),
    (
        "bincount_weights",
        lambda: tf.math.bincount([1, 1, 3], weights=[0.5, 1.0, 2.0]),
        [0.0, 1.5, 0.0, 2.0],
        "float32",
    ),
    (
        "confusion_matrix",
        lambda: tf.math.confusion_matrix([0, 1, 2], [0, 2, 2]),
        [[1, 0, 0], [0, 0, 1], [0, 0, 1]],
        "int32",
    ),
    ("truncatediv", lambda: tf.truncatediv([-7, 7], [2, -2]), [-3, -3], "int32"),
    ("truncatemod", lambda: tf.truncatemod([-7.0, 7.0], [2.0, -2.0]), [-1.0, 1.0], "float32"),
    (
        "xlogy",
        lambda: tf.math.xlogy([0.0, 1.0, 2.0], [0.0, 2.0, 3.0]),
        [0.0, 0.6931472, 2.1972246],
        "float32",
    ),
    ("norm", lambda: tf.norm(tf.constant(X)), 9.5393925, "float32"),
    ("norm_matrix_1", lambda: tf.norm(tf.constant(X), ord=1, axis=[0, 1]), 9.0, "float32"),
    ("norm_inf_axis", lambda: tf.norm(tf.constant(X), ord=np.inf, axis=1), [3.0, 6.0], "float32"),
    (
        "lgamma",
        lambda: tf.math.lgamma([0.5, -2.5, 10.0]),
        [0.5723649, -0.0562437, 12.801827],
        "float32",
    ),
    ("igamma", lambda: tf.math.igamma(2.0, [0.5, 3.0]), [0.0902040, 0.8008517], "float32"),
    ("betainc", lambda: tf.math.betainc(2.0, 3.0, [0.2, 0.7]), [0.1808, 0.9163], "float32"),
    ("zeta", lambda: tf.math.zeta(2.0, [1.0, 2.0]), [1.6449341, 0.6449341], "float32"),
    ("erfinv", lambda: tf.math.erfinv([0.3, -0.99]), [0.2724627, -1.8213865], "float32"),
    ("bessel_i1e", lambda: tf.math.bessel_i1e([-2.0, 30.0]), [-0.2152693, 0.0719163], "float32"),
    ("asin", lambda: tf.asin([0.5]), [0.5235988], "float32"),
    ("atan2", lambda: tf.atan2([1.0], [-1.0]), [2.3561945], "float32"),
    (
        "eigvalsh",
        lambda: tf.linalg.eigvalsh(tf.constant([[2.0, 1.0], [1.0, 3.0]])),
        [1.3819659, 3.6180334],
        "float32",
    ),
    (
        "slogdet_sign",
        lambda: tf.linalg.slogdet(tf.constant([[1.0, 2.0], [3.0, 4.0]]))[0],
        -1.0,
        "float32",
    ),
    (
        "slogdet_log",
        lambda: tf.linalg.slogdet(tf.constant([[1.0, 2.0], [3.0, 4.0]]))[1],
        0.6931472,
        "float32",
    ),
]


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("label,build,want,dtype", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_tensorflow(label, build, want, dtype, mode):
    if mode == "graph":
        with tf.Graph().as_default():
            got = evaluate(build(), exact_shapes=False)
    else:
        with tf.eager_mode():
            got = build().numpy()
    got = np.asarray(got)
    assert got.dtype == np.dtype(dtype), f"{label}: dtype {got.dtype}, TF gives {dtype}"
    np.testing.assert_allclose(got, np.asarray(want, dtype=got.dtype), rtol=2e-6, atol=1e-6)


def test_unique_and_counts_keep_first_seen_order():
    with tf.Graph().as_default():
        y, idx, count = evaluate(list(tf.unique_with_counts([4, 1, 4, 2, 1])), exact_shapes=False)
    np.testing.assert_array_equal(y, [4, 1, 2])
    np.testing.assert_array_equal(idx, [0, 1, 0, 2, 1])
    np.testing.assert_array_equal(count, [2, 2, 1])
    assert idx.dtype == np.int32


def test_op_names_follow_tensorflow():
    with tf.Graph().as_default():
        assert tf.cumsum([1.0, 2.0]).name == "Cumsum:0"
        assert tf.math.segment_max([1.0, 2.0], [0, 0]).name == "SegmentMax:0"
        assert tf.math.xlogy(1.0, 2.0).name == "Xlogy:0"
        e, v = tf.linalg.eigh(tf.eye(2))
        assert (e.name, v.name) == ("SelfAdjointEigV2:0", "SelfAdjointEigV2:1")
        # TF: one function behind each pair of names, with these op names
        assert tf.linalg.global_norm is tf.global_norm
        assert (
            tf.linalg.global_norm([tf.constant([3.0, 4.0]), None]).name
            == "global_norm/global_norm:0"
        )
        assert tf.math.zero_fraction is tf.nn.zero_fraction
        assert tf.math.zero_fraction([0.0, 1.0]).name == "zero_fraction/fraction:0"
        assert tf.math.approx_max_k is tf.nn.approx_max_k
        with pytest.raises(TypeError, match="sequence"):  # TF: a bare tensor is refused
            tf.linalg.global_norm(tf.constant([3.0, 4.0]))


@pytest.mark.parametrize(
    "build,error",
    [
        (lambda: tf.asin(tf.constant([1, 2])), TypeError),  # TF: int32 not allowed
        (lambda: tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([2, 3])), ValueError),
        (lambda: tf.unique([[1, 2]]), ValueError),  # TF: shape must be rank 1
        (lambda: tf.sort([1.0, 2.0], direction="UP"), ValueError),
    ],
)
def test_bad_input_raises_like_tensorflow(build, error):
    with tf.Graph().as_default(), pytest.raises(error):
        build()


def test_runtime_errors_are_invalid_argument():
    with tf.Graph().as_default():
        for t in [
            tf.math.segment_max([1.0, 2.0], [1, 0]),
            tf.math.unsorted_segment_max([1.0, 2.0], [0, 5], 2),
            tf.truncatediv([1], [0]),
            tf.math.bincount([-1]),
        ]:
            with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(t)


def test_einsum_forms_against_numpy():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=(3,))
    cases = [
        ("...j,jk->...k", (a, b)),
        ("bij->j", (a,)),
        ("bij", (a,)),
        ("i,j", (c, c)),
        ("bij,jk,i->bk", (a, b, c)),
        ("ij->ji", (b,)),
    ]
    with tf.eager_mode():
        for eq, args in cases:
            np.testing.assert_allclose(
                tf.einsum(eq, *args).numpy(), np.einsum(eq, *args), rtol=1e-12, err_msg=eq
            )


def test_linalg_compositions_against_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 3))
    spd = a @ a.T + 3 * np.eye(3)
    b = rng.normal(size=(3, 2))
    tall = rng.normal(size=(5, 3))
    with tf.eager_mode():
        chol = tf.cholesky(spd)
        np.testing.assert_allclose(
            tf.linalg.cholesky_solve(chol, b).numpy(), np.linalg.solve(spd, b), rtol=1e-10
        )
        np.testing.assert_allclose(
            tf.linalg.triangular_solve(spd, b, lower=False).numpy(),
            np.linalg.solve(np.triu(spd), b),
            rtol=1e-10,
        )
        np.testing.assert_allclose(tf.linalg.lstsq(tall, tall @ b).numpy(), b, rtol=1e-8)
        np.testing.assert_allclose(
            tf.linalg.set_diag(a, [1.0, 2.0, 3.0]).numpy(),
            a - np.diag(np.diag(a)) + np.diag([1.0, 2.0, 3.0]),
        )
        np.testing.assert_allclose(
            tf.linalg.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]).numpy(), [0.0, 0.0, 1.0]
        )
        np.testing.assert_allclose(tf.linalg.matvec(a, b[:, 0]).numpy(), a @ b[:, 0])
        np.testing.assert_allclose(tf.norm(a, ord=3.0).numpy(), np.sum(np.abs(a) ** 3) ** (1 / 3))
        np.testing.assert_allclose(
            tf.linalg.global_norm([a, b]).numpy(), np.sqrt(np.sum(a * a) + np.sum(b * b))
        )
        w, v = tf.linalg.eigh(spd)
        np.testing.assert_allclose((v.numpy() * w.numpy()) @ v.numpy().T, spd, atol=1e-10)


def test_empty_and_nan_inputs_follow_tensorflow():
    # values from real TensorFlow
    with tf.Graph().as_default(), tf.Session() as sess:
        got = sess.run(
            [
                tf.cumsum(tf.zeros([0, 3]), 1),
                tf.sort([3.0, np.nan, 1.0]),
                tf.argsort([3.0, np.nan, 1.0]),
                tf.math.segment_max(tf.zeros([0, 2]), tf.zeros([0], tf.int32)),
                tf.math.unsorted_segment_max(tf.zeros([0]), tf.zeros([0], tf.int32), 2),
                tf.unique(tf.zeros([0]))[0],
                tf.einsum("ij,jk->ik", tf.zeros([2, 0]), tf.zeros([0, 3])),
                tf.cumprod([1, 2, 3]),
            ]
        )
    assert got[0].shape == (0, 3)
    np.testing.assert_array_equal(got[1], [1.0, 3.0, np.nan])
    np.testing.assert_array_equal(got[2], [2, 0, 1])
    assert got[3].shape == (0, 2)
    np.testing.assert_array_equal(got[4], [F32.min, F32.min])
    assert got[5].shape == (0,)
    np.testing.assert_array_equal(got[6], np.zeros((2, 3)))
    np.testing.assert_array_equal(got[7], [1, 2, 6])
    assert got[7].dtype == np.int32


def test_norm_orders_and_named_results_follow_tensorflow():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    with tf.Graph().as_default(), tf.Session() as sess:
        got = sess.run(
            [
                tf.norm(a, ord=2, axis=[0, 1]),
                tf.norm(a, ord=np.inf, axis=[0, 1]),
                tf.norm(a, ord=0.5, axis=1),
                tf.norm(a, ord=3, axis=1),
            ]
        )
        with pytest.raises(ValueError):
            tf.norm(a, ord="nuc", axis=[0, 1])
        u = tf.unique([1, 2, 1])
        assert type(u).__name__ == "Unique" and u._fields == ("y", "idx")
        assert tf.linalg.slogdet(a)._fields == ("sign", "log_abs_determinant")
        assert tf.linalg.qr(a)._fields == ("q", "r") and tf.linalg.lu(a)._fields == ("lu", "p")
    # numbers from real TensorFlow
    np.testing.assert_allclose(got[0], 5.464985704219043)
    np.testing.assert_allclose(got[1], 7.0)
    np.testing.assert_allclose(got[2], [5.82842712, 13.92820323])
    np.testing.assert_allclose(got[3], [2.08008382, 4.49794145])


@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_sobol_sample_matches_tensorflow(mode):
    # points from real TensorFlow; all 21 supported dimensions were also compared there
    # over 5000 points (identical)
    def build():
        return [
            tf.math.sobol_sample(3, 4, skip=5),
            tf.math.sobol_sample(21, 3, skip=997, dtype=tf.float64),
        ]

    if mode == "graph":
        with tf.Graph().as_default(), tf.Session() as sess:
            small, wide = sess.run(build())
    else:
        with tf.eager_mode():
            small, wide = (t.numpy() for t in build())
    assert small.dtype == np.float32 and wide.dtype == np.float64
    np.testing.assert_array_equal(
        small,
        [
            [0.625, 0.125, 0.875],
            [0.125, 0.625, 0.375],
            [0.1875, 0.3125, 0.9375],
            [0.6875, 0.8125, 0.4375],
        ],
    )
    np.testing.assert_array_equal(
        (wide * 1024).astype(int),
        [
            [
                673,
                419,
                595,
                501,
                479,
                353,
                367,
                217,
                321,
                135,
                535,
                965,
                997,
                457,
                339,
                59,
                801,
                161,
                183,
                551,
                855,
            ],
            [
                161,
                931,
                83,
                1013,
                991,
                865,
                879,
                729,
                833,
                647,
                23,
                453,
                485,
                969,
                851,
                571,
                289,
                673,
                695,
                39,
                343,
            ],
            [
                225,
                99,
                531,
                693,
                287,
                929,
                47,
                921,
                513,
                71,
                87,
                261,
                165,
                393,
                147,
                379,
                737,
                353,
                1015,
                743,
                535,
            ],
        ],
    )
    with tf.Graph().as_default(), pytest.raises(ValueError):
        tf.math.sobol_sample(22, 2)
