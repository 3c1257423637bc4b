"""The base of `tf.layers`: `Layer` (owns its variables, in graph and eager mode),
`InputSpec`, and the shared parts of convolution and pooling layers (`layers.py` and
`conv_layers.py` build on them)."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import (
    array_ops,
    conv_compose_ops,
    init_ops,
    nn_ops,
)
from miniflow.ops.variable_scope import get_variable, variable_scope
from miniflow.ops.variables import Variable


def _eager() -> bool:
    return current_frontend().eager


_EAGER_NAMES: dict = {}  # default layer name -> how many eager layers have taken it


class InputSpec:
    """What a layer accepts (dtype, shape, rank bounds, known axes); recorded, not
    enforced."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = None if dtype is None else dtypes.as_dtype(dtype).name
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim, self.min_ndim, self.axes = max_ndim, min_ndim, axes or {}


class Layer:
    """Base layer: creates its weights on the first call (``build``), then applies
    ``call``. Weights are shared by every later call of the same object."""

    _default_name = "layer"

    def __init__(self, trainable=True, name=None, dtype=None, _reuse=None, **kwargs):
        self.trainable = trainable
        self.name = name
        self.dtype = dtypes.as_dtype(dtype) if dtype is not None else None
        self._reuse = _reuse
        self.built = False
        self._trainable_weights: list = []
        self._non_trainable_weights: list = []
        self._scope = None
        self.updates: list = []
        self._losses: list = []  # graph: regularization tensors; eager: (regularizer, var)

    # -- weights --------------------------------------------------------------------
    def add_weight(
        self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=True
    ):
        dtype = dtypes.as_dtype(dtype or self.dtype or dtypes.float32)
        trainable = trainable and self.trainable
        if initializer is None:
            initializer = init_ops.glorot_uniform_initializer()
        if _eager():
            var = Variable(
                lambda: initializer(list(shape), dtype=dtype),
                trainable=trainable,
                name=f"{self.name}/{name}",
                dtype=dtype,
            )
            if regularizer is not None:
                self._losses.append((regularizer, var))
        else:
            collection = get_default_graph().get_collection_ref(GraphKeys.REGULARIZATION_LOSSES)
            before = len(collection)
            var = get_variable(
                name,
                shape=list(shape),
                dtype=dtype,
                initializer=initializer,
                regularizer=regularizer,
                trainable=trainable,
            )
            self._losses.extend(collection[before:])
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        return var

    @property
    def trainable_weights(self):
        return list(self._trainable_weights)

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        return list(self._non_trainable_weights)

    @property
    def weights(self):
        return self._trainable_weights + self._non_trainable_weights

    variables = weights

    @property
    def losses(self):
        """The regularization losses of this layer's weights (recomputed in eager mode)."""
        if _eager():
            return [loss for loss in (reg(v) for reg, v in self._losses) if loss is not None]
        return list(self._losses)

    # -- calling --------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        inputs = (
            array_ops.convert_to_tensor(inputs) if not isinstance(inputs, list | tuple) else inputs
        )
        if (
            self.dtype is None
            and getattr(inputs, "dtype", None) is not None
            and inputs.dtype.is_floating
        ):
            self.dtype = inputs.dtype  # weights take the dtype of the first inputs, as in TF
        if _eager():
            if self.name is None:  # unique like TF's eager layers: dense, dense_1, ...
                n = _EAGER_NAMES.get(self._default_name, 0)
                _EAGER_NAMES[self._default_name] = n + 1
                self.name = self._default_name + (f"_{n}" if n else "")
            if not self.built:
                self.build(inputs.shape)
                self.built = True
            return self.call(inputs, *args, **kwargs)
        scope = self._scope if self._scope is not None else self.name
        if scope is None and self._reuse:  # TF1: reuse without a name means the base name
            scope = self._default_name
        with variable_scope(
            scope, default_name=self._default_name, reuse=True if self.built else self._reuse
        ) as vs:
            if self._scope is None:
                self._scope = vs
                self.name = vs.name.rsplit("/", 1)[-1]
            if not self.built:
                self.build(inputs.shape)
                self.built = True
            return self.call(inputs, *args, **kwargs)

    def build(self, input_shape):
        pass

    def call(self, inputs, **kwargs):
        return inputs

    def apply(self, inputs, *args, **kwargs):
        return self(inputs, *args, **kwargs)

    def _add_update(self, update):
        self.updates.append(update)
        if not _eager():
            get_default_graph().add_to_collection(GraphKeys.UPDATE_OPS, update)


def _last_dim(shape, what):
    d = shape.as_list()[-1] if shape.ndims else None
    if d is None:
        raise ValueError(
            f"The last dimension of the inputs to `{what}` should be defined. Found `None`."
        )
    return d


def _activate(x, activation):
    return activation(x) if activation is not None else x


def _tuple(v, n):
    return (int(v),) * n if isinstance(v, int) else tuple(int(a) for a in v)


class _Conv(Layer):
    """An N-D convolution over channels-last inputs with ``filters`` output channels."""

    _rank = 1

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format="channels_last",
        dilation_rate=1,
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
        _channels_last(data_format)
        n = self._rank
        self.filters, self.kernel_size = int(filters), _tuple(kernel_size, n)
        self.strides, self.padding = _tuple(strides, n), _padding(padding)
        self.dilation_rate = _tuple(dilation_rate, n)
        self.activation, self.use_bias = activation, use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer

    def _kernel_shape(self, channels):
        return [*self.kernel_size, channels, self.filters]

    def build(self, input_shape):
        c = _last_dim(input_shape, type(self).__name__)
        self.kernel = self.add_weight(
            "kernel",
            self._kernel_shape(c),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
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

    def _convolve(self, inputs):
        return conv_compose_ops.convolution(
            inputs,
            self.kernel,
            self.padding,
            strides=self.strides,
            dilation_rate=self.dilation_rate,
        )

    def call(self, inputs):
        out = self._convolve(inputs)
        if self.bias is not None:
            out = nn_ops.bias_add(out, self.bias)
        return _activate(out, self.activation)


def _padding(p):
    p = p.upper()
    if p not in ("SAME", "VALID"):
        raise ValueError(
            f"The `padding` argument must be one of 'valid', 'same'. Received: {p.lower()}"
        )
    return p


def _channels_last(data_format):
    if data_format not in ("channels_last", None):
        raise ValueError(f"data_format {data_format!r} is not supported; use 'channels_last'")


class _Pooling(Layer):
    _rank, _type = 1, "MAX"

    def __init__(
        self, pool_size, strides, padding="valid", data_format="channels_last", name=None, **kwargs
    ):
        super().__init__(name=name, **kwargs)
        _channels_last(data_format)
        self.pool_size = _tuple(pool_size, self._rank)
        self.strides = _tuple(strides, self._rank)
        self.padding = _padding(padding)

    def call(self, inputs):
        return conv_compose_ops.pool(
            inputs, list(self.pool_size), self._type, self.padding, strides=list(self.strides)
        )
