"""`tf.contrib.layers`, spelled as in TF 1.15: layer functions whose variables are model
variables named ``weights``/``biases`` under scopes ``fully_connected``, ``Conv``,
``BatchNorm``, ... (all take defaults from `arg_scope`), initializers, regularizers,
`optimize_loss` and the ``summarize_*`` helpers."""

from __future__ import annotations

import math

import numpy as np

from miniflow import dtypes
from miniflow.contrib.framework import add_arg_scope
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops, conv_ops, functional_ops, init_ops, math_ops, nn_ops, random_ops
from miniflow.ops.control_flow_ops import control_dependencies
from miniflow.ops.embedding_ops import embedding_lookup
from miniflow.ops.init_ops import xavier_initializer as xavier_initializer  # noqa: F401
from miniflow.ops.losses_impl import (
    apply_regularization as apply_regularization,
    l1_l2_regularizer as l1_l2_regularizer,
    l1_regularizer as l1_regularizer,
    l2_regularizer as l2_regularizer,
    sum_regularizer as sum_regularizer,
)
from miniflow.ops.variable_scope import get_variable, variable_scope

xavier_initializer_conv2d = xavier_initializer


def variance_scaling_initializer(
    factor=2.0, mode="FAN_IN", uniform=False, seed=None, dtype=dtypes.float32
):
    """contrib's He-style initializer: uniform in ``+-sqrt(3 factor / n)``, or a normal
    truncated at 2 stddev with stddev ``sqrt(1.3 factor / n)``; n is the fan-in, fan-out
    or their mean (``mode`` FAN_IN, FAN_OUT, FAN_AVG).

    Raises:
        TypeError: ``dtype`` is not floating. ValueError: unknown ``mode``.
    """
    if not dtypes.as_dtype(dtype).is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")

    def init(shape, dtype=dtype, partition_info=None):
        fan_in, fan_out = init_ops._fans(shape)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        return random_ops.truncated_normal(
            shape, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed
        )

    return init


# -- helpers ---------------------------------------------------------------------------------


def _collections(variables_collections, name):
    if isinstance(variables_collections, dict):
        extra = variables_collections.get(name) or []
    else:
        extra = variables_collections or []
    return [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES, *extra]


def _model_variable(name, shape, dtype, initializer, regularizer, trainable, collections):
    return get_variable(
        name,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        collections=_collections(collections, name),
    )


def _outputs(outputs_collections, output):
    if outputs_collections:
        get_default_graph().add_to_collections(outputs_collections, output)
    return output


def _finish(
    out,
    inputs_dtype,
    biases_initializer,
    biases_regularizer,
    normalizer_fn,
    normalizer_params,
    activation_fn,
    variables_collections,
    trainable,
    channels,
):
    if normalizer_fn is not None:
        out = normalizer_fn(out, **(normalizer_params or {}))
    elif biases_initializer is not None:
        b = _model_variable(
            "biases",
            [channels],
            inputs_dtype,
            biases_initializer,
            biases_regularizer,
            trainable,
            variables_collections,
        )
        out = nn_ops.bias_add(out, b)
    return activation_fn(out) if activation_fn is not None else out


def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(a) for a in v]


def _nhwc(data_format):
    if data_format not in (None, "NHWC"):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'NHWC'")


# -- layers ----------------------------------------------------------------------------------


@add_arg_scope
def fully_connected(
    inputs,
    num_outputs,
    activation_fn=math_ops.relu,
    normalizer_fn=None,
    normalizer_params=None,
    weights_initializer=None,
    weights_regularizer=None,
    biases_initializer=init_ops.zeros_initializer(),
    biases_regularizer=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    scope=None,
):
    """``activation_fn(inputs @ weights + biases)`` over the last dimension (default
    activation: relu; default weights: Xavier)."""
    with variable_scope(scope, "fully_connected", reuse=reuse):
        inputs = array_ops.convert_to_tensor(inputs)
        n = inputs.shape.as_list()[-1]
        if n is None:
            raise ValueError(
                "The last dimension of the inputs to `fully_connected` should "
                "be defined. Found `None`."
            )
        w = _model_variable(
            "weights",
            [n, num_outputs],
            inputs.dtype,
            weights_initializer or xavier_initializer(),
            weights_regularizer,
            trainable,
            variables_collections,
        )
        if inputs.shape.ndims == 2:
            out = math_ops.matmul(inputs, w)
        else:
            flat = math_ops.matmul(array_ops.reshape(inputs, [-1, n]), w)
            out = array_ops.reshape(
                flat, array_ops.concat([array_ops.shape(inputs)[:-1], [num_outputs]], 0)
            )
        out = _finish(
            out,
            inputs.dtype,
            biases_initializer,
            biases_regularizer,
            normalizer_fn,
            normalizer_params,
            activation_fn,
            variables_collections,
            trainable,
            num_outputs,
        )
    return _outputs(outputs_collections, out)


def linear(inputs, num_outputs, **kwargs):
    """`fully_connected` without an activation."""
    return fully_connected(inputs, num_outputs, activation_fn=None, **kwargs)


@add_arg_scope
def conv2d(
    inputs,
    num_outputs,
    kernel_size,
    stride=1,
    padding="SAME",
    data_format=None,
    rate=1,
    activation_fn=math_ops.relu,
    normalizer_fn=None,
    normalizer_params=None,
    weights_initializer=None,
    weights_regularizer=None,
    biases_initializer=init_ops.zeros_initializer(),
    biases_regularizer=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    scope=None,
):
    """A 2-D convolution over NHWC inputs with ``weights`` [kh, kw, in, out]."""
    _nhwc(data_format)
    with variable_scope(scope, "Conv", reuse=reuse):
        inputs = array_ops.convert_to_tensor(inputs)
        c = inputs.shape.as_list()[-1]
        w = _model_variable(
            "weights",
            _pair(kernel_size) + [c, num_outputs],
            inputs.dtype,
            weights_initializer or xavier_initializer(),
            weights_regularizer,
            trainable,
            variables_collections,
        )
        out = conv_ops.conv2d(
            inputs, w, [1, *_pair(stride), 1], padding.upper(), dilations=[1, *_pair(rate), 1]
        )
        out = _finish(
            out,
            inputs.dtype,
            biases_initializer,
            biases_regularizer,
            normalizer_fn,
            normalizer_params,
            activation_fn,
            variables_collections,
            trainable,
            num_outputs,
        )
    return _outputs(outputs_collections, out)


convolution2d = conv2d


@add_arg_scope
def conv2d_transpose(
    inputs,
    num_outputs,
    kernel_size,
    stride=1,
    padding="SAME",
    data_format="NHWC",
    activation_fn=math_ops.relu,
    normalizer_fn=None,
    normalizer_params=None,
    weights_initializer=None,
    weights_regularizer=None,
    biases_initializer=init_ops.zeros_initializer(),
    biases_regularizer=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    scope=None,
):
    """A transposed 2-D convolution with ``weights`` [kh, kw, out, in]."""
    _nhwc(data_format)
    with variable_scope(scope, "Conv2d_transpose", reuse=reuse):
        inputs = array_ops.convert_to_tensor(inputs)
        dims = inputs.shape.as_list()
        k, s = _pair(kernel_size), _pair(stride)
        w = _model_variable(
            "weights",
            k + [num_outputs, dims[-1]],
            inputs.dtype,
            weights_initializer or xavier_initializer(),
            weights_regularizer,
            trainable,
            variables_collections,
        )
        dyn = array_ops.shape(inputs)
        size = [(dyn[i + 1] if dims[i + 1] is None else dims[i + 1]) for i in range(2)]
        out_hw = [
            size[i] * s[i] if padding.upper() == "SAME" else (size[i] - 1) * s[i] + k[i]
            for i in range(2)
        ]
        out_shape = array_ops.stack([dyn[0], *out_hw, num_outputs])
        out = conv_ops.conv2d_transpose(inputs, w, out_shape, [1, *s, 1], padding.upper())
        static = [dims[0]] + [d if isinstance(d, int) else None for d in out_hw]
        out.set_shape(static + [num_outputs])
        out = _finish(
            out,
            inputs.dtype,
            biases_initializer,
            biases_regularizer,
            normalizer_fn,
            normalizer_params,
            activation_fn,
            variables_collections,
            trainable,
            num_outputs,
        )
    return _outputs(outputs_collections, out)


convolution2d_transpose = conv2d_transpose


@add_arg_scope
def max_pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding="VALID",
    data_format="NHWC",
    outputs_collections=None,
    scope=None,
):
    """Max pooling (default stride 2, 'VALID')."""
    _nhwc(data_format)
    with variable_scope(scope, "MaxPool2D"):
        out = conv_ops.max_pool(
            inputs, [1, *_pair(kernel_size), 1], [1, *_pair(stride), 1], padding.upper()
        )
    return _outputs(outputs_collections, out)


@add_arg_scope
def avg_pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding="VALID",
    data_format="NHWC",
    outputs_collections=None,
    scope=None,
):
    """Average pooling (default stride 2, 'VALID')."""
    _nhwc(data_format)
    with variable_scope(scope, "AvgPool2D"):
        out = conv_ops.avg_pool(
            inputs, [1, *_pair(kernel_size), 1], [1, *_pair(stride), 1], padding.upper()
        )
    return _outputs(outputs_collections, out)


@add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
    """Reshapes [batch, ...] to [batch, k]."""
    with variable_scope(scope, "Flatten"):
        inputs = array_ops.convert_to_tensor(inputs)
        rest = inputs.shape.as_list()[1:]
        if None not in rest:
            out = array_ops.reshape(inputs, [-1, int(np.prod(rest))])
        else:
            out = array_ops.reshape(inputs, array_ops.stack([array_ops.shape(inputs)[0], -1]))
    return _outputs(outputs_collections, out)


@add_arg_scope
def dropout(
    inputs,
    keep_prob=0.5,
    noise_shape=None,
    is_training=True,
    outputs_collections=None,
    scope=None,
    seed=None,
):
    """Dropout keeping ``keep_prob`` of the units when ``is_training`` (a bool or a
    boolean tensor); the identity otherwise."""
    with variable_scope(scope, "Dropout"):
        inputs = array_ops.convert_to_tensor(inputs)

        def dropped():
            return nn_ops.dropout(inputs, keep_prob=keep_prob, noise_shape=noise_shape, seed=seed)

        if isinstance(is_training, bool):
            out = dropped() if is_training else array_ops.identity(inputs)
        else:
            out = functional_ops.cond(is_training, dropped, lambda: array_ops.identity(inputs))
    return _outputs(outputs_collections, out)


@add_arg_scope
def batch_norm(
    inputs,
    decay=0.999,
    center=True,
    scale=False,
    epsilon=0.001,
    activation_fn=None,
    param_initializers=None,
    param_regularizers=None,
    updates_collections=GraphKeys.UPDATE_OPS,
    is_training=True,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    batch_weights=None,
    fused=None,
    data_format="NHWC",
    zero_debias_moving_mean=False,
    scope=None,
    renorm=False,
    renorm_clipping=None,
    renorm_decay=0.99,
    adjustment=None,
):
    """Batch normalisation over all axes but the last. In training the moving averages
    are updated (with the unbiased batch variance, as TF's fused kernel) through
    ``updates_collections`` (default ``UPDATE_OPS``), or in place when it is None."""
    _nhwc(data_format)
    inits, regs = param_initializers or {}, param_regularizers or {}
    with variable_scope(scope, "BatchNorm", reuse=reuse):
        inputs = array_ops.convert_to_tensor(inputs)
        n = inputs.shape.as_list()[-1]
        axes = list(range(inputs.shape.ndims - 1))

        def var(name, init, trainable_=trainable):
            return _model_variable(
                name,
                [n],
                inputs.dtype,
                inits.get(name, init),
                regs.get(name),
                trainable_,
                variables_collections,
            )

        beta = var("beta", init_ops.zeros_initializer()) if center else None
        gamma = var("gamma", init_ops.ones_initializer()) if scale else None
        moving_mean = var("moving_mean", init_ops.zeros_initializer(), False)
        moving_var = var("moving_variance", init_ops.ones_initializer(), False)

        def train():
            mean, variance = nn_ops.moments(inputs, axes)
            count = math_ops.cast(array_ops.size(inputs) // n, inputs.dtype)
            unbiased = variance * count / math_ops.maximum(count - 1.0, 1.0)
            updates = [
                moving_mean.assign_sub((moving_mean.value() - mean) * (1 - decay)),
                moving_var.assign_sub((moving_var.value() - unbiased) * (1 - decay)),
            ]
            if updates_collections is None:
                with control_dependencies(updates):
                    return nn_ops.batch_normalization(
                        array_ops.identity(inputs), mean, variance, beta, gamma, epsilon
                    )
            for u in updates:
                get_default_graph().add_to_collections(updates_collections, u)
            return nn_ops.batch_normalization(inputs, mean, variance, beta, gamma, epsilon)

        def infer():
            return nn_ops.batch_normalization(
                inputs, moving_mean.value(), moving_var.value(), beta, gamma, epsilon
            )

        if isinstance(is_training, bool):
            out = train() if is_training else infer()
        else:
            out = functional_ops.cond(is_training, train, infer)
        if activation_fn is not None:
            out = activation_fn(out)
    return _outputs(outputs_collections, out)


@add_arg_scope
def layer_norm(
    inputs,
    center=True,
    scale=True,
    activation_fn=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    begin_norm_axis=1,
    begin_params_axis=-1,
    scope=None,
):
    """Normalises over the axes from ``begin_norm_axis`` on (epsilon 1e-12, as TF)."""
    with variable_scope(scope, "LayerNorm", reuse=reuse):
        inputs = array_ops.convert_to_tensor(inputs)
        rank = inputs.shape.ndims
        params_shape = inputs.shape.as_list()[begin_params_axis % rank :]
        beta = (
            _model_variable(
                "beta",
                params_shape,
                inputs.dtype,
                init_ops.zeros_initializer(),
                None,
                trainable,
                variables_collections,
            )
            if center
            else None
        )
        gamma = (
            _model_variable(
                "gamma",
                params_shape,
                inputs.dtype,
                init_ops.ones_initializer(),
                None,
                trainable,
                variables_collections,
            )
            if scale
            else None
        )
        mean, variance = nn_ops.moments(
            inputs, list(range(begin_norm_axis % rank, rank)), keep_dims=True
        )
        out = nn_ops.batch_normalization(inputs, mean, variance, beta, gamma, 1e-12)
        if activation_fn is not None:
            out = activation_fn(out)
    return _outputs(outputs_collections, out)


def embed_sequence(
    ids,
    vocab_size=None,
    embed_dim=None,
    unique=False,
    initializer=None,
    regularizer=None,
    trainable=True,
    scope=None,
    reuse=None,
):
    """Embeds int ids [batch, length] into [batch, length, embed_dim] with the variable
    ``EmbedSequence/embeddings``."""
    if vocab_size is None or embed_dim is None:
        raise ValueError("Must specify vocab size and embedding dimension")
    with variable_scope(scope, "EmbedSequence", reuse=reuse):
        embeddings = _model_variable(
            "embeddings",
            [vocab_size, embed_dim],
            dtypes.float32,
            initializer,
            regularizer,
            trainable,
            None,
        )
        return embedding_lookup(embeddings, ids)


def one_hot_encoding(
    labels, num_classes, on_value=1.0, off_value=0.0, outputs_collections=None, scope=None
):
    """One-hot float vectors for int ``labels``."""
    with variable_scope(scope, "OneHotEncoding"):
        out = array_ops.one_hot(labels, num_classes, on_value=on_value, off_value=off_value)
    return _outputs(outputs_collections, out)


from miniflow.contrib.layers_training import (  # noqa: E402
    OPTIMIZER_CLS_NAMES as OPTIMIZER_CLS_NAMES,
    OPTIMIZER_SUMMARIES as OPTIMIZER_SUMMARIES,
    optimize_loss as optimize_loss,
    summarize_activation as summarize_activation,
    summarize_activations as summarize_activations,
    summarize_collection as summarize_collection,
    summarize_tensor as summarize_tensor,
    summarize_tensors as summarize_tensors,
    summarize_variables as summarize_variables,
)
