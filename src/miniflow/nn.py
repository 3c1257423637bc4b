"""`tf.nn`: neural-network ops."""

from miniflow.ops.math_ops import relu as relu
from miniflow.ops.math_ops import sigmoid as sigmoid
from miniflow.ops.math_ops import tanh as tanh

# Sparse embedding lookups (issue 5).
from miniflow.ops.sparse_ops import (  # noqa: E402
    embedding_lookup_sparse as embedding_lookup_sparse,
)
