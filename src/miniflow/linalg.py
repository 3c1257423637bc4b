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
