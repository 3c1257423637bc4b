"""`tf.linalg`: linear algebra."""

from miniflow.ops.array_ops import transpose as transpose
from miniflow.ops.linalg_ops import band_part as band_part
from miniflow.ops.linalg_ops import cholesky as cholesky
from miniflow.ops.linalg_ops import diag_part as diag_part
from miniflow.ops.linalg_ops import eye as eye
from miniflow.ops.linalg_ops import logdet as logdet
from miniflow.ops.linalg_ops import matrix_determinant as det
from miniflow.ops.linalg_ops import matrix_inverse as inv
from miniflow.ops.linalg_ops import matrix_solve as solve
from miniflow.ops.linalg_ops import trace as trace
from miniflow.ops.math_ops import matmul as matmul
from miniflow.ops.linalg_ops import band_part as matrix_band_part  # noqa: E402, F401
from miniflow.ops.clip_ops import global_norm as global_norm
from miniflow.ops.einsum_ops import einsum as einsum
from miniflow.ops.einsum_ops import tensordot as tensordot
from miniflow.ops.linalg_ops import (
    adjoint as adjoint,
    cholesky_solve as cholesky_solve,
    cross as cross,
    lstsq as lstsq,
    matrix_transpose as matrix_transpose,
    matvec as matvec,
    norm as norm,
    normalize as normalize,
    triangular_solve as triangular_solve,
)
from miniflow.ops.linalg_ops import matrix_diag as diag
from miniflow.ops.linalg_ops import matrix_set_diag as set_diag
from miniflow.ops.manip_ops import diag as tensor_diag
from miniflow.ops.manip_ops import diag_part as tensor_diag_part
from miniflow.ops.nn_ops import l2_normalize as l2_normalize
from miniflow.ops.decomposition_ops import (
    eigh as eigh,
    eigvalsh as eigvalsh,
    slogdet as slogdet,
    lu as lu,
    lu_matrix_inverse as lu_matrix_inverse,
    lu_reconstruct as lu_reconstruct,
    lu_solve as lu_solve,
    matrix_rank as matrix_rank,
    pinv as pinv,
    qr as qr,
    svd as svd,
)
from miniflow.ops.matrix_function_ops import (
    eigh_tridiagonal as eigh_tridiagonal,
    expm as expm,
    sqrtm as sqrtm,
    tridiagonal_matmul as tridiagonal_matmul,
    tridiagonal_solve as tridiagonal_solve,
)
from miniflow.ops.linear_operator import (
    LinearOperator as LinearOperator,
    LinearOperatorAdjoint as LinearOperatorAdjoint,
    LinearOperatorBlockDiag as LinearOperatorBlockDiag,
    LinearOperatorBlockLowerTriangular as LinearOperatorBlockLowerTriangular,
    LinearOperatorCirculant as LinearOperatorCirculant,
    LinearOperatorCirculant2D as LinearOperatorCirculant2D,
    LinearOperatorCirculant3D as LinearOperatorCirculant3D,
    LinearOperatorComposition as LinearOperatorComposition,
    LinearOperatorDiag as LinearOperatorDiag,
    LinearOperatorFullMatrix as LinearOperatorFullMatrix,
    LinearOperatorHouseholder as LinearOperatorHouseholder,
    LinearOperatorIdentity as LinearOperatorIdentity,
    LinearOperatorInversion as LinearOperatorInversion,
    LinearOperatorKronecker as LinearOperatorKronecker,
    LinearOperatorLowerTriangular as LinearOperatorLowerTriangular,
    LinearOperatorLowRankUpdate as LinearOperatorLowRankUpdate,
    LinearOperatorPermutation as LinearOperatorPermutation,
    LinearOperatorScaledIdentity as LinearOperatorScaledIdentity,
    LinearOperatorToeplitz as LinearOperatorToeplitz,
    LinearOperatorTridiag as LinearOperatorTridiag,
    LinearOperatorZeros as LinearOperatorZeros,
)
from miniflow.ops.matrix_function_ops import logm as logm

from miniflow import linalg_experimental as experimental  # noqa: E402
