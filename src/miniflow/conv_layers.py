"""The `tf.layers` convolutions and poolings beyond 2-D: `Conv1D`, `Conv3D`,
`Conv3DTranspose`, `SeparableConv1D`/`SeparableConv2D`, 1-D and 3-D pooling, and their
functional forms (re-exported by `miniflow.layers`)."""

from __future__ import annotations

from miniflow.layers_base import _Conv, _last_dim, _Pooling, _tuple
from miniflow.ops import array_ops, conv3d_ops, depthwise_ops, init_ops


class Conv1D(_Conv):
    """1-D convolution over [batch, width, channels]."""

    _default_name = "conv1d"
    _rank = 1


class Conv3D(_Conv):
    """3-D convolution over [batch, depth, height, width, channels]."""

    _default_name = "conv3d"
    _rank = 3


class Conv3DTranspose(_Conv):
    """The transpose of a 3-D convolution: each spatial size becomes ``in * stride``
    ('same') or ``(in - 1) * stride + kernel`` ('valid')."""

    _default_name = "conv3d_transpose"
    _rank = 3

    def _kernel_shape(self, channels):
        return [*self.kernel_size, self.filters, channels]

    def _convolve(self, inputs):
        dims, dyn = inputs.shape.as_list(), array_ops.shape(inputs)
        shape = [dims[0] if dims[0] is not None else dyn[0]]
        for i, (k, s) in enumerate(zip(self.kernel_size, self.strides)):
            size = dims[i + 1] if dims[i + 1] is not None else dyn[i + 1]
            shape.append(size * s if self.padding == "SAME" else (size - 1) * s + k)
        shape.append(self.filters)
        if any(not isinstance(d, int) for d in shape):
            shape = array_ops.stack(shape)
        return conv3d_ops.conv3d_transpose(
            inputs, self.kernel, shape, [1, *self.strides, 1], self.padding
        )


class SeparableConv2D(_Conv):
    """A depthwise 2-D convolution (``depth_multiplier`` filters per channel) followed by
    a 1x1 convolution to ``filters`` channels."""

    _default_name = "separable_conv2d"
    _rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format="channels_last",
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer=None,
        pointwise_initializer=None,
        bias_initializer=init_ops.zeros_initializer(),
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
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
            dilation_rate,
            activation,
            use_bias,
            None,
            bias_initializer,
            None,
            bias_regularizer,
            trainable=trainable,
            name=name,
            **kwargs,
        )
        self.depth_multiplier = int(depth_multiplier)
        self.initializers = (depthwise_initializer, pointwise_initializer)
        self.regularizers = (depthwise_regularizer, pointwise_regularizer)

    def build(self, input_shape):
        c = _last_dim(input_shape, type(self).__name__)
        m = self.depth_multiplier
        ones = [1] * (len(self._spatial) - 1)  # SeparableConv1D's kernels are 3-D, as TF's
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel",
            [*self._spatial[-1 - len(ones) :], c, m],
            initializer=self.initializers[0],
            regularizer=self.regularizers[0],
        )
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            [*ones, 1, c * m, self.filters],
            initializer=self.initializers[1],
            regularizer=self.regularizers[1],
        )
        self.bias = (
            self.add_weight(
                "bias",
                [self.filters],
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
            if self.use_bias
            else None
        )

    _spatial = property(lambda self: self.kernel_size)

    def _convolve(self, inputs, depthwise=None, pointwise=None):
        strides = [1, *self.strides[-2:], 1]
        return depthwise_ops.separable_conv2d(
            inputs,
            self.depthwise_kernel if depthwise is None else depthwise,
            self.pointwise_kernel if pointwise is None else pointwise,
            strides,
            self.padding,
            rate=list(self.dilation_rate[-2:]),
        )


class SeparableConv1D(SeparableConv2D):
    """`SeparableConv2D` over [batch, width, channels] (height 1)."""

    _default_name = "separable_conv1d"

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format="channels_last",
        dilation_rate=1,
        depth_multiplier=1,
        **kwargs,
    ):
        super().__init__(
            filters,
            (1, *_tuple(kernel_size, 1)),
            (1, *_tuple(strides, 1)),
            padding,
            data_format,
            (1, *_tuple(dilation_rate, 1)),
            depth_multiplier,
            **kwargs,
        )

    _spatial = property(lambda self: self.kernel_size[1:])

    def _convolve(self, inputs):
        out = super()._convolve(
            array_ops.expand_dims(inputs, 1),
            array_ops.expand_dims(self.depthwise_kernel, 0),
            array_ops.expand_dims(self.pointwise_kernel, 0),
        )
        return array_ops.squeeze(out, [1])


class MaxPooling1D(_Pooling):
    _default_name, _rank, _type = "max_pooling1d", 1, "MAX"


class AveragePooling1D(_Pooling):
    _default_name, _rank, _type = "average_pooling1d", 1, "AVG"


class MaxPooling3D(_Pooling):
    _default_name, _rank, _type = "max_pooling3d", 3, "MAX"


class AveragePooling3D(_Pooling):
    _default_name, _rank, _type = "average_pooling3d", 3, "AVG"


def _functional(cls, doc):
    def layer_fn(inputs, *args, name=None, reuse=None, **kwargs):
        return cls(*args, name=name, _reuse=reuse, **kwargs)(inputs)

    layer_fn.__doc__ = doc
    return layer_fn


conv1d = _functional(Conv1D, "A 1-D convolution layer (`Conv1D`).")
conv3d = _functional(Conv3D, "A 3-D convolution layer (`Conv3D`).")
conv3d_transpose = _functional(Conv3DTranspose, "A transposed 3-D convolution layer.")
separable_conv1d = _functional(SeparableConv1D, "A depthwise-separable 1-D convolution.")
separable_conv2d = _functional(SeparableConv2D, "A depthwise-separable 2-D convolution.")
max_pooling1d = _functional(MaxPooling1D, "1-D max pooling.")
average_pooling1d = _functional(AveragePooling1D, "1-D average pooling.")
max_pooling3d = _functional(MaxPooling3D, "3-D max pooling.")
average_pooling3d = _functional(AveragePooling3D, "3-D average pooling.")
