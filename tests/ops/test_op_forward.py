"""Forward values of every op against NumPy on random inputs (with broadcasting, axis and
keepdims variants, all slicing forms), plus the Python operators on Tensor and Variable.
Each fetched tensor's static shape and dtype are checked against its value too."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import miniflow as tf
from tests.ops import op_specs as specs
from tests.ops.helpers import assert_same, evaluate

FAST = settings(max_examples=10, deadline=None)


def rand(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(-3, 3, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    return rng.integers(-5, 6, size=shape).astype(dtype)


def nonzero(rng, shape, dtype):
    x = rand(rng, shape, dtype)
    return np.where(x == 0, np.ones((), dtype), x).astype(dtype)


# -- element-wise binary ops (functions and operators), with broadcasting ------------------


def floor_div(x, y):
    """TF's floor division: floor(x / y) for floats (rounded like x / y), exact for ints."""
    return np.floor(x / y).astype(x.dtype) if x.dtype.kind == "f" else np.floor_divide(x, y)


BINARY = [
    (tf.add, np.add, "fi", rand),
    (tf.subtract, np.subtract, "fi", rand),
    (tf.multiply, np.multiply, "fi", rand),
    (tf.maximum, np.maximum, "fi", rand),
    (tf.minimum, np.minimum, "fi", rand),
    (tf.squared_difference, lambda x, y: np.square(x - y), "fi", rand),
    (tf.floormod, np.mod, "fi", nonzero),
    (tf.mod, np.mod, "fi", nonzero),
    (tf.floordiv, floor_div, "fi", nonzero),
    (tf.realdiv, np.true_divide, "f", nonzero),
    (tf.equal, np.equal, "fi", rand),
    (tf.not_equal, np.not_equal, "fi", rand),
    (tf.less, np.less, "fi", rand),
    (tf.less_equal, np.less_equal, "fi", rand),
    (tf.greater, np.greater, "fi", rand),
    (tf.greater_equal, np.greater_equal, "fi", rand),
    (tf.logical_and, np.logical_and, "b", rand),
    (tf.logical_or, np.logical_or, "b", rand),
    (tf.logical_xor, np.logical_xor, "b", rand),
    (operator.add, np.add, "fi", rand),
    (operator.sub, np.subtract, "fi", rand),
    (operator.mul, np.multiply, "fi", rand),
    (operator.floordiv, floor_div, "fi", nonzero),
    (operator.mod, np.mod, "fi", nonzero),
    (operator.lt, np.less, "fi", rand),
    (operator.le, np.less_equal, "fi", rand),
    (operator.gt, np.greater, "fi", rand),
    (operator.ge, np.greater_equal, "fi", rand),
    (operator.and_, np.logical_and, "b", rand),
    (operator.or_, np.logical_or, "b", rand),
    (operator.xor, np.logical_xor, "b", rand),
]
DTYPES = {"f": [np.float16, np.float32, np.float64], "i": [np.int32, np.int64], "b": [np.bool_]}


@pytest.mark.parametrize(
    "tf_fn,np_fn,kinds,sampler",
    BINARY,
    ids=[f"{i}-{getattr(b[1], '__name__', 'ref')}" for i, b in enumerate(BINARY)],
)
@FAST
@given(case=specs.binary_broadcast(), seed=st.integers(0, 2**16), data=st.data())
def test_binary_ops_match_numpy(tf_fn, np_fn, kinds, sampler, case, seed, data):
    dtype = data.draw(st.sampled_from([d for k in kinds for d in DTYPES[k]]))
    rng = np.random.default_rng(seed)
    x, y = (rand(rng, case.shapes[0], dtype), sampler(rng, case.shapes[1], dtype))
    want = np_fn(x, y)
    assert_same(evaluate(tf_fn(tf.constant(x), tf.constant(y))), want)
    # a Python/NumPy operand takes the tensor's dtype
    assert_same(evaluate(tf_fn(tf.constant(x), y)), want)
    assert_same(evaluate(tf_fn(x, tf.constant(y))), want)


@FAST
@given(case=specs.binary_broadcast(), seed=st.integers(0, 2**16))
def test_pow_matches_numpy(case, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0.5, 2, case.shapes[0]), rng.uniform(-2, 2, case.shapes[1])
    assert_same(evaluate(tf.pow(x, y)), np.power(x, y))
    assert_same(evaluate(tf.constant(x) ** y), np.power(x, y))
    assert_same(evaluate(2.0 ** tf.constant(y)), np.power(2.0, y))
    xi = rng.integers(-3, 4, case.shapes[0]).astype(np.int32)
    assert_same(evaluate(tf.constant(xi) ** 2), xi**2)


def test_truediv_and_div_follow_tf1_dtypes():
    a, b = np.array([7, -7, 6], np.int32), np.array([2, 2, -4], np.int32)
    # int32 / int32 -> float64, as TF's truediv; tf.div on ints floors
    assert_same(evaluate(tf.truediv(a, b)), a / b)
    assert_same(evaluate(tf.divide(a, b)), a / b)
    assert_same(evaluate(tf.constant(a) / tf.constant(b)), a / b)
    assert_same(evaluate(tf.div(a, b)), np.floor_divide(a, b))
    f = np.array([7.0, -7.0], np.float32)
    assert_same(evaluate(tf.constant(f) / 2), f / np.float32(2))
    assert_same(evaluate(8 / tf.constant(f)), np.float32(8) / f)
    assert_same(evaluate(tf.div(f, 2.0)), f / np.float32(2))
    i16 = np.array([3, 4], np.int16)
    assert_same(evaluate(tf.truediv(i16, i16)), np.ones(2, np.float32))


def test_floor_division_and_mod_signs_follow_python():
    x = np.array([7, -7, 7, -7], np.int32)
    y = np.array([3, 3, -3, -3], np.int32)
    assert_same(evaluate(tf.constant(x) // y), x // y)
    assert_same(evaluate(tf.constant(x) % y), x % y)
    xf, yf = x.astype(np.float32), y.astype(np.float32)
    assert_same(evaluate(tf.constant(xf) // yf), xf // yf)
    assert_same(evaluate(tf.constant(xf) % yf), np.mod(xf, yf))


# -- unary ops --------------------------------------------------------------------------------

UNARY = [
    (tf.negative, np.negative, rand),
    (operator.neg, np.negative, rand),
    (tf.abs, np.abs, rand),
    (abs, np.abs, rand),
    (tf.sign, np.sign, rand),
    (tf.square, np.square, rand),
    (tf.sqrt, np.sqrt, lambda r, s, d: np.abs(rand(r, s, d))),
    (tf.rsqrt, lambda x: 1 / np.sqrt(x), lambda r, s, d: np.abs(nonzero(r, s, d))),
    (tf.reciprocal, np.reciprocal, nonzero),
    (tf.exp, np.exp, rand),
    (tf.expm1, np.expm1, rand),
    (tf.log, np.log, lambda r, s, d: np.abs(nonzero(r, s, d))),
    (tf.log1p, np.log1p, lambda r, s, d: np.abs(rand(r, s, d))),
    (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), rand),
    (tf.nn.sigmoid, lambda x: 1 / (1 + np.exp(-x)), rand),
    (tf.tanh, np.tanh, rand),
    (tf.nn.tanh, np.tanh, rand),
    (tf.nn.relu, lambda x: np.maximum(x, 0), rand),
    (tf.sin, np.sin, rand),
    (tf.cos, np.cos, rand),
    (tf.tan, np.tan, rand),
    (tf.floor, np.floor, rand),
    (tf.ceil, np.ceil, rand),
    (tf.round, np.round, rand),
    (tf.identity, lambda x: x, rand),
    (tf.stop_gradient, lambda x: x, rand),
    (tf.zeros_like, np.zeros_like, rand),
    (tf.ones_like, np.ones_like, rand),
]


@pytest.mark.parametrize(
    "tf_fn,np_fn,sampler",
    UNARY,
    ids=[f"{i}-{getattr(u[1], '__name__', 'ref')}" for i, u in enumerate(UNARY)],
)
@FAST
@given(
    case=specs.unary(),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
)
def test_unary_ops_match_numpy(tf_fn, np_fn, sampler, case, seed, dtype):
    x = sampler(np.random.default_rng(seed), case.shapes[0], dtype)
    with np.errstate(all="ignore"):
        want = np_fn(x.astype(np.float64)).astype(dtype)
    tol = 2e-3 if dtype == np.float16 else 1e-5
    assert_same(evaluate(tf_fn(tf.constant(x))), want, rtol=tol, atol=tol)


def test_integer_unary_ops_and_logical_not():
    x = np.array([-3, 0, 2], np.int32)
    assert_same(evaluate(-tf.constant(x)), -x)
    assert_same(evaluate(abs(tf.constant(x))), np.abs(x))
    assert_same(evaluate(tf.sign(x)), np.sign(x))
    assert_same(evaluate(tf.square(x)), x * x)
    b = np.array([True, False])
    assert_same(evaluate(tf.logical_not(b)), ~b)
    assert_same(evaluate(~tf.constant(b)), ~b)


def test_sigmoid_is_stable_for_large_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], np.float32)
    with np.errstate(over="ignore"):
        want = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    got = evaluate(tf.sigmoid(x))
    assert np.all(np.isfinite(got))
    assert_same(got, want)


# -- reductions -------------------------------------------------------------------------------

REDUCTIONS = [
    (tf.reduce_sum, np.sum),
    (tf.reduce_mean, np.mean),
    (tf.reduce_max, np.max),
    (tf.reduce_min, np.min),
    (tf.reduce_prod, np.prod),
]


@pytest.mark.parametrize("tf_fn,np_fn", REDUCTIONS, ids=[r[0].__name__ for r in REDUCTIONS])
@FAST
@given(
    case=specs.reduction(),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_reductions_match_numpy(tf_fn, np_fn, case, seed, dtype):
    x = rand(np.random.default_rng(seed), case.shapes[0], dtype)
    axis, keep = case.kwargs["axis"], case.kwargs["keepdims"]
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    want = np.asarray(np_fn(x, axis=np_axis, keepdims=keep), dtype=dtype)
    assert_same(evaluate(tf_fn(x, axis=axis, keepdims=keep)), want, rtol=1e-5)
    # TF1 spellings of the same arguments
    assert_same(evaluate(tf_fn(x, reduction_indices=axis, keep_dims=keep)), want, rtol=1e-5)


def test_integer_and_boolean_reductions():
    x = np.array([[1, 2, 4], [3, 5, 8]], np.int32)
    assert_same(evaluate(tf.reduce_sum(x, 1)), x.sum(1).astype(np.int32))
    # TF's integer mean truncates toward zero... of the integer sum divided by the count
    assert_same(evaluate(tf.reduce_mean(x)), np.int32(23 // 6))
    assert_same(evaluate(tf.reduce_mean(x, axis=0)), np.array([2, 3, 6], np.int32))
    # ... truncating toward zero, like C's integer division
    assert_same(evaluate(tf.reduce_mean(-x, axis=0)), np.array([-2, -3, -6], np.int32))
    assert_same(evaluate(tf.reduce_mean(np.array([-1, -2], np.int64))), np.int64(-1))
    assert_same(evaluate(tf.reduce_max(x, axis=[0, 1])), np.int32(8))
    b = x > 2
    assert_same(evaluate(tf.reduce_all(b, axis=0)), b.all(0))
    assert_same(evaluate(tf.reduce_any(b, axis=1, keepdims=True)), b.any(1, keepdims=True))


# -- matmul -----------------------------------------------------------------------------------


@FAST
@given(case=specs.matmul_case(), seed=st.integers(0, 2**16))
def test_matmul_matches_numpy(case, seed):
    rng = np.random.default_rng(seed)
    a, b = (rand(rng, s, np.float64) for s in case.shapes)
    ta, tb = case.kwargs["transpose_a"], case.kwargs["transpose_b"]
    want = np.matmul(np.swapaxes(a, -1, -2) if ta else a, np.swapaxes(b, -1, -2) if tb else b)
    assert_same(evaluate(tf.matmul(a, b, transpose_a=ta, transpose_b=tb)), want)
    if not ta and not tb:
        assert_same(evaluate(tf.constant(a) @ tf.constant(b)), want)
        assert_same(evaluate(a @ tf.constant(b)), want)


def test_add_n_and_clip_by_value():
    rng = np.random.default_rng(0)
    xs = [rand(rng, (2, 3), np.float32) for _ in range(3)]
    assert_same(evaluate(tf.add_n(xs)), xs[0] + xs[1] + xs[2])
    assert_same(evaluate(tf.add_n(xs[:1])), xs[0])
    with pytest.raises(ValueError):
        tf.add_n([])
    assert_same(evaluate(tf.clip_by_value(xs[0], -1.0, 0.5)), np.clip(xs[0], -1, 0.5))


# -- shapes ----------------------------------------------------------------------------------


@FAST
@given(case=specs.reshape_case(), seed=st.integers(0, 2**16))
def test_reshape(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    want = x.reshape(case.kwargs["target"])
    t = tf.reshape(x, case.kwargs["target"])
    assert t.shape.as_list() == list(want.shape)  # -1 resolved statically
    assert_same(evaluate(t), want)
    assert_same(evaluate(tf.reshape(x, tf.constant(case.kwargs["target"]))), want)


@FAST
@given(case=specs.transpose_case(), seed=st.integers(0, 2**16))
def test_transpose(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    assert_same(
        evaluate(tf.transpose(x, case.kwargs["perm"])), np.transpose(x, case.kwargs["perm"])
    )


@FAST
@given(case=specs.axis_case(specs.shape_st, extra=1))
def test_expand_dims(case):
    x = np.zeros(case.shapes[0], np.int32)
    assert_same(
        evaluate(tf.expand_dims(x, case.kwargs["axis"])), np.expand_dims(x, case.kwargs["axis"])
    )


@FAST
@given(case=specs.squeeze_case())
def test_squeeze(case):
    x = np.arange(np.prod(case.shapes[0])).reshape(case.shapes[0]).astype(np.float32)
    axis = case.kwargs["axis"]
    assert_same(evaluate(tf.squeeze(x, axis)), np.squeeze(x, None if axis is None else tuple(axis)))


def test_shape_size_rank():
    x = np.zeros((2, 3, 4), np.float32)
    assert_same(evaluate(tf.shape(x)), np.array([2, 3, 4], np.int32))
    assert_same(evaluate(tf.shape(x, out_type=tf.int64)), np.array([2, 3, 4], np.int64))
    assert_same(evaluate(tf.size(x)), np.int32(24))
    assert_same(evaluate(tf.rank(x)), np.int32(3))
    p = tf.placeholder(tf.float32, [None, 3])
    assert_same(evaluate(tf.shape(p), {p: np.zeros((5, 3))}), np.array([5, 3], np.int32))


@FAST
@given(case=specs.broadcast_to_case(), seed=st.integers(0, 2**16))
def test_broadcast_to(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    assert_same(
        evaluate(tf.broadcast_to(x, case.kwargs["target"])),
        np.broadcast_to(x, case.kwargs["target"]),
    )


# -- joining and splitting ----------------------------------------------------------------


@FAST
@given(case=specs.concat_case(), seed=st.integers(0, 2**16))
def test_concat(case, seed):
    rng = np.random.default_rng(seed)
    xs = [rand(rng, s, np.int32) for s in case.shapes]
    assert_same(
        evaluate(tf.concat(xs, case.kwargs["axis"])), np.concatenate(xs, case.kwargs["axis"])
    )


@FAST
@given(case=specs.same_shapes(1, 3), seed=st.integers(0, 2**16), data=st.data())
def test_stack_unstack(case, seed, data):
    rng = np.random.default_rng(seed)
    xs = [rand(rng, s, np.float32) for s in case.shapes]
    r = len(case.shapes[0])
    axis = data.draw(st.integers(-r - 1, r))
    stacked = np.stack(xs, axis)
    assert_same(evaluate(tf.stack(xs, axis)), stacked)
    parts = evaluate(tf.unstack(tf.constant(stacked), axis=axis))
    assert len(parts) == len(xs)
    for got, want in zip(parts, xs):
        assert_same(got, want)


@FAST
@given(case=specs.split_case(), seed=st.integers(0, 2**16))
def test_split(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    splits, axis = case.kwargs["splits"], case.kwargs["axis"]
    if isinstance(splits, int):
        want = np.split(x, splits, axis)
    else:
        sizes = list(splits)
        if -1 in sizes:
            sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
        want = np.split(x, np.cumsum(sizes)[:-1], axis)
    got = evaluate(tf.split(x, splits, axis))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_same(g, w)


# -- slicing -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(case=specs.getitem_case(), seed=st.integers(0, 2**16))
def test_getitem_matches_numpy_basic_indexing(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    key = case.kwargs["key"]
    assert_same(evaluate(tf.constant(x)[key]), x[key])


@FAST
@given(case=specs.getitem_case(), seed=st.integers(0, 2**16))
def test_getitem_with_tensor_indices(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    key = case.kwargs["key"]

    def as_tensor(k):
        if isinstance(k, int):
            return tf.constant(k)
        if isinstance(k, slice):
            return slice(
                *[None if v is None else tf.constant(v) for v in (k.start, k.stop, k.step)]
            )
        return k

    t = tf.placeholder(tf.float32, shape=None)
    assert_same(evaluate(t[tuple(as_tensor(k) for k in key)], {t: x}), x[key])


@FAST
@given(case=specs.slice_case(), seed=st.integers(0, 2**16))
def test_slice(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    begin, size = case.kwargs["begin"], case.kwargs["size"]
    want = x[tuple(slice(b, None if n == -1 else b + n) for b, n in zip(begin, size))]
    assert_same(evaluate(tf.slice(x, begin, size)), want)


@FAST
@given(case=specs.strided_slice_case(), seed=st.integers(0, 2**16))
def test_strided_slice(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    b, e, s = case.kwargs["begin"], case.kwargs["end"], case.kwargs["strides"]
    want = x[tuple(slice(*t) for t in zip(b, e, s))]
    assert_same(evaluate(tf.strided_slice(x, b, e, s)), want)


def test_getitem_on_variables_and_bad_indices():
    v = tf.Variable(np.arange(12.0).reshape(3, 4))
    assert_same(evaluate(v[1, ::-2]), np.arange(12.0).reshape(3, 4)[1, ::-2])
    assert_same(evaluate(v[tf.newaxis, ..., -1]), np.arange(12.0).reshape(3, 4)[None, ..., -1])
    with pytest.raises(TypeError):
        v[1.5]
    with pytest.raises(ValueError):
        tf.constant(np.zeros((2, 2)))[5]
    with pytest.raises(ValueError):
        tf.constant(np.zeros((2, 2)))[0, 0, 0]


# -- gather, tile, pad, one_hot -----------------------------------------------------------


@FAST
@given(case=specs.gather_case(), seed=st.integers(0, 2**16))
def test_gather(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.float32)
    idx, axis = case.kwargs["indices"], case.kwargs["axis"]
    assert_same(evaluate(tf.gather(x, idx, axis=axis)), np.take(x, idx, axis=axis))
    assert_same(
        evaluate(tf.gather(x, tf.constant(idx.astype(np.int32)), axis=axis)),
        np.take(x, idx, axis=axis),
    )


def test_gather_from_variable_and_out_of_range():
    v = tf.Variable(np.arange(6.0).reshape(3, 2))
    assert_same(evaluate(tf.gather(v, [2, 0])), np.arange(6.0).reshape(3, 2)[[2, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        evaluate(tf.gather(tf.constant([1, 2]), [3]))


@FAST
@given(case=specs.tile_case(), seed=st.integers(0, 2**16))
def test_tile(case, seed):
    x = rand(np.random.default_rng(seed), case.shapes[0], np.int32)
    assert_same(
        evaluate(tf.tile(x, case.kwargs["multiples"])), np.tile(x, case.kwargs["multiples"])
    )


@FAST
@given(
    case=specs.pad_case(),
    seed=st.integers(0, 2**16),
    mode=st.sampled_from(["CONSTANT", "REFLECT", "SYMMETRIC", "constant"]),
)
def test_pad(case, seed, mode):
    shape = tuple(d + 2 for d in case.shapes[0])  # reflect needs dims larger than pads
    x = rand(np.random.default_rng(seed), shape, np.float32)
    p = case.kwargs["paddings"]
    if mode.upper() == "CONSTANT":
        want = np.pad(x, p, constant_values=3) if shape else x
        assert_same(evaluate(tf.pad(x, p, mode=mode, constant_values=3)), want)
    else:
        want = np.pad(x, p, mode=mode.lower()) if shape else x
        assert_same(evaluate(tf.pad(x, p, mode=mode)), want)


def test_one_hot():
    idx = np.array([[0, 2], [1, -1]], np.int32)
    eye = np.eye(3, dtype=np.float32)
    want = np.where(idx[..., None] >= 0, eye[np.clip(idx, 0, 2)], 0).astype(np.float32)
    assert_same(evaluate(tf.one_hot(idx, 3)), want)
    assert_same(evaluate(tf.one_hot(idx, 3, axis=0)), np.moveaxis(want, -1, 0))
    assert_same(
        evaluate(tf.one_hot(idx, 3, on_value=5, off_value=-1, dtype=tf.int32)),
        np.where(want == 1, 5, -1).astype(np.int32),
    )
    assert_same(evaluate(tf.one_hot([4, 1], 3)), np.array([[0, 0, 0], [0, 1, 0]], np.float32))
    # without dtype, TF takes it from on_value / off_value
    assert_same(evaluate(tf.one_hot([1], 2, on_value=5)), np.array([[0, 5]], np.int32))
    assert_same(evaluate(tf.one_hot([1], 2, off_value=-1.0)), np.array([[-1, 1]], np.float32))


# -- cast, argmax, where, fill, range --------------------------------------------------------


def test_cast():
    x = np.array([1.7, -1.7, 0.0, 2.5], np.float32)
    assert_same(evaluate(tf.cast(x, tf.int32)), x.astype(np.int32))  # truncation
    assert_same(evaluate(tf.cast(x, tf.bool)), x.astype(bool))
    assert_same(evaluate(tf.cast(x, tf.float64)), x.astype(np.float64))
    assert_same(evaluate(tf.cast([True, False], tf.float32)), np.array([1, 0], np.float32))
    assert_same(evaluate(tf.to_int64(x)), x.astype(np.int64))
    assert_same(evaluate(tf.to_float(np.array([1, 2]))), np.array([1, 2], np.float32))
    assert_same(evaluate(tf.to_double(x)), x.astype(np.float64))
    assert_same(evaluate(tf.to_int32(x)), x.astype(np.int32))


@FAST
@given(case=specs.axis_case(), seed=st.integers(0, 2**16))
def test_argmax_argmin(case, seed):
    x = (
        np.random.default_rng(seed)
        .permutation(int(np.prod(case.shapes[0])))
        .reshape(case.shapes[0])
        .astype(np.float32)
    )
    axis = case.kwargs["axis"]
    assert_same(evaluate(tf.argmax(x, axis)), np.argmax(x, axis).astype(np.int64))
    assert_same(evaluate(tf.argmin(x, axis)), np.argmin(x, axis).astype(np.int64))
    assert_same(
        evaluate(tf.argmax(x, axis, output_type=tf.int32)), np.argmax(x, axis).astype(np.int32)
    )
    assert_same(evaluate(tf.argmax(x)), np.argmax(x, 0).astype(np.int64))  # TF1 default axis


@FAST
@given(case=specs.select_case(), seed=st.integers(0, 2**16))
def test_where_select(case, seed):
    rng = np.random.default_rng(seed)
    x, y = (rand(rng, s, np.float32) for s in case.shapes)
    mask = case.kwargs["mask"]
    out = np.broadcast_shapes(x.shape, y.shape)
    rows = mask.ndim == 1 and len(out) > 1 and mask.shape[0] == out[0]  # TF1: row selection
    if rows:
        want = np.where(mask.reshape((-1,) + (1,) * (len(out) - 1)), x, y)
    else:
        want = np.where(mask, x, y)
    # TF1 where: no broadcasting (a mask of x's shape, or one entry per row, as TF's Select)
    tf1 = x.shape == y.shape and (rows or mask.shape == x.shape)
    where = tf.where if tf1 else tf.where_v2
    assert_same(evaluate(where(mask, x, y)), want)


def test_where_indices_and_boolean_mask():
    c = np.array([[True, False], [False, True], [True, True]])
    # the number of true elements is known only at run time
    assert_same(evaluate(tf.where(c), exact_shapes=False), np.argwhere(c).astype(np.int64))
    x = np.arange(3.0)
    assert_same(evaluate(tf.boolean_mask(x, [True, False, True]), exact_shapes=False), x[[0, 2]])
    with pytest.raises(ValueError):
        tf.where(c, x)


def test_fill_zeros_ones():
    assert_same(evaluate(tf.fill([2, 3], 7)), np.full((2, 3), 7, np.int32))
    assert_same(evaluate(tf.fill(tf.constant([2]), 1.5)), np.full((2,), 1.5, np.float32))
    assert_same(evaluate(tf.zeros([2, 3])), np.zeros((2, 3), np.float32))
    assert_same(evaluate(tf.ones((2,), tf.int64)), np.ones(2, np.int64))
    p = tf.placeholder(tf.int32, [2])
    assert_same(evaluate(tf.zeros(p, tf.float64), {p: [1, 2]}), np.zeros((1, 2)))
    assert_same(evaluate(tf.ones_like(np.zeros((2, 1), np.int32))), np.ones((2, 1), np.int32))
    assert_same(evaluate(tf.zeros_like(np.ones(3), dtype=tf.int32)), np.zeros(3, np.int32))


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((5,), {}),
        ((2, 7), {}),
        ((2, 9, 3), {}),
        ((9, 2, -2), {}),
        ((0.5, 2.0, 0.25), {}),
        ((3,), {"dtype": tf.float64}),
        ((1, 10, 4), {"dtype": tf.int64}),
        ((5, 2), {}),
    ],
)
def test_range(args, kwargs):
    want = np.arange(
        *args,
        dtype=kwargs.get(
            "dtype", tf.float32 if any(isinstance(a, float) for a in args) else tf.int32
        ).np,
    )
    assert_same(evaluate(tf.range(*args, **kwargs)), want)


def test_range_from_tensors():
    n = tf.placeholder(tf.int32, [])
    assert_same(evaluate(tf.range(n), {n: 4}), np.arange(4, dtype=np.int32))
    assert_same(evaluate(tf.range(tf.constant(1.0), 3)), np.arange(1, 3, dtype=np.float32))


# -- constants --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,dtype,shape,want",
    [
        (3, None, None, np.int32(3)),
        (3.0, None, None, np.float32(3)),
        ([[1, 2], [3, 4]], None, None, np.array([[1, 2], [3, 4]], np.int32)),
        ([1, 2], tf.float64, None, np.array([1.0, 2.0])),
        (np.arange(3, dtype=np.int64), None, None, np.arange(3, dtype=np.int64)),
        (7, tf.float32, [2, 2], np.full((2, 2), 7, np.float32)),
        ([1, 2, 3, 4], None, [2, 2], np.array([[1, 2], [3, 4]], np.int32)),
        (True, None, None, np.bool_(True)),
        (2**40, None, None, np.int64(2**40)),
        (np.float16(1.5), None, None, np.float16(1.5)),
        (np.uint8(7), None, None, np.uint8(7)),
        ([1, 2], tf.int8, None, np.array([1, 2], np.int8)),
        ([1, 2], tf.int16, None, np.array([1, 2], np.int16)),
    ],
)
def test_constant(value, dtype, shape, want):
    t = tf.constant(value, dtype=dtype, shape=shape)
    assert_same(evaluate(t), want)


def test_string_placeholders_and_comparisons():
    p = tf.placeholder(tf.string, [None])
    with tf.Session() as sess:
        got = sess.run(p, {p: ["x", "yy"]})
        assert list(got) == [b"x", b"yy"]  # fed str comes back as bytes, as in TF
        np.testing.assert_array_equal(sess.run(tf.equal(p, "yy"), {p: ["x", "yy"]}), [False, True])


def test_string_constants():
    t = tf.constant(["ab", "c"])
    assert t.dtype == tf.string
    got = evaluate(t)
    assert list(got) == [b"ab", b"c"]
    assert evaluate(tf.constant("x")) == b"x"


def test_constant_conversion_errors():
    with pytest.raises(TypeError):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(TypeError):
        tf.constant("a", dtype=tf.float32)
    with pytest.raises(ValueError, match="Too many elements"):
        tf.constant([1, 2, 3], shape=[2])
    with pytest.raises(TypeError):
        tf.constant([1, 2], shape=[2, 2], verify_shape=True)


# -- operators on Variables -------------------------------------------------------------------

OPERATORS = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.floordiv,
    operator.mod,
    operator.pow,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
]


@pytest.mark.parametrize("op", OPERATORS, ids=[o.__name__ for o in OPERATORS])
def test_python_operators_on_variables(op):
    a = np.array([[1.5, -2.0], [3.0, 0.5]], np.float32)
    b = np.array([0.5, 2.0], np.float32)
    v = tf.Variable(a)
    w = tf.Variable(b)
    want = op(a, b)
    assert_same(evaluate(op(v, w)), want, rtol=1e-5)
    assert_same(evaluate(op(v, b)), want, rtol=1e-5)
    assert_same(evaluate(op(a, w)), want, rtol=1e-5)  # reflected, from a NumPy array
    assert_same(evaluate(op(v, tf.constant(b))), want, rtol=1e-5)


def test_unary_and_matmul_operators_on_variables():
    a = np.array([[1.5, -2.0], [3.0, 0.5]], np.float32)
    v = tf.Variable(a)
    assert_same(evaluate(-v), -a)
    assert_same(evaluate(abs(v)), np.abs(a))
    assert_same(evaluate(v @ v), a @ a)
    assert_same(evaluate(a @ v), a @ a)
    assert_same(evaluate(v[:, 0]), a[:, 0])
    bv = tf.Variable([True, False])
    assert_same(evaluate(~bv), np.array([False, True]))
    assert_same(evaluate(bv & [True, True]), np.array([True, False]))
    assert_same(evaluate(bv | [False, True]), np.array([True, True]))


def test_equality_operator_stays_identity_as_in_tf1():
    t = tf.constant(1)
    assert (t == t) is True
    assert (t == tf.constant(1)) is False
    assert len({t, t}) == 1


def test_mixed_dtypes_are_rejected():
    with pytest.raises(TypeError, match="int32 that does not match type float32"):
        tf.constant(1.0) + tf.constant(1)
    with pytest.raises(TypeError):
        tf.add(tf.constant([1.0], tf.float64), tf.constant([1.0], tf.float32))
    with pytest.raises(TypeError):
        tf.constant(1) + 1.5  # a literal that int32 cannot hold


def test_strided_slice_masks_follow_tf():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = tf.constant(x)
    cases = [
        (
            dict(
                begin=[1, 0, 0], end=[2, 2, 3], strides=[1, 1, 1], begin_mask=0b010, end_mask=0b100
            ),
            x[1:2, :2, 0:],
        ),
        (
            dict(
                begin=[1, 0, 1],
                end=[0, 0, 3],
                strides=[1, 1, 2],
                shrink_axis_mask=0b001,
                begin_mask=0b010,
                end_mask=0b010,
            ),
            x[1, :, 1:3:2],
        ),
        (dict(begin=[0, 1], end=[0, 3], strides=[1, 1], ellipsis_mask=0b01), x[..., 1:3]),
        (
            dict(
                begin=[0, 0, 0],
                end=[0, 2, 0],
                strides=[1, 1, 1],
                new_axis_mask=0b001,
                end_mask=0b100,
            ),
            x[None, 0:2, :],
        ),
        (dict(begin=[-1], end=[0], strides=[-1], end_mask=1), x[::-1]),
    ]
    for kwargs, want in cases:
        assert_same(evaluate(tf.strided_slice(t, **kwargs)), want)
    i = tf.placeholder(tf.int32, [])
    assert_same(evaluate(tf.strided_slice(t, [i, 0], [i + 1, 2], [1, 1]), {i: 1}), x[1:2, 0:2])
    with pytest.raises(ValueError, match="same length"):
        tf.strided_slice(t, [0, 0], [1], [1])


def test_slice_and_tile_with_tensor_arguments():
    x = np.arange(12.0).reshape(3, 4)
    t = tf.placeholder(tf.float64, [None, 4])
    b = tf.placeholder(tf.int32, [2])
    n = tf.placeholder(tf.int32, [2])
    feed = {t: x, b: [1, 1], n: [-1, 2]}
    assert_same(evaluate(tf.slice(t, b, n), feed), x[1:, 1:3])
    assert_same(evaluate(tf.slice(t, [0, b[1]], [2, -1]), feed), x[0:2, 1:])
    rows = tf.shape(t)[0]
    tiled = tf.tile(tf.constant([[1.0, 2.0]]), [rows, 1])
    assert tiled.shape.as_list() == [None, 2]
    assert_same(evaluate(tiled, feed), np.tile(np.float32([[1.0, 2.0]]), (3, 1)))
    assert_same(evaluate(tf.tile(t, tf.constant([1, 2])), feed), np.tile(x, (1, 2)))
    assert tf.tile(tf.zeros([2, 3]), [2, 1]).shape.as_list() == [4, 3]


def test_float_predicates():
    x = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    assert_same(evaluate(tf.is_nan(x)), np.isnan(x))
    assert_same(evaluate(tf.is_inf(x)), np.isinf(x))
    assert_same(evaluate(tf.is_finite(x)), np.isfinite(x))


@pytest.mark.parametrize(
    "build,error,match",
    [
        (lambda: tf.logical_and(tf.constant([1, 0]), tf.constant([1, 1])), TypeError, "bool"),
        (lambda: tf.constant([1, 2]) & tf.constant([1, 0]), TypeError, "bool"),
        (lambda: ~tf.constant([1.0]), TypeError, "bool"),
        (lambda: tf.gather(tf.zeros([3]), tf.constant([0.0])), TypeError, "indices"),
        (lambda: tf.reshape(tf.zeros([2, 3]), [-1, -1]), ValueError, "only one dimension"),
        (lambda: tf.reshape(tf.zeros([2, 3]), [-1, 4]), ValueError, "multiple of 4"),
    ],
)
def test_invalid_arguments_fail_at_construction(build, error, match):
    with pytest.raises(error, match=match):
        build()
