"""`tf.linalg.LinearOperator` and its subclasses, in a minimal form: every operator is
defined by its dense matrix (``_dense``); the methods (`matmul`, `solve`,
`log_abs_determinant`, ...) work on that matrix with the usual ops, plus cheaper rules where
the structure makes them obvious (diagonal, identity, triangular). Everything is therefore
differentiable and works in graph and eager mode; the structured speed-ups of TF's
operators are not reproduced."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.shapes import TensorShape
from miniflow.ops import array_ops as _arr, complex_ops, fft_ops, math_ops as _math
from miniflow.ops.decomposition_ops import eigvalsh, slogdet, svd
from miniflow.ops.einsum_ops import einsum
from miniflow.ops.linalg_ops import (
    _transpose_last,
    band_part,
    cholesky as _cholesky,
    diag_part,
    matrix_diag,
    matrix_inverse,
    matrix_solve,
    triangular_solve,
)
from miniflow.ops.matrix_function_ops import _dense_tridiagonal
from miniflow.ops.shape_rules import dims


class LinearOperator:
    """A linear map given by a (batched) matrix; subclasses define ``_dense()``."""

    def __init__(
        self,
        dtype=None,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name=None,
        parameters=None,
    ):
        self._dtype = dtypes.as_dtype(dtype) if dtype is not None else None
        self.is_non_singular = is_non_singular
        self.is_self_adjoint = is_self_adjoint
        self.is_positive_definite = is_positive_definite
        self._is_square = is_square
        self.name = name or type(self).__name__
        self.parameters = parameters or {}

    def _dense(self):
        raise NotImplementedError(f"{type(self).__name__} must define _dense()")

    # -- shape and dtype
    @property
    def dtype(self):
        return self._dtype or self.to_dense().dtype

    @property
    def shape(self):
        return TensorShape(dims(self.to_dense()))

    @property
    def batch_shape(self):
        return TensorShape(self.shape.as_tuple()[:-2])

    @property
    def tensor_rank(self):
        return len(self.shape.as_tuple())

    @property
    def domain_dimension(self):
        return self.shape.as_tuple()[-1]

    @property
    def range_dimension(self):
        return self.shape.as_tuple()[-2]

    @property
    def is_square(self):
        if self._is_square is not None:
            return self._is_square
        m, n = self.shape.as_tuple()[-2:]
        return None if m is None or n is None else m == n

    def shape_tensor(self, name="shape_tensor"):
        return _arr.shape(self.to_dense(), name=name)

    def batch_shape_tensor(self, name="batch_shape_tensor"):
        return _arr.shape(self.to_dense())[:-2]

    def domain_dimension_tensor(self, name="domain_dimension_tensor"):
        return _arr.shape(self.to_dense())[-1]

    def range_dimension_tensor(self, name="range_dimension_tensor"):
        return _arr.shape(self.to_dense())[-2]

    # -- the matrix and what follows from it
    def to_dense(self, name="to_dense"):
        return self._dense()

    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        if isinstance(x, LinearOperator):
            left = LinearOperatorAdjoint(self) if adjoint else self
            right = LinearOperatorAdjoint(x) if adjoint_arg else x
            return LinearOperatorComposition([left, right])
        return _math.matmul(
            self.to_dense(), x, transpose_a=adjoint, transpose_b=adjoint_arg, name=name
        )

    def __matmul__(self, other):
        return self.matmul(other)

    def matvec(self, x, adjoint=False, name="matvec"):
        out = self.matmul(_arr.expand_dims(_arr.convert_to_tensor(x), -1), adjoint=adjoint)
        return _arr.squeeze(out, [-1], name=name)

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        rhs = _transpose_last(_arr.convert_to_tensor(rhs)) if adjoint_arg else rhs
        return matrix_solve(self.to_dense(), rhs, adjoint=adjoint, name=name)

    def solvevec(self, rhs, adjoint=False, name="solve"):
        out = self.solve(_arr.expand_dims(_arr.convert_to_tensor(rhs), -1), adjoint=adjoint)
        return _arr.squeeze(out, [-1], name=name)

    def determinant(self, name="det"):
        sign, log_abs = slogdet(self.to_dense())
        return _math.multiply(sign, _math.exp(log_abs), name=name)

    def log_abs_determinant(self, name="log_abs_det"):
        return _arr.identity(slogdet(self.to_dense())[1], name=name)

    def diag_part(self, name="diag_part"):
        return diag_part(self.to_dense(), name=name)

    def trace(self, name="trace"):
        return _math.reduce_sum(self.diag_part(), axis=-1, name=name)

    def add_to_tensor(self, x, name="add_to_tensor"):
        return _math.add(self.to_dense(), x, name=name)

    def adjoint(self, name="adjoint"):
        return LinearOperatorAdjoint(self)

    H = property(adjoint)

    def inverse(self, name="inverse"):
        return LinearOperatorInversion(self)

    def cholesky(self, name="cholesky"):
        return LinearOperatorLowerTriangular(_cholesky(self.to_dense()))

    def eigvals(self, name="eigvals"):
        return eigvalsh(self.to_dense(), name=name)

    def cond(self, name="cond"):
        s = svd(self.to_dense(), compute_uv=False)
        return _math.truediv(_math.reduce_max(s, -1), _math.reduce_min(s, -1), name=name)

    def assert_non_singular(self, name="assert_non_singular"):
        return None

    def assert_positive_definite(self, name="assert_positive_definite"):
        return None

    def assert_self_adjoint(self, name="assert_self_adjoint"):
        return None

    def __repr__(self):
        return f"<tf.linalg.{type(self).__name__} '{self.name}' shape={self.shape}>"


def _t(x, dtype=None):
    return _arr.convert_to_tensor(x, dtype=dtype)


class LinearOperatorFullMatrix(LinearOperator):
    """The operator of a given (batched) matrix."""

    def __init__(
        self,
        matrix,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorFullMatrix",
    ):
        self._matrix = _t(matrix)
        super().__init__(
            self._matrix.dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name,
        )

    def _dense(self):
        return self._matrix


class LinearOperatorDiag(LinearOperator):
    """diag(d)."""

    def __init__(
        self,
        diag,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=True,
        name="LinearOperatorDiag",
    ):
        self._diag = _t(diag)
        super().__init__(
            self._diag.dtype,
            is_non_singular,
            True if is_self_adjoint is None else is_self_adjoint,
            is_positive_definite,
            True,
            name,
        )

    def _dense(self):
        return matrix_diag(self._diag)

    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        if isinstance(x, LinearOperator):
            return super().matmul(x, adjoint, adjoint_arg, name)
        x = _transpose_last(_t(x)) if adjoint_arg else _t(x)
        return _math.multiply(_arr.expand_dims(self._diag, -1), x, name=name)

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        rhs = _transpose_last(_t(rhs)) if adjoint_arg else _t(rhs)
        return _math.truediv(rhs, _arr.expand_dims(self._diag, -1), name=name)

    def log_abs_determinant(self, name="log_abs_det"):
        return _math.reduce_sum(_math.log(_math.abs(self._diag)), axis=-1, name=name)

    def diag_part(self, name="diag_part"):
        return _arr.identity(self._diag, name=name)


class LinearOperatorScaledIdentity(LinearOperator):
    """multiplier * I (``multiplier`` may carry batch dimensions)."""

    def __init__(
        self,
        num_rows,
        multiplier,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=True,
        name="LinearOperatorScaledIdentity",
    ):
        self._n = int(num_rows)
        self._multiplier = _t(multiplier)
        super().__init__(
            self._multiplier.dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            True,
            name,
        )

    def _dense(self):
        eye = _arr.constant(np.eye(self._n), dtype=self._multiplier.dtype)
        return _arr.expand_dims(_arr.expand_dims(self._multiplier, -1), -1) * eye


class LinearOperatorIdentity(LinearOperatorScaledIdentity):
    """The identity matrix (optionally batched)."""

    def __init__(
        self,
        num_rows,
        batch_shape=None,
        dtype=None,
        is_non_singular=True,
        is_self_adjoint=True,
        is_positive_definite=True,
        is_square=True,
        assert_proper_shapes=False,
        name="LinearOperatorIdentity",
    ):
        ones = np.ones(tuple(batch_shape or ()))
        super().__init__(
            num_rows,
            _t(ones, dtypes.as_dtype(dtype or dtypes.float32)),
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            True,
            name,
        )


class LinearOperatorZeros(LinearOperator):
    """The zero matrix."""

    def __init__(
        self,
        num_rows,
        num_columns=None,
        batch_shape=None,
        dtype=None,
        is_non_singular=False,
        is_self_adjoint=True,
        is_positive_definite=False,
        is_square=True,
        assert_proper_shapes=False,
        name="LinearOperatorZeros",
    ):
        shape = tuple(batch_shape or ()) + (int(num_rows), int(num_columns or num_rows))
        self._shape = shape
        super().__init__(
            dtype or dtypes.float32,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            shape[-1] == shape[-2],
            name,
        )

    def _dense(self):
        return _arr.zeros(self._shape, dtype=self._dtype)


class LinearOperatorLowerTriangular(LinearOperator):
    """The lower triangle of a matrix (the rest is ignored)."""

    def __init__(
        self,
        tril,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=True,
        name="LinearOperatorLowerTriangular",
    ):
        self._tril = band_part(_t(tril), -1, 0)
        super().__init__(
            self._tril.dtype, is_non_singular, is_self_adjoint, is_positive_definite, True, name
        )

    def _dense(self):
        return self._tril

    def solve(self, rhs, adjoint=False, adjoint_arg=False, name="solve"):
        rhs = _transpose_last(_t(rhs)) if adjoint_arg else _t(rhs)
        return triangular_solve(self._tril, rhs, lower=True, adjoint=adjoint, name=name)

    def log_abs_determinant(self, name="log_abs_det"):
        return _math.reduce_sum(_math.log(_math.abs(diag_part(self._tril))), axis=-1, name=name)


class LinearOperatorAdjoint(LinearOperator):
    """The adjoint (transpose) of another operator."""

    def __init__(
        self,
        operator,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name=None,
    ):
        self.operator = operator
        super().__init__(
            operator.dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name or operator.name + "_adjoint",
        )

    def _dense(self):
        return _transpose_last(self.operator.to_dense())


class LinearOperatorInversion(LinearOperator):
    """The inverse of a (non-singular) operator."""

    def __init__(
        self,
        operator,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name=None,
    ):
        self.operator = operator
        super().__init__(
            operator.dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name or operator.name + "_inv",
        )

    def _dense(self):
        return matrix_inverse(self.operator.to_dense())

    def matmul(self, x, adjoint=False, adjoint_arg=False, name="matmul"):
        if isinstance(x, LinearOperator):
            return super().matmul(x, adjoint, adjoint_arg, name)
        return self.operator.solve(x, adjoint=adjoint, adjoint_arg=adjoint_arg, name=name)


class LinearOperatorComposition(LinearOperator):
    """The product operators[0] @ operators[1] @ ..."""

    def __init__(
        self,
        operators,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name=None,
    ):
        self.operators = list(operators)
        if not self.operators:
            raise ValueError("LinearOperatorComposition needs at least one operator")
        super().__init__(
            self.operators[0].dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name or "_o_".join(op.name for op in self.operators),
        )

    def _dense(self):
        out = self.operators[-1].to_dense()
        for op in reversed(self.operators[:-1]):
            out = op.matmul(out)
        return out


def _kron2(a, b):
    da, db = dims(a), dims(b)
    k = einsum("...ij,...kl->...ikjl", a, b)
    batch = [(-1 if d is None else d) for d in da[:-2]]
    return _arr.reshape(k, batch + [da[-2] * db[-2], da[-1] * db[-1]])


class LinearOperatorKronecker(LinearOperator):
    """The Kronecker product of operators (static sizes)."""

    def __init__(
        self,
        operators,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name=None,
    ):
        self.operators = list(operators)
        super().__init__(
            self.operators[0].dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name or "_x_".join(op.name for op in self.operators),
        )

    def _dense(self):
        out = self.operators[0].to_dense()
        for op in self.operators[1:]:
            out = _kron2(out, op.to_dense())
        return out


def _block(rows):
    """A dense matrix from rows of blocks (None: a zero block), static sizes."""
    heights = [next(dims(b)[-2] for b in row if b is not None) for row in rows]
    widths = [
        next(dims(rows[r][c])[-1] for r in range(len(rows)) if rows[r][c] is not None)
        for c in range(len(rows[0]))
    ]
    dtype = next(b.dtype for row in rows for b in row if b is not None)
    out_rows = []
    for h, row in zip(heights, rows):
        blocks = [
            b if b is not None else _arr.zeros([h, w], dtype=dtype) for b, w in zip(row, widths)
        ]
        out_rows.append(_arr.concat(blocks, -1))
    return _arr.concat(out_rows, -2)


class LinearOperatorBlockDiag(LinearOperator):
    """Operators on the diagonal of a block matrix (unbatched, static sizes)."""

    def __init__(
        self,
        operators,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=True,
        name=None,
    ):
        self.operators = list(operators)
        super().__init__(
            self.operators[0].dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name or "_ds_".join(op.name for op in self.operators),
        )

    def _dense(self):
        ops = self.operators
        return _block(
            [
                [op.to_dense() if i == j else None for j, op in enumerate(ops)]
                for i in range(len(ops))
            ]
        )


class LinearOperatorBlockLowerTriangular(LinearOperator):
    """A block lower-triangular matrix: row i holds i + 1 operators."""

    def __init__(
        self,
        operators,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorBlockLowerTriangular",
    ):
        self.operators = [list(row) for row in operators]
        super().__init__(
            self.operators[0][0].dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name,
        )

    def _dense(self):
        n = len(self.operators)
        return _block(
            [
                [row[j].to_dense() if j < len(row) else None for j in range(n)]
                for row in self.operators
            ]
        )


class LinearOperatorPermutation(LinearOperator):
    """P with P[i, perm[i]] = 1."""

    def __init__(
        self,
        perm,
        dtype=dtypes.float32,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorPermutation",
    ):
        self._perm = _t(perm)
        super().__init__(dtype, is_non_singular, is_self_adjoint, is_positive_definite, True, name)

    def _dense(self):
        n = dims(self._perm)[-1]
        eye = _arr.constant(np.eye(n), dtype=self._dtype)
        return _arr.gather(eye, self._perm)


class LinearOperatorToeplitz(LinearOperator):
    """T[i, j] = col[i - j] below and on the diagonal, row[j - i] above."""

    def __init__(
        self,
        col,
        row,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorToeplitz",
    ):
        self._col, self._row = _t(col), _t(row)
        super().__init__(
            self._col.dtype, is_non_singular, is_self_adjoint, is_positive_definite, True, name
        )

    def _dense(self):
        n = dims(self._col)[-1]
        values = _arr.concat([self._row[..., 1:][..., ::-1], self._col], -1) if n > 1 else self._col
        i, j = np.arange(n)[:, None], np.arange(n)[None, :]
        index = (i - j + n - 1).astype(np.int32)  # position in [reversed row[1:], col]
        return _arr.gather(values, index, axis=-1)


class LinearOperatorHouseholder(LinearOperator):
    """I - 2 v v^T / (v^T v): the reflection through the plane orthogonal to v."""

    def __init__(
        self,
        reflection_axis,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorHouseholder",
    ):
        self._v = _t(reflection_axis)
        super().__init__(self._v.dtype, is_non_singular, True, is_positive_definite, True, name)

    def _dense(self):
        v = self._v
        n = dims(v)[-1]
        outer = _arr.expand_dims(v, -1) * _arr.expand_dims(v, -2)
        norm = _arr.expand_dims(_arr.expand_dims(_math.reduce_sum(v * v, -1), -1), -1)
        return _arr.constant(np.eye(n), dtype=v.dtype) - 2.0 * outer / norm


class LinearOperatorLowRankUpdate(LinearOperator):
    """base + U diag(d) V^T (V = U and d = 1 by default)."""

    def __init__(
        self,
        base_operator,
        u,
        diag_update=None,
        v=None,
        is_diag_update_positive=None,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorLowRankUpdate",
    ):
        self.base_operator = base_operator
        self._u = _t(u)
        self._v = self._u if v is None else _t(v)
        self._d = None if diag_update is None else _t(diag_update)
        super().__init__(
            base_operator.dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            is_square,
            name,
        )

    def _dense(self):
        u = self._u if self._d is None else self._u * _arr.expand_dims(self._d, -2)
        return self.base_operator.to_dense() + _math.matmul(u, self._v, transpose_b=True)


class LinearOperatorTridiag(LinearOperator):
    """A tridiagonal matrix from its diagonals ('compact', 'sequence' or 'matrix')."""

    def __init__(
        self,
        diagonals,
        diagonals_format="compact",
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=None,
        name="LinearOperatorTridiag",
    ):
        self._matrix = _dense_tridiagonal(diagonals, diagonals_format)
        super().__init__(
            self._matrix.dtype, is_non_singular, is_self_adjoint, is_positive_definite, True, name
        )

    def _dense(self):
        return self._matrix


class _LinearOperatorCirculantND(LinearOperator):
    """A (block-)circulant operator given by its spectrum, the DFT of its kernel."""

    _rank = 1

    def __init__(
        self,
        spectrum,
        input_output_dtype=dtypes.complex64,
        is_non_singular=None,
        is_self_adjoint=None,
        is_positive_definite=None,
        is_square=True,
        name=None,
    ):
        self._spectrum = _t(spectrum)
        super().__init__(
            input_output_dtype,
            is_non_singular,
            is_self_adjoint,
            is_positive_definite,
            True,
            name or type(self).__name__,
        )

    def _dense(self):
        spec = self._spectrum
        if not spec.dtype.is_complex:
            spec = complex_ops.complex(spec, _arr.zeros_like(spec))
        block = dims(spec)[-self._rank :]
        n = int(np.prod(block))
        eye = _arr.constant(np.eye(n).reshape((n,) + tuple(block)), dtype=spec.dtype)
        fwd, inv = {
            1: (fft_ops.fft, fft_ops.ifft),
            2: (fft_ops.fft2d, fft_ops.ifft2d),
            3: (fft_ops.fft3d, fft_ops.ifft3d),
        }[self._rank]
        columns = inv(_arr.expand_dims(spec, -self._rank - 1) * fwd(eye))
        batch = [(-1 if d is None else d) for d in dims(spec)[: -self._rank]]
        dense = _transpose_last(_arr.reshape(columns, batch + [n, n]))
        if not self._dtype.is_complex:
            dense = _math.cast(complex_ops.real(dense), self._dtype)
        return dense


class LinearOperatorCirculant(_LinearOperatorCirculantND):
    _rank = 1


class LinearOperatorCirculant2D(_LinearOperatorCirculantND):
    _rank = 2


class LinearOperatorCirculant3D(_LinearOperatorCirculantND):
    _rank = 3
