"""Matrix decompositions with their gradients (TF's rules, written in miniflow ops):
`tf.linalg.eigh`, `slogdet`, `qr`, `svd`, `lu`; and what is composed from them: `pinv`,
`matrix_rank`, `lu_solve`, `lu_matrix_inverse`, `lu_reconstruct`."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.gather_scatter_ops import batch_gather
from miniflow.ops.index_ops import invert_permutation
from miniflow.ops.linalg_ops import (
    _eye_like,
    _square_infer,
    _transpose_last,
    band_part,
    matrix_diag,
    matrix_inverse,
    matrix_set_diag,
    triangular_solve,
)
from miniflow.ops.shape_rules import dims
from miniflow.ops.sort_ops import argsort


def _matrix_dims(t, what):
    d = dims(t)
    if d is not None and len(d) < 2:
        raise ValueError(f"{what} needs a matrix (rank >= 2), got shape {t.shape}")
    return d


def _mm(a, b, **kw):
    return _math.matmul(a, b, **kw)


# -- symmetric eigen-decomposition and the log-determinant with its sign ------------------


def _eigh_infer(inputs, attrs):
    d = _square_infer(inputs, attrs)[0][0]
    vals = None if d is None else d[:-1]
    return [(vals, inputs[0].dtype), (d if attrs["compute_v"] else (0,), inputs[0].dtype)]


@register_op("SelfAdjointEigV2", num_outputs=2, infer=_eigh_infer)
def _eigh(x, compute_v=True):
    w, v = np.linalg.eigh(x)  # the lower triangle, as TF
    return w.astype(x.dtype), (v.astype(x.dtype) if compute_v else np.zeros([0], x.dtype))


@register_gradient("SelfAdjointEigV2")
def _eigh_grad(op, grad_e, grad_v):
    """TF's rule: V (diag(g_e) + F o (V^T g_V)) V^T, F_ij = 1/(e_j - e_i) off the diagonal,
    folded onto the lower triangle that the kernel reads."""
    e, v = op.outputs
    if not op.attrs["compute_v"]:  # eigvalsh: TF recomputes the vectors (differentiably)
        v = apply_op("SelfAdjointEigV2", op.inputs[0], compute_v=True)[1]
        grad_v = None
    vt = _transpose_last(v)
    inner = _arr.expand_dims(grad_e, -2) * _eye_like(v)
    if grad_v is not None:
        diff = _arr.expand_dims(e, -2) - _arr.expand_dims(e, -1)
        eye = _eye_like(v)
        f = _math.where(
            _math.equal(eye, _arr.ones_like(eye)),
            _arr.zeros_like(diff),
            _math.reciprocal(
                _math.where(_math.equal(eye, _arr.ones_like(eye)), _arr.ones_like(diff), diff)
            ),
        )
        inner = inner + f * _math.matmul(v, grad_v, transpose_a=True)
    ga = _math.matmul(v, _math.matmul(inner, vt))
    # The kernel reads the lower triangle only: its derivative, as TF's (halved diagonal).
    sym = ga + _transpose_last(ga)
    return [band_part(sym, -1, 0) - 0.5 * sym * _eye_like(v)]


@register_op(
    "LogMatrixDeterminant",
    num_outputs=2,
    infer=lambda i, a: [(None if dims(i[0]) is None else dims(i[0])[:-2], i[0].dtype)] * 2,
)
def _slogdet(x):
    sign, logdet = np.linalg.slogdet(x)
    return np.asarray(sign, x.dtype), np.asarray(logdet, x.dtype)


@register_gradient("LogMatrixDeterminant")
def _slogdet_grad(op, _grad_sign, grad_logdet):
    """d log|det A| = inv(A)^T."""
    a = op.inputs[0]
    scale = _arr.expand_dims(_arr.expand_dims(grad_logdet, -1), -1)
    return [scale * _transpose_last(matrix_inverse(a))]


def eigh(tensor, name=None):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric matrices."""
    return apply_op("SelfAdjointEigV2", tensor, compute_v=True, name=name)


def eigvalsh(tensor, name=None):
    """The eigenvalues (ascending) of symmetric matrices."""
    return apply_op("SelfAdjointEigV2", tensor, compute_v=False, name=name)[0]


def self_adjoint_eig(tensor, name=None):
    """TF1's name for `eigh`."""
    return eigh(tensor, name=name)


def self_adjoint_eigvals(tensor, name=None):
    """TF1's name for `eigvalsh`."""
    return eigvalsh(tensor, name=name)


LogMatrixDeterminant = namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])
Qr = namedtuple("Qr", ["q", "r"])
Lu = namedtuple("Lu", ["lu", "p"])


def slogdet(input, name=None):  # noqa: A002
    """(sign, log|det|) of each square matrix."""
    return LogMatrixDeterminant(*apply_op("LogMatrixDeterminant", input, name=name))


# -- QR ------------------------------------------------------------------------------------


def _qr_infer(inputs, attrs):
    d = _matrix_dims(inputs[0], "qr")
    if d is None:
        return [(None, inputs[0].dtype)] * 2
    m, n = d[-2:]
    k = None if m is None or n is None else (m if attrs["full_matrices"] else min(m, n))
    return [(d[:-2] + (m, k), inputs[0].dtype), (d[:-2] + (k, n), inputs[0].dtype)]


@register_op("Qr", num_outputs=2, infer=_qr_infer)
def _qr(x, full_matrices=False):
    q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q.astype(x.dtype), r.astype(x.dtype)


def _solve_right_upper(x, r):
    """x R^-T for upper-triangular R (TF's _TriangularSolve)."""
    return _transpose_last(triangular_solve(r, _transpose_last(x), lower=False))


def _qr_grad_deep(q, r, dq, dr):
    """TF's rule for m >= n (reduced) or square matrices."""
    qdq = _mm(q, dq, transpose_a=True)
    qdq_ = qdq - _transpose_last(qdq)
    rdr = _mm(r, dr, transpose_b=True)
    rdr_ = rdr - _transpose_last(rdr)
    tril = band_part(qdq_ + rdr_, -1, 0)
    grad_a = _mm(q, dr + _solve_right_upper(tril, r))
    grad_b = _solve_right_upper(dq - _mm(q, qdq), r)
    return grad_a + grad_b


@register_gradient("Qr")
def _qr_grad(op, dq, dr):
    a = op.inputs[0]
    q, r = op.outputs
    d = dims(a)
    if d is None or None in d[-2:]:
        raise NotImplementedError("The QR gradient needs static matrix dimensions")
    m, n = d[-2:]
    if op.attrs["full_matrices"] and m > n:
        raise NotImplementedError(
            "The QR gradient is not defined for full_matrices=True "
            "with more rows than columns (as TF)"
        )
    dq = _arr.zeros_like(q) if dq is None else dq
    dr = _arr.zeros_like(r) if dr is None else dr
    if m >= n:
        return [_qr_grad_deep(q, r, dq, dr)]
    y, u, dv = a[..., :, m:], r[..., :, :m], dr[..., :, m:]
    dq = dq + _mm(y, dv, transpose_b=True)
    dx = _qr_grad_deep(q, u, dq, dr[..., :, :m])
    dy = _mm(q, dv)
    return [_arr.concat([dx, dy], -1)]


def qr(input, full_matrices=False, name=None):  # noqa: A002
    """(Q, R) with input = Q R, Q orthonormal columns, R upper triangular."""
    return Qr(*apply_op("Qr", input, full_matrices=bool(full_matrices), name=name))


# -- SVD -----------------------------------------------------------------------------------


def _svd_infer(inputs, attrs):
    d = _matrix_dims(inputs[0], "svd")
    t = inputs[0].dtype
    if d is None:
        return [(None, t)] * 3
    m, n = d[-2:]
    k = None if m is None or n is None else min(m, n)
    full = attrs["full_matrices"]
    return [
        (d[:-2] + (k,), t),
        (d[:-2] + (m, m if full else k), t),
        (d[:-2] + (n, n if full else k), t),
    ]


@register_op("Svd", num_outputs=3, infer=_svd_infer)
def _svd(x, full_matrices=False, compute_uv=True):
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    return s.astype(x.dtype), u.astype(x.dtype), np.swapaxes(vh, -1, -2).astype(x.dtype)


@register_gradient("Svd")
def _svd_grad(op, grad_s, grad_u, grad_v):
    """TF's rule (Townsend 2016); infinite where singular values repeat."""
    a = op.inputs[0]
    s, u, v = op.outputs
    d = dims(a)
    if d is None or None in d[-2:]:
        raise NotImplementedError("The SVD gradient needs static matrix dimensions")
    m, n = d[-2:]
    grad_s = _arr.zeros_like(s) if grad_s is None else grad_s
    grad_s_mat = matrix_diag(grad_s)
    if not op.attrs["compute_uv"]:
        return [_mm(u, _mm(grad_s_mat, v, transpose_b=True))]
    if op.attrs["full_matrices"] and m != n:
        raise NotImplementedError(
            "The SVD gradient of non-square matrices needs full_matrices=False"
        )
    grad_u = _arr.zeros_like(u) if grad_u is None else grad_u
    grad_v = _arr.zeros_like(v) if grad_v is None else grad_v
    use_adjoint = m > n
    if use_adjoint:
        m, n = n, m
        u, v, grad_u, grad_v = v, u, grad_v, grad_u
    s_mat = matrix_diag(s)
    s_2 = _math.square(s)
    diff = _arr.expand_dims(s_2, -2) - _arr.expand_dims(s_2, -1)
    eye = band_part(_arr.ones_like(diff), 0, 0)
    safe = _math.where(_math.equal(eye, _arr.zeros_like(eye)), diff, _arr.ones_like(diff))
    f = (1.0 - eye) * _math.reciprocal(safe)
    u_gu = _mm(u, grad_u, transpose_a=True)
    v_gv = _mm(v, grad_v, transpose_a=True)
    f_u, f_v = f * u_gu, f * v_gv
    term1_nouv = (
        grad_s_mat + _mm(f_u + _transpose_last(f_u), s_mat) + _mm(s_mat, f_v + _transpose_last(f_v))
    )
    grad = _mm(u, _mm(term1_nouv, v, transpose_b=True))
    if m != n:
        gvt = _transpose_last(grad_v)
        term2_nous = gvt - _mm(_mm(gvt, v), v, transpose_b=True)
        grad = grad + _mm(_mm(u, matrix_diag(_math.reciprocal(s))), term2_nous)
    return [_transpose_last(grad) if use_adjoint else grad]


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """(s, u, v) with tensor = u diag(s) v^T (s descending); s alone if not compute_uv."""
    s, u, v = apply_op(
        "Svd", tensor, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv), name=name
    )
    return (s, u, v) if compute_uv else s


def pinv(a, rcond=None, validate_args=False, name=None):
    """The Moore-Penrose pseudo-inverse, from the SVD (singular values below
    rcond * max(s) dropped; default rcond = 10 * max(m, n) * eps)."""
    a = _arr.convert_to_tensor(a)
    d = dims(a)
    if rcond is None:
        rcond = 10.0 * max(d[-2:]) * np.finfo(a.dtype.np).eps
    s, u, v = svd(a)
    cutoff = rcond * _math.reduce_max(s, axis=-1, keepdims=True)
    keep = _math.greater(s, cutoff)
    inv_s = _math.where(
        keep, _math.reciprocal(_math.where(keep, s, _arr.ones_like(s))), _arr.zeros_like(s)
    )
    return _mm(v * _arr.expand_dims(inv_s, -2), u, transpose_b=True, name=name)


def matrix_rank(a, tol=None, validate_args=False, name=None):
    """The number of singular values above ``tol`` (default max(s) * max(m, n) * eps)."""
    a = _arr.convert_to_tensor(a)
    s = svd(a, compute_uv=False)
    if tol is None:
        tol = _math.reduce_max(s, axis=-1, keepdims=True) * (
            max(dims(a)[-2:]) * np.finfo(a.dtype.np).eps
        )
    else:
        tol = _arr.expand_dims(_math.cast(tol, a.dtype), -1)
    return _math.reduce_sum(_math.cast(_math.greater(s, tol), dtypes.int32), axis=-1, name=name)


# -- LU ------------------------------------------------------------------------------------


def _lu_single(a):
    """Doolittle LU with partial pivoting of one square matrix: (packed LU, perm)."""
    lu = a.astype(np.float64 if a.dtype != np.float32 else np.float32, copy=True)
    n = lu.shape[0]
    perm = np.arange(n)
    for k in range(n):
        p = k + int(np.argmax(np.abs(lu[k:, k])))
        if lu[p, k] == 0:
            raise errors.InvalidArgumentError(None, None, "Input is not invertible.")
        if p != k:
            lu[[k, p]] = lu[[p, k]]
            perm[[k, p]] = perm[[p, k]]
        lu[k + 1 :, k] /= lu[k, k]
        lu[k + 1 :, k + 1 :] -= np.outer(lu[k + 1 :, k], lu[k, k + 1 :])
    return lu, perm


def _lu_infer(inputs, attrs):
    d = _matrix_dims(inputs[0], "lu")
    if d is not None and None not in d[-2:] and d[-1] != d[-2]:
        raise ValueError(f"lu needs square matrices, got shape {inputs[0].shape}")
    return [(d, inputs[0].dtype), (None if d is None else d[:-1], attrs["output_idx_type"])]


@register_op("Lu", num_outputs=2, infer=_lu_infer)
def _lu(x, output_idx_type=dtypes.int32):
    x = np.asarray(x)
    flat = x.reshape((-1,) + x.shape[-2:])
    lus, perms = zip(*[_lu_single(m) for m in flat]) if len(flat) else ((), ())
    lu = np.array(lus, dtype=x.dtype).reshape(x.shape)
    perm = np.array(perms, dtype=dtypes.as_dtype(output_idx_type).np).reshape(x.shape[:-1])
    return lu, perm


def _unpack_lu(lower_upper):
    """(unit lower-triangular L, upper-triangular U) from a packed LU factor."""
    lower = matrix_set_diag(band_part(lower_upper, -1, 0), _arr.ones_like(lower_upper[..., 0]))
    return lower, band_part(lower_upper, 0, -1)


def _unpermute_rows(x, perm):
    """Rows of x put back in input order: y[perm[i]] = x[i]."""
    d = dims(perm)
    if d is not None and len(d) == 1:
        return _arr.gather(x, invert_permutation(perm), axis=-2)
    return batch_gather(x, _invert_batched(perm))


def _invert_batched(perm):
    return argsort(perm, axis=-1)


@register_gradient("Lu")
def _lu_grad(op, grad_lu, _grad_perm):
    """TF's rule for square matrices: L^-H (tril(L^H dL, -1) + triu(dU U^H)) U^-H, then
    the rows un-permuted."""
    lower_upper, perm = op.outputs
    lower, upper = _unpack_lu(lower_upper)
    grad_l = band_part(grad_lu, -1, 0) - band_part(grad_lu, 0, 0)
    grad_u = band_part(grad_lu, 0, -1)
    l_grad_l = _mm(lower, grad_l, transpose_a=True)
    middle = (
        band_part(l_grad_l, -1, 0)
        - band_part(l_grad_l, 0, 0)
        + band_part(_mm(grad_u, upper, transpose_b=True), 0, -1)
    )
    left = triangular_solve(lower, middle, lower=True, adjoint=True)
    grad_perm_a = _solve_right_upper_adjoint(left, upper)
    return [_unpermute_rows(grad_perm_a, perm)]


def _solve_right_upper_adjoint(x, upper):
    """x U^-H for upper-triangular U."""
    return _transpose_last(triangular_solve(upper, _transpose_last(x), lower=False))


def lu(input, output_idx_type=dtypes.int32, name=None):  # noqa: A002
    """(lower_upper, perm): input[perm] = L U, L unit lower (below the diagonal of
    lower_upper), U upper triangular (partial pivoting)."""
    return Lu(*apply_op("Lu", input, output_idx_type=dtypes.as_dtype(output_idx_type), name=name))


def _permute_rows(x, perm):
    d = dims(perm)
    if d is not None and len(d) == 1:
        return _arr.gather(x, perm, axis=-2)
    return batch_gather(x, perm)


def lu_solve(lower_upper, perm, rhs, validate_args=False, name=None):
    """X with A X = rhs, from `lu`'s factors of A."""
    lower, upper = _unpack_lu(lower_upper)
    y = triangular_solve(lower, _permute_rows(_arr.convert_to_tensor(rhs), perm), lower=True)
    return triangular_solve(upper, y, lower=False, name=name)


def lu_matrix_inverse(lower_upper, perm, validate_args=False, name=None):
    """inv(A) from `lu`'s factors of A."""
    lower_upper = _arr.convert_to_tensor(lower_upper)
    eye = band_part(_arr.ones_like(lower_upper), 0, 0)
    return lu_solve(lower_upper, perm, eye, name=name)


def lu_reconstruct(lower_upper, perm, validate_args=False, name=None):
    """A from `lu`'s factors: the rows of L U put back in input order."""
    lower, upper = _unpack_lu(_arr.convert_to_tensor(lower_upper))
    return _arr.identity(_unpermute_rows(_mm(lower, upper), perm), name=name or "lu_reconstruct")
