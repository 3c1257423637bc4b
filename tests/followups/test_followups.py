"""Cross-area follow-ups of issue 13. Expected values were obtained from real TensorFlow
(tensorflow.compat.v1, graph and eager mode) and written in here."""

import numpy as np
import pytest

import miniflow as tf
from tests.ops.helpers import evaluate

MODES = ["graph", "eager"]


def _run(mode, fn):
    """``fn()`` built and run in ``mode``; the value(s) as NumPy (ragged: to_list)."""
    if mode == "eager":
        with tf.eager_mode():
            out = fn()
            value = [_eager_value(o) for o in out] if isinstance(out, tuple) else _eager_value(out)
            return out, value
    out = fn()
    with tf.Session() as sess:
        return out, sess.run(out)


def _eager_value(t):
    return t.to_list() if isinstance(t, tf.RaggedTensor) else np.asarray(t)


# -- 1. convert_to_tensor(dtype_hint=...) ------------------------------------------------

# (value builder, hint, TF's dtype and shape: the same in graph and eager mode)
HINT_CASES = [
    (lambda: [0.0, 1.0], tf.int64, tf.float32, (2,)),
    (lambda: 1.0, tf.int32, tf.float32, ()),
    (lambda: 1.5, tf.int32, tf.float32, ()),
    (lambda: [1, 2], tf.float32, tf.float32, (2,)),
    (lambda: [1, 2], tf.int64, tf.int64, (2,)),
    (lambda: [1, 2.5], tf.int32, tf.float32, (2,)),
    (lambda: 1, tf.bool, tf.int32, ()),
    (lambda: True, tf.int32, tf.int32, ()),
    (lambda: [True], tf.float32, tf.float32, (1,)),
    (lambda: 1j, tf.float32, tf.complex128, ()),
    (lambda: 1.0, tf.complex64, tf.complex64, ()),
    (lambda: [1], tf.string, tf.int32, (1,)),
    (lambda: "a", tf.float32, tf.string, ()),
    (lambda: [], tf.int64, tf.int64, (0,)),
    (lambda: np.array([1.5]), tf.int32, tf.int32, (1,)),
    (lambda: np.float32(1.0), tf.int32, tf.int32, ()),
    (lambda: [np.float32(1.0)], tf.int32, tf.float32, (1,)),
    (lambda: tf.constant(1), tf.int64, tf.int32, ()),
    (lambda: [tf.constant(1.5), tf.constant(2.0)], tf.int32, tf.int32, (2,)),
    (lambda: [tf.constant(1), 2], tf.float32, tf.float32, (2,)),
    (lambda: [tf.constant(1), 2.5], tf.float32, tf.float32, (2,)),
    (lambda: [tf.constant(1), 2], tf.int64, tf.int64, (2,)),
    (lambda: [tf.constant(1.0), 2.0], tf.int32, tf.float32, (2,)),
    (lambda: [tf.constant(1), tf.constant(2, tf.int64)], tf.int64, tf.int64, (2,)),
    (lambda: [[tf.constant(1)], [2]], tf.int64, tf.int64, (2, 1)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", range(len(HINT_CASES)))
def test_convert_to_tensor_dtype_hint_follows_tf(mode, case):
    value, hint, dtype, shape = HINT_CASES[case]
    t, v = _run(mode, lambda: tf.convert_to_tensor(value(), dtype_hint=hint))
    assert t.dtype == dtype and tuple(t.shape.as_list()) == shape
    assert np.asarray(v).shape == shape


@pytest.mark.parametrize("mode", MODES)
def test_convert_to_tensor_hint_values_and_preferred_dtype(mode):
    t, v = _run(mode, lambda: tf.convert_to_tensor([tf.constant(1.7), 2], dtype_hint="int32"))
    assert t.dtype == tf.int32 and v.tolist() == [1, 2]  # TF casts the tensor (truncates)
    t, v = _run(mode, lambda: tf.convert_to_tensor(np.array([1.7, -1.7]), preferred_dtype=tf.int32))
    assert t.dtype == tf.int32 and v.tolist() == [1, -1]
    t, v = _run(mode, lambda: tf.convert_to_tensor([0.0, 1.0], preferred_dtype=tf.int64))
    assert t.dtype == tf.float32 and v.tolist() == [0.0, 1.0]


def test_convert_to_tensor_dtype_still_wins_over_hint():
    assert tf.convert_to_tensor([1, 2], dtype=tf.float64, dtype_hint=tf.int64).dtype == tf.float64


# -- 2. searchsorted on empty inputs -----------------------------------------------------

# (sorted shape, values shape): TF's result is all zeros of the values' shape
EMPTY_OK = [
    ((0,), (3,)),
    ((3,), (0,)),
    ((0,), (0,)),
    ((2, 0), (2, 3)),
    ((2, 3), (2, 0)),
    ((0, 3), (0, 2)),
    ((2, 0), (2, 0)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("shapes", EMPTY_OK)
def test_searchsorted_empty_inputs(mode, side, shapes):
    s, v = shapes
    seq = np.arange(int(np.prod(s)), dtype=np.float32).reshape(s)
    t, out = _run(mode, lambda: tf.searchsorted(seq, np.ones(v, np.float32), side=side))
    assert t.dtype == tf.int32 and out.dtype == np.int32
    np.testing.assert_array_equal(out, np.zeros(v, np.int32))


def test_searchsorted_empty_matches_numpy_rowwise_and_rejects_row_mismatch():
    seq = np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], np.float32)
    vals = np.array([[0.0, 3.0, 9.0], [4.0, 5.0, 1.0]], np.float32)
    got = evaluate(tf.searchsorted(seq, vals, side="right"))
    np.testing.assert_array_equal(got, [np.searchsorted(a, b, "right") for a, b in zip(seq, vals)])
    # TF: (0, 0) vs (0, 4) -> "Leading dim_size of both tensors must match."
    bad = tf.searchsorted(np.zeros((0, 0), np.float32), np.zeros((0, 4), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Leading dim_size"):
        evaluate(bad)


# -- 3. Dataset.element_spec -------------------------------------------------------------


def _spec_cases():
    sp = tf.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0], [3, 4])
    return {
        "scalar": (tf.data.Dataset.range(3), "TensorSpec(shape=(), dtype=tf.int64, name=None)"),
        "tuple": (
            tf.data.Dataset.from_tensor_slices((np.zeros((4, 2), np.float32), np.arange(4))),
            "(TensorSpec(shape=(2,), dtype=tf.float32, name=None), "
            "TensorSpec(shape=(), dtype=tf.int64, name=None))",
        ),
        "dict": (
            tf.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [[1.0], [2.0]]}).batch(2),
            "{'a': TensorSpec(shape=(None,), dtype=tf.int32, name=None), "
            "'b': TensorSpec(shape=(None, 1), dtype=tf.float32, name=None)}",
        ),
        "str": (
            tf.data.Dataset.from_tensors(["a"]),
            "TensorSpec(shape=(1,), dtype=tf.string, name=None)",
        ),
        "window": (
            tf.data.Dataset.range(5).window(2),
            "DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))",
        ),
        # TF knows the dense shape statically: SparseTensorSpec(TensorShape([3, 4]), ...);
        # miniflow's datasets know the rank only (docs/data.md).
        "sparse": (
            tf.data.Dataset.from_tensors(sp),
            "SparseTensorSpec(TensorShape([None, None]), tf.float32)",
        ),
        "sparse_batch": (
            tf.data.Dataset.from_tensors(sp).batch(2),
            "SparseTensorSpec(TensorShape([None, None, None]), tf.float32)",
        ),
    }


@pytest.mark.parametrize(
    "name", ["scalar", "tuple", "dict", "str", "window", "sparse", "sparse_batch"]
)
def test_element_spec_is_tf_type_spec(name):
    ds, want = _spec_cases()[name]
    spec = ds.element_spec
    assert repr(spec) == want
    assert spec == tf.data.experimental.get_structure(ds)
    for leaf in tf.nest.flatten(spec):
        assert isinstance(leaf, tf.TypeSpec)


def test_element_spec_classes_and_equality():
    ds = tf.data.Dataset.from_tensor_slices((np.zeros((4, 2), np.float32), np.arange(4)))
    x, y = ds.element_spec
    assert type(x) is tf.TensorSpec and x == tf.TensorSpec([2], tf.float32)
    assert y.shape.as_list() == [] and y.dtype == tf.int64 and y.name is None
    sp = tf.data.Dataset.from_tensors(tf.SparseTensor([[0]], [1], [2])).element_spec
    assert type(sp) is tf.SparseTensorSpec and sp.dtype == tf.int32
    assert (
        repr(tf.SparseTensorSpec(None, tf.float32))
        == "SparseTensorSpec(TensorShape(None), tf.float32)"
    )  # TF's repr


# -- 4. string splitters returning RaggedTensor (tf.compat.v1 behaviour) -----------------

WORDS = ["a b", "h\u00e9llo", ""]


@pytest.mark.parametrize("mode", MODES)
def test_strings_split_result_type(mode):
    t, v = _run(mode, lambda: tf.strings.split(WORDS))
    assert isinstance(t, tf.SparseTensor)  # compat.v1 default: 'SparseTensor'
    t, v = _run(mode, lambda: tf.strings.split(WORDS, result_type="RaggedTensor"))
    assert isinstance(t, tf.RaggedTensor) and t.dtype == tf.string
    assert _rows(v) == [[b"a", b"b"], ["h\u00e9llo".encode()], []]
    t, v = _run(mode, lambda: tf.strings.split("a b", result_type="RaggedTensor"))
    assert _rows(v) == [[b"a", b"b"]]  # TF: a scalar gives one row
    t, v = _run(mode, lambda: tf.string_split(WORDS, result_type="RaggedTensor"))
    assert isinstance(t, tf.RaggedTensor) and _rows(v) == [
        [b"a", b"b"],
        ["h\u00e9llo".encode()],
        [],
    ]
    t, v = _run(mode, lambda: tf.string_split(WORDS))
    assert isinstance(t, tf.SparseTensor)


def _rows(v):
    return v if isinstance(v, list) else v.to_list()


@pytest.mark.parametrize("mode", MODES)
def test_bytes_and_unicode_split_give_ragged(mode):
    t, v = _run(mode, lambda: tf.strings.bytes_split(WORDS))
    assert isinstance(t, tf.RaggedTensor)
    assert _rows(v) == [[b"a", b" ", b"b"], [b"h", b"\xc3", b"\xa9", b"l", b"l", b"o"], []]
    t, v = _run(mode, lambda: tf.strings.bytes_split("ab"))
    assert not isinstance(t, tf.RaggedTensor) and list(v) == [b"a", b"b"]
    t, v = _run(mode, lambda: tf.strings.unicode_decode(WORDS, "UTF-8"))
    assert isinstance(t, tf.RaggedTensor) and t.dtype == tf.int32
    assert _rows(v) == [[97, 32, 98], [104, 233, 108, 108, 111], []]
    t, v = _run(mode, lambda: tf.strings.unicode_split(WORDS, "UTF-8"))
    assert _rows(v) == [[b"a", b" ", b"b"], [b"h", b"\xc3\xa9", b"l", b"l", b"o"], []]
    t, v = _run(mode, lambda: tf.strings.unicode_decode([["ab"], ["c"]], "UTF-8"))
    assert _rows(v) == [[[97, 98]], [[99]]]
    t, v = _run(mode, lambda: tf.strings.bytes_split([["ab"], ["c"]]))
    assert _rows(v) == [[[b"a", b"b"]], [[b"c"]]]


@pytest.mark.parametrize("mode", MODES)
def test_unicode_with_offsets_give_ragged_pairs(mode):
    (codes, offs), v = _run(mode, lambda: tf.strings.unicode_decode_with_offsets(WORDS, "UTF-8"))
    assert isinstance(codes, tf.RaggedTensor) and isinstance(offs, tf.RaggedTensor)
    assert offs.dtype == tf.int64
    assert _rows(v[0]) == [[97, 32, 98], [104, 233, 108, 108, 111], []]
    assert _rows(v[1]) == [[0, 1, 2], [0, 1, 3, 4, 5], []]
    (chars, offs), v = _run(mode, lambda: tf.strings.unicode_split_with_offsets(WORDS, "UTF-8"))
    assert _rows(v[0]) == [[b"a", b" ", b"b"], [b"h", b"\xc3\xa9", b"l", b"l", b"o"], []]
    assert _rows(v[1]) == [[0, 1, 2], [0, 1, 3, 4, 5], []]


# -- 6. names that stay unsupported ------------------------------------------------------


def test_get_model_proto_and_dtypes_experimental_are_unsupported_with_reason():
    with pytest.raises(tf.errors.UnimplementedError, match="autotuning model"):
        tf.data.experimental.get_model_proto(tf.data.Dataset.range(1))
    from miniflow.compat.unsupported import UNSUPPORTED_NAMESPACES

    assert "float8" in UNSUPPORTED_NAMESPACES["tf.dtypes.experimental"]


# -- 5. dense functions dispatch on RaggedTensor -----------------------------------------

# name -> (function of (rt, rb), TF's value); TF's numbers from tensorflow.compat.v1
F32_MAX = float(np.finfo(np.float32).max)
DISPATCH = {
    "sum1": (lambda rt, rb: tf.reduce_sum(rt, axis=1), [2.0, 0.0, 4.0]),
    "sum0": (lambda rt, rb: tf.reduce_sum(rt, axis=0), [5.0, -2.0, 3.0]),
    "sumall": (lambda rt, rb: tf.reduce_sum(rt), 6.0),
    "mean1": (lambda rt, rb: tf.reduce_mean(rt, axis=1), [2 / 3, np.nan, 4.0]),
    "max1": (lambda rt, rb: tf.reduce_max(rt, axis=1), [3.0, -F32_MAX, 4.0]),
    "min1": (lambda rt, rb: tf.reduce_min(rt, 1), [-2.0, F32_MAX, 4.0]),
    "prod1": (lambda rt, rb: tf.reduce_prod(rt, axis=1), [-6.0, 1.0, 4.0]),
    "all1": (lambda rt, rb: tf.reduce_all(rb, axis=1), [False, True, True]),
    "any1": (lambda rt, rb: tf.reduce_any(rb, axis=1), [True, False, True]),
    "sum_kd": (lambda rt, rb: tf.reduce_sum(rt, axis=1, keepdims=True), [[2.0], [0.0], [4.0]]),
    "gather_s": (lambda rt, rb: tf.gather(rt, 0), [1.0, -2.0, 3.0]),
    "square": (lambda rt, rb: tf.square(rt), [[1.0, 4.0, 9.0], [], [16.0]]),
    "abs": (lambda rt, rb: tf.abs(rt), [[1.0, 2.0, 3.0], [], [4.0]]),
    "neg": (lambda rt, rb: tf.negative(rt), [[-1.0, 2.0, -3.0], [], [-4.0]]),
    "exp": (lambda rt, rb: tf.exp(rt), [[2.7182817, 0.13533528, 20.085537], [], [54.59815]]),
    "gather": (lambda rt, rb: tf.gather(rt, [2, 0]), [[4.0], [1.0, -2.0, 3.0]]),
    "concat0": (
        lambda rt, rb: tf.concat([rt, rt], 0),
        [[1.0, -2.0, 3.0], [], [4.0], [1.0, -2.0, 3.0], [], [4.0]],
    ),
    "concat1": (
        lambda rt, rb: tf.concat([rt, rt], axis=1),
        [[1.0, -2.0, 3.0, 1.0, -2.0, 3.0], [], [4.0, 4.0]],
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(DISPATCH))
def test_dense_functions_dispatch_on_ragged(mode, name):
    fn, want = DISPATCH[name]
    t, v = _run(
        mode,
        lambda: fn(
            tf.ragged.constant([[1.0, -2.0, 3.0], [], [4.0]]),
            tf.ragged.constant([[True, False], [], [True]]),
        ),
    )
    if isinstance(want[0] if isinstance(want, list) and want else None, list) and name not in (
        "sum_kd",
    ):
        assert isinstance(t, tf.RaggedTensor)
        got = _rows(v)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g, np.float64), w, rtol=1e-6)
    else:
        np.testing.assert_allclose(
            np.asarray(v, np.float64), np.asarray(want, np.float64), rtol=1e-6
        )


def test_dispatch_keeps_dense_errors():
    with pytest.raises(TypeError, match="tf.ragged"):
        tf.matmul(tf.ragged.constant([[1.0]]), [[1.0]])  # no dispatch: the ragged TypeError
    with pytest.raises(TypeError):
        tf.square(object())


def test_split_rejects_unknown_result_type_like_tf():
    for fn in (tf.strings.split, tf.string_split):
        with pytest.raises(
            ValueError, match="result_type must be 'RaggedTensor' or 'SparseTensor'"
        ):
            fn(["a"], result_type="Dense")
