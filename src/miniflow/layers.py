"""`tf.layers`: layer objects (which own their variables, for graph and eager mode) and
TF1's functional forms (`tf.layers.dense(x, 10)`), which create one layer per call under
a variable scope, so ``reuse`` shares the variables as in TF1."""

from __future__ import annotations

import numpy as np

# The 1-D, 3-D and separable convolutions and poolings (`conv_layers.py`).
from miniflow.conv_layers import (
    AveragePooling1D as AveragePooling1D,
    AveragePooling3D as AveragePooling3D,
    Conv1D as Conv1D,
    Conv3D as Conv3D,
    Conv3DTranspose as Conv3DTranspose,
    MaxPooling1D as MaxPooling1D,
    MaxPooling3D as MaxPooling3D,
    SeparableConv1D as SeparableConv1D,
    SeparableConv2D as SeparableConv2D,
    average_pooling1d as average_pooling1d,
    average_pooling3d as average_pooling3d,
    conv1d as conv1d,
    conv3d as conv3d,
    conv3d_transpose as conv3d_transpose,
    max_pooling1d as max_pooling1d,
    max_pooling3d as max_pooling3d,
    separable_conv1d as separable_conv1d,
    separable_conv2d as separable_conv2d,
)
from miniflow.layers_base import (
    InputSpec as InputSpec,
    Layer as Layer,
    _activate,
    _Conv,
    _last_dim,
    _Pooling,
)
from miniflow.ops import (
    array_ops,
    conv_ops,
    functional_ops,
    init_ops,
    math_ops,
    nn_ops,
)


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``."""

    _default_name = "dense"

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer=None,
        bias_initializer=init_ops.zeros_initializer(),
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        trainable=True,
        name=None,
        **kwargs,
    ):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.units = int(units)
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer

    def build(self, input_shape):
        n = _last_dim(input_shape, "Dense")
        self.kernel = self.add_weight(
            "kernel",
            [n, self.units],
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (
            self.add_weight(
                "bias",
                [self.units],
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
            if self.use_bias
            else None
        )

    def call(self, inputs):
        rank = inputs.shape.ndims
        if rank is not None and rank > 2:
            flat = array_ops.reshape(inputs, [-1, _last_dim(inputs.shape, "Dense")])
            out = math_ops.matmul(flat, self.kernel)
            out = array_ops.reshape(
                out, array_ops.concat([array_ops.shape(inputs)[:-1], [self.units]], 0)
            )
        else:
            out = math_ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            out = nn_ops.bias_add(out, self.bias)
        return _activate(out, self.activation)


class Conv2D(_Conv):
    """2-D convolution over NHWC inputs with ``filters`` output channels."""

    _default_name = "conv2d"
    _rank = 2

    def _convolve(self, inputs):
        return conv_ops.conv2d(
            inputs,
            self.kernel,
            [1, *self.strides, 1],
            self.padding,
            dilations=[1, *self.dilation_rate, 1],
        )


class Conv2DTranspose(Conv2D):
    """The transpose of a 2-D convolution ("deconvolution"): output spatial size is
    ``in * stride`` ('same') or ``(in - 1) * stride + kernel`` ('valid')."""

    _default_name = "conv2d_transpose"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format="channels_last",
        activation=None,
        use_bias=True,
        kernel_initializer=None,
        bias_initializer=init_ops.zeros_initializer(),
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        trainable=True,
        name=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            (1, 1),
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            trainable=trainable,
            name=name,
            **kwargs,
        )

    def _kernel_shape(self, channels):
        return [*self.kernel_size, self.filters, channels]

    def _out_size(self, size, k, s):
        if size is None:
            return None
        return size * s if self.padding == "SAME" else (size - 1) * s + k

    def call(self, inputs):
        dims = inputs.shape.as_list()
        hw = [self._out_size(d, k, s) for d, k, s in zip(dims[1:3], self.kernel_size, self.strides)]
        if None in hw:
            dyn = array_ops.shape(inputs)
            hw = [
                dyn[1 + i] * s
                if self.padding == "SAME"
                else (dyn[1 + i] - 1) * s + k
                if h is None
                else h
                for i, (h, k, s) in enumerate(zip(hw, self.kernel_size, self.strides))
            ]
        batch = dims[0] if dims[0] is not None else array_ops.shape(inputs)[0]
        shape = [batch, *hw, self.filters]
        if any(not isinstance(d, int) for d in shape):
            shape = array_ops.stack(shape)
        out = conv_ops.conv2d_transpose(
            inputs, self.kernel, shape, [1, *self.strides, 1], self.padding
        )
        if self.bias is not None:
            out = nn_ops.bias_add(out, self.bias)
        return _activate(out, self.activation)


class _Pooling2D(_Pooling):
    _rank, _fn = 2, None

    def call(self, inputs):
        return type(self)._fn(inputs, [1, *self.pool_size, 1], [1, *self.strides, 1], self.padding)


class MaxPooling2D(_Pooling2D):
    _default_name = "max_pooling2d"
    _fn = staticmethod(conv_ops.max_pool)


class AveragePooling2D(_Pooling2D):
    _default_name = "average_pooling2d"
    _fn = staticmethod(conv_ops.avg_pool)


class Flatten(Layer):
    """Reshapes [batch, ...] to [batch, prod(...)]."""

    _default_name = "flatten"

    def call(self, inputs):
        d = inputs.shape.as_list()
        if None not in d[1:]:
            return array_ops.reshape(inputs, [-1, int(np.prod(d[1:]))])
        return array_ops.reshape(inputs, array_ops.stack([array_ops.shape(inputs)[0], -1]))


class Dropout(Layer):
    """Dropout with ``rate`` when ``training`` is true (a bool or a boolean tensor)."""

    _default_name = "dropout"

    def __init__(self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def call(self, inputs, training=False):
        def dropped():
            return nn_ops.dropout(
                inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed
            )

        if isinstance(training, bool):
            return dropped() if training and self.rate > 0 else array_ops.identity(inputs)
        return functional_ops.cond(training, dropped, lambda: array_ops.identity(inputs))


class BatchNormalization(Layer):
    """Normalises by batch statistics in training (and updates moving averages, added to
    ``UPDATE_OPS`` in graph mode), by the moving averages otherwise."""

    _default_name = "batch_normalization"

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer=init_ops.zeros_initializer(),
        gamma_initializer=init_ops.ones_initializer(),
        moving_mean_initializer=init_ops.zeros_initializer(),
        moving_variance_initializer=init_ops.ones_initializer(),
        beta_regularizer=None,
        gamma_regularizer=None,
        trainable=True,
        name=None,
        **kwargs,
    ):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.inits = (
            beta_initializer,
            gamma_initializer,
            moving_mean_initializer,
            moving_variance_initializer,
        )
        self.regs = (beta_regularizer, gamma_regularizer)

    def build(self, input_shape):
        rank = input_shape.ndims
        self._axis = self.axis % rank
        n = input_shape.as_list()[self._axis]
        beta_i, gamma_i, mean_i, var_i = self.inits
        self.gamma = (
            self.add_weight("gamma", [n], initializer=gamma_i, regularizer=self.regs[1])
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight("beta", [n], initializer=beta_i, regularizer=self.regs[0])
            if self.center
            else None
        )
        self.moving_mean = self.add_weight("moving_mean", [n], initializer=mean_i, trainable=False)
        self.moving_variance = self.add_weight(
            "moving_variance", [n], initializer=var_i, trainable=False
        )

    def call(self, inputs, training=False):
        rank = inputs.shape.ndims
        axes = [i for i in range(rank) if i != self._axis]
        shape = [1] * rank
        shape[self._axis] = -1

        def norm(mean, var):
            r = lambda t: None if t is None else array_ops.reshape(t, shape)  # noqa: E731
            return nn_ops.batch_normalization(
                inputs, r(mean), r(var), r(self.beta), r(self.gamma), self.epsilon
            )

        def train():
            mean, var = nn_ops.moments(inputs, axes)
            decay = 1.0 - self.momentum
            for v, value in ((self.moving_mean, mean), (self.moving_variance, var)):
                # TF's assign_moving_average: v -= (v - value) * (1 - momentum)
                self._add_update(v.assign_sub((v.value() - value) * decay))
            return norm(mean, var)

        if isinstance(training, bool):
            return (
                train()
                if training
                else norm(self.moving_mean.value(), self.moving_variance.value())
            )
        return functional_ops.cond(
            training, train, lambda: norm(self.moving_mean.value(), self.moving_variance.value())
        )


# -- TF1's functional forms ---------------------------------------------------------------


def dense(
    inputs,
    units,
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=init_ops.zeros_initializer(),
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    reuse=None,
):
    """A densely connected layer: ``activation(inputs @ kernel + bias)``."""
    return Dense(
        units,
        activation,
        use_bias,
        kernel_initializer,
        bias_initializer,
        kernel_regularizer,
        bias_regularizer,
        trainable=trainable,
        name=name,
        _reuse=reuse,
    )(inputs)


def conv2d(
    inputs,
    filters,
    kernel_size,
    strides=(1, 1),
    padding="valid",
    data_format="channels_last",
    dilation_rate=(1, 1),
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=init_ops.zeros_initializer(),
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    reuse=None,
):
    """A 2-D convolution layer over NHWC inputs."""
    return Conv2D(
        filters,
        kernel_size,
        strides,
        padding,
        data_format,
        dilation_rate,
        activation,
        use_bias,
        kernel_initializer,
        bias_initializer,
        kernel_regularizer,
        bias_regularizer,
        trainable=trainable,
        name=name,
        _reuse=reuse,
    )(inputs)


def conv2d_transpose(
    inputs,
    filters,
    kernel_size,
    strides=(1, 1),
    padding="valid",
    data_format="channels_last",
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=init_ops.zeros_initializer(),
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    reuse=None,
):
    """A transposed 2-D convolution layer over NHWC inputs."""
    return Conv2DTranspose(
        filters,
        kernel_size,
        strides,
        padding,
        data_format,
        activation,
        use_bias,
        kernel_initializer,
        bias_initializer,
        kernel_regularizer,
        bias_regularizer,
        trainable=trainable,
        name=name,
        _reuse=reuse,
    )(inputs)


def max_pooling2d(
    inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None
):
    """Max pooling over ``pool_size`` windows."""
    return MaxPooling2D(pool_size, strides, padding, data_format, name=name)(inputs)


def average_pooling2d(
    inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None
):
    """Average pooling over ``pool_size`` windows."""
    return AveragePooling2D(pool_size, strides, padding, data_format, name=name)(inputs)


def flatten(inputs, name=None, data_format="channels_last"):
    """Flattens all but the batch dimension."""
    return Flatten(name=name)(inputs)


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Dropout applied only when ``training`` is true."""
    return Dropout(rate, noise_shape, seed, name=name)(inputs, training=training)


def batch_normalization(
    inputs,
    axis=-1,
    momentum=0.99,
    epsilon=1e-3,
    center=True,
    scale=True,
    beta_initializer=init_ops.zeros_initializer(),
    gamma_initializer=init_ops.ones_initializer(),
    moving_mean_initializer=init_ops.zeros_initializer(),
    moving_variance_initializer=init_ops.ones_initializer(),
    beta_regularizer=None,
    gamma_regularizer=None,
    training=False,
    trainable=True,
    name=None,
    reuse=None,
    **kwargs,
):
    """Batch normalisation; in training the moving-average updates go to ``UPDATE_OPS``."""
    return BatchNormalization(
        axis,
        momentum,
        epsilon,
        center,
        scale,
        beta_initializer,
        gamma_initializer,
        moving_mean_initializer,
        moving_variance_initializer,
        beta_regularizer,
        gamma_regularizer,
        trainable=trainable,
        name=name,
        _reuse=reuse,
    )(inputs, training=training)
