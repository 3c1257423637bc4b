"""`tf.sparse`: the TF1 sparse namespace."""

from miniflow.ops.sparse_ops import SparseTensor as SparseTensor
from miniflow.ops.sparse_ops import SparseTensorValue as SparseTensorValue
from miniflow.ops.sparse_ops import from_dense as from_dense
from miniflow.ops.sparse_ops import sparse_add as add
from miniflow.ops.sparse_ops import sparse_placeholder as placeholder
from miniflow.ops.sparse_ops import sparse_reduce_sum as reduce_sum
from miniflow.ops.sparse_ops import sparse_reorder as reorder
from miniflow.ops.sparse_ops import sparse_tensor_dense_matmul as matmul
from miniflow.ops.sparse_ops import sparse_tensor_dense_matmul as sparse_dense_matmul
from miniflow.ops.sparse_ops import sparse_tensor_to_dense as to_dense
from miniflow.ops.sparse_ops import sparse_to_dense as sparse_to_dense

# -- issue 13: sparse, random, dtypes
from miniflow.ops.sparse_cross_ops import sparse_cross as cross
from miniflow.ops.sparse_cross_ops import sparse_cross_hashed as cross_hashed
from miniflow.ops.sparse_manip_ops import eye as eye
from miniflow.ops.sparse_manip_ops import sparse_concat as concat
from miniflow.ops.sparse_manip_ops import sparse_expand_dims as expand_dims
from miniflow.ops.sparse_manip_ops import sparse_fill_empty_rows as fill_empty_rows
from miniflow.ops.sparse_manip_ops import sparse_mask as mask
from miniflow.ops.sparse_manip_ops import sparse_merge as merge
from miniflow.ops.sparse_manip_ops import sparse_reset_shape as reset_shape
from miniflow.ops.sparse_manip_ops import sparse_reshape as reshape
from miniflow.ops.sparse_manip_ops import sparse_retain as retain
from miniflow.ops.sparse_manip_ops import sparse_slice as slice  # noqa: A004
from miniflow.ops.sparse_manip_ops import sparse_split as split
from miniflow.ops.sparse_manip_ops import sparse_to_indicator as to_indicator
from miniflow.ops.sparse_manip_ops import sparse_transpose as transpose
from miniflow.ops.sparse_reduce_ops import sparse_maximum as maximum
from miniflow.ops.sparse_reduce_ops import sparse_minimum as minimum
from miniflow.ops.sparse_reduce_ops import sparse_reduce_max as reduce_max
from miniflow.ops.sparse_reduce_ops import sparse_reduce_max_sparse as reduce_max_sparse
from miniflow.ops.sparse_reduce_ops import sparse_reduce_sum_sparse as reduce_sum_sparse
from miniflow.ops.sparse_reduce_ops import sparse_softmax as softmax
from miniflow.ops.sparse_segment_ops import bincount as bincount
from miniflow.ops.sparse_segment_ops import sparse_segment_mean as segment_mean
from miniflow.ops.sparse_segment_ops import sparse_segment_sqrt_n as segment_sqrt_n
from miniflow.ops.sparse_segment_ops import sparse_segment_sum as segment_sum

__all__ = [
    "SparseTensor",
    "SparseTensorValue",
    "add",
    "bincount",
    "concat",
    "cross",
    "cross_hashed",
    "expand_dims",
    "eye",
    "fill_empty_rows",
    "from_dense",
    "mask",
    "matmul",
    "maximum",
    "merge",
    "minimum",
    "placeholder",
    "reduce_max",
    "reduce_max_sparse",
    "reduce_sum",
    "reduce_sum_sparse",
    "reorder",
    "reset_shape",
    "reshape",
    "retain",
    "segment_mean",
    "segment_sqrt_n",
    "segment_sum",
    "slice",
    "softmax",
    "sparse_dense_matmul",
    "sparse_to_dense",
    "split",
    "to_dense",
    "to_indicator",
    "transpose",
]

# -- issue 13: queue input pipelines (gradient accumulators) --------------------------------
from miniflow.ops.accumulator_ops import (  # noqa: E402
    SparseConditionalAccumulator as SparseConditionalAccumulator,
)

__all__ += ["SparseConditionalAccumulator"]
