"""Forward values of `tf.nn` against independent NumPy/SciPy formulas (eager and graph)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from scipy import special

import miniflow as tf

RNG = np.random.default_rng(1)


def _run(fn, *args):
    """fn evaluated eagerly and in a graph; both results returned."""
    with tf.eager_mode():
        eager = fn(*[tf.constant(a) for a in args])
        eager = (
            [np.asarray(e) for e in eager] if isinstance(eager, tuple | list) else np.asarray(eager)
        )
    with tf.Graph().as_default(), tf.Session() as sess:
        graph = sess.run(fn(*[tf.constant(a) for a in args]))
    return eager, graph


def _both(fn, want, *args, tol=1e-6):
    eager, graph = _run(fn, *args)
    np.testing.assert_allclose(eager, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(graph, want, rtol=tol, atol=tol)


X = RNG.standard_normal((3, 5)) * 3


@pytest.mark.parametrize(
    "fn,ref",
    [
        (tf.nn.relu6, lambda x: np.clip(x, 0, 6)),
        (tf.nn.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
        (
            tf.nn.selu,
            lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
        ),
        (lambda x: tf.nn.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
        (tf.nn.softplus, lambda x: np.log1p(np.exp(x))),
        (tf.nn.softsign, lambda x: x / (1 + np.abs(x))),
        (tf.nn.softmax, lambda x: special.softmax(x, axis=-1)),
        (lambda x: tf.nn.softmax(x, axis=0), lambda x: special.softmax(x, axis=0)),
        (tf.nn.log_softmax, lambda x: special.log_softmax(x, axis=-1)),
        (tf.nn.l2_loss, lambda x: np.sum(x**2) / 2),
        (
            lambda x: tf.nn.l2_normalize(x, 1),
            lambda x: x / np.linalg.norm(x, axis=1, keepdims=True),
        ),
    ],
)
def test_activation_values(fn, ref):
    _both(fn, ref(X), X)


def test_stable_losses_at_extreme_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 50.0]])
    labels = np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    want = -np.sum(labels * special.log_softmax(logits, axis=1), axis=1)
    _both(
        lambda lab, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=lab, logits=x),
        want,
        labels,
        logits,
    )
    sparse = np.array([1, 2])
    want = -special.log_softmax(logits, axis=1)[np.arange(2), sparse]
    _both(
        lambda x, lab: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x),
        want,
        logits,
        sparse,
    )
    z = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.3]])
    # -z log s(x) - (1-z) log(1 - s(x)) with log s(x) = -logaddexp(0, -x)
    want = z * np.logaddexp(0, -logits) + (1 - z) * np.logaddexp(0, logits)
    _both(
        lambda lab, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=x),
        want,
        z,
        logits,
    )
    q = 3.0
    want = q * z * np.logaddexp(0, -logits) + (1 - z) * np.logaddexp(0, logits)
    _both(lambda lab, x: tf.nn.weighted_cross_entropy_with_logits(lab, x, q), want, z, logits)
    eager, graph = _run(tf.nn.softmax, logits)
    assert np.all(np.isfinite(eager)) and np.all(np.isfinite(graph))


def test_sparse_xent_rejects_out_of_range_labels():
    with tf.eager_mode():
        with pytest.raises(tf.errors.InvalidArgumentError, match="outside the valid range"):
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[3], logits=[[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="Rank mismatch"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[[0]], logits=[[1.0, 2.0]])


def _conv_reference(x, w, stride, padding, dilation=(1, 1)):
    """Direct definition: out[n,i,j,o] = sum x[n, i*s + a*d - pad, ...] * w[a, b, c, o]."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    eh, ew = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    if padding == "SAME":
        oh, ow = -(-h // stride[0]), -(-wd // stride[1])
        pt = max((oh - 1) * stride[0] + eh - h, 0) // 2
        pl = max((ow - 1) * stride[1] + ew - wd, 0) // 2
    else:
        oh, ow = -(-(h - eh + 1) // stride[0]), -(-(wd - ew + 1) // stride[1])
        pt = pl = 0
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    r = i * stride[0] + a * dilation[0] - pt
                    q = j * stride[1] + b * dilation[1] - pl
                    if 0 <= r < h and 0 <= q < wd:
                        out[:, i, j, :] += x[:, r, q, :] @ w[a, b]
    return out


@settings(max_examples=15, deadline=None)
@given(
    h=st.integers(3, 7),
    w=st.integers(3, 7),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    padding=st.sampled_from(["SAME", "VALID"]),
    seed=st.integers(0, 1000),
)
def test_conv2d_matches_direct_definition(h, w, k, s, d, padding, seed):
    if d > 1:
        s = 1
    assume(padding == "SAME" or (k - 1) * d + 1 <= h and k * d + 1 <= w)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, h, w, 3))
    f = rng.standard_normal((k, k + 1, 3, 2))
    want = _conv_reference(x, f, (s, s), padding, (d, d))
    _both(
        lambda a, b: tf.nn.conv2d(a, b, [1, s, s, 1], padding, dilations=[1, d, d, 1]),
        want,
        x,
        f,
        tol=1e-9,
    )


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 5, 3))
    w = rng.standard_normal((3, 3, 3, 4))
    y = rng.standard_normal((2, 3, 3, 4))
    with tf.eager_mode():
        conv = np.asarray(tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME"))
        back = np.asarray(tf.nn.conv2d_transpose(y, w, [2, 6, 5, 3], [1, 2, 2, 1], "SAME"))
    np.testing.assert_allclose(np.sum(conv * y), np.sum(x * back), rtol=1e-10)


def _pool_reference(x, k, s, padding, how):
    n, h, w, c = x.shape
    if padding == "SAME":
        oh, ow = -(-h // s[0]), -(-w // s[1])
        pt = max((oh - 1) * s[0] + k[0] - h, 0) // 2
        pl = max((ow - 1) * s[1] + k[1] - w, 0) // 2
    else:
        oh, ow, pt, pl = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1, 0, 0
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(r0, 0) : r0 + k[0], max(c0, 0) : c0 + k[1], :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if how == "max" else win.mean(axis=(1, 2))
    return out


@settings(max_examples=15, deadline=None)
@given(
    h=st.integers(2, 7),
    w=st.integers(2, 7),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    padding=st.sampled_from(["SAME", "VALID"]),
    seed=st.integers(0, 1000),
)
def test_pooling_matches_direct_definition(h, w, k, s, padding, seed):
    if padding == "VALID" and (k > h or k > w):
        return
    x = np.random.default_rng(seed).standard_normal((2, h, w, 3))
    for how, fn in (("max", tf.nn.max_pool), ("avg", tf.nn.avg_pool)):
        want = _pool_reference(x, (k, k), (s, s), padding, how)
        _both(lambda a, fn=fn: fn(a, [1, k, k, 1], [1, s, s, 1], padding), want, x, tol=1e-12)


def test_top_k_and_in_top_k():
    x = np.array([[1.0, 3.0, 2.0, 3.0], [5.0, 4.0, 6.0, 0.0]])
    (vals, idx), (gvals, gidx) = _run(lambda a: tf.nn.top_k(a, 2), x)
    np.testing.assert_array_equal(vals, [[3.0, 3.0], [6.0, 5.0]])
    np.testing.assert_array_equal(idx, [[1, 3], [2, 0]])  # ties: lower index first
    np.testing.assert_array_equal(gidx, idx)
    with tf.eager_mode():
        got = tf.nn.in_top_k(tf.constant(x), [2, 1], 2).numpy()
        tie = tf.nn.in_top_k(tf.constant(x), [3, 0], 1).numpy()
    np.testing.assert_array_equal(got, [False, False])
    np.testing.assert_array_equal(tie, [True, False])


def test_moments_batch_norm_and_fused():
    x = RNG.standard_normal((4, 3, 2, 5))
    (m, v), _ = _run(lambda a: tf.nn.moments(a, [0, 1, 2]), x)
    np.testing.assert_allclose(m, x.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(v, x.var(axis=(0, 1, 2)))
    scale, offset = RNG.standard_normal(5), RNG.standard_normal(5)
    want = (x - m) / np.sqrt(v + 1e-3) * scale + offset
    _both(lambda a: tf.nn.batch_normalization(a, m, v, offset, scale, 1e-3), want, x)
    (y, bm, bv), _ = _run(lambda a: tf.nn.fused_batch_norm(a, scale, offset, epsilon=1e-3), x)
    np.testing.assert_allclose(y, want, atol=1e-10)
    np.testing.assert_allclose(bv, x.var(axis=(0, 1, 2), ddof=1))


def test_dropout_keeps_expectation_and_scales_survivors():
    x = np.ones((200, 50))
    with tf.eager_mode():
        tf.set_random_seed(3)
        y = tf.nn.dropout(tf.constant(x), rate=0.25).numpy()
        y2 = tf.nn.dropout(tf.constant(x), keep_prob=0.75).numpy()
    assert set(np.unique(y)) <= {0.0, 1 / 0.75}
    assert abs(np.mean(y == 0) - 0.25) < 0.02
    assert not np.array_equal(y, y2)  # the random stream advances
    with pytest.raises(ValueError, match="Exactly one"):
        tf.nn.dropout(x, keep_prob=0.5, rate=0.5)
    with pytest.raises(ValueError, match="range"):
        tf.nn.dropout(x, keep_prob=1.5)


def test_bias_add_and_errors():
    v, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal(4)
    _both(tf.nn.bias_add, v + b, v, b)
    with pytest.raises(ValueError, match="output size would be negative"):
        tf.nn.conv2d(np.ones((1, 2, 2, 1)), np.ones((4, 4, 1, 1)), [1, 1, 1, 1], "VALID")
    with pytest.raises(ValueError, match="rank 1"):
        tf.nn.bias_add(v, np.ones((2, 4)))
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.nn.bias_add(v, np.ones(3))


def test_embedding_lookup_partitioned_matches_the_whole_table():
    table = RNG.standard_normal((7, 3))
    ids = np.array([[6, 0, 3], [2, 2, 5]])
    for strategy, parts in (
        ("mod", [table[0::3], table[1::3], table[2::3]]),
        ("div", [table[0:3], table[3:5], table[5:7]]),
    ):
        _both(
            lambda *p, strategy=strategy: tf.nn.embedding_lookup(
                list(p), ids, partition_strategy=strategy
            ),
            table[ids],
            *parts,
        )


def test_embedding_lookup_of_a_variable_gives_sparse_gradients_in_both_modes():
    table = RNG.standard_normal((50, 4))
    with tf.eager_mode():
        v = tf.Variable(table)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.embedding_lookup(v, [3, 7, 3]))
        g = tape.gradient(loss, v)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(np.asarray(g.indices), [3, 7, 3])
    with tf.Graph().as_default():
        v = tf.Variable(table)
        g = tf.gradients(tf.reduce_sum(tf.nn.embedding_lookup(v, [3, 7, 3])), v)[0]
    assert isinstance(g, tf.IndexedSlices)


def test_math_composites():
    x = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    _both(lambda a: tf.math.reduce_logsumexp(a, axis=1), special.logsumexp(x, axis=1), x)
    _both(tf.reduce_logsumexp, special.logsumexp(x), x)
    _both(tf.math.log_sigmoid, -np.logaddexp(0, -x), x)
    _both(
        lambda a: tf.math.divide_no_nan(a, np.array([0.0, 2.0, 0.0])),
        np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
        x,
    )
    assert tf.random.normal is tf.random_normal and tf.math.top_k is tf.nn.top_k


def test_linalg_values():
    a = RNG.standard_normal((2, 4, 4)) + 4 * np.eye(4)
    spd = a @ np.swapaxes(a, -1, -2)
    b = RNG.standard_normal((2, 4, 3))
    _both(tf.linalg.inv, np.linalg.inv(a), a, tol=1e-9)
    _both(tf.linalg.det, np.linalg.det(a), a, tol=1e-9)
    _both(tf.linalg.solve, np.linalg.solve(a, b), a, b, tol=1e-9)
    _both(
        lambda m, r: tf.linalg.solve(m, r, adjoint=True),
        np.linalg.solve(np.swapaxes(a, -1, -2), b),
        a,
        b,
        tol=1e-9,
    )
    _both(tf.linalg.cholesky, np.linalg.cholesky(spd), spd, tol=1e-9)
    _both(lambda m: tf.linalg.band_part(m, 1, 0), np.tril(np.triu(a, -1)), a)
    _both(tf.linalg.trace, np.trace(a, axis1=-2, axis2=-1), a, tol=1e-9)
    _both(tf.linalg.logdet, np.linalg.slogdet(spd)[1], spd, tol=1e-9)
    with tf.eager_mode():
        with pytest.raises(tf.errors.InvalidArgumentError, match="not invertible"):
            tf.linalg.inv(np.zeros((2, 2)))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cholesky"):
            tf.linalg.cholesky(-np.eye(2))
    with pytest.raises(ValueError, match="square"):
        tf.linalg.inv(np.ones((2, 3)))
