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

# -- issue 13: convolution and pooling families, compositions ----------------------------
from miniflow.ops.conv3d_ops import (  # noqa: E402
    avg_pool3d as avg_pool3d,
    conv3d as conv3d,
    conv3d_backprop_filter as conv3d_backprop_filter,
    conv3d_backprop_filter_v2 as conv3d_backprop_filter_v2,
    conv3d_transpose as conv3d_transpose,
    max_pool3d as max_pool3d,
)
from miniflow.ops.conv_compose_ops import (  # noqa: E402
    atrous_conv2d as atrous_conv2d,
    atrous_conv2d_transpose as atrous_conv2d_transpose,
    avg_pool1d as avg_pool1d,
    avg_pool_v2 as avg_pool_v2,
    conv1d as conv1d,
    conv1d_transpose as conv1d_transpose,
    conv_transpose as conv_transpose,
    convolution as convolution,
    max_pool1d as max_pool1d,
    max_pool2d as max_pool2d,
    max_pool_v2 as max_pool_v2,
    pool as pool,
    with_space_to_batch as with_space_to_batch,
)
from miniflow.ops.conv_ops import avg_pool as avg_pool2d  # noqa: E402, F401
from miniflow.ops.depthwise_ops import (  # noqa: E402
    depthwise_conv2d as depthwise_conv2d,
    depthwise_conv2d_native as depthwise_conv2d_native,
    depthwise_conv2d_native_backprop_filter as depthwise_conv2d_native_backprop_filter,
    depthwise_conv2d_native_backprop_input as depthwise_conv2d_native_backprop_input,
    separable_conv2d as separable_conv2d,
)
from miniflow.ops.depthwise_ops import (  # noqa: E402, F401  (TF's shorter aliases)
    depthwise_conv2d_native_backprop_filter as depthwise_conv2d_backprop_filter,
    depthwise_conv2d_native_backprop_input as depthwise_conv2d_backprop_input,
)
from miniflow.ops.manip_ops import (  # noqa: E402
    depth_to_space as depth_to_space,
    space_to_batch as space_to_batch,
    space_to_depth as space_to_depth,
)
from miniflow.ops.sort_ops import approx_max_k as approx_max_k  # noqa: E402
from miniflow.ops.sort_ops import approx_min_k as approx_min_k  # noqa: E402
from miniflow.ops.nn_compose_ops import (  # noqa: E402
    batch_norm_with_global_normalization as batch_norm_with_global_normalization,
    compute_average_loss as compute_average_loss,
    crelu as crelu,
    local_response_normalization as local_response_normalization,
    log_poisson_loss as log_poisson_loss,
    lrn as lrn,
    normalize_moments as normalize_moments,
    relu_layer as relu_layer,
    scale_regularization_loss as scale_regularization_loss,
    silu as silu,
    sufficient_statistics as sufficient_statistics,
    swish as swish,
    weighted_moments as weighted_moments,
    xw_plus_b as xw_plus_b,
    zero_fraction as zero_fraction,
)
from miniflow.ops.ctc_ops import (  # noqa: E402
    collapse_repeated as collapse_repeated,
    ctc_beam_search_decoder as ctc_beam_search_decoder,
    ctc_beam_search_decoder_v2 as ctc_beam_search_decoder_v2,
    ctc_greedy_decoder as ctc_greedy_decoder,
    ctc_loss as ctc_loss,
    ctc_loss_v2 as ctc_loss_v2,
    ctc_unique_labels as ctc_unique_labels,
)
from miniflow.ops.candidate_sampling_ops import (  # noqa: E402
    all_candidate_sampler as all_candidate_sampler,
    compute_accidental_hits as compute_accidental_hits,
    fixed_unigram_candidate_sampler as fixed_unigram_candidate_sampler,
    learned_unigram_candidate_sampler as learned_unigram_candidate_sampler,
    log_uniform_candidate_sampler as log_uniform_candidate_sampler,
    nce_loss as nce_loss,
    sampled_softmax_loss as sampled_softmax_loss,
    uniform_candidate_sampler as uniform_candidate_sampler,
)
from miniflow.contrib.rnn import (  # noqa: E402  (one implementation, shared with contrib)
    bidirectional_dynamic_rnn as bidirectional_dynamic_rnn,
    static_bidirectional_rnn as static_bidirectional_rnn,
)
from miniflow.ops.morphology_ops import (  # noqa: E402
    dilation2d as dilation2d,
    erosion2d as erosion2d,
    max_pool_with_argmax as max_pool_with_argmax,
)
from miniflow.ops.safe_embedding_ops import (  # noqa: E402
    safe_embedding_lookup_sparse as safe_embedding_lookup_sparse,
)
from miniflow.ops.fractional_pool_ops import (  # noqa: E402
    fractional_avg_pool as fractional_avg_pool,
    fractional_max_pool as fractional_max_pool,
)
from miniflow.rnn_state_saving import (  # noqa: E402
    static_state_saving_rnn as static_state_saving_rnn,
)
from miniflow.rnn_raw import raw_rnn as raw_rnn  # noqa: E402

# -- issue 13: quantized nn ops, tf.nn.experimental
from miniflow import nn_experimental as experimental  # noqa: E402
from miniflow.ops.quantized_nn_ops import quantized_avg_pool as quantized_avg_pool  # noqa: E402
from miniflow.ops.quantized_nn_ops import quantized_conv2d as quantized_conv2d  # noqa: E402
from miniflow.ops.quantized_nn_ops import quantized_max_pool as quantized_max_pool  # noqa: E402
from miniflow.ops.quantized_nn_ops import quantized_relu_x as quantized_relu_x  # noqa: E402
