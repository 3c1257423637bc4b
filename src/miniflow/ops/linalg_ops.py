"""Linear algebra (`tf.linalg`): inverse, determinant, solve, Cholesky and band parts,
each with its gradient written in miniflow ops (so it is itself differentiable)."""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math, shape_rules as rules
from miniflow.ops.shape_rules import dims


def _square_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None and (len(d) < 2 or None not in d[-2:] and d[-1] != d[-2]):
        raise ValueError(f"Input matrix must be square, got shape {inputs[0].shape}")
    return [(d, inputs[0].dtype)]


def _invertible(fn, what):
    def kernel(*args, **kw):
        try:
            return fn(*args, **kw)
        except np.linalg.LinAlgError as e:
            raise errors.InvalidArgumentError(None, None, f"{what}: {e}") from None

    return kernel


register_op("MatrixInverse", infer=_square_infer)(
    _invertible(lambda x: np.linalg.inv(x), "Input is not invertible.")
)


@register_gradient("MatrixInverse")
def _inverse_grad(op, grad):
    """d inv(A) = -inv(A)^T g inv(A)^T."""
    y = op.outputs[0]
    return [
        _math.negative(_math.matmul(y, _math.matmul(grad, y, transpose_b=True), transpose_a=True))
    ]


register_op(
    "MatrixDeterminant",
    infer=lambda i, a: [(None if dims(i[0]) is None else dims(i[0])[:-2], i[0].dtype)],
)(lambda x: np.asarray(np.linalg.det(x), dtype=x.dtype))


@register_gradient("MatrixDeterminant")
def _determinant_grad(op, grad):
    """d det(A) = det(A) * inv(A)^T."""
    a, d = op.inputs[0], op.outputs[0]
    scale = _arr.expand_dims(_arr.expand_dims(grad * d, -1), -1)
    return [scale * _transpose_last(matrix_inverse(a))]


def _swap_last(t):
    n = len(dims(t))
    return list(range(n - 2)) + [n - 1, n - 2]


def _transpose_last(t, name=None):
    """Swaps the last two dimensions (through einsum when the rank is unknown)."""
    from miniflow.ops.einsum_ops import einsum  # noqa: PLC0415  (einsum imports no linalg)

    if dims(t) is None:
        return einsum("...ij->...ji", t, name=name)
    return _arr.transpose(t, _swap_last(t), name=name)


register_op("MatrixSolve", infer=lambda i, a: [(dims(i[1]), i[1].dtype)])(
    _invertible(
        lambda a, b, adjoint=False: np.linalg.solve(np.swapaxes(a, -1, -2) if adjoint else a, b),
        "Input matrix is not invertible.",
    )
)


@register_gradient("MatrixSolve")
def _solve_grad(op, grad):
    """X = A^-1 B: dB = A^-T g, dA = -dB X^T (adjoint swaps the roles)."""
    a, _ = op.inputs
    x = op.outputs[0]
    adjoint = op.attrs["adjoint"]
    gb = apply_op("MatrixSolve", a, grad, adjoint=not adjoint)
    if adjoint:
        ga = _math.negative(_math.matmul(x, gb, transpose_b=True))
    else:
        ga = _math.negative(_math.matmul(gb, x, transpose_b=True))
    return [ga, gb]


register_op("Cholesky", infer=_square_infer)(
    _invertible(
        lambda x: np.linalg.cholesky(x),
        "Cholesky decomposition was not successful. The input might not be valid.",
    )
)


@register_gradient("Cholesky")
def _cholesky_grad(op, grad):
    """Murray (2016): dA = sym(L^-T Phi(L^T g) L^-1), Phi = lower triangle, half diagonal."""
    l_mat = op.outputs[0]
    l_inv = matrix_inverse(l_mat)
    middle = _math.matmul(l_mat, grad, transpose_a=True)
    middle = band_part(middle, -1, 0) - 0.5 * band_part(middle, 0, 0)
    ga = _math.matmul(_math.matmul(l_inv, middle, transpose_a=True), l_inv)
    return [0.5 * (ga + _transpose_last(ga))]


@register_op("MatrixBandPart", infer=rules.same_as_first)
def _band_part(x, num_lower=-1, num_upper=-1):
    n, m = x.shape[-2:]
    i, j = np.arange(n)[:, None], np.arange(m)[None, :]
    keep = ((num_lower < 0) | (i - j <= num_lower)) & ((num_upper < 0) | (j - i <= num_upper))
    return np.where(keep, x, 0).astype(x.dtype, copy=False)


@register_gradient("MatrixBandPart")
def _band_part_grad(op, grad):
    return [band_part(grad, op.attrs["num_lower"], op.attrs["num_upper"])]


def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002
    """The inverse of each square matrix in ``input`` (InvalidArgumentError if singular)."""
    x = _arr.convert_to_tensor(input)
    if adjoint:
        x = _transpose_last(x)
    return apply_op("MatrixInverse", x, name=name)


def matrix_determinant(input, name=None):  # noqa: A002
    """The determinant of each square matrix in ``input``."""
    return apply_op("MatrixDeterminant", input, name=name)


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    """X with matrix @ X = rhs (matrix^T @ X = rhs if ``adjoint``)."""
    return apply_op("MatrixSolve", matrix, rhs, adjoint=bool(adjoint), name=name)


def cholesky(input, name=None):  # noqa: A002
    """Lower-triangular L with L @ L^T = input (input must be symmetric positive definite)."""
    return apply_op("Cholesky", input, name=name)


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Keeps the band of ``num_lower`` sub- and ``num_upper`` super-diagonals (-1: all)."""
    return apply_op(
        "MatrixBandPart", input, num_lower=int(num_lower), num_upper=int(num_upper), name=name
    )


def diag_part(input, name=None):  # noqa: A002
    """The main diagonal of each matrix."""
    return _math.reduce_sum(band_part(input, 0, 0), axis=-1, name=name)


def trace(x, name=None):
    """The sum of the main diagonal of each matrix."""
    return _math.reduce_sum(diag_part(x), axis=-1, name=name)


def eye(num_rows, num_columns=None, batch_shape=None, dtype="float32", name=None):
    """An identity matrix (optionally batched)."""
    m = np.eye(num_rows, num_columns)
    if batch_shape is not None:
        m = np.broadcast_to(m, tuple(batch_shape) + m.shape)
    return _arr.constant(m, dtype=dtype, name=name or "eye")


def logdet(matrix, name=None):
    """log(det(matrix)) of a Hermitian positive definite matrix, via Cholesky."""
    chol = cholesky(matrix)
    return _math.multiply(2.0, _math.reduce_sum(_math.log(diag_part(chol)), axis=-1), name=name)


matrix_band_part = band_part


def _eye_like(m):
    """Identity matrices shaped like the square matrices ``m``."""
    return band_part(_arr.ones_like(m), 0, 0)


# ---------------------------------------------------------------------------------------
# Compositions.


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swaps the last two dimensions."""
    return _transpose_last(_arr.convert_to_tensor(a), name=name)


def adjoint(matrix, name=None):
    """The conjugate transpose of the last two dimensions (real: the transpose)."""
    return matrix_transpose(matrix, name=name or "adjoint")


def matvec(
    a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False, name=None
):
    """a @ b for matrices a and vectors b (batched)."""
    b = _arr.expand_dims(_arr.convert_to_tensor(b), -1)
    out = _math.matmul(a, b, transpose_a=transpose_a or adjoint_a)
    return _arr.squeeze(out, axis=[-1], name=name)


def cross(a, b, name=None):
    """The cross product of 3-vectors along the last axis."""
    a, b = _arr.convert_to_tensor(a), _arr.convert_to_tensor(b)
    a0, a1, a2 = _arr.unstack(a, num=3, axis=-1)
    b0, b1, b2 = _arr.unstack(b, num=3, axis=-1)
    return _arr.stack(
        [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1, name=name or "cross"
    )


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """X with A X = rhs for triangular A (only its ``lower`` or upper triangle is read)."""
    tri = band_part(matrix, -1, 0) if lower else band_part(matrix, 0, -1)
    return matrix_solve(tri, rhs, adjoint=adjoint, name=name)


def cholesky_solve(chol, rhs, name=None):
    """X with (L L^T) X = rhs, given the Cholesky factor L."""
    y = triangular_solve(chol, rhs, lower=True)
    return triangular_solve(chol, y, lower=True, adjoint=True, name=name)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solution of A X = rhs by the (regularized) normal equations, as TF's
    fast path."""
    a = _arr.convert_to_tensor(matrix)
    d = dims(a)
    if d is not None and None not in d[-2:] and d[-2] < d[-1]:
        gram = _math.matmul(a, a, transpose_b=True)
        gram = gram + l2_regularizer * _eye_like(gram)
        return _math.matmul(a, cholesky_solve(cholesky(gram), rhs), transpose_a=True, name=name)
    gram = _math.matmul(a, a, transpose_a=True)
    gram = gram + l2_regularizer * _eye_like(gram)
    return cholesky_solve(cholesky(gram), _math.matmul(a, rhs, transpose_a=True), name=name)


def matrix_diag(diagonal, name="diag"):
    """Square matrices with ``diagonal`` (last axis) on their main diagonal."""
    d = _arr.convert_to_tensor(diagonal)
    square = _arr.expand_dims(d, -1) * _arr.expand_dims(_arr.ones_like(d), -2)
    return band_part(square, 0, 0, name=name)


def matrix_set_diag(input, diagonal, name="set_diag"):  # noqa: A002
    """``input`` with its main diagonal replaced by ``diagonal``."""
    x = _arr.convert_to_tensor(input)
    diagonal = _arr.convert_to_tensor(diagonal, dtype=x.dtype)
    return _math.add(x - band_part(x, 0, 0), matrix_diag(diagonal) * _arr.ones_like(x), name=name)
