"""Decompositions, matrix functions and linear operators against numbers obtained from real
TensorFlow (float64) and NumPy identities, in graph and eager mode."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

A = np.array([[4.0, 3.0], [6.0, 3.0]])
L = tf.linalg

CASES = [  # (label, fn, TF's value)
    ("lu", lambda: L.lu(A)[0], [[6.0, 3.0], [0.6666667, 1.0]]),
    ("lu_perm", lambda: L.lu(A)[1], [1, 0]),
    ("lu_solve", lambda: L.lu_solve(*L.lu(A), [[1.0], [2.0]]), [[0.5], [-0.3333333]]),
    ("lu_reconstruct", lambda: L.lu_reconstruct(*L.lu(A)), A),
    ("qr_q", lambda: L.qr(A)[0], [[-0.5547002, -0.83205029], [-0.83205029, 0.5547002]]),
    ("qr_r", lambda: L.qr(A)[1], [[-7.21110255, -4.16025147], [0.0, -0.83205029]]),
    ("svd_s", lambda: L.svd(A, compute_uv=False), [8.33557912, 0.71980602]),
    ("matrix_rank", lambda: L.matrix_rank(A), 2),
    (
        "pinv",
        lambda: L.pinv(np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 1.0]])),
        [[0.2, 0.4, -2.0], [0.0, 0.0, 1.0]],
    ),
    (
        "expm",
        lambda: L.expm(A * 0.1),
        [[1.6236701290681723, 0.4387879302401713], [0.8775758604803423, 1.4774074856547819]],
    ),
    ("sqrtm", lambda: L.sqrtm(np.array([[4.0, 1.0], [0.0, 9.0]])), [[2.0, 0.2], [0.0, 3.0]]),
    (
        "tridiagonal_matmul",
        lambda: L.tridiagonal_matmul(
            np.array([[1.0, 2.0, 0.0], [4.0, 5.0, 6.0], [0.0, 8.0, 9.0]]),
            np.array([[1.0], [2.0], [3.0]]),
        ),
        [[6.0], [24.0], [36.0]],
    ),
    (
        "eigh_tridiagonal",
        lambda: L.eigh_tridiagonal(np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5])),
        [0.7752551286084111, 2.0, 3.2247448713915885],
    ),
    (
        "permutation",
        lambda: L.LinearOperatorPermutation([2, 0, 1], dtype=tf.float64).to_dense(),
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    ),
    (
        "toeplitz",
        lambda: L.LinearOperatorToeplitz([1.0, 2.0, 3.0], [1.0, 4.0, 5.0]).to_dense(),
        [[1.0, 4.0, 5.0], [2.0, 1.0, 4.0], [3.0, 2.0, 1.0]],
    ),
    (
        "circulant",
        lambda: L.LinearOperatorCirculant(
            tf.complex(tf.constant([6.0, -1.5, -1.5]), tf.constant([0.0, 0.8660254, -0.8660254]))
        ).to_dense(),
        [[1, 3, 2], [2, 1, 3], [3, 2, 1]],
    ),
    (
        "householder",
        lambda: L.LinearOperatorHouseholder([1.0, 1.0]).to_dense(),
        [[0.0, -1.0], [-1.0, 0.0]],
    ),
    (
        "kronecker",
        lambda: L.LinearOperatorKronecker(
            [
                L.LinearOperatorFullMatrix([[1.0, 2.0], [3.0, 4.0]]),
                L.LinearOperatorDiag([1.0, 10.0]),
            ]
        ).to_dense(),
        [
            [1.0, 0.0, 2.0, 0.0],
            [0.0, 10.0, 0.0, 20.0],
            [3.0, 0.0, 4.0, 0.0],
            [0.0, 30.0, 0.0, 40.0],
        ],
    ),
    (
        "block_lower",
        lambda: L.LinearOperatorBlockLowerTriangular(
            [
                [L.LinearOperatorDiag([1.0])],
                [L.LinearOperatorFullMatrix([[2.0]]), L.LinearOperatorDiag([3.0])],
            ]
        ).to_dense(),
        [[1.0, 0.0], [2.0, 3.0]],
    ),
    ("diag_log_abs_det", lambda: L.LinearOperatorDiag([1.0, 2.0]).log_abs_determinant(), 0.6931472),
    (
        "scaled_identity",
        lambda: L.LinearOperatorScaledIdentity(2, 3.0).to_dense(),
        [[3.0, 0.0], [0.0, 3.0]],
    ),
]


@pytest.mark.parametrize("mode", ["graph", "eager"])
@pytest.mark.parametrize("label,fn,want", CASES, ids=[c[0] for c in CASES])
def test_matches_tensorflow(label, fn, want, mode):
    if mode == "graph":
        with tf.Graph().as_default(), tf.Session() as sess:
            got = sess.run(fn())
    else:
        with tf.eager_mode():
            got = fn().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=label)


def test_decompositions_reconstruct_batched_inputs():
    rng = np.random.default_rng(0)
    with tf.eager_mode():
        for shape in [(2, 4, 3), (3, 3), (2, 3)]:
            a = rng.normal(size=shape)
            q, r = L.qr(a)
            np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)
            s, u, v = L.svd(a)
            np.testing.assert_allclose(
                (u.numpy() * s.numpy()[..., None, :]) @ np.swapaxes(v.numpy(), -1, -2),
                a,
                atol=1e-12,
            )
        b = rng.normal(size=(2, 3, 3)) + 3 * np.eye(3)
        lu, perm = L.lu(b)
        assert perm.dtype == tf.int32
        np.testing.assert_allclose(L.lu_reconstruct(lu, perm).numpy(), b, atol=1e-12)
        np.testing.assert_allclose(
            L.lu_matrix_inverse(lu, perm).numpy(), np.linalg.inv(b), atol=1e-12
        )
        np.testing.assert_allclose(L.expm(np.zeros((2, 2))).numpy(), np.eye(2))
        spd = b @ np.swapaxes(b, -1, -2)
        root = L.sqrtm(spd).numpy()
        np.testing.assert_allclose(root @ root, spd, rtol=1e-10)


def test_static_shapes_and_errors():
    with tf.Graph().as_default():
        s, u, v = L.svd(tf.zeros([5, 4, 3]))
        assert (s.shape.as_list(), u.shape.as_list(), v.shape.as_list()) == (
            [5, 3],
            [5, 4, 3],
            [5, 3, 3],
        )
        q, r = L.qr(tf.zeros([4, 3]), full_matrices=True)
        assert (q.shape.as_list(), r.shape.as_list()) == ([4, 4], [4, 3])
        with pytest.raises(ValueError):
            L.lu(tf.zeros([2, 3]))
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(L.lu(tf.zeros([2, 2]))[0])


def test_linear_operator_methods():
    with tf.eager_mode():
        f = L.LinearOperatorFullMatrix([[2.0, 1.0], [1.0, 3.0]])
        d = L.LinearOperatorDiag([1.0, 2.0])
        assert f.shape.as_list() == [2, 2] and d.domain_dimension == 2
        np.testing.assert_allclose(f.solvevec([1.0, 2.0]).numpy(), [0.2, 0.6], rtol=1e-6)
        np.testing.assert_allclose(f.matvec([1.0, 1.0]).numpy(), [3.0, 4.0])
        np.testing.assert_allclose(f.determinant().numpy(), 5.0, rtol=1e-6)
        np.testing.assert_allclose(
            f.inverse().to_dense().numpy(), [[0.6, -0.2], [-0.2, 0.4]], rtol=1e-6
        )
        np.testing.assert_allclose((f @ d).to_dense().numpy(), [[2.0, 2.0], [1.0, 6.0]])
        np.testing.assert_allclose(d.solve([[2.0], [4.0]]).numpy(), [[2.0], [2.0]])
        np.testing.assert_allclose(
            L.LinearOperatorLowRankUpdate(d, [[1.0], [1.0]]).to_dense().numpy(),
            [[2.0, 1.0], [1.0, 3.0]],
        )
        tri = L.LinearOperatorLowerTriangular([[2.0, 9.0], [1.0, 4.0]])
        np.testing.assert_allclose(tri.solve([[2.0], [5.0]]).numpy(), [[1.0], [1.0]])
        np.testing.assert_allclose(
            L.LinearOperatorIdentity(2, batch_shape=[3]).to_dense().numpy(),
            np.broadcast_to(np.eye(2), (3, 2, 2)),
        )


def test_logm_takes_complex_matrices_like_tensorflow():
    with tf.eager_mode():
        m = tf.complex(
            tf.constant([[2.0, 1.0], [0.0, 3.0]], tf.float64), tf.zeros([2, 2], tf.float64)
        )
        # from real TensorFlow
        np.testing.assert_allclose(
            L.logm(m).numpy(), [[0.69314718, 0.40546511], [0.0, 1.09861229]], atol=1e-8
        )
    with tf.Graph().as_default(), pytest.raises(TypeError):
        L.logm(tf.eye(2))


@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_conjugate_gradient_matches_tensorflow(mode):
    a, b = np.array([[4.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0])

    def run():
        op = L.LinearOperatorFullMatrix(a, is_self_adjoint=True, is_positive_definite=True)
        return L.experimental.conjugate_gradient(op, b)

    if mode == "graph":
        with tf.Graph().as_default(), tf.Session() as sess:
            state = run()
            i, x = sess.run([state.i, state.x])
    else:
        with tf.eager_mode():
            state = run()
            i, x = state.i.numpy(), state.x.numpy()
    assert i == 2  # real TensorFlow: 2 steps, x = [0.09090909, 0.63636364]
    np.testing.assert_allclose(x, [0.09090909, 0.63636364], rtol=1e-7)
    with tf.Graph().as_default(), pytest.raises(ValueError):
        L.experimental.conjugate_gradient(L.LinearOperatorFullMatrix(a), b)
