"""THE gradient table: one row per registered differentiable op type.

Each `OpSpec` names the op type it covers, a graph function building it from float
placeholders, a hypothesis strategy drawing a `Case` (input shapes, including
broadcasting, plus any non-differentiable arguments such as axes, indices or masks), a
domain for the input values, and the derivative order to check. `test_op_gradients.py`
runs every row (of this table and of each per-area `op_specs_<area>.py` table of OpSpec
rows) through `miniflow.testing.check_grads`; `test_spec_coverage.py` fails when a
registered op with a gradient rule has no row in any table.

A per-area table may set, at module level: ``MAX_EXAMPLES`` (hypothesis examples per row,
default 10), ``SHAPE_MODES`` (placeholder shapes tried: a subset of ``("static",
"partial", "unknown")``; a row's ``shape_modes`` overrides it) and ``EAGER_PARITY`` (also
compare GradientTape in eager mode with `tf.gradients` in graph mode).

To add a row for a new op: append ``OpSpec("YourOpType", fn, case_strategy, domain)`` to
``SPECS`` below (see the existing rows of the same family for the shape strategies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

import miniflow as tf
from miniflow.extend import apply_op


@dataclass(frozen=True)
class Case:
    """One drawn instance: the shapes of the float inputs and the extra keyword args."""

    shapes: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OpSpec:
    """One row: ``fn(*inputs, **case.kwargs)`` must build (at least) one ``op_type`` op."""

    op_type: str
    fn: Callable
    cases: st.SearchStrategy
    domain: Callable = None  # domain(rng, shape) -> values; default uniform(-2, 2)
    order: int = 2
    dtype: type = np.float64
    tol: dict = field(default_factory=dict)  # eps / rtol / atol overrides
    label: str = ""
    shape_modes: tuple = None  # placeholder shapes to try; default: the table's SHAPE_MODES

    @property
    def id(self) -> str:
        return f"{self.op_type}-{self.label}" if self.label else self.op_type


# -- domains ------------------------------------------------------------------------------


def real(rng, shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def small(rng, shape):
    return rng.uniform(-1.0, 1.0, size=shape)


def with_zeros(rng, shape):
    """Mostly exact zeros (none, one or several per reduced slice)."""
    return np.where(rng.random(shape) < 0.4, 0.0, away_from_zero(rng, shape))


def per_input(*domains):
    """A different domain for each input (e.g. pow's positive base)."""

    def draw(rng, shape, index):
        return domains[index](rng, shape)

    draw.per_input = True
    return draw


# -- shape strategies ---------------------------------------------------------------------

dim = st.integers(1, 3)
shape_st = st.lists(dim, min_size=0, max_size=3).map(tuple)
nonscalar_st = st.lists(dim, min_size=1, max_size=3).map(tuple)


@st.composite
def broadcastable(draw, base):
    """A shape that broadcasts to ``base``: a suffix of it with some dims set to 1."""
    keep = draw(st.integers(0, len(base)))
    suffix = base[len(base) - keep :]
    return tuple(1 if draw(st.booleans()) else d for d in suffix)


@st.composite
def unary(draw, shapes=shape_st):
    return Case((draw(shapes),))


@st.composite
def binary_broadcast(draw):
    """Two shapes that broadcast together (either side may be the smaller one)."""
    base = draw(shape_st)
    a, b = draw(broadcastable(base)), draw(broadcastable(base))
    if draw(st.booleans()):
        a = base
    else:
        b = base
    return Case((a, b))


@st.composite
def reduction(draw):
    shape = draw(shape_st)
    axis = None
    if shape and draw(st.booleans()):
        axes = draw(
            st.lists(
                st.integers(-len(shape), len(shape) - 1),
                min_size=1,
                max_size=len(shape),
                unique_by=lambda a: a % len(shape),
            )
        )
        axis = axes[0] if len(axes) == 1 and draw(st.booleans()) else axes
    return Case((shape,), {"axis": axis, "keepdims": draw(st.booleans())})


@st.composite
def matmul_case(draw):
    m, k, n = draw(dim), draw(dim), draw(dim)
    batch = draw(st.lists(dim, max_size=2).map(tuple))
    ba, bb = draw(broadcastable(batch)), draw(broadcastable(batch))
    ba = batch if draw(st.booleans()) else ba
    ta, tb = draw(st.booleans()), draw(st.booleans())
    a = ba + ((k, m) if ta else (m, k))
    b = bb + ((n, k) if tb else (k, n))
    return Case((a, b), {"transpose_a": ta, "transpose_b": tb})


@st.composite
def same_shapes(draw, n_min=1, n_max=4):
    shape = draw(shape_st)
    return Case((shape,) * draw(st.integers(n_min, n_max)))


@st.composite
def concat_case(draw, n_min=2):
    shape = list(draw(nonscalar_st))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    shapes = []
    for _ in range(draw(st.integers(n_min, 3))):
        s = list(shape)
        s[axis] = draw(dim)
        shapes.append(tuple(s))
    return Case(tuple(shapes), {"axis": axis})


@st.composite
def axis_case(draw, shapes=nonscalar_st, extra=0):
    """A shape and a valid axis of it (``extra`` allows axes up to rank + extra - 1)."""
    shape = draw(shapes)
    r = len(shape) + extra
    return Case((shape,), {"axis": draw(st.integers(-r, r - 1))})


@st.composite
def broadcast_to_case(draw):
    target = draw(shape_st)
    return Case((draw(broadcastable(target)),), {"target": target})


@st.composite
def squeeze_case(draw):
    shape = list(draw(nonscalar_st))
    ones = draw(st.lists(st.integers(0, len(shape)), min_size=1, max_size=2))
    for i in sorted(ones):
        shape.insert(i, 1)
    explicit = draw(st.booleans())
    axis = [i for i, d in enumerate(shape) if d == 1] if explicit else None
    return Case((tuple(shape),), {"axis": axis})


@st.composite
def reshape_case(draw):
    shape = draw(shape_st)
    n = int(np.prod(shape))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    first = draw(st.sampled_from(divisors))
    target = [first, n // first]
    if draw(st.booleans()):
        target[draw(st.integers(0, 1))] = -1
    return Case((shape,), {"target": target})


@st.composite
def transpose_case(draw):
    shape = draw(shape_st)
    perm = draw(st.permutations(range(len(shape)))) if draw(st.booleans()) else None
    return Case((shape,), {"perm": perm})


@st.composite
def split_case(draw):
    c = draw(axis_case())
    shape, axis = c.shapes[0], c.kwargs["axis"]
    size = shape[axis]
    if draw(st.booleans()):
        return Case((shape,), {"splits": size, "axis": axis})
    cuts = sorted(draw(st.lists(st.integers(0, size), max_size=2)))
    sizes = list(np.diff([0, *cuts, size]))
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return Case((shape,), {"splits": [int(s) for s in sizes], "axis": axis})


@st.composite
def pad_case(draw):
    shape = draw(shape_st)
    pads = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in shape]
    return Case((shape,), {"paddings": pads})


@st.composite
def mirror_pad_case(draw):
    """Reflect pads at most d - 1 on each side of a dimension of size d; symmetric d."""
    mode = draw(st.sampled_from(["REFLECT", "SYMMETRIC"]))
    shape = draw(shape_st)
    most = [d - 1 if mode == "REFLECT" else d for d in shape]
    pads = [[draw(st.integers(0, m)), draw(st.integers(0, m))] for m in most]
    return Case((shape,), {"paddings": pads, "mode": mode})


def _mirror_pad_grad_case(c):
    padded = tuple(d + a + b for d, (a, b) in zip(c.shapes[0], c.kwargs["paddings"]))
    return Case((padded,), {"x_shape": c.shapes[0], **c.kwargs})


@st.composite
def tile_case(draw):
    shape = draw(shape_st)
    return Case((shape,), {"multiples": [draw(st.integers(1, 3)) for _ in shape]})


@st.composite
def slice_key(draw, shape):
    """A NumPy basic index for ``shape``: ints (also negative), strided slices, newaxis,
    ellipsis."""
    key, i = [], 0
    used_ellipsis = False
    while i < len(shape):
        kind = draw(st.sampled_from(["int", "slice", "slice", "newaxis", "ellipsis"]))
        n = shape[i]
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
            i += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 1, n + 1))
            stop = draw(st.none() | st.integers(-n - 1, n + 1))
            step = draw(st.none() | st.sampled_from([1, 2, -1, -2]))
            key.append(slice(start, stop, step))
            i += 1
        elif kind == "newaxis":
            key.append(None)
        elif not used_ellipsis:
            used_ellipsis = True
            key.append(Ellipsis)
            i = len(shape) - draw(st.integers(0, len(shape) - i))
    return tuple(key)


@st.composite
def getitem_case(draw):
    shape = draw(nonscalar_st)
    return Case((shape,), {"key": draw(slice_key(shape))})


@st.composite
def slice_case(draw):
    shape = draw(nonscalar_st)
    begin = [draw(st.integers(0, d - 1)) for d in shape]
    size = [
        draw(st.integers(1, d - b)) if draw(st.booleans()) else -1 for d, b in zip(shape, begin)
    ]
    return Case((shape,), {"begin": begin, "size": size})


@st.composite
def strided_slice_case(draw):
    shape = draw(nonscalar_st)
    begin = [draw(st.integers(-d, d - 1)) for d in shape]
    end = [draw(st.integers(-d - 1, d)) for d in shape]
    strides = [draw(st.sampled_from([1, 2, -1, -2])) for _ in shape]
    return Case((shape,), {"begin": begin, "end": end, "strides": strides})


@st.composite
def dynamic_index_case(draw):
    shape = draw(nonscalar_st)
    return Case((shape,), {"index": draw(st.integers(0, shape[0] - 1))})


@st.composite
def gather_case(draw):
    shape = draw(nonscalar_st)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    ishape = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    seed = draw(st.integers(0, 2**16))
    indices = np.random.default_rng(seed).integers(0, shape[axis], size=ishape)
    return Case((shape,), {"indices": indices, "axis": axis})


@st.composite
def select_case(draw):
    c = draw(binary_broadcast())
    out = np.broadcast_shapes(*c.shapes)
    cshape = draw(broadcastable(out))
    if out and draw(st.booleans()):  # TF1's row selection with a vector condition
        a, b = out, out
        cshape = (out[0],)
        c = Case((a, b))
    seed = draw(st.integers(0, 2**16))
    mask = np.random.default_rng(seed).random(cshape) < 0.5
    return Case(c.shapes, {"mask": mask})


@st.composite
def indexed_slices_case(draw):
    rows, ncols = draw(st.integers(1, 4)), draw(st.lists(dim, max_size=2).map(tuple))
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    idx = np.random.default_rng(seed).integers(0, rows, size=n)
    return Case(((n, *ncols),), {"indices": idx, "dense_shape": (rows, *ncols)})


# -- graph functions for the rows -----------------------------------------------------------


def _reduce(fn):
    return lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims)


def _ref(shape):
    """A float64 tensor whose only role is to supply a runtime shape."""
    return tf.zeros(shape, dtype=tf.float64)


def _reduce_axis(shape, axis):
    if axis is None:
        return None
    axes = [axis] if isinstance(axis, int) else axis
    return tuple(a % len(shape) for a in axes)


def _reduce_broadcast(g, full, axis, keepdims):
    return apply_op("ReduceBroadcast", g, _ref(full), axis=axis, keepdims=keepdims)


@st.composite
def reduce_broadcast_case(draw):
    c = draw(reduction())
    full = c.shapes[0]
    axis = _reduce_axis(full, c.kwargs["axis"])
    keep = c.kwargs["keepdims"]
    reduced = tuple(
        1 if axis is None or i in axis else d
        for i, d in enumerate(full)
        if keep or (axis is not None and i not in axis)
    )
    return Case((reduced,), {"full": full, "axis": axis, "keepdims": keep})


@st.composite
def unbroadcast_case(draw):
    c = draw(broadcast_to_case())
    return Case((c.kwargs["target"],), {"small": c.shapes[0]})


@st.composite
def split_like_case(draw):
    c = draw(concat_case(n_min=1))
    axis = c.kwargs["axis"] % len(c.shapes[0])
    total = list(c.shapes[0])
    total[axis] = sum(s[axis] for s in c.shapes)
    return Case((tuple(total),), {"pieces": c.shapes, "axis": axis})


@st.composite
def tile_grad_case(draw):
    c = draw(tile_case())
    big = tuple(d * m for d, m in zip(c.shapes[0], c.kwargs["multiples"]))
    return Case((big,), {"small": c.shapes[0], "multiples": c.kwargs["multiples"]})


@st.composite
def strided_slice_grad_case(draw):
    c = draw(getitem_case())
    out = np.zeros(c.shapes[0])[c.kwargs["key"]].shape
    return Case((out,), {"full": c.shapes[0], "key": c.kwargs["key"]})


@st.composite
def gather_grad_dense_case(draw):
    c = draw(gather_case())
    p, axis, idx = c.shapes[0], c.kwargs["axis"], c.kwargs["indices"]
    a = axis % len(p)
    g = p[:a] + idx.shape + p[a + 1 :]
    return Case((g,), {"params": p, "indices": idx, "axis": axis})


def _sin_grad(op, grad):
    return [grad * tf.cos(op.inputs[0])]


def _strided_slice_grad(g, full, key):
    spec = tuple(key)
    return apply_op("StridedSliceGrad", g, _ref(full), spec=spec)


SPECS: list[OpSpec] = [
    # binary element-wise, with broadcasting
    OpSpec("Add", lambda x, y: x + y, binary_broadcast()),
    OpSpec("Sub", lambda x, y: x - y, binary_broadcast()),
    OpSpec("Mul", lambda x, y: x * y, binary_broadcast()),
    OpSpec("RealDiv", lambda x, y: x / y, binary_broadcast(), per_input(real, away_from_zero)),
    OpSpec("FloorMod", lambda x, y: x % y, binary_broadcast(), per_input(real, away_from_zero)),
    OpSpec("Pow", lambda x, y: x**y, binary_broadcast(), per_input(positive, real)),
    OpSpec("Maximum", tf.maximum, binary_broadcast()),
    OpSpec("Minimum", tf.minimum, binary_broadcast()),
    OpSpec("SquaredDifference", tf.squared_difference, binary_broadcast()),
    # unary element-wise
    OpSpec("Neg", lambda x: -x, unary()),
    OpSpec("Abs", abs, unary(), away_from_zero),
    OpSpec("Square", tf.square, unary()),
    OpSpec("Sqrt", tf.sqrt, unary(), positive),
    OpSpec("Rsqrt", tf.rsqrt, unary(), positive),
    OpSpec("Reciprocal", tf.reciprocal, unary(), away_from_zero),
    OpSpec("Exp", tf.exp, unary()),
    OpSpec("Expm1", tf.expm1, unary()),
    OpSpec("Log", tf.log, unary(), positive),
    OpSpec("Log1p", tf.log1p, unary(), positive),
    OpSpec("Sigmoid", tf.sigmoid, unary()),
    OpSpec("Tanh", tf.tanh, unary()),
    OpSpec("Relu", tf.nn.relu, unary(), away_from_zero),
    OpSpec(
        "ReluGrad",
        lambda g, x: apply_op("ReluGrad", g, x),
        same_shapes(2, 2),
        per_input(real, away_from_zero),
    ),
    OpSpec("SigmoidGrad", lambda y, dy: apply_op("SigmoidGrad", y, dy), same_shapes(2, 2)),
    OpSpec("Sin", tf.sin, unary()),
    OpSpec("Cos", tf.cos, unary()),
    OpSpec("Tan", tf.tan, unary(), small),
    OpSpec("Sign", lambda x: tf.sign(x) * x, unary(), away_from_zero),
    OpSpec(
        "Fill",
        lambda x, dims: tf.fill(dims, x) * x,
        shape_st.map(lambda d: Case(((),), {"dims": list(d)})),
    ),
    OpSpec(
        "Cast",
        lambda x: tf.cast(x, tf.float32),
        unary(),
        order=1,
        tol={"eps": 1e-2, "rtol": 1e-3, "atol": 1e-4},
        label="to_float32",
    ),
    OpSpec("Identity", tf.identity, unary()),
    OpSpec(
        "PlaceholderWithDefault", lambda x: tf.placeholder_with_default(x, shape=None) * x, unary()
    ),
    # reductions
    OpSpec("Sum", _reduce(tf.reduce_sum), reduction()),
    OpSpec("Mean", _reduce(tf.reduce_mean), reduction()),
    OpSpec("Max", _reduce(tf.reduce_max), reduction()),
    OpSpec("Min", _reduce(tf.reduce_min), reduction()),
    OpSpec("Prod", _reduce(tf.reduce_prod), reduction(), away_from_zero),
    # prod is multilinear, so central differences are exact even at zeros; first order
    # only there (TF's own second derivative at zeros is not exact either)
    OpSpec("Prod", _reduce(tf.reduce_prod), reduction(), with_zeros, order=1, label="with_zeros"),
    OpSpec("AddN", lambda *xs: tf.add_n(list(xs)), same_shapes()),
    # matmul (transposes, batched with broadcast batch dims)
    OpSpec("MatMul", tf.matmul, matmul_case()),
    # shape manipulation
    OpSpec("Reshape", lambda x, target: tf.reshape(x, target), reshape_case()),
    OpSpec("ExpandDims", lambda x, axis: tf.expand_dims(x, axis), axis_case(shape_st, extra=1)),
    OpSpec("Squeeze", lambda x, axis: tf.squeeze(x, axis), squeeze_case()),
    OpSpec("Transpose", lambda x, perm: tf.transpose(x, perm), transpose_case()),
    OpSpec("BroadcastTo", lambda x, target: tf.broadcast_to(x, target), broadcast_to_case()),
    OpSpec("ConcatV2", lambda *xs, axis: tf.concat(list(xs), axis), concat_case()),
    OpSpec(
        "Pack",
        lambda *xs, axis: tf.stack(list(xs), axis),
        same_shapes(1, 3).flatmap(
            lambda c: st.integers(-len(c.shapes[0]) - 1, len(c.shapes[0])).map(
                lambda a: Case(c.shapes, {"axis": a})
            )
        ),
    ),
    OpSpec(
        "Unpack",
        lambda x, axis, num: tf.unstack(x, num=num, axis=axis),
        axis_case().map(
            lambda c: Case(c.shapes, {**c.kwargs, "num": c.shapes[0][c.kwargs["axis"]]})
        ),
    ),
    OpSpec("Split", lambda x, splits, axis: tf.split(x, splits, axis), split_case()),
    OpSpec("Pad", lambda x, paddings: tf.pad(x, paddings), pad_case()),
    OpSpec(
        "Pad",
        lambda x, paddings, mode: tf.pad(x, paddings, mode=mode),
        mirror_pad_case(),
        label="mirror",
    ),
    OpSpec(
        "MirrorPadGrad",
        lambda g, x_shape, paddings, mode: apply_op(
            "MirrorPadGrad", g, _ref(x_shape), paddings=tuple(map(tuple, paddings)), mode=mode
        ),
        mirror_pad_case().map(_mirror_pad_grad_case),
    ),
    OpSpec("Tile", lambda x, multiples: tf.tile(x, multiples), tile_case()),
    # slicing and selection
    OpSpec("StridedSlice", lambda x, key: x[key], getitem_case(), label="getitem"),
    OpSpec(
        "StridedSlice", lambda x, begin, size: tf.slice(x, begin, size), slice_case(), label="slice"
    ),
    OpSpec(
        "StridedSlice",
        lambda x, begin, end, strides: tf.strided_slice(x, begin, end, strides),
        strided_slice_case(),
        label="strided_slice",
    ),
    OpSpec(
        "StridedSlice",
        lambda x, index: x[tf.constant(index)] * x[index:],
        dynamic_index_case(),
        label="tensor_index",
    ),
    OpSpec("GatherV2", lambda x, indices, axis: tf.gather(x, indices, axis=axis), gather_case()),
    OpSpec("Select", lambda x, y, mask: tf.where_v2(mask, x, y), select_case()),  # broadcasts
    # user Python in the graph (script_ops): tf.Print is an identity on its first input;
    # py_func differentiates through the user's gradient function
    OpSpec("Print", lambda x: tf.Print(x, [x], "never printed: ", first_n=0) * x, unary()),
    OpSpec("PyFunc", lambda x: tf.py_func(np.sin, [x], tf.float64, grad=_sin_grad) * x, unary()),
    # gradient helper ops (they appear in gradient graphs; second order goes through them)
    OpSpec(
        "Unbroadcast", lambda g, small: apply_op("Unbroadcast", g, _ref(small)), unbroadcast_case()
    ),
    OpSpec(
        "BroadcastLike",
        lambda g, target: apply_op("BroadcastLike", g, _ref(target)),
        broadcast_to_case(),
    ),
    OpSpec("ReduceBroadcast", _reduce_broadcast, reduce_broadcast_case()),
    OpSpec(
        "MeanGrad",
        lambda g, full, axis, keepdims: apply_op(
            "MeanGrad", g, _ref(full), axis=axis, keepdims=keepdims
        ),
        reduce_broadcast_case(),
    ),
    OpSpec(
        "SplitLike",
        lambda g, pieces, axis: list(
            apply_op("SplitLike", g, *[_ref(p) for p in pieces], axis=axis, n=len(pieces))
        ),
        split_like_case(),
    ),
    OpSpec(
        "TileGrad",
        lambda g, small, multiples: apply_op(
            "TileGrad", g, _ref(small), tf.constant(multiples, dtype=tf.int32)
        ),
        tile_grad_case(),
    ),
    OpSpec("StridedSliceGrad", _strided_slice_grad, strided_slice_grad_case()),
    OpSpec(
        "GatherGradDense",
        lambda g, params, indices, axis: apply_op(
            "GatherGradDense", g, tf.constant(indices), _ref(params), axis=axis
        ),
        gather_grad_dense_case(),
    ),
    OpSpec(
        "IndexedSlicesToDense",
        lambda v, indices, dense_shape: apply_op(
            "IndexedSlicesToDense", v, tf.constant(indices), tf.constant(dense_shape)
        ),
        indexed_slices_case(),
    ),
]
