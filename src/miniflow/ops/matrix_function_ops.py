"""Matrix functions: `tf.linalg.expm` (scaling and squaring with a degree-13 Pade
approximant, Higham 2005) and `tf.linalg.sqrtm` (Denman-Beavers iteration), each with a
gradient written in miniflow ops; and the tridiagonal helpers, composed from dense ops."""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.decomposition_ops import eigh, eigvalsh
from miniflow.ops.einsum_ops import einsum
from miniflow.ops.linalg_ops import _square_infer, _transpose_last, matrix_diag, matrix_solve
from miniflow.ops.shape_rules import dims

_PADE13 = [
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
]


def _expm_single(a):
    n = a.shape[-1]
    norm = np.max(np.sum(np.abs(a), axis=0)) if n else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / 5.371920351148152)))) if norm > 0 else 0
    a = a / 2.0**squarings
    b, eye = _PADE13, np.eye(n)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (
        a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye
    )
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        r = r @ r
    return r


def _per_matrix(fn):
    def kernel(x):
        x = np.asarray(x)
        flat = x.reshape((-1,) + x.shape[-2:]).astype(np.float64)
        with np.errstate(all="ignore"):
            out = np.array([fn(m) for m in flat]).reshape(x.shape)
        return out.astype(x.dtype)

    return kernel


register_op("MatrixExponential", infer=_square_infer)(_per_matrix(_expm_single))


@register_gradient("MatrixExponential")
def _expm_grad(op, grad):
    """The adjoint of d expm at A is the upper-right block of expm([[A^T, G], [0, A^T]])."""
    a = op.inputs[0]
    n = (dims(a) or (None,))[-1]
    if n is None:
        raise NotImplementedError("The expm gradient needs a static matrix size")
    at = _transpose_last(a)
    top = _arr.concat([at, grad], -1)
    bottom = _arr.concat([_arr.zeros_like(at), at], -1)
    big = apply_op("MatrixExponential", _arr.concat([top, bottom], -2))
    return [big[..., :n, n:]]


def _sqrtm_single(a):
    y, z = a.copy(), np.eye(a.shape[-1])
    for _ in range(100):
        y_next = 0.5 * (y + np.linalg.inv(z))
        z = 0.5 * (z + np.linalg.inv(y))
        done = np.max(np.abs(y_next - y)) <= 1e-15 * max(np.max(np.abs(y_next)), 1e-300)
        y = y_next
        if done:
            break
    return y


def _sqrtm_kernel(x):
    try:
        return _per_matrix(_sqrtm_single)(x)
    except np.linalg.LinAlgError as e:
        raise errors.InvalidArgumentError(None, None, f"sqrtm: {e}") from None


register_op("MatrixSquareRoot", infer=_square_infer)(_sqrtm_kernel)


def _kron(a, b):
    """Kronecker products of batched square matrices of static size n: [..., n*n, n*n]."""
    n = dims(a)[-1]
    k = einsum("...ij,...kl->...ikjl", a, b)
    batch = [(-1 if d is None else d) for d in dims(a)[:-2]]
    return _arr.reshape(k, batch + [n * n, n * n])


@register_gradient("MatrixSquareRoot")
def _sqrtm_grad(op, grad):
    """G-bar solves S^T X + X S^T = G: vec(X) = (S^T (x) I + I (x) S)^-1 vec(G)."""
    s = op.outputs[0]
    d = dims(s)
    if d is None or None in d:
        raise NotImplementedError("The sqrtm gradient needs static shapes")
    n = d[-1]
    eye = _arr.constant(np.eye(n), dtype=s.dtype)
    eye = eye * _arr.ones_like(s)
    system = _kron(_transpose_last(s), eye) + _kron(eye, s)
    vec = _arr.reshape(grad, list(d[:-2]) + [n * n, 1])
    return [_arr.reshape(matrix_solve(system, vec), list(d))]


def _logm_single(a):
    w, v = np.linalg.eig(a)
    return (v * np.log(w.astype(np.complex128))) @ np.linalg.inv(v)


def _logm_infer(inputs, attrs):
    if not inputs[0].dtype.is_complex:
        raise TypeError(
            f"logm takes complex64 or complex128 matrices (as TF), got "
            f"{inputs[0].dtype.name}; cast with tf.cast(x, tf.complex128)"
        )
    return _square_infer(inputs, attrs)


@register_op("MatrixLogarithm", infer=_logm_infer)
def _logm(x):
    x = np.asarray(x)
    flat = x.reshape((-1,) + x.shape[-2:])
    try:
        out = np.array([_logm_single(m) for m in flat]).reshape(x.shape)
    except np.linalg.LinAlgError as e:
        raise errors.InvalidArgumentError(None, None, f"logm: {e}") from None
    return out.astype(x.dtype)


not_differentiable("MatrixLogarithm")  # TF has no gradient either


def logm(input, name=None):  # noqa: A002
    """The principal matrix logarithm of complex square matrices (by eigendecomposition:
    accurate for diagonalizable, well-conditioned matrices)."""
    return apply_op("MatrixLogarithm", input, name=name)


def expm(input, name=None):  # noqa: A002
    """The matrix exponential of each square matrix."""
    return apply_op("MatrixExponential", input, name=name)


def sqrtm(input, name=None):  # noqa: A002
    """The principal square root of each square matrix (no eigenvalues on the closed
    negative real axis)."""
    return apply_op("MatrixSquareRoot", input, name=name)


# -- tridiagonal matrices ------------------------------------------------------------------


def _shift(n, dtype):
    """J with J[i, i + 1] = 1."""
    return _arr.constant(np.eye(n, k=1), dtype=dtype)


def _dense_tridiagonal(diagonals, diagonals_format):
    if diagonals_format == "matrix":
        return _arr.convert_to_tensor(diagonals)
    if diagonals_format == "sequence":
        superdiag, diag, subdiag = (_arr.convert_to_tensor(t) for t in diagonals)
    elif diagonals_format == "compact":
        d = _arr.convert_to_tensor(diagonals)
        superdiag, diag, subdiag = d[..., 0, :], d[..., 1, :], d[..., 2, :]
    else:
        raise ValueError(f"Unrecognized diagonals_format: {diagonals_format!r}")
    n = (dims(diag) or (None,))[-1]
    if n is None:
        raise ValueError("tridiagonal ops need a static matrix size")
    j = _shift(n, diag.dtype)
    return (
        _math.matmul(matrix_diag(superdiag), j * _arr.ones_like(matrix_diag(diag)))
        + matrix_diag(diag)
        + _math.matmul(matrix_diag(subdiag), _transpose_last(j) * _arr.ones_like(matrix_diag(diag)))
    )


def tridiagonal_matmul(diagonals, rhs, diagonals_format="compact", name=None):
    """A @ rhs for tridiagonal A ('compact' [..., 3, M]: super, main, sub diagonals)."""
    return _math.matmul(_dense_tridiagonal(diagonals, diagonals_format), rhs, name=name)


def tridiagonal_solve(
    diagonals,
    rhs,
    diagonals_format="compact",
    transpose_rhs=False,
    conjugate_rhs=False,
    name=None,
    partial_pivoting=True,
    perturb_singular=False,
):
    """X with A X = rhs for tridiagonal A (solved densely, with pivoting)."""
    a = _dense_tridiagonal(diagonals, diagonals_format)
    rhs = _arr.convert_to_tensor(rhs)
    vector = len(dims(rhs)) == len(dims(a)) - 1
    if transpose_rhs:
        rhs = _transpose_last(rhs)
    if vector:
        rhs = _arr.expand_dims(rhs, -1)
    x = matrix_solve(a, rhs)
    if vector:
        x = _arr.squeeze(x, [-1])
    elif transpose_rhs:
        x = _transpose_last(x)
    return _arr.identity(x, name=name or "tridiagonal_solve")


def eigh_tridiagonal(
    alpha, beta, eigvals_only=True, select="a", select_range=None, tol=None, name=None
):
    """Eigenvalues (and vectors) of the symmetric tridiagonal matrix with diagonal
    ``alpha`` and off-diagonal ``beta``; ``select`` 'a' (all) or 'i' (an index range)."""
    alpha = _arr.convert_to_tensor(alpha)
    beta = _arr.convert_to_tensor(beta, dtype=alpha.dtype)
    n = dims(alpha)[-1]
    off = _arr.pad(beta, [[0, 1]])
    a = _dense_tridiagonal([off, alpha, _arr.pad(beta, [[1, 0]])], "sequence")
    if select not in ("a", "i"):
        raise NotImplementedError(f"eigh_tridiagonal supports select='a' or 'i', got {select!r}")
    lo, hi = (0, n - 1) if select == "a" else (int(select_range[0]), int(select_range[1]))
    if eigvals_only:
        return _arr.identity(eigvalsh(a)[lo : hi + 1], name=name or "eigh_tridiagonal")
    e, v = eigh(a)
    return e[lo : hi + 1], v[:, lo : hi + 1]
