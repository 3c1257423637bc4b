"""Late additions: fake quantization, quantize/dequantize, stateless random (bit-exact),
ragged ranges, sparse.mask (ListDiffPositions), mutable hash tables, accumulators, dataset
reductions, quantized pools/concat/conv2d and fractional pooling."""

from __future__ import annotations

from conformance.case import Arg, Case, Variant, const, real, uniform

F32 = ("float32",)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


def fake_quant_args(tf, x, **kw):
    return tf.quantization.fake_quant_with_min_max_args(x, **kw)


def fake_quant_vars(tf, x, lo, hi, **kw):
    return tf.quantization.fake_quant_with_min_max_vars(x, lo, hi, **kw)


def fake_quant_per_channel(tf, x, lo, hi, **kw):
    return tf.quantization.fake_quant_with_min_max_vars_per_channel(x, lo, hi, **kw)


def quantize_dequantize(tf, x, mode="MIN_COMBINED", T="quint8"):
    out, lo, hi = tf.quantization.quantize(x, -2.0, 3.0, getattr(tf, T), mode=mode)
    return tf.quantization.dequantize(out, lo, hi, mode=mode)


def quantize_and_dequantize_v2(tf, x, **kw):
    return tf.quantization.quantize_and_dequantize(x, -2.0, 3.0, range_given=True, **kw)


def quantize_and_dequantize_v4(tf, x, **kw):
    return tf.quantization.quantize_and_dequantize_v2(x, -2.0, 3.0, range_given=True, **kw)


def stateless_uniform(tf, shape=(3, 5), seed=(7, 11), **kw):
    return tf.random.stateless_uniform(list(shape), seed=list(seed), **kw)


def stateless_normal(tf, shape=(3, 5), seed=(7, 11)):
    return tf.random.stateless_normal(list(shape), seed=list(seed))


def stateless_truncated_normal(tf, shape=(3, 5), seed=(7, 11)):
    return tf.random.stateless_truncated_normal(list(shape), seed=list(seed))


def ragged_range(tf, starts, limits, deltas):
    return tf.ragged.range(starts, limits, deltas)


def mutable_hash_table(tf, keys, values, queries):
    table = tf.lookup.experimental.MutableHashTable(tf.int32, tf.float32, -1.0)
    ins = table.insert(keys, values)
    with tf.control_dependencies([ins]):
        rem = table.remove(tf.constant([1], tf.int32))
    with tf.control_dependencies([rem]):
        found = table.lookup(queries)
        size = table.size()
    with tf.control_dependencies([found, size]):
        k, v = table.export()
    # the export order is unspecified: compare it scattered into a dense vector
    return [found, size, tf.math.unsorted_segment_sum(v, k, 4), tf.size(k)]


def conditional_accumulator(tf, g1, g2):
    acc = tf.ConditionalAccumulator(tf.float32, shape=g1.shape)
    step = acc.set_global_step(0)
    with tf.control_dependencies([step]):
        a1 = acc.apply_grad(g1, local_step=0)
    a2 = acc.apply_grad(g2, local_step=0)
    with tf.control_dependencies([a1, a2]):
        n = acc.num_accumulated()
    with tf.control_dependencies([n]):
        avg = acc.take_grad(2)
    return [n, avg]


def sparse_conditional_accumulator(tf, v1, v2):
    acc = tf.SparseConditionalAccumulator(tf.float32, shape=(4, 2))
    a1 = acc.apply_grad([0, 2], v1, local_step=0)
    a2 = acc.apply_grad([2, 3], v2, local_step=0)
    with tf.control_dependencies([a1, a2]):
        g = acc.take_indexed_slices_grad(2)
    return [tf.math.unsorted_segment_sum(g.values, g.indices, 4), g.dense_shape]


def dataset_cardinality(tf, n=5, batch=2):
    ds = tf.data.Dataset.range(n).batch(batch)
    return tf.data.experimental.cardinality(ds)


def dataset_single_element(tf, x):
    ds = tf.data.Dataset.from_tensors(x).map(lambda t: t * 2.0)
    return tf.data.experimental.get_single_element(ds)


QS = (uniform(-3.0, 4.0, nonzero=True),)
RANGE_ARGS = (
    Arg(const([0, 5, 2]), "int32", diff=False),
    Arg(const([4, 5, 9]), "int32", diff=False),
    Arg(const([1, 2, 3]), "int32", diff=False),
)

CASES = [
    Case(
        fake_quant_args,
        (Arg(QS[0]),),
        _v(
            (((2, 3),), {}),
            (((4,),), {"min": -1.0, "max": 2.0, "num_bits": 4}),
            (((3, 2),), {"narrow_range": True}),
            (((0,),), {}),
        ),
        F32,
        1,
    ),
    Case(
        fake_quant_vars,
        (Arg(QS[0]), Arg(const(-1.5)), Arg(const(2.5))),
        _v((((2, 3), (), ()), {}), (((5,), (), ()), {"num_bits": 5, "narrow_range": True})),
        F32,
        1,
    ),
    Case(
        fake_quant_per_channel,
        (Arg(QS[0]), Arg(const([-1.0, -2.0, 0.0])), Arg(const([1.0, 3.0, 2.0]))),
        _v((((4, 3), (3,), (3,)), {}), (((2, 2, 3), (3,), (3,)), {"num_bits": 6})),
        F32,
        1,
    ),
    Case(
        quantize_dequantize,
        (Arg(uniform(-2.0, 3.0)),),
        _v(
            (((2, 5),), {}),
            (((3,),), {"mode": "MIN_FIRST"}),
            (((4,),), {"mode": "SCALED", "T": "qint8"}),
        ),
        F32,
        0,
    ),
    Case(
        quantize_and_dequantize_v2,
        (Arg(uniform(-2.5, 3.5)),),
        _v((((2, 5),), {}), (((3,),), {"num_bits": 4, "signed_input": False})),
        F32,
        0,
    ),
    Case(
        quantize_and_dequantize_v4,
        (Arg(uniform(-2.5, 3.5)),),
        _v((((2, 5),), {}), (((3,),), {"num_bits": 4})),
        F32,
        1,
    ),
    Case(
        stateless_uniform,
        (),
        _v(
            ((), {}),
            ((), {"seed": (0, 0), "shape": (7,)}),
            ((), {"dtype": "float64"}),
            ((), {"dtype": "int32", "minval": -5, "maxval": 9}),
            ((), {"dtype": "int64", "minval": None, "maxval": None}),
        ),
        F32,
        0,
    ),
    Case(stateless_normal, (), _v(((), {}), ((), {"seed": (3, 1), "shape": (2, 2, 2)})), F32, 0),
    Case(
        stateless_truncated_normal, (), _v(((), {}), ((), {"seed": (3, 1), "shape": (9,)})), F32, 0
    ),
    Case(ragged_range, RANGE_ARGS, _v((((3,), (3,), (3,)), {})), F32, 0),
    Case(
        mutable_hash_table,
        (
            Arg(const([1, 2, 3]), "int32", diff=False),
            Arg(real),
            Arg(const([3, 1, 7, 2]), "int32", diff=False),
        ),
        _v((((3,), (3,), (4,)), {})),
        F32,
        0,
        eager=False,
    ),
    Case(
        conditional_accumulator,
        (Arg(real), Arg(real)),
        _v((((2, 3), (2, 3)), {})),
        F32,
        0,
        eager=False,
    ),
    Case(
        sparse_conditional_accumulator,
        (Arg(real), Arg(real)),
        _v((((2, 2), (2, 2)), {})),
        F32,
        0,
        eager=False,
    ),
    Case(dataset_cardinality, (), _v(((), {}), ((), {"n": 0, "batch": 3})), F32, 0, eager=False),
    Case(dataset_single_element, (Arg(real),), _v((((2, 3),), {})), F32, 0, eager=False),
]


def _quint8(tf, x, lo=-2.0, hi=3.0):
    return tf.quantization.quantize(x, lo, hi, tf.quint8)


def _deq(tf, out, lo, hi):
    return tf.quantization.dequantize(out, lo, hi)


def quantized_pool(kind):
    def fn(tf, x, padding="VALID"):
        q, lo, hi = _quint8(tf, x)
        out = getattr(tf.nn, kind)(q, lo, hi, [1, 2, 2, 1], [1, 2, 2, 1], padding)
        return _deq(tf, *out)

    fn.__name__ = kind
    return fn


def quantized_concat(tf, a, b):
    qa, la, ha = _quint8(tf, a)
    qb, lb, hb = _quint8(tf, b, -1.0, 4.0)
    return _deq(tf, *tf.quantized_concat(tf.constant(1), [qa, qb], [la, lb], [ha, hb]))


def quantized_conv2d(tf, x, w, padding="VALID"):
    qx, lx, hx = _quint8(tf, x)
    qw, lw, hw = _quint8(tf, w, -1.0, 1.0)
    out, lo, hi = tf.nn.quantized_conv2d(qx, qw, lx, hx, lw, hw, [1, 1, 1, 1], padding)
    return _deq(tf, out, lo, hi)


CASES += [
    Case(
        quantized_pool(k),
        (Arg(uniform(-2.0, 3.0)),),
        _v((((1, 4, 4, 2),), {}), (((2, 5, 3, 1),), {"padding": "SAME"})),
        F32,
        0,
    )
    for k in ("quantized_avg_pool", "quantized_max_pool")
] + [
    Case(
        quantized_concat,
        (Arg(uniform(-2.0, 3.0)), Arg(uniform(-1.0, 4.0))),
        _v((((2, 3), (2, 2)), {})),
        F32,
        0,
    ),
    Case(
        quantized_conv2d,
        (Arg(uniform(-2.0, 3.0)), Arg(uniform(-1.0, 1.0))),
        _v((((1, 4, 4, 2), (2, 2, 2, 3)), {}), (((1, 3, 5, 1), (3, 3, 1, 2)), {"padding": "SAME"})),
        F32,
        0,
    ),
]


def fractional_avg_pool(tf, x, overlapping=False):
    """An integer pooling ratio makes TF's boundary sequence deterministic (0, 2, 4 ...),
    so the values (and FractionalPoolMatrix) are comparable."""
    return list(tf.nn.fractional_avg_pool(x, [1.0, 2.0, 2.0, 1.0], overlapping=overlapping))


def ragged_fill_empty_rows(tf, rowids, values, default):
    if hasattr(tf, "ragged_fill_empty_rows"):
        return list(tf.ragged_fill_empty_rows(rowids, values, 4, default))
    return list(
        tf.raw_ops.RaggedFillEmptyRows(
            value_rowids=rowids,
            values=values,
            nrows=tf.constant(4, tf.int64),
            default_value=default,
        )
    )


def get_next_as_optional(tf, n=2):
    it = tf.data.make_one_shot_iterator(tf.data.Dataset.range(n))
    opt = tf.data.experimental.get_next_as_optional(it)
    return [opt.has_value(), opt.get_value()]


CASES += [
    Case(
        fractional_avg_pool,
        (Arg(real),),
        _v((((1, 4, 6, 2),), {}), (((2, 4, 4, 1),), {"overlapping": True})),
        F32,
        1,
    ),
    Case(
        ragged_fill_empty_rows,
        (Arg(const([0, 0, 2]), "int64", diff=False), Arg(real), Arg(const(-1.0), diff=False)),
        _v((((3,), (3,), ()), {})),
        F32,
        0,
        eager=False,
    ),
    Case(get_next_as_optional, (), _v(((), {})), F32, 0, eager=False),
]


def sparse_mask(tf, values, indices, mask):
    out = tf.sparse.mask(tf.IndexedSlices(values, indices), mask)
    return [out.values, out.indices]


def generator(method, **kw):
    def fn(tf, shape=(3, 4)):
        gen = tf.random.experimental.Generator.from_seed(42)
        return getattr(gen, method)(list(shape), **kw)

    fn.__name__ = f"random.experimental.Generator.{method}"
    return fn


CASES += [
    Case(
        sparse_mask,
        (
            Arg(real),
            Arg(const([4, 0, 7, 2]), "int32", diff=False),
            Arg(const([7, 4]), "int32", diff=False),
        ),
        _v((((4, 2), (4,), (2,)), {})),
        F32,
        0,
    ),
] + [
    Case(
        generator(m, **kw),
        (),
        _v(((), {}), ((), {"shape": (5,)})),
        F32,
        0,
        eager=False,
        label=label,
    )
    for m, kw, label in [
        ("uniform", {}, ""),
        ("uniform", {"maxval": 9, "dtype": "int32"}, "int"),
        ("uniform_full_int", {"dtype": "int64"}, ""),
        ("normal", {}, ""),
        ("truncated_normal", {}, ""),
    ]
]
