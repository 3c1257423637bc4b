"""`tf.nn`: neural-network ops."""

from miniflow.ops.math_ops import relu as relu
from miniflow.ops.math_ops import sigmoid as sigmoid
from miniflow.ops.math_ops import tanh as tanh
from miniflow import rnn_cell as rnn_cell
from miniflow.rnn import dynamic_rnn as dynamic_rnn
from miniflow.rnn import static_rnn as static_rnn
from miniflow.ops.conv_ops import (  # noqa: F401
    avg_pool as avg_pool,
    conv2d as conv2d,
    conv2d_backprop_filter as conv2d_backprop_filter,
    conv2d_backprop_input as conv2d_backprop_input,
    conv2d_transpose as conv2d_transpose,
    max_pool as max_pool,
)
from miniflow.ops.embedding_ops import (
    dynamic_partition as dynamic_partition,
    dynamic_stitch as dynamic_stitch,
    embedding_lookup as embedding_lookup,
)
from miniflow.ops.nn_ops import (
    batch_normalization as batch_normalization,
    bias_add as bias_add,
    dropout as dropout,
    elu as elu,
    fused_batch_norm as fused_batch_norm,
    in_top_k as in_top_k,
    l2_loss as l2_loss,
    l2_normalize as l2_normalize,
    leaky_relu as leaky_relu,
    log_softmax as log_softmax,
    moments as moments,
    relu6 as relu6,
    selu as selu,
    sigmoid_cross_entropy_with_logits as sigmoid_cross_entropy_with_logits,
    softmax as softmax,
    softmax_cross_entropy_with_logits as softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2 as softmax_cross_entropy_with_logits_v2,
    softplus as softplus,
    softsign as softsign,
    sparse_softmax_cross_entropy_with_logits as sparse_softmax_cross_entropy_with_logits,
    top_k as top_k,
    weighted_cross_entropy_with_logits as weighted_cross_entropy_with_logits,
)

# Sparse embedding lookups (issue 5).
from miniflow.ops.sparse_ops import (  # noqa: E402
    embedding_lookup_sparse as embedding_lookup_sparse,
)
