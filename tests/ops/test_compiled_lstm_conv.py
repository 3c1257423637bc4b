"""Issue 22, second round: the compiled (numba) LSTM cell and Adam/RMSProp updates
against their NumPy twins (the reference kernels, checked against TensorFlow's numbers
and finite differences in test_fused_kernels.py), finite differences through the
compiled gradient, NaN/inf handling, the ``MINIFLOW_NO_NUMBA`` switch, and the
convolution's reused im2col buffer."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import miniflow as tf
from miniflow.core import compiled, compiled_updates, update_rules
from miniflow.ops import conv_ops, lstm_compiled, rnn_cell_ops as R

pytest.importorskip("numba")

SETTINGS = settings(max_examples=10, deadline=None)


def numpy_path(fn):
    """``fn()`` with the compiled kernels switched off (``MINIFLOW_NO_NUMBA=1``)."""
    before = os.environ.get(compiled.ENV)
    os.environ[compiled.ENV] = "1"
    try:
        return fn()
    finally:
        if before is None:
            del os.environ[compiled.ENV]
        else:
            os.environ[compiled.ENV] = before


def _cell_args(rng, batch, depth, units, scale=1.0):
    shapes = [(batch, depth), (batch, units), (batch, units), (depth + units, 4 * units)]
    shapes += [(units,)] * 3 + [(4 * units,)]
    return [(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes]


def _both(fn):
    assert lstm_compiled.enabled(np.dtype(np.float32))
    return fn(), numpy_path(fn)


@SETTINGS
@given(
    batch=st.integers(1, 9),
    depth=st.integers(1, 6),
    units=st.integers(1, 9),
    peep=st.booleans(),
    clip=st.sampled_from([-1.0, 0.0, 0.6, 3.0]),
    forget_bias=st.sampled_from([0.0, 1.0, -0.5]),
    scale=st.sampled_from([0.3, 1.0, 6.0]),
    seed=st.integers(0, 2**16),
)
def test_compiled_cell_equals_the_numpy_cell(
    batch, depth, units, peep, clip, forget_bias, scale, seed
):
    """Forward (7 outputs) and LSTMBlockCellGrad (5 outputs), compiled vs NumPy, on
    random shapes and magnitudes (scale 6: gates deep in the tanh/sigmoid tails)."""
    rng = np.random.default_rng(seed)
    args = _cell_args(rng, batch, depth, units, scale)
    cs_grad, h_grad = (rng.standard_normal((batch, units)).astype(np.float32) for _ in "ch")

    def run():
        out = R._lstm_block_cell(*args, forget_bias=forget_bias, cell_clip=clip, use_peephole=peep)
        grad = R._lstm_block_cell_grad(*args, *out[:6], cs_grad, h_grad, use_peephole=peep)
        return out, grad

    (fast_out, fast_grad), (ref_out, ref_grad) = _both(run)
    for got, want in zip(fast_out + fast_grad, ref_out + ref_grad):
        assert got.dtype == np.float32 and got.shape == want.shape
        # a saturated gate's s(1 - s) is ~1e-7 in both kernels but may differ by an ulp
        # of 1 (6e-8), times upstream factors that grow as scale^4 (peephole grads)
        atol = 2e-6 * (1 + scale**4)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)


def test_compiled_tanh_and_sigmoid_over_the_float32_range():
    """The rational tanh (and sigmoid from it) against float64 NumPy, including the
    clamped tails, +-inf and the smallest numbers."""
    x = np.concatenate(
        [np.linspace(-20, 20, 40001), [0.0, 1e-30, -1e-30, 1e-5, 7.9, 8.0, 88.0, -88.0]]
    ).astype(np.float32)
    x = np.concatenate([x, np.array([np.inf, -np.inf], np.float32)])
    t, s = x.copy(), x.copy()
    f = np.float32
    lstm_compiled._tanh_inplace(t, f(1), f(0))
    lstm_compiled._tanh_inplace(s, f(0.5), f(0.5))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(t, np.tanh(x64), rtol=0, atol=3e-7)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x64)), rtol=0, atol=2e-7)
    assert np.all(t[x == 0] == 0) and np.all(np.abs(t) <= 1) and np.all((s >= 0) & (s <= 1))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 1, 2, 3])
def test_nan_and_inf_inputs_give_the_numpy_kernels_results(bad, where):
    """fastmath's clamps would turn NaN into a number: the forward kernel notices a
    non-finite input and the NumPy kernel answers instead (same NaNs, same values)."""
    rng = np.random.default_rng(3)
    args = _cell_args(rng, 4, 3, 5)
    args[where].flat[2] = bad  # x, cs_prev, h_prev or w
    fast, ref = _both(lambda: R._lstm_block_cell(*args))
    for got, want in zip(fast, ref):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("compiled_on", [True, False])
def test_bad_peephole_shapes_and_empty_batches(compiled_on):
    """The compiled loops index the peephole vectors unchecked: both paths refuse a wrong
    shape with TF's error class, and a batch of 0 gives empty outputs."""
    rng = np.random.default_rng(5)
    args = _cell_args(rng, 3, 2, 4)
    bad = list(args)
    bad[5] = bad[5][:2]  # wcf

    def run():
        with pytest.raises(tf.errors.InvalidArgumentError, match="wci, wcf and wco"):
            R._lstm_block_cell(*bad, use_peephole=True)
        out = R._lstm_block_cell(*args, use_peephole=True)
        with pytest.raises(tf.errors.InvalidArgumentError, match="wci, wcf and wco"):
            R._lstm_block_cell_grad(*bad, *out[:6], out[1], out[6], use_peephole=True)
        with pytest.raises(tf.errors.InvalidArgumentError, match="outputs and gradients"):
            R._lstm_block_cell_grad(*args, *out[:6], out[1], out[6][:2], use_peephole=True)
        empty = [a[:0] if k < 3 else a for k, a in enumerate(args)]
        out = R._lstm_block_cell(*empty, use_peephole=True)
        grad = R._lstm_block_cell_grad(*empty, *out[:6], out[1], out[6], use_peephole=True)
        assert [o.shape for o in out] == [(0, 4)] * 7 and grad[1].shape == (0, 16)

    run() if compiled_on else numpy_path(run)


def test_nan_in_the_gradient_propagates():
    rng = np.random.default_rng(4)
    args = _cell_args(rng, 3, 2, 4)
    out = R._lstm_block_cell(*args)
    h_grad = np.ones((3, 4), np.float32)
    h_grad[1, 2] = np.nan
    cs_prev_grad, dicfo, *_ = R._lstm_block_cell_grad(
        *args, *out[:6], np.zeros_like(h_grad), h_grad
    )
    assert np.isnan(cs_prev_grad[1, 2]) and np.isnan(dicfo[1, 2::4]).all()
    assert np.isfinite(np.delete(cs_prev_grad.ravel(), 6)).all()


@pytest.mark.parametrize("peep", [False, True])
def test_compiled_gradient_matches_finite_differences(peep):
    """tf.gradients through the float32 (compiled) cell against central differences of
    the cell's float64 definition (the NumPy kernel in float64)."""
    rng = np.random.default_rng(21)
    args = _cell_args(rng, 3, 4, 5)
    rc, rh = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    a64 = [a.astype(np.float64) for a in args]

    def loss(vals):
        out = R._lstm_block_cell(*vals, forget_bias=1.0, use_peephole=peep)
        return np.sum(out[1] * rc) + np.sum(out[6] * rh)

    with tf.Graph().as_default(), tf.Session() as sess:
        ts = [tf.constant(a) for a in args]
        x, cs, h, w, wci, wcf, wco, b = ts
        out = R.lstm_block_cell(x, cs, h, w, b, wci, wcf, wco, use_peephole=peep)
        lt = tf.reduce_sum(out[1] * rc.astype(np.float32)) + tf.reduce_sum(
            out[6] * rh.astype(np.float32)
        )
        grads = sess.run(tf.gradients(lt, ts))
    eps = 1e-6
    for k, (a, g) in enumerate(zip(a64, grads)):
        assert g.dtype == np.float32
        if not peep and k in (4, 5, 6):
            continue
        for idx in [tuple(int(rng.integers(0, n)) for n in a.shape) for _ in range(4)]:
            old = a[idx]
            a[idx] = old + eps
            up = loss(a64)
            a[idx] = old - eps
            down = loss(a64)
            a[idx] = old
            assert g[idx] == pytest.approx((up - down) / (2 * eps), rel=2e-4, abs=2e-5)


def test_static_rnn_trains_the_same_with_and_without_numba():
    """Three Adam steps of a static_rnn LSTM: compiled and NumPy kernels agree."""
    rng = np.random.default_rng(8)
    xs = rng.standard_normal((6, 5, 3)).astype(np.float32)
    labels = rng.integers(0, 4, 6)

    def train():
        with tf.Graph().as_default(), tf.Session() as sess:
            tf.set_random_seed(1)
            cell = tf.nn.rnn_cell.BasicLSTMCell(7)
            _, state = tf.nn.static_rnn(cell, tf.unstack(tf.constant(xs), axis=1), dtype=tf.float32)
            logits = tf.layers.dense(state.h, 4)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
            step = tf.train.AdamOptimizer(0.05).minimize(loss)
            sess.run(tf.global_variables_initializer())
            return [sess.run([step, loss])[1] for _ in range(3)] + [sess.run(cell.kernel)]

    fast, ref = train(), numpy_path(train)
    np.testing.assert_allclose(fast[:3], ref[:3], rtol=1e-5)
    np.testing.assert_allclose(fast[3], ref[3], rtol=1e-4, atol=1e-5)
    assert fast[2] < fast[0]


def test_switch_turns_the_compiled_kernels_off(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "1")
    assert not compiled.enabled() and not lstm_compiled.enabled(np.dtype(np.float32))
    monkeypatch.setenv(compiled.ENV, "0")
    assert compiled.enabled() and lstm_compiled.enabled(np.dtype(np.float32))
    assert not lstm_compiled.enabled(np.dtype(np.float64))  # float32-accurate only


def test_numba_is_not_imported_with_the_library():
    code = "import sys, miniflow; assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ---------------------------------------------------------------- Adam and RMSProp
def _states(rng, shape, dtype):
    w, m, g = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    v = np.abs(rng.standard_normal(shape)).astype(dtype)
    return [w, m, v, g]


@SETTINGS
@given(
    shape=st.sampled_from([(1,), (7,), (33, 5), (4, 3, 2)]),
    big=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_compiled_adam_and_rmsprop_are_bit_identical(shape, big, dtype, seed):
    rng = np.random.default_rng(seed)
    if big:  # over MIN_SIZE: the compiled loops run
        shape = (compiled_updates.MIN_SIZE // int(np.prod(shape)) + 1,) + shape
    for rule, call in [
        ("adam", lambda s: update_rules.adam(*s, 1e-3, 0.9, 0.999, 1e-8, 0.9**3, 0.999**3)),
        (  # (w, ms, mom, g): the mean square is the non-negative state
            "rmsprop",
            lambda s: update_rules.rmsprop_in_place(s[0], s[2], s[1], s[3], 0.01, 0.9, 0.5, 1e-10),
        ),
    ]:
        start = _states(rng, shape, dtype)
        fast, ref = [a.copy() for a in start], [a.copy() for a in start]
        assert compiled_updates.usable(*fast) == big
        for _ in range(3):
            call(fast)
            numpy_path(lambda: call(ref))  # noqa: B023
        for got, want in zip(fast, ref):
            assert got.dtype == dtype
            np.testing.assert_array_equal(got, want, err_msg=rule)


def test_updates_fall_back_where_the_loops_do_not_apply():
    rng = np.random.default_rng(2)
    w, m, v, g = _states(rng, (6, 4), np.float32)
    assert not compiled_updates.usable(w, m, v, g)  # small: NumPy, numba not needed
    big = _states(rng, (compiled_updates.MIN_SIZE, 2), np.float32)
    assert compiled_updates.usable(*big)
    assert not compiled_updates.usable(*(a[:, ::2] for a in big))
    assert not compiled_updates.usable(*big[:3], big[3].astype(np.float64))
    w, m, v, g = _states(rng, (6, 4), np.float32)
    # a strided variable, and per-element learning rates, still update correctly
    ws, ms, moms, gs = w[:, ::2].copy(order="F"), np.abs(m[:, ::2]), v[:, ::2].copy(), g[:, ::2]
    want_ms, want_mom, _ = update_rules.rmsprop(gs, ms, moms, None, 0.1, 0.9, 0.0, 1e-10)
    want_w = ws - want_mom
    update_rules.rmsprop_in_place(ws, ms, moms, gs, 0.1, 0.9, 0.0, 1e-10)
    np.testing.assert_allclose(ws, want_w, rtol=1e-6)
    lr = np.full(w.shape, 0.01, np.float32)
    w2 = w.copy()
    update_rules.rmsprop_in_place(w2, np.abs(m), v.copy(), g, lr, 0.9, 0.0, 1e-10)
    assert not np.array_equal(w2, w)


# ---------------------------------------------------------------- convolution buffer
def test_conv_with_the_reused_patch_buffer_equals_fresh_buffers(monkeypatch):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 9, 8, 4)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    dy = rng.standard_normal((3, 9, 8, 5)).astype(np.float32)
    x2 = rng.standard_normal((3, 9, 8, 4)).astype(np.float32)

    def run(xv):
        y = conv_ops._conv2d_kernel(xv, w, (1, 1), (1, 1), "SAME")
        dw = conv_ops._conv_backprop_filter_kernel(xv, [3, 3, 4, 5], dy, (1, 1), (1, 1), "SAME")
        return y, dw

    reused = run(x)
    kept = [a.copy() for a in reused]
    run(x2)  # the buffer is overwritten: the first results must not change
    for a, b in zip(reused, kept):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(conv_ops, "_SCRATCH_MAX", -1)
    for a, b in zip(reused, run(x)):
        np.testing.assert_array_equal(a, b)
    # and against a direct sum over the taps (float64)
    xp = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    want = sum(
        np.einsum("nhwc,co->nhwo", xp[:, i : i + 9, j : j + 8], w[i, j])
        for i in range(3)
        for j in range(3)
    )
    np.testing.assert_allclose(reused[0], want, rtol=1e-5, atol=1e-5)


def test_conv_patch_buffers_are_per_thread():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((5, 5, 3, 4)).astype(np.float32)
    inputs = [rng.standard_normal((2, 12, 12, 3)).astype(np.float32) for _ in range(4)]
    want = [conv_ops._conv2d_kernel(x, w, (1, 1), (1, 1), "SAME") for x in inputs]
    errors = []

    def worker(k):
        for _ in range(30):
            got = conv_ops._conv2d_kernel(inputs[k], w, (1, 1), (1, 1), "SAME")
            if not np.array_equal(got, want[k]):
                errors.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
