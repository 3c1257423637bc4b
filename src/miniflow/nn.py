"""`tf.nn`: neural-network ops."""

from miniflow.ops.math_ops import relu as relu
from miniflow.ops.math_ops import sigmoid as sigmoid
from miniflow.ops.math_ops import tanh as tanh

# Embedding lookups (issue 5, sparse).
from miniflow.ops.sparse_ops import embedding_lookup as embedding_lookup  # noqa: E402
from miniflow.ops.sparse_ops import embedding_lookup_sparse as embedding_lookup_sparse  # noqa: E402,E501
