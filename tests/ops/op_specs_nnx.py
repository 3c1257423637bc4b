"""Gradient table for the issue-13 `tf.nn` primitives: 3-D convolution and pooling,
depthwise convolution (each with its backprop ops, checked wrt input and filter), and
the other new nn primitives. Rows use `op_specs.OpSpec` and run through
`test_op_gradients.py` (with the eager/graph parity check) like the core table."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import miniflow as tf
from miniflow.extend import apply_op
from miniflow.ops.fractional_pool_ops import fractional_max_pool_with_sequences
from miniflow.ops.rnn_cell_ops import lstm_block_cell
from tests.ops.op_specs import Case, OpSpec


def _distinct(rng, shape):
    """Values with gaps >= 0.05 (no ties inside a max-pool window)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.05 + rng.uniform(0, 0.01)).reshape(shape) - size * 0.025


@st.composite
def conv_case(draw, spatial, depthwise=False):
    """Input, filter (and output-gradient) shapes for one conv geometry."""
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    dilated = draw(st.booleans())
    ks = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    if dilated:
        strides, dilations = (1,) * spatial, tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    else:
        s = draw(st.integers(1, 2))
        strides = (
            (s,) * spatial if depthwise else tuple(draw(st.integers(1, 2)) for _ in range(spatial))
        )
        dilations = (1,) * spatial
    size = tuple(draw(st.integers(max(1, (k - 1) * d + 1), 4)) for k, d in zip(ks, dilations))
    c, m = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = (draw(st.integers(1, 2)),) + size + (c,)
    w = ks + (c, m)
    return Case(
        (x, w), {"strides": [1, *strides, 1], "dilations": [1, *dilations, 1], "padding": padding}
    )


@st.composite
def lstm_case(draw, peephole):
    """x, cs_prev, h_prev, w, b (and the three peephole vectors) for one fused LSTM step."""
    batch, inputs, units = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    shapes = ((batch, inputs), (batch, units), (batch, units), (inputs + units, 4 * units))
    shapes += ((4 * units,),) + ((units,),) * (3 if peephole else 0)
    return Case(shapes)


def _lstm_outputs(outputs):
    """cs and h with different weights: as in TF, the gradient of LSTMBlockCell takes only
    those two (i, f, o, ci and co are the cell's saved activations, not differentiated)."""
    cs, h = outputs[1], outputs[6]
    return tf.reduce_sum(cs) + 2.0 * tf.reduce_sum(h * h)


def _out_shape(x, w, kw, spatial, depthwise=False):
    outs = []
    for i in range(spatial):
        size, k = x[1 + i], w[i]
        s, d = kw["strides"][1 + i], kw["dilations"][1 + i]
        eff = (k - 1) * d + 1
        outs.append(-(-size // s) if kw["padding"] == "SAME" else (size - eff + s) // s)
    depth = w[-2] * w[-1] if depthwise else w[-1]
    return (x[0], *outs, depth)


def _backprop_case(spatial, depthwise=False):
    """Cases for the backprop ops: (filter, dy) or (input, dy) plus the other's shape."""

    def to(c):
        x, w = c.shapes
        dy = _out_shape(x, w, c.kwargs, spatial, depthwise)
        return Case((x, w, dy), c.kwargs)

    return conv_case(spatial, depthwise).map(to)


@st.composite
def pool3d_case(draw):
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    ks = tuple(draw(st.integers(1, 2)) for _ in range(3))
    strides = tuple(draw(st.integers(1, 2)) for _ in range(3))
    size = tuple(draw(st.integers(k, 3)) for k in ks)
    x = (draw(st.integers(1, 2)),) + size + (draw(st.integers(1, 2)),)
    return Case((x,), {"ksize": [1, *ks, 1], "strides": [1, *strides, 1], "padding": padding})


def _pool_out(x, kw):
    outs = []
    for i in range(3):
        size, k, s = x[1 + i], kw["ksize"][1 + i], kw["strides"][1 + i]
        outs.append(-(-size // s) if kw["padding"] == "SAME" else (size - k + s) // s)
    return (x[0], *outs, x[-1])


def _with_dy(c):
    return Case((c.shapes[0], _pool_out(c.shapes[0], c.kwargs)), c.kwargs)


def _pool_attrs(kw):
    return dict(
        ksize=tuple(kw["ksize"][1:4]), strides=tuple(kw["strides"][1:4]), padding=kw["padding"]
    )


@st.composite
def ctc_case(draw):
    """Logits [T, B, C] and per-row label sequences that fit in their lengths."""
    t, b, c = draw(st.integers(1, 4)), draw(st.integers(1, 2)), draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    seq_len = rng.integers(0, t + 1, size=b)
    indices, values = [], []
    for row in range(b):
        n = rng.integers(0, (seq_len[row] + 1) // 2 + 1)  # room for repeats
        for i in range(n):
            indices.append([row, i])
            values.append(int(rng.integers(0, c - 1)))
    return Case(
        ((t, b, c),),
        {
            "indices": np.asarray(indices, np.int64).reshape(-1, 2),
            "values": np.asarray(values, np.int32),
            "b": b,
            "seq_len": seq_len.astype(np.int32),
        },
    )


def _ctc(x, indices, values, b, seq_len):
    labels = tf.SparseTensor(indices, values, [b, max(len(values), 1)])
    return tf.nn.ctc_loss(labels, x, seq_len)


@st.composite
def dilation_case(draw):
    c = draw(conv_case(2))
    x, w = c.shapes
    kw = dict(strides=c.kwargs["strides"], rates=c.kwargs["dilations"], padding=c.kwargs["padding"])
    return Case((x, w[:3]), kw)


def _incommensurate(rng, shape, index):
    """Distinct values; the filter's gaps (0.01 * sqrt 2) never cancel the input's (0.05),
    so no two window sums tie."""
    step = 0.05 if index == 0 else 0.01 * np.sqrt(2)
    size = int(np.prod(shape))
    return (rng.permutation(size) * step).reshape(shape) - size * step / 2


_incommensurate.per_input = True


@st.composite
def argmax_pool_case(draw):
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    ks = [draw(st.integers(1, 2)) for _ in range(2)]
    strides = [draw(st.integers(1, 2)) for _ in range(2)]
    x = (
        draw(st.integers(1, 2)),
        draw(st.integers(ks[0], 4)),
        draw(st.integers(ks[1], 4)),
        draw(st.integers(1, 2)),
    )
    return Case(
        (x,),
        {
            "ksize": [1, *ks, 1],
            "strides": [1, *strides, 1],
            "padding": padding,
            "include_batch_in_index": draw(st.booleans()),
        },
    )


@st.composite
def fractional_case(draw):
    """An NHWC shape and region boundaries (sizes k or k + 1) along rows and columns."""
    x = (
        draw(st.integers(1, 2)),
        draw(st.integers(2, 5)),
        draw(st.integers(2, 5)),
        draw(st.integers(1, 2)),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    seqs = []
    for n in x[1:3]:
        out = int(rng.integers(1, n + 1))
        sizes = np.full(out, n // out)
        sizes[: n % out] += 1
        rng.shuffle(sizes)
        seqs.append(np.concatenate([[0], np.cumsum(sizes)]))
    return Case((x,), {"rows": seqs[0], "cols": seqs[1], "overlapping": draw(st.booleans())})


SPECS = [
    OpSpec("Conv3D", lambda x, w, **kw: tf.nn.conv3d(x, w, **kw), conv_case(3)),
    # the backprop ops take x (or w) only for its shape: its gradient is None, and its
    # finite differences are zero
    OpSpec(
        "Conv3DBackpropInputV2",
        lambda x, w, dy, **kw: tf.nn.conv3d_transpose(dy, w, tf.shape(x), **kw),
        _backprop_case(3),
    ),
    OpSpec(
        "Conv3DBackpropFilterV2",
        lambda x, w, dy, **kw: tf.nn.conv3d_backprop_filter(x, tf.shape(w), dy, **kw),
        _backprop_case(3),
    ),
    OpSpec(
        "DepthwiseConv2dNative",
        lambda x, w, **kw: tf.nn.depthwise_conv2d_native(x, w, **kw),
        conv_case(2, depthwise=True),
    ),
    OpSpec(
        "DepthwiseConv2dNativeBackpropInput",
        lambda x, w, dy, **kw: tf.nn.depthwise_conv2d_native_backprop_input(
            tf.shape(x), w, dy, **kw
        ),
        _backprop_case(2, True),
    ),
    OpSpec(
        "DepthwiseConv2dNativeBackpropFilter",
        lambda x, w, dy, **kw: tf.nn.depthwise_conv2d_native_backprop_filter(
            x, tf.shape(w), dy, **kw
        ),
        _backprop_case(2, True),
    ),
    OpSpec("MaxPool3D", lambda x, **kw: tf.nn.max_pool3d(x, **kw), pool3d_case(), _distinct),
    OpSpec(
        "MaxPool3DGrad",
        lambda x, dy, **kw: apply_op("MaxPool3DGrad", tf.stop_gradient(x), dy, **_pool_attrs(kw)),
        pool3d_case().map(_with_dy),
        _distinct,
    ),
    OpSpec(
        "MaxPool3DGradGrad",
        lambda x, g, **kw: apply_op("MaxPool3DGradGrad", tf.stop_gradient(x), g, **_pool_attrs(kw)),
        pool3d_case().map(lambda c: Case(c.shapes * 2, c.kwargs)),
        _distinct,
    ),
    OpSpec("AvgPool3D", lambda x, **kw: tf.nn.avg_pool3d(x, **kw), pool3d_case()),
    OpSpec(
        "AvgPool3DGrad",
        lambda x, dy, **kw: apply_op("AvgPool3DGrad", tf.shape(x), dy, **_pool_attrs(kw)),
        pool3d_case().map(_with_dy),
    ),
    # TF's CTCLoss has no second derivative either: its gradient is a second output
    OpSpec("CTCLoss", _ctc, ctc_case(), order=1),
    # TF registers no gradient for the Dilation2D backprop ops either
    OpSpec(
        "Dilation2D",
        lambda x, w, **kw: tf.nn.dilation2d(x, w, **kw),
        dilation_case(),
        _incommensurate,
        order=1,
    ),
    OpSpec(
        "MaxPoolWithArgmax",
        lambda x, **kw: tf.nn.max_pool_with_argmax(x, **kw)[0],
        argmax_pool_case(),
        _distinct,
    ),
    OpSpec(
        "ExtractVolumePatches",
        lambda x, **kw: tf.extract_volume_patches(x, kw["ksize"], kw["strides"], kw["padding"]),
        pool3d_case(),
    ),
    OpSpec(
        "ExtractVolumePatchesGrad",
        lambda x, g, **kw: apply_op("ExtractVolumePatchesGrad", g, tf.shape(x), **_pool_attrs(kw)),
        pool3d_case().map(
            lambda c: Case(
                (
                    c.shapes[0],
                    _pool_out(c.shapes[0], c.kwargs)[:4]
                    + (int(np.prod(c.kwargs["ksize"])) * c.shapes[0][4],),
                ),
                c.kwargs,
            )
        ),
    ),
    OpSpec(
        "LSTMBlockCell",
        lambda x, cs, h, w, b: _lstm_outputs(lstm_block_cell(x, cs, h, w, b)),
        lstm_case(False),
        order=1,  # its gradient is the fused LSTMBlockCellGrad, which TF does not differentiate
    ),
    OpSpec(
        "LSTMBlockCell",
        lambda x, cs, h, w, b, ci, cf, co: _lstm_outputs(
            lstm_block_cell(x, cs, h, w, b, ci, cf, co, forget_bias=0.5, use_peephole=True)
        ),
        lstm_case(True),
        order=1,
        label="peephole",
    ),
    OpSpec(
        "FractionalMaxPool",
        lambda x, rows, cols, overlapping: fractional_max_pool_with_sequences(
            x, rows, cols, overlapping
        ),
        fractional_case(),
        _distinct,
    ),
]

COVERED_OP_TYPES = {s.op_type for s in SPECS}
EAGER_PARITY = True
