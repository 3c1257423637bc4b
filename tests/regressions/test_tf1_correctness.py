"""Regression tests for the correctness bugs of issue 13 §2, one test per bug.

Expected numbers come from real TensorFlow (tf.compat.v1 graph mode, TF 2.21) unless a
comment says they are hand-computed or a NumPy reference.
"""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(tf.local_variables_initializer())
        return sess.run(fetches, feed_dict)


# -- 1. tf.cond must not add the untaken branch's gradient -----------------------------


@pytest.mark.parametrize("branch", ["x", "identity", "x+1"])
def test_cond_untaken_branch_gradient(branch):
    x = tf.constant(3.0)
    other = {"x": lambda: x, "identity": lambda: tf.identity(x), "x+1": lambda: x + 1}[branch]
    y1 = tf.cond(tf.constant(True), lambda: x * 2.0, other)
    y2 = tf.cond(tf.constant(False), other, lambda: x * 2.0)
    assert _run(tf.gradients(y1, x) + tf.gradients(y2, x)) == [2.0, 2.0]  # TF: 2, 2
    with tf.eager_mode():
        x = tf.constant(3.0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cond(tf.constant(True), lambda: x * 2.0, lambda: tf.identity(x))
        assert float(tape.gradient(y, x)) == 2.0


def test_cond_pass_through_audit():
    """Nested cond, case, where, tuples, second order, stop_gradient: TF's numbers."""
    x = tf.constant(3.0)
    p, q = tf.placeholder(tf.bool, []), tf.placeholder(tf.bool, [])
    res = {}
    y = tf.cond(p, lambda: tf.cond(q, lambda: x, lambda: x * x), lambda: tf.identity(x) + 0.0)
    res["nested"] = tf.gradients(y, x)[0]
    y = tf.case([(p, lambda: tf.identity(x)), (q, lambda: x)], default=lambda: x * 5.0)
    res["case"] = tf.gradients(y, x)[0]
    g = tf.gradients(tf.cond(p, lambda: x * x, lambda: x), x)[0]
    res["second"] = tf.gradients(g, x)[0]
    res["where"] = tf.gradients(tf.where(p, x, x * 4.0), x)[0]
    y = tf.where(tf.constant([True, False]), tf.stack([x, x]), tf.identity(tf.stack([x, x])) * 2)
    res["where_vec"] = tf.gradients(y, x)[0]
    a, b = tf.cond(p, lambda: (x, x * 2.0), lambda: (tf.identity(x), x + 1.0))
    res["tuple"] = tf.gradients(a + 3 * b, x)[0]
    res["stop"] = tf.gradients(tf.cond(p, lambda: tf.stop_gradient(x), lambda: x), x)[0]
    tf_numbers = {  # (p, q) -> values from TensorFlow
        (True, True): dict(case=1, nested=1, second=2, stop=0, tuple=7, where=1, where_vec=3),
        (True, False): dict(case=1, nested=6, second=2, stop=0, tuple=7, where=1, where_vec=3),
        (False, True): dict(case=1, nested=1, second=0, stop=1, tuple=4, where=4, where_vec=3),
        (False, False): dict(case=5, nested=1, second=0, stop=1, tuple=4, where=4, where_vec=3),
    }
    with tf.Session() as sess:
        for (pv, qv), want in tf_numbers.items():
            got = sess.run(res, {p: pv, q: qv})
            assert {k: float(v) for k, v in got.items()} == want, (pv, qv)


# -- 2. internal variables are built in an init scope ---------------------------------


def test_variables_in_control_dependencies_initialize_without_feeds():
    p = tf.placeholder(tf.float32, [None, 2])
    w = tf.get_variable("w", [2, 1])
    update = tf.identity(p)
    with tf.control_dependencies([update]):
        loss = tf.reduce_sum(tf.matmul(p, w))
        train = tf.train.AdamOptimizer().minimize(loss)
        v2 = tf.get_variable("v2", [3])
        v3 = tf.Variable(tf.zeros([3]), name="v3")  # its initial value depends on p
        v4 = tf.Variable(lambda: tf.zeros([3]), name="v4")
        tf.train.get_or_create_global_step()
        tf.metrics.mean(p)
        tf.train.ExponentialMovingAverage(0.9).apply([w])
    assert train is not None and v2 is not None and v4 is not None
    names = []
    with tf.Session() as sess:
        for v in tf.global_variables() + tf.local_variables():
            assert list(v.initializer.control_inputs) == []  # TF: none
            if v is v3:
                with pytest.raises(tf.errors.InvalidArgumentError, match="feed"):
                    sess.run(v.initializer)  # as in TF: the user's tensor keeps its deps
                continue
            sess.run(v.initializer)
            names.append(v.op.name)
    assert names == [
        "w",
        "beta1_power",
        "beta2_power",
        "w/Adam",
        "w/Adam_1",
        "v2",
        "v4",
        "global_step",
        "w/ExponentialMovingAverage",
        "mean/total",
        "mean/count",
    ]


# -- 3. graph-mode while_loop has a gradient -----------------------------------------


def test_while_loop_gradient_graph_mode():
    """Run-time trip count, a captured tensor, a cond in the body, maximum_iterations,
    back_prop=False, zero iterations, a nested loop: TensorFlow's numbers."""
    n = tf.placeholder(tf.int32, [])
    x = tf.placeholder(tf.float64, [3])
    w = tf.constant([0.5, -1.0, 2.0], tf.float64)
    _, acc = tf.while_loop(
        lambda i, a: i < n,
        lambda i, a: (
            i + 1,
            tf.cond(tf.reduce_sum(a) > 0.0, lambda: tf.sin(a) * w + x, lambda: a * a + w),
        ),
        [tf.constant(0), x],
        parallel_iterations=4,
    )
    gx, gw = tf.gradients(tf.reduce_sum(acc * [1.0, 2.0, 3.0]), [x, w])
    y = tf.while_loop(
        lambda v: tf.reduce_sum(v) < 100.0, lambda v: v * x, [x], maximum_iterations=3
    )
    gy = tf.gradients(tf.reduce_sum(y), x)[0]
    z = tf.while_loop(lambda v: tf.reduce_sum(v) < 100.0, lambda v: v * 2.0, [x], back_prop=False)
    gz = tf.gradients(tf.reduce_sum(z) + tf.reduce_sum(x), x)[0]
    k = tf.while_loop(lambda v: tf.reduce_sum(v) < -100.0, lambda v: v * 3.0, [x])
    gk = tf.gradients(tf.reduce_sum(k * x), x)[0]

    def outer_body(j, v):
        return j + 1, tf.while_loop(
            lambda t, u: t < 2, lambda t, u: (t + 1, u * x + 0.1), [tf.constant(0), v]
        )[1]

    nest = tf.while_loop(
        lambda j, v: j < n, outer_body, [tf.constant(0), tf.ones([3], tf.float64)]
    )[1]
    gn = tf.gradients(tf.reduce_sum(nest), x)[0]
    fixed = [
        [0.0081, 0.2401, 1.4641],
        [0.108, -1.372, 5.324],
        [1.0, 1.0, 1.0],
        [0.6, -1.4, 2.2],
    ]  # y, gy, gz, gk (independent of n)
    want = {  # n -> acc, gx, gw, nest, gn (TensorFlow)
        0: [[0.3, -0.7, 1.1], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]],
        1: [
            [0.44776, -0.055782, 2.882415],
            [1.477668, 0.470316, 5.721577],
            [0.29552, -1.288435, 2.673622],
            [0.22, 0.52, 1.42],
            [0.7, -1.3, 2.3],
        ],
        4: [
            [0.560025, -0.60076, 1.186648],
            [1.736414, 1.22748, -4.339721],
            [0.836065, 1.931559, -6.593479],
            [0.142913, 0.11308, 3.287178],
            [0.205568, -0.587472, 19.743586],
        ],
    }
    with tf.Session() as sess:
        for nv, expected in want.items():
            got = sess.run([acc, gx, gw, nest, gn, y, gy, gz, gk], {n: nv, x: [0.3, -0.7, 1.1]})
            for g, e in zip(got, expected + fixed):
                np.testing.assert_allclose(g, e, atol=2e-6)


def test_while_loop_inside_cond_with_a_gathered_capture():
    p = tf.placeholder(tf.bool, [])
    x = tf.constant([0.5, -0.3])
    emb = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

    def loop():
        return tf.while_loop(
            lambda i, v: i < 3, lambda i, v: (i + 1, v * tf.gather(emb, i) + tf.sin(v)), [0, x]
        )[1]

    y = tf.cond(p, loop, lambda: x * 2.0)
    gx, ge = tf.gradients(tf.reduce_sum(y), [x, emb])
    with tf.Session() as sess:
        got = sess.run([y, gx, tf.convert_to_tensor(ge)], {p: True})
        np.testing.assert_allclose(got[0], [18.255659, -25.23624], rtol=1e-5)  # TF
        np.testing.assert_allclose(got[1], [27.98795, 77.3285], rtol=1e-5)
        np.testing.assert_allclose(
            got[2], [[7.45319, -7.84972], [4.10392, -5.06624], [3.76845, -4.36262]], rtol=1e-5
        )
        got = sess.run([gx, tf.convert_to_tensor(ge)], {p: False})
        np.testing.assert_array_equal(got[0], [2.0, 2.0])
        np.testing.assert_array_equal(got[1], np.zeros((3, 2)))


def test_while_loop_gradient_trains_a_variable():
    """Gradient descent through a loop over a captured variable (TF's losses)."""
    x = tf.placeholder(tf.float32, [None, 2])
    w = tf.get_variable("w", [2, 2], initializer=tf.constant_initializer([[0.5, 0.1], [-0.2, 0.3]]))
    h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))), [0, x])[1]
    loss = tf.reduce_sum(h**2)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = [sess.run([loss, train], {x: [[1.0, 2.0], [0.5, -1]]})[0] for _ in range(3)]
    np.testing.assert_allclose(losses, [0.025639957, 0.019115405, 0.015188483], rtol=1e-5)


# -- 4. reductions over an empty axis ------------------------------------------------


@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_reduce_extremes_over_empty_axis(mode):
    def build():
        f, i = tf.zeros([0, 3]), tf.zeros([0, 3], tf.int32)
        return [
            tf.reduce_max(f, axis=0),
            tf.reduce_max(f),
            tf.reduce_max(i, axis=0),
            tf.reduce_min(f, axis=0),
            tf.reduce_min(f),
            tf.reduce_min(i, axis=0),
            tf.reduce_logsumexp(f, axis=0),
            tf.reduce_logsumexp(f),
            tf.reduce_max(tf.ones([2, 0]), axis=1),
        ]

    if mode == "eager":
        with tf.eager_mode():
            got = [t.numpy() for t in build()]
    else:
        got = _run(build())
    imin, imax, inf = -2147483648, 2147483647, np.inf  # TensorFlow's values
    want = [[-inf] * 3, -inf, [imin] * 3, [inf] * 3, inf, [imax] * 3, [-inf] * 3, -inf, [-inf] * 2]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert [np.asarray(g).dtype for g in got[:3]] == [np.float32, np.float32, np.int32]


# -- 5. zero-size shapes in forward and gradient --------------------------------------

_ZERO_SIZE = {  # name -> (fn, input shape, output shape from TensorFlow)
    "reshape": (lambda x: tf.reshape(x, [-1, 3]), [2, 0, 3], (0, 3)),
    "reshape_zero_target": (lambda x: tf.reshape(x, [0, -1]), [2, 0, 3], (0, 6)),
    "logsumexp": (lambda x: tf.reduce_logsumexp(x, axis=1), [0, 3], (0,)),
    "logsumexp_empty_axis": (lambda x: tf.reduce_logsumexp(x, axis=0), [0, 3], (3,)),
    "mean": (lambda x: tf.reduce_mean(x, axis=1), [0, 3], (0,)),
    "max_empty_axis": (lambda x: tf.reduce_max(x, axis=0), [0, 3], (3,)),
    "prod": (lambda x: tf.reduce_prod(x, axis=0), [0, 3], (3,)),
    "softmax": (tf.nn.softmax, [0, 3], (0, 3)),
    "log_softmax": (tf.nn.log_softmax, [0, 3], (0, 3)),
    "matmul_inner": (lambda x: tf.matmul(tf.ones([2, 0]), x), [0, 3], (2, 3)),
    "tile": (lambda x: tf.tile(x, [2, 1]), [0, 3], (0, 3)),
    "gather": (lambda x: tf.gather(x, tf.zeros([0], tf.int32)), [2, 3], (0, 3)),
    "l2_normalize": (lambda x: tf.nn.l2_normalize(x, axis=1), [0, 3], (0, 3)),
    "broadcast_add": (lambda x: x + tf.ones([3]), [0, 3], (0, 3)),
    "expand_dims": (lambda x: tf.expand_dims(x, 0), [0], (1, 0)),
    "pad": (lambda x: tf.pad(x, [[1, 1], [0, 0]]), [0, 3], (2, 3)),
    "split": (lambda x: tf.split(x, 3, axis=1)[0], [0, 3], (0, 1)),
}


@pytest.mark.parametrize("name", sorted(_ZERO_SIZE))
def test_zero_size_forward_and_gradient(name):
    fn, shape, out_shape = _ZERO_SIZE[name]
    x = tf.ones(shape)
    y = fn(x)
    g = tf.convert_to_tensor(tf.gradients(tf.reduce_sum(y), x)[0])
    y_val, g_val = _run([y, g])
    assert y_val.shape == out_shape and g_val.shape == tuple(shape)
    with tf.eager_mode():
        x = tf.ones(shape)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            total = tf.reduce_sum(y)
        g = tf.convert_to_tensor(tape.gradient(total, x))
        assert y.shape.as_tuple() == out_shape and tuple(g.shape.as_list()) == tuple(shape)
    np.testing.assert_array_equal(y_val, y.numpy())
    if name == "logsumexp_empty_axis":  # TF: -inf; matmul_inner: 0; pad: 0
        assert (y_val == -np.inf).all()


def test_reshape_minus_one_next_to_zero_matches_tf():
    p = tf.placeholder(tf.float32, None)
    cases = [
        ((2, 0, 3), [0, -1, 2], (0, None, 2), (0, 3, 2)),
        ((0,), [-1, 0], (None, 0), (1, 0)),
        ((2, 0, 3), [-1, 0], (None, 0), (6, 0)),
    ]  # (input, target, static, run): TF
    with tf.Session() as sess:
        for in_shape, target, static, run in cases:
            assert tf.reshape(tf.zeros(in_shape), target).shape.as_tuple() == static
            assert sess.run(tf.reshape(p, target), {p: np.zeros(in_shape)}).shape == run
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.reshape(p, [-1, 0]), {p: np.zeros((2, 3))})
    with pytest.raises(ValueError):
        tf.reshape(tf.zeros([2, 3]), [-1, 0])


# -- 6. boolean_mask with an N-D mask; unsorted_segment_sum with negative ids ----------


@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_boolean_mask_nd_mask_and_axis(mode):
    def build():
        x = tf.reshape(tf.range(24.0), [2, 3, 4])
        return [
            tf.boolean_mask(x, tf.constant([[True, False, True], [False, True, True]])),
            tf.boolean_mask(
                x,
                tf.constant(
                    [
                        [True, False, True, False],
                        [False, False, True, True],
                        [True, True, True, True],
                    ]
                ),
                axis=1,
            ),
            tf.boolean_mask(x, tf.constant([True, False, True]), axis=1),
            tf.boolean_mask(x, tf.cast(tf.reshape(tf.range(24) % 3, [2, 3, 4]), tf.bool)),
        ]

    if mode == "eager":
        with tf.eager_mode():
            got = [t.numpy() for t in build()]
    else:
        out = build()
        assert [t.shape.as_tuple() for t in out] == [
            (None, 4),
            (2, None),
            (2, None, 4),
            (None,),
        ]  # TF's static shapes
        got = _run(out)
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(got[0], x[[0, 0, 1, 1], [0, 2, 1, 2]])  # TF's rows
    np.testing.assert_array_equal(
        got[1], [[0, 2, 6, 7, 8, 9, 10, 11], [12, 14, 18, 19, 20, 21, 22, 23]]
    )
    np.testing.assert_array_equal(got[2], x[:, [0, 2]])
    np.testing.assert_array_equal(got[3], x[x % 3 != 0])


def test_boolean_mask_nd_gradient_and_errors():
    x = tf.reshape(tf.range(24.0), [2, 3, 4])
    y = tf.boolean_mask(x, tf.constant([[True, False, True], [False, True, True]]))
    g = _run(tf.gradients(tf.reduce_sum(y * y), x)[0])
    want = 2 * np.arange(24.0).reshape(2, 3, 4) * np.array([[1, 0, 1], [0, 1, 1]])[..., None]
    np.testing.assert_array_equal(g, want)
    p = tf.placeholder(tf.bool, [None, None])
    out = tf.boolean_mask(x, p)
    assert out.shape.as_tuple() == (None, 4)
    assert _run(out, {p: [[True, False, True], [False, True, True]]}).shape == (4, 4)
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(x, tf.constant(True))
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(x, tf.constant([True, False, True]))


def test_unsorted_segment_sum_negative_ids_are_dropped():
    d = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    y = tf.unsorted_segment_sum(d, tf.constant([0, -1, 2, 0]), 3)
    g = tf.gradients(tf.reduce_sum(y * [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), d)[0]
    assert g.shape.as_tuple() == (4, 2)
    y_val, g_val = _run([y, g])  # TensorFlow's numbers
    np.testing.assert_array_equal(y_val, [[8, 10], [0, 0], [5, 6]])
    np.testing.assert_array_equal(g_val, [[1, 2], [0, 0], [5, 6], [1, 2]])
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"segment_ids\[1\] = 3 is out of range \[0, 3\)"
    ):
        _run(tf.unsorted_segment_sum(d, tf.constant([0, 3, 2, 0]), 3))
    with tf.eager_mode():
        y = tf.unsorted_segment_sum(tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([-1, 1]), 2)
        np.testing.assert_array_equal(y.numpy(), [[0, 0], [3, 4]])


# -- 7. run-time validation: TF's InvalidArgumentError -----------------------------------

_INVALID = {  # name -> (build, TF's message)
    "floordiv": (
        lambda: tf.floordiv(tf.constant([7, -7]), tf.constant([0, 2])),
        "Integer division by zero",
    ),
    "floormod": (
        lambda: tf.floormod(tf.constant([7, -7]), tf.constant([0, 2])),
        "Integer division by zero",
    ),
    "mod_int64": (
        lambda: tf.mod(tf.constant([7], tf.int64), tf.constant([0], tf.int64)),
        "Integer division by zero",
    ),
    "operator": (lambda: tf.constant([7]) // tf.constant([0]), "Integer division by zero"),
    "truncatediv": (
        lambda: tf.truncatediv(tf.constant([7]), tf.constant([0])),
        "Integer division by zero",
    ),
    "truncatemod": (
        lambda: tf.truncatemod(tf.constant([7]), tf.constant([0])),
        "Integer division by zero",
    ),
    "slice_size": (
        lambda: tf.slice(tf.constant([[1, 2, 3], [4, 5, 6]]), [1, 1], [2, 1]),
        r"Expected size\[0\] in \[0, 1\], but got 2",
    ),
    "slice_begin": (
        lambda: tf.slice(tf.constant([1, 2, 3]), [-1], [1]),
        r"Expected begin\[0\] in \[0, 3\], but got -1",
    ),
    "segment_sum_unsorted": (
        lambda: tf.segment_sum(tf.ones([4, 2]), tf.constant([0, 2, 1, 1])),
        "segment ids are not increasing",
    ),
    "segment_sum_negative": (
        lambda: tf.segment_sum(tf.ones([4, 2]), tf.constant([-1, 0, 1, 1])),
        r"Segment id -1 out of range \[0, 2\)",
    ),
    "gather": (
        lambda: tf.gather(tf.constant([1, 2, 3]), [3]),
        r"indices\[0\] = 3 is not in \[0, 3\)",
    ),
    "gather_negative": (
        lambda: tf.gather(tf.constant([[1, 2, 3]]), [[0, -1]], axis=1),
        r"indices\[0, 1\] = -1 is not in \[0, 3\)",
    ),
}


@pytest.mark.parametrize("name", sorted(_INVALID))
@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_invalid_values_raise_invalid_argument(name, mode):
    build, message = _INVALID[name]
    if mode == "eager":
        with tf.eager_mode(), pytest.raises(tf.errors.InvalidArgumentError, match=message):
            build()
    else:
        y = build()  # TF builds these graphs without complaint
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            _run(y)


def test_slice_and_tile_validation_with_runtime_values():
    p = tf.placeholder(tf.int32, [1])
    y = tf.slice(tf.constant([1, 2, 3]), p, [2])
    with tf.Session() as sess:
        assert sess.run(y, {p: [1]}).tolist() == [2, 3]
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected size"):
            sess.run(y, {p: [2]})
    assert tf.floordiv(tf.constant([7.0, -7.0]), tf.constant([0.0, 0.0])) is not None
    np.testing.assert_array_equal(  # floats divide by zero as IEEE says (TF: inf, -inf)
        _run(tf.floordiv(tf.constant([7.0, -7.0]), tf.constant([0.0, 0.0]))), [np.inf, -np.inf]
    )
    with pytest.raises(ValueError, match="multiples"):  # graph: at construction
        tf.tile(tf.constant([[1, 2]]), [2])
    with (
        tf.eager_mode(),
        pytest.raises(tf.errors.InvalidArgumentError, match="vector of length 2 but got length 1"),
    ):
        tf.tile(tf.constant([[1, 2]]), [2])


# -- 8. dtypes of float-only ops, argmax with NaN, gradients at special points ---------

_FLOAT_ONLY = [
    "sqrt",
    "rsqrt",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sigmoid",
    "floor",
    "ceil",
    "is_nan",
    "is_finite",
    "nn.softplus",
    "nn.softsign",
    "nn.elu",
    "nn.selu",
    "nn.softmax",
    "nn.log_softmax",
    "math.log_sigmoid",
    "reduce_logsumexp",
]
_NOT_BOOL = ["reciprocal", "square", "abs", "sign", "round", "nn.relu", "nn.relu6", "reduce_mean"]


def _fn(path):
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", _FLOAT_ONLY + _NOT_BOOL)
def test_float_only_ops_reject_other_dtypes(name):
    """TF's TypeError at graph construction (int32, int64, bool; or bool only)."""
    fn = _fn(name)
    rejected = [tf.bool] if name in _NOT_BOOL else [tf.int32, tf.int64, tf.bool]
    for dt in rejected:
        with pytest.raises(TypeError, match="allowed values|DataType"):
            fn(tf.constant(np.ones(2), dt))
    for dt in [tf.float16, tf.float64] + ([tf.int32] if name in _NOT_BOOL else []):
        fn(tf.constant(np.ones(2), dt))


def test_leaky_relu_of_integers_is_float32():
    y = tf.nn.leaky_relu(tf.constant([-5, 3]), 0.2)
    assert y.dtype == tf.float32
    np.testing.assert_allclose(_run(y), [-1.0, 3.0])  # TF: float32 [-1, 3]


def test_argmax_argmin_skip_nan():
    nan, inf = np.nan, np.inf
    rows = [
        ([1.0, nan, 3.0], 2, 0),
        ([nan, 1.0, 3.0], 2, 1),
        ([1.0, 3.0, nan], 1, 0),
        ([nan, nan, 1.0], 2, 2),
        ([3.0, 1.0, nan, 5.0], 3, 1),
        ([-inf, nan, inf], 2, 0),
        ([2.0, 2.0, 1.0], 0, 2),
        ([1.0, 1.0, 2.0], 2, 0),
        ([nan, nan], 0, 0),
    ]  # TensorFlow
    fetch = [(tf.argmax(tf.constant(x), 0), tf.argmin(tf.constant(x), 0)) for x, _, _ in rows]
    got = _run(fetch)
    assert [(int(a), int(b)) for a, b in got] == [(a, b) for _, a, b in rows]
    m = tf.constant([[1.0, nan], [nan, 2.0], [0.0, 5.0]])
    got = _run([tf.argmax(m, 0), tf.argmin(m, 0), tf.argmax(m, 1), tf.argmin(m, 1)])
    assert [g.tolist() for g in got] == [[0, 2], [2, 1], [0, 1, 1], [0, 1, 0]]
    with tf.eager_mode():
        assert int(tf.argmax(tf.constant([1.0, nan, 3.0]))) == 2


_SPECIAL = [  # (name, fn, points, TensorFlow's gradient at them)
    ("relu", tf.nn.relu, [0.0, -0.0, 1.0, -1.0], [0.0, 0.0, 1.0, 0.0]),
    ("relu6", tf.nn.relu6, [0.0, 6.0, 3.0, 7.0, -1.0], [0.0, 0.0, 1.0, 0.0, 0.0]),
    (
        "selu",
        tf.nn.selu,
        [0.0, -0.0, 1.0, -1.0],
        [1.0507010221481323, 1.0507010221481323, 1.0507010221481323, 0.6467685699462891],
    ),
    ("elu", tf.nn.elu, [0.0, np.nan, 1.0, -1.0, -np.inf], [1.0, 1.0, 1.0, 0.36787945, 0.0]),
    ("softsign", tf.nn.softsign, [np.inf, -np.inf, 0.0, 2.0], [0.0, 0.0, 1.0, 0.11111111]),
    ("abs", tf.abs, [0.0, -0.0, 2.0, -2.0], [0.0, 0.0, 1.0, -1.0]),
    (
        "leaky_relu",
        lambda x: tf.nn.leaky_relu(x, 0.2),
        [0.0, -0.0, 1.0, -1.0],
        [0.2, 0.2, 1.0, 0.2],
    ),
    ("softplus", tf.nn.softplus, [0.0, np.inf, -np.inf, 50.0], [0.5, 1.0, 0.0, 1.0]),
    ("sigmoid", tf.sigmoid, [np.inf, -np.inf, 0.0], [0.0, 0.0, 0.25]),
    ("tanh", tf.tanh, [np.inf, -np.inf, 0.0], [0.0, 0.0, 1.0]),
    ("sqrt", tf.sqrt, [0.0, 4.0], [np.inf, 0.25]),
    (
        "clip_by_value",
        lambda x: tf.clip_by_value(x, 0.0, 1.0),
        [0.0, 1.0, 0.5, 2.0],
        [1.0, 1.0, 1.0, 0.0],
    ),
    ("log_sigmoid", tf.log_sigmoid, [np.inf, -np.inf, 0.0], [0.0, 1.0, 0.5]),
]


@pytest.mark.parametrize("name,fn,points,want", _SPECIAL, ids=[r[0] for r in _SPECIAL])
def test_gradient_at_special_points(name, fn, points, want):
    x = tf.constant(points)
    g = _run(tf.gradients(tf.reduce_sum(fn(x)), x)[0])
    np.testing.assert_allclose(g, want, rtol=1e-6)
    with tf.eager_mode():
        x = tf.constant(points)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(fn(x))
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-6)


def test_gradient_ties_of_maximum_minimum_and_reductions():
    x, y = tf.constant([1.0, 2.0, 3.0]), tf.constant([1.0, 1.0, 3.0])
    got = _run(
        tf.gradients(tf.reduce_sum(tf.maximum(x, y)), [x, y])
        + tf.gradients(tf.reduce_sum(tf.minimum(x, y)), [x, y])
    )
    want = [[1, 1, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]]  # TF: ties go to x
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    z = tf.constant([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    got = _run(
        [
            tf.gradients(tf.reduce_max(z, axis=1), z)[0],
            tf.gradients(tf.reduce_max(z), z)[0],
            tf.gradients(tf.reduce_min(z, axis=1), z)[0],
        ]
    )
    third = 1 / 3
    np.testing.assert_allclose(got[0], [[0, 0.5, 0.5], [third] * 3], rtol=1e-6)  # split
    np.testing.assert_allclose(got[1], [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_allclose(got[2], [[1, 0, 0], [third] * 3], rtol=1e-6)


# -- 9. feed errors are ValueErrors; batch norm's variable order --------------------------


def test_feeding_a_wrong_shape_is_a_value_error():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    s = tf.placeholder(tf.float32, [], name="s")
    with tf.Session() as sess:
        for t, value, message in [  # TF 2.21's messages
            (
                x,
                np.zeros(3),
                "Cannot feed value of shape (3,) for Tensor x:0, which has shape (None, 2)",
            ),
            (
                x,
                np.zeros((2, 3)),
                "Cannot feed value of shape (2, 3) for Tensor x:0, which has shape (None, 2)",
            ),
            (s, [1.0, 2.0], "Cannot feed value of shape (2,) for Tensor s:0, which has shape ()"),
        ]:
            with pytest.raises(ValueError) as info:
                sess.run(t * 2, {t: value})
            assert str(info.value) == message
            assert not isinstance(info.value, tf.errors.OpError)
        with pytest.raises(ValueError, match="could not convert"):
            sess.run(x * 2, {x: [["a", "b"]]})
        assert sess.run(x * 2, {x: [[1, 2]]}).tolist() == [[2, 4]]  # the plan still works


def test_batch_normalization_lists_gamma_before_beta():
    x = tf.placeholder(tf.float32, [None, 3])
    tf.layers.batch_normalization(x)
    assert [v.name for v in tf.trainable_variables()] == [  # Keras/TF1 build order
        "batch_normalization/gamma:0",
        "batch_normalization/beta:0",
    ]
    assert [v.name for v in tf.global_variables()][2:] == [
        "batch_normalization/moving_mean:0",
        "batch_normalization/moving_variance:0",
    ]


# -- 10. where TF departs from the mathematics, miniflow keeps it (docs/tf1_differences.md)


def test_intended_differences_keep_the_mathematics():
    from miniflow.testing import check_grads

    labels = np.array([[0.5, 0.7, 0.3]])  # does not sum to 1
    logits = tf.constant([[1.0, 2.0, 0.5]])
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
    g = _run(tf.gradients(loss, logits)[0])
    # TF: [-0.26878, -0.07147, -0.15976] (softmax - labels); the derivative is this:
    np.testing.assert_allclose(g, [[-0.15316, 0.24280, -0.08963]], atol=1e-5)
    check_grads(
        lambda z: tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=z),
        [np.array([[1.0, 2.0, 0.5]])],
    )
    rng = np.random.RandomState(0)
    check_grads(
        lambda x: sum(
            tf.reduce_sum(t * t)
            for t in tf.nn.fused_batch_norm(
                x, tf.ones([3], tf.float64), tf.zeros([3], tf.float64), is_training=True
            )[:2]
        ),
        [rng.randn(2, 2, 2, 3)],
    )
    check_grads(
        lambda x, w: tf.nn.conv2d(
            x, w, strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 2, 2, 1]
        ),
        [rng.randn(1, 5, 5, 2), rng.randn(2, 2, 2, 1)],
    )


def test_shape_lists_of_int64_tensors_pack_as_int64():
    # TF auto-packs [int64 tensor, ...] as an int64 shape: tf.fill([x], x) works (TF 2.21).
    g = tf.Graph()
    with g.as_default():
        x = tf.constant(3, tf.int64)
        y = tf.fill([x], x)
        z = tf.reshape(tf.range(6), [tf.constant(2, tf.int64), 3])
        fy, fz = tf.Session(graph=g).run([y, z])
    assert y.dtype == tf.int64
    np.testing.assert_array_equal(fy, [3, 3, 3])
    assert fz.shape == (2, 3)
