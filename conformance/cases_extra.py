"""The ops added last: more special functions, decompositions and matrix functions,
stateless random ops, tf.sparse, audio, counters, tensor arrays, more optimizers."""

from __future__ import annotations

import numpy as np

from conformance.case import (
    FLOATS,
    Arg,
    Case,
    Variant,
    const,
    integers,
    positive,
    real,
    unary_variants,
    uniform,
)
from conformance.cases_linalg import spd, well_conditioned
from conformance.cases_state import _read_after

SPECIAL = [
    ("bessel_j0", real),
    ("bessel_j1", real),
    ("bessel_y0", positive),
    ("bessel_y1", positive),
    ("bessel_k0", positive),
    ("bessel_k0e", positive),
    ("bessel_k1", positive),
    ("bessel_k1e", positive),
    ("dawsn", real),
    ("expint", positive),
    ("fresnel_cos", real),
    ("fresnel_sin", real),
    ("spence", positive),
]


def bitcast(tf, x, to="int32"):
    return tf.bitcast(x, to)


def count_up_to(tf, init):
    var = tf.Variable(init)
    return tf.count_up_to(var, 10)


def timestamp(tf, x):
    return tf.timestamp() + 0.0 * tf.cast(tf.reduce_sum(x), tf.float64)


def wav_roundtrip(tf, audio):
    decoded = tf.audio.decode_wav(tf.audio.encode_wav(audio, 16000))
    return decoded.audio, decoded.sample_rate


def extract_volume_patches(tf, x, padding="VALID"):
    return tf.extract_volume_patches(x, [1, 2, 2, 2, 1], [1, 1, 2, 1, 1], padding)


def identity_n(tf, a, b):
    return tf.identity_n([a, b])


def fingerprint(tf, x):
    return tf.fingerprint(x)


def combined_nms(tf, boxes, scores):
    return tf.image.combined_non_max_suppression(boxes, scores, 2, 3)


def fractional_max_pool(tf, x):
    return tf.nn.fractional_max_pool(x, [1.0, 2.0, 2.0, 1.0])[0]


def lu(tf, a):
    return tf.linalg.lu(a)


def qr_product(tf, a):
    q, r = tf.linalg.qr(a)
    return tf.matmul(q, r), tf.abs(r)


def singular_values(tf, a):
    return tf.linalg.svd(a, compute_uv=False)


def _linalg(kind):
    def fn(tf, a):
        return getattr(tf.linalg, kind)(a)

    fn.__name__ = f"linalg.{kind}"
    return fn


def logm(tf, a):
    """TF's logm takes complex matrices only."""
    return tf.math.real(tf.linalg.logm(tf.cast(a, tf.complex128)))


def random_gamma(tf, alpha):
    return tf.random_gamma([3000], alpha)


def _stateless(kind, **kw):
    def fn(tf, seed):
        return getattr(tf.random, kind)(seed=seed, **kw)

    fn.__name__ = f"random.{kind}" + "".join(f",{k}" for k in kw if k != "shape")
    return fn


def tensor_array(tf, x):
    ta = tf.TensorArray(x.dtype, size=3).unstack(x)
    return ta.stack(), ta.size()


def tensor_array_read_twice(tf, x):
    """TF1 TensorArrays clear an element once read (clear_after_read=True)."""
    ta = tf.TensorArray(x.dtype, size=3).unstack(x)
    return ta.read(1), ta.read(1)


def custom_gradient(tf, x):
    @tf.custom_gradient
    def cube_ish(v):
        def grad(dy):
            return dy * 3.0 * v

        return tf.square(v), grad

    return cube_ish(x)


def _optimizer(name, **kw):
    def fn(tf, init, grad):
        var = tf.Variable(init)
        if name == "AdagradDAOptimizer":
            kw["global_step"] = tf.train.get_or_create_global_step()
        step = getattr(tf.train, name)(0.1, **kw).apply_gradients([(grad, var)])
        return _read_after(tf, var, step)

    fn.__name__ = f"train.{name}"
    return fn


def _sparse_optimizer(name, **kw):
    def fn(tf, init, w):
        var = tf.Variable(init)
        if name == "AdagradDAOptimizer":
            kw["global_step"] = tf.train.get_or_create_global_step()
        loss = tf.reduce_sum(tf.gather(var, [0, 2, 0]) * w)
        return _read_after(tf, var, getattr(tf.train, name)(0.1, **kw).minimize(loss))

    fn.__name__ = f"train.{name}.sparse"
    return fn


SP_IDX = [[0, 0], [0, 3], [2, 1], [3, 2]]


def _sp(tf, values, shape=(4, 4)):
    return tf.SparseTensor(SP_IDX, values, list(shape))


def sparse_reshape(tf, v):
    return tf.sparse.reshape(_sp(tf, v), [2, 8])


def sparse_slice(tf, v):
    return tf.sparse.slice(_sp(tf, v), [0, 1], [3, 3])


def sparse_concat(tf, a, b):
    return tf.sparse.concat(1, [_sp(tf, a), _sp(tf, b)])


def sparse_fill_empty_rows(tf, v):
    return tf.sparse.fill_empty_rows(_sp(tf, v), -1.0)


def sparse_reset_shape(tf, v):
    return tf.sparse.reset_shape(_sp(tf, v), [5, 6])


def sparse_reduce_max(tf, v, axis=None):
    return tf.sparse.reduce_max(_sp(tf, v), axis=axis)


def sparse_maximum(tf, a, b):
    other = tf.SparseTensor([[0, 0], [1, 1], [3, 2]], b, [4, 4])
    return tf.sparse.maximum(_sp(tf, a), other)


def sparse_segment_sum(tf, data):
    return tf.sparse.segment_sum(data, [0, 2, 1], [0, 0, 1])


def sparse_cross(tf, a, b):
    return tf.sparse.cross([_sp(tf, a, (4, 4)), _sp(tf, b, (4, 4))])


def sparse_bincount(tf, v):
    return tf.sparse.bincount(_sp(tf, v), minlength=5)


def sparse_setdiff_positions(tf, x, y):
    return tf.setdiff1d(x, y)[1]


def sobol(tf, x):
    return tf.math.sobol_sample(3, 5, dtype=x.dtype)


def _drain(tf, q, x):
    """Enqueue the 3 rows of ``x``, dequeue one, close, dequeue up to 5 (the 2 left: a
    closed queue returns what it has); then the queue's size and state."""
    with tf.control_dependencies([q.enqueue_many(x)]):
        first = q.dequeue()
    with tf.control_dependencies([first]):
        close = q.close()
    with tf.control_dependencies([close]):
        rest = q.dequeue_up_to(5)
    with tf.control_dependencies([rest]):
        return first, rest, q.size(), q.is_closed()


def fifo_queue(tf, x):
    return _drain(tf, tf.FIFOQueue(5, x.dtype, shapes=[[2]]), x)


def padding_fifo_queue(tf, x):
    return _drain(tf, tf.PaddingFIFOQueue(5, x.dtype, shapes=[[None]]), x)


def random_shuffle_queue(tf, x):
    return _drain(tf, tf.RandomShuffleQueue(5, 0, x.dtype, shapes=[[2]]), x)


def priority_queue(tf, x):
    q = tf.PriorityQueue(5, [x.dtype], shapes=[[2]])
    with tf.control_dependencies([q.enqueue_many((tf.constant([3, 1, 2], tf.int64), x))]):
        out = q.dequeue_many(3)
    with tf.control_dependencies(list(out)):
        return out, q.size()


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


SEED = Arg(const([7, 11]), "int32", diff=False)
OPTIMIZERS = [
    ("AdagradDAOptimizer", {}),
    ("ProximalAdagradOptimizer", {"l1_regularization_strength": 0.01}),
    ("ProximalGradientDescentOptimizer", {"l2_regularization_strength": 0.01}),
]
WORDS = Arg(const(np.array([b"a", b"b", b"c", b"d"], dtype=object)), "string", diff=False)

CASES = [
    *[
        Case(f"math.special.{k}", (Arg(d),), unary_variants(k)[:6], FLOATS, 1, specials=True)
        for k, d in SPECIAL
    ],
    Case(bitcast, (Arg(real),), _v((((3,),), {}), (((2, 2),), {"to": "uint8"})), ("float32",), 0),
    Case(count_up_to, (Arg(const(3)),), _v((((),), {})), ("int32",), 0, eager=False),
    Case(timestamp, (Arg(real),), _v((((),), {})), ("float32",), 0, compare="shape", eager=False),
    Case(wav_roundtrip, (Arg(uniform(-1.0, 1.0)),), _v((((20, 2),), {})), ("float32",), 0),
    Case(
        extract_volume_patches,
        (Arg(real),),
        _v((((1, 3, 4, 4, 1),), {}), (((1, 2, 3, 3, 2),), {"padding": "SAME"})),
        FLOATS,
        1,
    ),
    Case(identity_n, (Arg(real), Arg(real)), _v((((2, 3), (3,)), {}))),
    Case(fingerprint, (Arg(integers(0, 100)),), _v((((3, 2),), {})), ("int32",), 0),
    Case(
        combined_nms,
        (Arg(uniform(0.0, 1.0), diff=False), Arg(uniform(0.0, 1.0))),
        _v((((1, 4, 1, 4), (1, 4, 2)), {})),
        ("float32",),
        0,
    ),
    Case(
        fractional_max_pool,
        (Arg(real),),
        _v((((1, 4, 4, 2),), {})),
        ("float32",),
        1,
        label="integral-ratio",
    ),
    Case(lu, (Arg(well_conditioned),), _v((((3, 3),), {}), (((2, 2, 2),), {})), FLOATS, 0, tol=10),
    Case(qr_product, (Arg(real),), _v((((3, 3),), {}), (((4, 2),), {})), FLOATS, 1, tol=10),
    Case(singular_values, (Arg(real),), _v((((3, 3),), {}), (((4, 2),), {})), FLOATS, 1, tol=10),
    Case(_linalg("expm"), (Arg(uniform(-0.5, 0.5)),), _v((((3, 3),), {})), FLOATS, 1, tol=10),
    Case(_linalg("sqrtm"), (Arg(spd),), _v((((3, 3),), {})), FLOATS, 0, tol=100),
    Case(logm, (Arg(spd),), _v((((3, 3),), {})), FLOATS, 0, tol=100),
    Case(
        random_gamma,
        (Arg(const([1.0, 3.0]), diff=False),),
        _v((((2,),), {})),
        ("float32",),
        0,
        compare="stats",
        eager=False,
    ),
    *[
        Case(_stateless(k, **kw), (SEED,), _v((((2,),), {})), ("int32",), 0, compare="stats")
        for k, kw in [
            ("stateless_uniform", {"shape": [3000]}),
            ("stateless_uniform", {"shape": [3000], "minval": 0, "maxval": 10, "dtype": "int32"}),
            ("stateless_normal", {"shape": [3000]}),
            ("stateless_truncated_normal", {"shape": [3000]}),
            ("stateless_gamma", {"shape": [3000], "alpha": 2.0}),
            ("stateless_poisson", {"shape": [3000], "lam": 3.0}),
            ("stateless_binomial", {"shape": [3000], "counts": 5.0, "probs": 0.3}),
            ("stateless_parameterized_truncated_normal", {"shape": [3000]}),
            ("stateless_categorical", {"logits": [[0.0, 1.0, 2.0]], "num_samples": 3000}),
        ]
    ],
    Case(tensor_array, (Arg(real),), _v((((3, 2),), {})), FLOATS, 1),
    Case(tensor_array_read_twice, (Arg(real),), _v((((3, 2),), {})), ("float32",), 0),
    Case(custom_gradient, (Arg(real),), _v((((2, 3),), {})), FLOATS, 1),
    *[
        Case(
            _optimizer(n, **kw),
            (Arg(real), Arg(real)),
            _v((((2, 3), (2, 3)), {})),
            order=0,
            tol=10,
            eager=n != "AdagradDAOptimizer",
        )
        for n, kw in OPTIMIZERS
    ],
    *[
        Case(
            _sparse_optimizer(n, **kw),
            (Arg(real), Arg(real)),
            _v((((4, 2), (3, 2)), {})),
            order=0,
            tol=10,
            eager=False,
        )
        for n, kw in OPTIMIZERS
    ],
    Case(sparse_reshape, (Arg(real),), _v((((4,),), {}))),
    Case(sparse_slice, (Arg(real),), _v((((4,),), {}))),
    Case(sparse_concat, (Arg(real), Arg(real)), _v((((4,), (4,)), {}))),
    Case(sparse_fill_empty_rows, (Arg(real),), _v((((4,),), {}))),
    Case(sparse_reset_shape, (Arg(real),), _v((((4,),), {}))),
    Case(sparse_reduce_max, (Arg(real),), _v((((4,),), {}), (((4,),), {"axis": 1}))),
    Case(sparse_maximum, (Arg(real), Arg(real)), _v((((4,), (3,)), {}))),
    Case(sparse_segment_sum, (Arg(real),), _v((((3, 2),), {}))),
    Case(sparse_cross, (WORDS, WORDS), _v((((4,), (4,)), {})), ("string",), 0),
    Case(sparse_bincount, (Arg(integers(0, 5)),), _v((((4,),), {})), ("int32",), 0),
    Case(
        sparse_setdiff_positions,
        (Arg(integers(0, 6)), Arg(integers(0, 6))),
        _v((((8,), (3,)), {})),
        ("int32",),
        0,
    ),
    Case(sobol, (Arg(real),), _v((((),), {})), FLOATS, 0),
    Case(fifo_queue, (Arg(real),), _v((((3, 2),), {})), ("float32",), 0, eager=False),
    Case(padding_fifo_queue, (Arg(real),), _v((((3, 2),), {})), ("float32",), 0, eager=False),
    Case(
        random_shuffle_queue,
        (Arg(real),),
        _v((((3, 2),), {})),
        ("float32",),
        0,
        compare="shape",
        eager=False,
    ),
    Case(priority_queue, (Arg(real),), _v((((3, 2),), {})), ("float32",), 0, eager=False),
]
