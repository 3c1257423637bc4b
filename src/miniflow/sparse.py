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

__all__ = ["SparseTensor", "SparseTensorValue", "add", "from_dense", "matmul", "placeholder",
           "reduce_sum", "reorder", "sparse_dense_matmul", "sparse_to_dense", "to_dense"]
