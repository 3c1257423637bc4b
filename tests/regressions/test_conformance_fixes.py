"""Regression tests for the mismatches the conformance suite found (issue 13), one test per
item. Expected numbers and error classes come from real TensorFlow 2.21 (`tf.compat.v1`
graph mode) unless a comment says they are hand-computed."""

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
        return sess.run(fetches, feed_dict)


def _tape_grads(fn, *values):
    with tf.eager_mode():
        xs = [tf.constant(v) for v in values]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            y = fn(*xs)
        return [g.numpy() for g in tape.gradient(y, xs)]


# -- 19. cumulative_logsumexp: second derivative ----------------------------------------


def test_cumulative_logsumexp_second_derivative():
    x = tf.constant([0.3, -1.2, 0.7, 1.5], tf.float64)
    w = tf.constant([0.5, -1.0, 2.0, 0.7], tf.float64)
    v = tf.constant([1.0, 0.3, -0.4, 0.8], tf.float64)
    gx = tf.gradients(tf.reduce_sum(tf.math.cumulative_logsumexp(x) * w), x)[0]
    gg = tf.gradients(tf.reduce_sum(gx * v), x)[0]
    got_gx, got_gg = _run([gx, gg])
    np.testing.assert_allclose(got_gx, [0.5350747, 0.00782622, 1.2720031, 0.38509597], rtol=1e-6)
    np.testing.assert_allclose(
        got_gg, [0.56057802, 0.11960351, -0.78876995, 0.10858842], rtol=1e-6
    )  # TF; also central differences


# -- 7. einsum: gradient with a repeated subscript ---------------------------------------


def test_einsum_repeated_subscript_gradient():
    a = np.arange(1.0, 10.0).reshape(3, 3)
    b = np.array([1.0, 2.0, 3.0])
    # hand-computed: d/da_ij sum_i a_ii b_i = delta_ij b_i; d/db_i = a_ii
    want = [np.diag(b), np.diag(a)]
    ta, tb = tf.constant(a), tf.constant(b)
    got = _run(tf.gradients(tf.einsum("ii,i->", ta, tb), [ta, tb]))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)
    for g, w in zip(_tape_grads(lambda x, y: tf.einsum("ii,i->", x, y), a, b), want):
        np.testing.assert_allclose(g, w)


# -- 8. eigvalsh: gradient ---------------------------------------------------------------


def test_eigvalsh_gradient():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    w = np.array([1.0, 2.0, 3.0])
    # TF: the derivative with respect to the lower triangle the kernel reads
    want = [
        [1.4226497308103738, 0.0, 0.0],
        [1.1547005383792512, 2.0, 0.0],
        [0.0, 1.1547005383792515, 2.5773502691896266],
    ]
    ta = tf.constant(a)
    got = _run(tf.gradients(tf.reduce_sum(tf.linalg.eigvalsh(ta) * w), ta)[0])
    np.testing.assert_allclose(got, want, atol=1e-12)
    eager = _tape_grads(lambda x: tf.reduce_sum(tf.linalg.eigvalsh(x) * w), a)[0]
    np.testing.assert_allclose(eager, want, atol=1e-12)


# -- 14. softmax / log_softmax of an empty tensor ----------------------------------------


@pytest.mark.parametrize("fn", [tf.nn.softmax, tf.nn.log_softmax])
def test_softmax_empty(fn):
    out = _run(fn(tf.zeros([2, 0])))  # TF: an empty (2, 0) float32 result
    assert out.shape == (2, 0) and out.dtype == np.float32
    with tf.eager_mode():
        assert fn(tf.zeros([2, 0])).numpy().shape == (2, 0)


# -- 2. TF1 where: x and y must have one shape -------------------------------------------


def test_where_v1_does_not_broadcast():
    c = tf.placeholder(tf.bool, [2, 3])
    with pytest.raises(ValueError, match="equal rank"):  # TF: ValueError at build
        tf.where(c, tf.zeros([2, 3]), tf.zeros([3]))
    with pytest.raises(ValueError, match="must be equal"):
        tf.where(tf.placeholder(tf.bool, [3]), tf.zeros([2, 3]), tf.ones([2, 3]))
    rows = tf.where(tf.constant([True, False]), tf.zeros([2, 3]), tf.ones([2, 3]))
    np.testing.assert_array_equal(_run(rows), [[0, 0, 0], [1, 1, 1]])
    both = tf.where_v2(c, tf.zeros([2, 3]), tf.ones([3]))  # v2 still broadcasts
    assert both.shape.as_list() == [2, 3]


# -- 15. top_k: a static k larger than the last dimension --------------------------------


def test_top_k_static_k_too_big():
    with pytest.raises(ValueError, match="at least k columns"):  # TF: ValueError at build
        tf.nn.top_k(tf.zeros([2, 3]), k=4)
    x = tf.placeholder(tf.float32, [2, None])
    values, _ = tf.nn.top_k(x, k=4)
    with pytest.raises(tf.errors.InvalidArgumentError):  # TF: at run time when dynamic
        _run(values, {x: np.zeros((2, 3), np.float32)})


# -- 21. assign: a statically mismatched shape -------------------------------------------


def test_assign_bad_shape_at_build():
    v = tf.Variable(tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="incompatible"):  # TF: ValueError at build
        tf.assign(v, tf.zeros([3, 2]))
    tf.assign(v, tf.zeros([3, 2]), validate_shape=False)  # allowed, as TF


# -- 1. pad REFLECT / SYMMETRIC: padding larger than the dimension allows -----------------


@pytest.mark.parametrize(
    "mode, ok, bad, want",
    [
        ("REFLECT", 2, 3, [3.0, 2.0, 1.0, 2.0, 3.0]),
        ("SYMMETRIC", 3, 4, [3.0, 2.0, 1.0, 1.0, 2.0, 3.0]),
    ],
)
def test_mirror_pad_limits(mode, ok, bad, want):
    x = tf.constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(_run(tf.pad(x, [[ok, 0]], mode=mode)), want)  # TF
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be"):
        _run(tf.pad(x, [[bad, 0]], mode=mode))  # TF: InvalidArgumentError at run


# -- 9. reciprocal has no integer kernel -------------------------------------------------


def test_reciprocal_int32_fails_at_run():
    y = tf.math.reciprocal(tf.constant([2, 3]))  # TF: builds, InvalidArgumentError at run
    with pytest.raises(tf.errors.InvalidArgumentError, match="Reciprocal"):
        _run(y)
    np.testing.assert_array_equal(_run(tf.square(tf.constant([2, 3]))), [4, 9])  # TF: ok


# -- 11. truediv: mixed dtypes -----------------------------------------------------------


def test_truediv_mixed_dtypes_raise_type_error():
    x = tf.placeholder(tf.int32, [2])
    for y in (tf.placeholder(tf.float32, [2]), 1.5):  # TF: TypeError at build
        with pytest.raises(TypeError, match="same dtype"):
            tf.truediv(x, y)
        with pytest.raises(TypeError, match="same dtype"):
            x / y  # noqa: B018
    assert tf.truediv(x, 2).dtype == tf.float64  # TF: int32 / int32 -> float64


# -- 22. Adam in float64: eager equals graph (TF's float32 beta powers) ------------------


def test_adam_float64_eager_matches_graph():
    init, grad = np.array([0.3, -1.9, 0.5]), np.array([0.2, 1.0, -3.0])
    want = [0.2000001566, -1.9999999699, 0.5999999909]  # TF (beta powers in float32)
    v = tf.Variable(init)
    step = tf.train.AdamOptimizer(0.1).apply_gradients([(tf.constant(grad), v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(step)
        np.testing.assert_allclose(sess.run(v), want, rtol=1e-9)
    with tf.eager_mode():
        v = tf.Variable(init)
        tf.train.AdamOptimizer(0.1).apply_gradients([(tf.constant(grad), v)])
        np.testing.assert_allclose(v.numpy(), want, rtol=1e-9)


# -- 10. realdiv: second derivative at y = +-inf -----------------------------------------


def test_div_second_derivative_at_infinite_y():
    x = tf.constant([2.0, 3.0], tf.float64)
    y = tf.constant([np.inf, -np.inf], tf.float64)
    gy = tf.gradients(tf.reduce_sum(x / y), y)[0]
    ggy, ggx = tf.gradients(tf.reduce_sum(gy), [y, x])
    got = _run([gy, ggy, ggx])
    for g in got:  # TF: all zeros (the limits), no NaN
        np.testing.assert_array_equal(g, [0.0, 0.0])


# -- 17. lgamma / digamma derivatives at +inf --------------------------------------------


def test_gamma_family_derivatives_at_inf():
    z = tf.constant([np.inf, 2.0], tf.float64)
    g1 = tf.gradients(tf.reduce_sum(tf.math.lgamma(z)), z)[0]
    g2 = tf.gradients(tf.reduce_sum(g1), z)[0]
    d2 = tf.gradients(tf.reduce_sum(tf.gradients(tf.reduce_sum(tf.math.digamma(z)), z)[0]), z)[0]
    got = _run([g1, g2, d2])
    want = [[np.inf, 0.4227843351], [0.0, 0.6449340668], [0.0, -0.4041138063]]  # TF
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9)


# -- 3. Bessel K at +inf and NaN ---------------------------------------------------------


@pytest.mark.parametrize(
    "name, finite",
    [
        ("bessel_k0", 0.4210244382),
        ("bessel_k0e", 1.1444630798),
        ("bessel_k1", 0.6019072302),
        ("bessel_k1e", 1.6361534863),
    ],
)
def test_bessel_k_at_inf_and_nan(name, finite):
    out = _run(getattr(tf.math.special, name)(tf.constant([np.inf, np.nan, 1.0], tf.float64)))
    np.testing.assert_allclose(out, [0.0, np.nan, finite], rtol=1e-9)  # TF


# -- 4. spence(+inf): the limit -inf (TF: NaN; an intended difference) -------------------


def test_spence_at_inf_is_the_limit():
    # hand-computed: spence(x) = -pi^2/6 - log(x)^2 / 2 + O(log(x) / x) -> -inf
    out = _run(tf.math.special.spence(tf.constant([np.inf, 1e10], tf.float64)))
    assert out[0] == -np.inf
    np.testing.assert_allclose(out[1], -266.73983959, rtol=1e-9)  # TF and SciPy


# -- 13. dilation2d with strides and rates -----------------------------------------------


def test_dilation2d_strides_with_rates():
    x = np.sin(np.arange(1 * 7 * 8 * 2)).reshape(1, 7, 8, 2)
    w = np.cos(np.arange(2 * 3 * 2)).reshape(2, 3, 2) * 0.3
    tx, tw = tf.constant(x), tf.constant(w)
    y = tf.nn.dilation2d(tx, tw, strides=[1, 2, 3, 1], rates=[1, 2, 2, 1], padding="SAME")
    gx, gw = tf.gradients(tf.reduce_sum(y * y), [tx, tw])
    out, sx, sw = _run([y, tf.reduce_sum(gx), tf.reduce_sum(gw)])
    assert out.shape == (1, 4, 3, 2)  # TF
    np.testing.assert_allclose(
        out.ravel()[:6], [-0.260573, -0.123462, 1.200996, 1.062826, 1.05061, 1.182547], atol=1e-6
    )  # TF
    np.testing.assert_allclose(
        [out.sum(), sx, sw], [17.943643, 35.887285, 35.887285], atol=1e-5
    )  # TF


# -- 16. compute_accidental_hits with duplicate sampled ids ------------------------------


def test_accidental_hits_duplicate_sampled_ids():
    rows, ids, weights = _run(
        tf.nn.compute_accidental_hits(
            tf.constant([[1, 2], [3, 1]], tf.int64), tf.constant([1, 5, 1, 3, 2], tf.int64), 2
        )
    )
    # TF: one hit per true class, at the last position of a duplicated sampled id
    np.testing.assert_array_equal(rows, [0, 0, 1, 1])
    np.testing.assert_array_equal(ids, [2, 4, 3, 2])
    assert weights.dtype == np.float32 and (weights == -np.finfo(np.float32).max).all()


# -- 18. betainc does not broadcast ------------------------------------------------------


def test_betainc_shapes_must_match():
    with pytest.raises(ValueError, match="equal rank"):  # TF: ValueError at build
        tf.math.betainc(tf.ones([2, 3]), tf.ones([3]), tf.ones([2, 3]) * 0.5)
    ok = tf.math.betainc(tf.ones([2, 3]), 2.0, tf.ones([2, 3]) * 0.5)  # scalars are fine
    np.testing.assert_allclose(_run(ok), np.full((2, 3), 0.75))  # hand: I_x(1, 2) = 1-(1-x)^2


# -- 20. segment_mean of integers --------------------------------------------------------


def test_segment_mean_int32_truncates():
    r = tf.math.segment_mean(
        tf.constant([[-7, 2], [4, 3], [5, -2], [1, 1]]), tf.constant([0, 0, 1, 1])
    )
    out = _run(r)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[-1, 2], [3, 0]])  # TF: divided in int32, truncated


# -- 6. sparse.bincount: counts in the values' dtype -------------------------------------


def test_sparse_bincount_values_dtype():
    assert tf.sparse.bincount(tf.constant([1, 2, 2])).values.dtype == tf.int32  # TF
    assert tf.sparse.bincount(tf.constant([1, 2, 2], tf.int64)).values.dtype == tf.int64
    counts = tf.sparse.bincount(tf.constant([1, 2, 2]), weights=tf.constant([1.0, 2.0, 3.0]))
    assert counts.values.dtype == tf.float32
    np.testing.assert_array_equal(_run(tf.sparse.bincount(tf.constant([1, 2, 2]))).values, [1, 2])


# -- 5. TensorArray: a second read returns the element (an intended difference) ----------


def test_tensor_array_second_read_returns_the_element():
    ta = tf.TensorArray(tf.float32, size=2).unstack(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    first, second = _run([ta.read(1), ta.read(1)])  # TF: InvalidArgumentError (documented)
    np.testing.assert_array_equal(first, [3.0, 4.0])
    np.testing.assert_array_equal(second, [3.0, 4.0])


# -- 12. 3-D pooling in float64 (an intended difference: TF has no such kernel) ----------


def test_pool3d_float64():
    x = np.arange(16.0).reshape(1, 2, 2, 4, 1)
    kw = dict(ksize=[1, 2, 2, 2, 1], strides=[1, 2, 2, 2, 1], padding="VALID")
    mx, av = _run([tf.nn.max_pool3d(tf.constant(x), **kw), tf.nn.avg_pool3d(tf.constant(x), **kw)])
    assert mx.dtype == av.dtype == np.float64
    # NumPy reference: 2x2x2 blocks
    blocks = x.reshape(2, 2, 2, 2).transpose(2, 0, 1, 3).reshape(2, 8)
    np.testing.assert_array_equal(mx.ravel(), blocks.max(1))
    np.testing.assert_array_equal(av.ravel(), blocks.mean(1))
