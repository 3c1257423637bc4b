"""Linear algebra and sparse tensors."""

from __future__ import annotations

import numpy as np

from conformance.case import Arg, Case, Variant, integers, real


def well_conditioned(rng, shape, dtype):
    """Square matrices (last two dims) close to 3 * identity: safely invertible."""
    v = rng.uniform(-1.0, 1.0, size=shape)
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        v = v + 3.0 * np.eye(shape[-1])
    return v.astype(dtype)


def spd(rng, shape, dtype):
    """Symmetric positive definite matrices (last two dims): A A^T + n I."""
    a = rng.uniform(-1.0, 1.0, size=shape)
    if len(shape) < 2:
        return a.astype(dtype)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def symmetrized_cholesky(tf, a):
    """Cholesky of (A + A^T) / 2: TF's gradient assumes a symmetric input."""
    r = len(a.shape)
    return tf.cholesky((a + tf.transpose(a, list(range(r - 2)) + [r - 1, r - 2])) / 2.0)


SPARSE_IDX = [[0, 0], [1, 2], [2, 1]]


def sparse_dense_matmul(tf, values, dense, adjoint_a=False):
    sp = tf.SparseTensor(SPARSE_IDX, values, [3, 3])
    return tf.sparse_tensor_dense_matmul(sp, dense, adjoint_a=adjoint_a)


def sparse_add_dense(tf, values, dense):
    return tf.sparse_add(tf.SparseTensor(SPARSE_IDX, values, [3, 3]), dense)


def sparse_add_sparse(tf, a, b):
    sa = tf.SparseTensor(SPARSE_IDX, a, [3, 3])
    sb = tf.SparseTensor([[0, 0], [0, 1], [2, 2]], b, [3, 3])
    return tf.sparse_add(sa, sb)


def sparse_reduce_sum(tf, values, axis=None, keepdims=False):
    return tf.sparse_reduce_sum(
        tf.SparseTensor(SPARSE_IDX, values, [3, 3]), axis=axis, keepdims=keepdims
    )


def sparse_to_dense(tf, values, default=0.0):
    return tf.sparse_to_dense(SPARSE_IDX, [3, 4], values, default)


def sparse_tensor_to_dense(tf, values):
    return tf.sparse_tensor_to_dense(tf.SparseTensor(SPARSE_IDX, values, [3, 3]))


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


SQUARE = [(2, 2), (3, 3), (1, 1), (2, 3, 3), (0, 2, 2)]

CASES = [
    Case("matrix_inverse", (Arg(well_conditioned),), [Variant((s,)) for s in SQUARE], tol=10),
    Case("matrix_inverse", (Arg(real),), [Variant(((2, 3),))], label="not-square"),
    Case("matrix_determinant", (Arg(well_conditioned),), [Variant((s,)) for s in SQUARE], tol=10),
    Case(
        "matrix_solve",
        (Arg(well_conditioned), Arg(real)),
        _v(
            (((3, 3), (3, 2)), {}),
            (((2, 2), (2, 1)), {"adjoint": True}),
            (((2, 3, 3), (2, 3, 1)), {}),
        ),
        tol=10,
    ),
    Case(symmetrized_cholesky, (Arg(spd),), [Variant((s,)) for s in SQUARE[:4]], tol=10),
    Case("cholesky", (Arg(spd),), [Variant((s,)) for s in SQUARE[:4]], order=0, label="forward"),
    Case(
        "matrix_band_part",
        (Arg(real),),
        _v(
            (((3, 4),), {"num_lower": 1, "num_upper": 0}),
            (((3, 3),), {"num_lower": -1, "num_upper": 1}),
            (((2, 3, 3),), {"num_lower": 0, "num_upper": 0}),
        ),
    ),
    Case("linalg.diag_part", (Arg(real),), [Variant(((3, 3),)), Variant(((2, 3, 3),))]),
    Case("linalg.trace", (Arg(real),), [Variant(((3, 3),)), Variant(((2, 3, 3),))]),
    Case(
        "eye",
        (),
        _v(((), {"num_rows": 3}), ((), {"num_rows": 2, "num_columns": 3}), ((), {"num_rows": 0})),
        ("float32",),
        0,
    ),
    Case(
        sparse_dense_matmul,
        (Arg(real), Arg(real)),
        _v((((3,), (3, 2)), {}), (((3,), (3, 1)), {"adjoint_a": True})),
    ),
    Case(sparse_add_dense, (Arg(real), Arg(real)), _v((((3,), (3, 3)), {}))),
    Case(sparse_add_sparse, (Arg(real), Arg(real)), _v((((3,), (3,)), {}))),
    Case(
        sparse_reduce_sum,
        (Arg(real),),
        _v((((3,),), {}), (((3,),), {"axis": 1}), (((3,),), {"axis": 0, "keepdims": True})),
    ),
    Case(sparse_to_dense, (Arg(real),), _v((((3,),), {}), (((3,),), {"default": 1.5}))),
    Case(sparse_tensor_to_dense, (Arg(real),), _v((((3,),), {}))),
    Case(
        "segment_sum",
        (Arg(real), Arg(integers(0, 1), "int32", diff=False)),
        _v((((3, 2), (3,)), {})),
    ),
]
