"""`tf.is_tensor`: what TF1 code may treat as a tensor."""

from miniflow.core.dispatch import is_tensor as _is_dense_tensor
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ops.variables import Variable


def is_tensor(x):
    """True for a graph or eager tensor, a Variable, a SparseTensor or IndexedSlices (TF's
    tensor-like types); False for NumPy arrays and Python numbers."""
    return _is_dense_tensor(x) or isinstance(x, Variable | SparseTensor | IndexedSlices)
