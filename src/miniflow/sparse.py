"""`tf.sparse`: the TF1 sparse namespace."""

# -- issue 13: sparse, random, dtypes
from miniflow.ops.sparse_cross_ops import sparse_cross as cross, sparse_cross_hashed as cross_hashed
from miniflow.ops.sparse_manip_ops import (
    eye as eye,
    sparse_concat as concat,
    sparse_expand_dims as expand_dims,
    sparse_fill_empty_rows as fill_empty_rows,
    sparse_mask as mask,
    sparse_merge as merge,
    sparse_reset_shape as reset_shape,
    sparse_reshape as reshape,
    sparse_retain as retain,
    sparse_slice as slice,  # noqa: A004
    sparse_split as split,
    sparse_to_indicator as to_indicator,
    sparse_transpose as transpose,
)
from miniflow.ops.sparse_ops import (
    SparseTensor as SparseTensor,
    SparseTensorValue as SparseTensorValue,
    from_dense as from_dense,
    sparse_add as add,
    sparse_placeholder as placeholder,
    sparse_reduce_sum as reduce_sum,
    sparse_reorder as reorder,
    sparse_tensor_dense_matmul as matmul,
    sparse_tensor_dense_matmul as sparse_dense_matmul,
    sparse_tensor_to_dense as to_dense,
    sparse_to_dense as sparse_to_dense,
)
from miniflow.ops.sparse_reduce_ops import (
    sparse_maximum as maximum,
    sparse_minimum as minimum,
    sparse_reduce_max as reduce_max,
    sparse_reduce_max_sparse as reduce_max_sparse,
    sparse_reduce_sum_sparse as reduce_sum_sparse,
    sparse_softmax as softmax,
)
from miniflow.ops.sparse_segment_ops import (
    bincount as bincount,
    sparse_segment_mean as segment_mean,
    sparse_segment_sqrt_n as segment_sqrt_n,
    sparse_segment_sum as segment_sum,
)

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
from miniflow.ops.accumulator_ops import (
    SparseConditionalAccumulator as SparseConditionalAccumulator,
)

__all__ += ["SparseConditionalAccumulator"]
