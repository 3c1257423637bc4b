"""Issue 22 kernels other than convolution: the fused LSTM cell (LSTMBlockCell and its
gradient), the in-place Adam and RMSProp updates, the faster Sigmoid, and BLAS thread
control through ConfigProto. Checked against NumPy references, finite differences and
TensorFlow 2.21's numbers."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import miniflow as tf
from miniflow.core import blas_threads
from miniflow.ops import rnn_cell_ops as R


def _arr(shape, a, b, c, s):
    n = int(np.prod(shape))
    return ((np.arange(n) * a % b - c) / s).astype(np.float32).reshape(shape)


def _sig(v):
    v = np.asarray(v, np.float64).ravel()
    return [float(v.sum()), float(v @ (np.arange(v.size) % 13))]


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x.astype(np.float64)))


def _reference_cell(x, cs, h, w, wci, wcf, wco, b, fb, clip, peep):
    """The cell's definition in float64, gate by gate."""
    x, cs, h, w, wci, wcf, wco, b = (
        np.asarray(v, np.float64) for v in (x, cs, h, w, wci, wcf, wco, b)
    )
    u = cs.shape[1]
    g = np.concatenate([x, h], 1) @ w + b
    pi, pci, pf, po = (g[:, k * u : (k + 1) * u] for k in range(4))
    i = _np_sigmoid(pi + (cs * wci if peep else 0))
    f = _np_sigmoid(pf + fb + (cs * wcf if peep else 0))
    ci = np.tanh(pci)
    new_cs = ci * i + cs * f
    if clip > 0:
        new_cs = np.clip(new_cs, -clip, clip)
    o = _np_sigmoid(po + (new_cs * wco if peep else 0))
    co = np.tanh(new_cs)
    return i, new_cs, f, o, ci, co, co * o


def _cell_inputs(seed, batch=3, depth=4, units=5, dtype=np.float32):
    rng = np.random.default_rng(seed)
    shapes = [(batch, depth), (batch, units), (batch, units), (depth + units, 4 * units)]
    shapes += [(units,)] * 3 + [(4 * units,)]
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("peep,clip", [(False, -1.0), (True, -1.0), (True, 0.7)])
@pytest.mark.parametrize("seed", range(3))
def test_lstm_block_cell_matches_its_definition(peep, clip, seed):
    args = _cell_inputs(seed, batch=4 + seed, depth=3 + seed, units=2 + seed)
    got = R._lstm_block_cell(*args, forget_bias=1.0, cell_clip=clip, use_peephole=peep)
    want = _reference_cell(*args, 1.0, clip, peep)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=2e-6)


# (use_peephole, cell_clip, [7 outputs], [5 LSTMBlockCellGrad outputs]) as [sum, weighted
# sum], from TensorFlow 2.21's tf.raw_ops.LSTMBlockCell / LSTMBlockCellGrad on these inputs.
TF_CELL = [
    (
        False,
        -1.0,
        [[8.4168, 34.3272], [-1.2927, 15.378], [9.1733, 36.5608], [8.2619, 42.3866]]
        + [[0.0103, 30.7914], [-0.0055, 13.7675], [0.4153, 10.1056]],
        [[0.3661, -0.4957], [2.1698, 12.556], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
    ),
    (
        True,
        -1.0,
        [[8.4929, 33.8031], [-0.9121, 19.6374], [9.3036, 37.1061], [8.4887, 43.0732]]
        + [[0.0103, 30.7914], [0.323, 16.1479], [0.5126, 11.5406]],
        [[0.8088, 3.5702], [1.7584, 10.1208], [-0.1505, 0.3244], [-0.5166, -0.9946]]
        + [[-0.3453, 0.0978]],
    ),
    (
        True,
        0.5,
        [[8.4929, 33.8031], [0.9881, 15.4284], [9.3036, 37.1061], [8.3672, 42.7882]]
        + [[0.0103, 30.7914], [0.9358, 14.5556], [0.8201, 9.0137]],
        [[0.078, 2.9134], [1.8307, 10.3618], [-0.2025, 0.3468], [-0.6013, -0.9846]]
        + [[-0.0777, 0.0614]],
    ),
]


@pytest.mark.parametrize("peep,clip,outs,grads", TF_CELL)
def test_lstm_block_cell_and_grad_match_tensorflow(peep, clip, outs, grads):
    args = [
        _arr((3, 4), 7, 11, 5, 4),
        _arr((3, 5), 3, 7, 3, 2),
        _arr((3, 5), 5, 9, 4, 3),
        _arr((9, 20), 7, 13, 6, 5),
        _arr((5,), 2, 5, 2, 3),
        _arr((5,), 3, 7, 3, 4),
        _arr((5,), 4, 5, 2, 5),
        _arr((20,), 3, 5, 2, 4),
    ]
    out = R._lstm_block_cell(*args, forget_bias=1.0, cell_clip=clip, use_peephole=peep)
    for got, want in zip(out, outs):
        assert _sig(got) == pytest.approx(want, abs=2e-3)
    cs_grad, h_grad = _arr((3, 5), 2, 7, 3, 3), _arr((3, 5), 3, 5, 2, 2)
    g = R._lstm_block_cell_grad(*args, *out[:6], cs_grad, h_grad, use_peephole=peep)
    for got, want in zip(g, grads):
        assert _sig(got) == pytest.approx(want, abs=2e-3)


@pytest.mark.parametrize("peep", [False, True])
def test_lstm_block_cell_gradients_match_finite_differences(peep):
    args = [a.astype(np.float64) for a in _cell_inputs(11)]
    rng = np.random.default_rng(12)
    rc, rh = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))

    def loss(vals):
        out = R._lstm_block_cell(*vals, forget_bias=1.0, use_peephole=peep)
        return np.sum(out[1] * rc) + np.sum(out[6] * rh)

    with tf.Graph().as_default(), tf.Session() as sess:
        ts = [tf.constant(a) for a in args]
        x, cs, h, w, wci, wcf, wco, b = ts
        out = R.lstm_block_cell(x, cs, h, w, b, wci, wcf, wco, use_peephole=peep)
        lt = tf.reduce_sum(out[1] * rc) + tf.reduce_sum(out[6] * rh)
        grads = sess.run(tf.gradients(lt, ts))
    eps = 1e-6
    for k, (a, g) in enumerate(zip(args, grads)):
        if not peep and k in (4, 5, 6):
            np.testing.assert_array_equal(g, 0)  # unused without peepholes, as in TF
            continue
        for idx in [tuple(int(rng.integers(0, n)) for n in a.shape) for _ in range(4)]:
            old = a[idx]
            a[idx] = old + eps
            up = loss(args)
            a[idx] = old - eps
            down = loss(args)
            a[idx] = old
            assert (up - down) / (2 * eps) == pytest.approx(g[idx], rel=1e-5, abs=1e-7)


def test_basic_lstm_cell_fused_equals_the_unfused_cell():
    """static_rnn with BasicLSTMCell (fused) against the same cell written with separate
    ops (the cell before issue 22): outputs, final state and gradients."""
    rng = np.random.default_rng(5)
    xs = rng.standard_normal((6, 4, 3)).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        cell = tf.nn.rnn_cell.BasicLSTMCell(8)
        steps = tf.unstack(tf.constant(xs), axis=1)
        out, state = tf.nn.static_rnn(cell, steps, dtype=tf.float32)
        c = h = tf.zeros([6, 8])
        hand = []
        for x in steps:
            gates = tf.matmul(tf.concat([x, h], 1), cell.kernel) + cell.bias
            i, j, f, o = tf.split(gates, 4, axis=1)
            c = c * tf.sigmoid(f + 1.0) + tf.sigmoid(i) * tf.tanh(j)
            h = tf.tanh(c) * tf.sigmoid(o)
            hand.append(h)
        loss_f = tf.reduce_sum(tf.stack(out) ** 2) + tf.reduce_sum(state.c)
        loss_h = tf.reduce_sum(tf.stack(hand) ** 2) + tf.reduce_sum(c)
        sess.run(tf.global_variables_initializer())
        types = {op.type for op in tf.get_default_graph().get_operations()}
        assert "LSTMBlockCell" in types
        fused = sess.run([out, state.h, tf.gradients(loss_f, [cell.kernel, cell.bias])])
        unfused = sess.run([hand, h, tf.gradients(loss_h, [cell.kernel, cell.bias])])
    np.testing.assert_allclose(fused[0], unfused[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused[1], unfused[1], rtol=1e-5, atol=1e-6)
    for a, b in zip(fused[2], unfused[2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_lstm_block_cell_rejects_mismatched_weights():
    x, cs, h, w, wci, wcf, wco, b = _cell_inputs(0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="w must be"):
        R._lstm_block_cell(x, cs, h, w[:-1], wci, wcf, wco, b)
    with pytest.raises(ValueError, match="needs wci"):
        R.lstm_block_cell(x, cs, h, w, b, use_peephole=True)


# ------------------------------------------------------------------ optimizers in place
def _train(opt_fn, steps=4):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((5, 3)).astype(np.float32)
    xs = [rng.standard_normal((7, 5)).astype(np.float32) for _ in range(steps)]
    with tf.Graph().as_default(), tf.Session() as sess:
        w = tf.Variable(w0)
        x = tf.placeholder(tf.float32, [None, 5])
        loss = tf.reduce_sum(tf.tanh(tf.matmul(x, w)))
        train = opt_fn().minimize(loss)
        sess.run(tf.global_variables_initializer())
        for xv in xs:
            sess.run(train, {x: xv})
        out = sess.run(w)
    return w0.astype(np.float64), [v.astype(np.float64) for v in xs], out


def _grad(w, x):
    return x.T @ (1 - np.tanh(x @ w) ** 2)


def test_adam_update_matches_tf1_formula():
    w, xs, got = _train(lambda: tf.train.AdamOptimizer(0.05, 0.8, 0.9, 1e-3))
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, x in enumerate(xs, 1):
        g = _grad(w, x)
        m += (g - m) * 0.2
        v += (g * g - v) * 0.1
        w = w - 0.05 * np.sqrt(1 - 0.9**t) / (1 - 0.8**t) * m / (np.sqrt(v) + 1e-3)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, w, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_update_matches_tf1_formula(momentum):
    w, xs, got = _train(lambda: tf.train.RMSPropOptimizer(0.01, 0.8, momentum, 1e-6))
    ms, mom = np.ones_like(w), np.zeros_like(w)  # TF1: ms starts at 1
    for x in xs:
        g = _grad(w, x)
        ms = ms + (g * g - ms) * 0.2
        mom = mom * momentum + 0.01 * g / np.sqrt(ms + 1e-6)
        w = w - mom
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, w, rtol=2e-5, atol=2e-6)


# ------------------------------------------------------------------------------ sigmoid
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_kernel_keeps_the_previous_values(dtype):
    """The in-place kernel (arrays over 64 elements) against the previous formula, bit for
    bit, including inf, -inf and nan."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(500) * 30).astype(dtype)
    x[:4] = [np.nan, np.inf, -np.inf, 0]
    e = np.exp(-np.abs(x))
    want = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(dtype)
    with tf.Graph().as_default(), tf.Session() as sess:
        got = sess.run(tf.sigmoid(tf.constant(x)))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


def test_sigmoid_tails_match_tensorflow():
    # tf.sigmoid in TensorFlow 2.21 at these points (float64; float32 keeps them down to
    # its denormals, whose spacing is 1.4e-45)
    x = np.array([-104, -100, -90, -88, -30, -17, 0, 17, 20] + [0.0] * 60, np.float32)
    want = [6.81355682e-46, 3.72007598e-44, 8.19401262e-40, 6.05460190e-39, 9.35762297e-14]
    want += [4.13993755e-08, 0.5, 9.99999959e-01, 9.99999998e-01]
    with tf.Graph().as_default(), tf.Session() as sess:
        got = sess.run(tf.sigmoid(tf.constant(x)))[:9]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-44)


# ------------------------------------------------------------------------- BLAS threads
@pytest.fixture
def restore_threads():
    before, pinned = blas_threads.current_threads(), blas_threads._state["pinned"]
    yield
    if before:
        blas_threads.set_threads(before)
    blas_threads._state["pinned"] = pinned


def test_configproto_intra_op_threads_sets_blas_threads(restore_threads):
    if blas_threads.current_threads() is None:
        pytest.skip("no BLAS library visible to threadpoolctl")
    tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)).close()
    assert blas_threads.current_threads() == 1
    tf.config.threading.set_intra_op_parallelism_threads(2)
    assert blas_threads.current_threads() == min(2, blas_threads.cpu_count()) or (
        blas_threads.current_threads() == 2
    )
    assert tf.config.threading.get_intra_op_parallelism_threads() == 2
    pinned = blas_threads.current_threads()
    tf.Session().close()  # a Session's default keeps the process-wide pin, as TF's pools
    assert blas_threads.current_threads() == pinned


def test_default_applies_when_nothing_is_pinned(restore_threads, monkeypatch):
    if blas_threads.current_threads() is None:
        pytest.skip("no BLAS library visible to threadpoolctl")
    for k in blas_threads._ENV:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(blas_threads, "default_threads", lambda: 1)
    blas_threads.set_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(0)  # unpins: the default again
    assert blas_threads.current_threads() == 1
    blas_threads.set_threads(2, session=False)
    blas_threads._state["pinned"] = False
    tf.Session().close()
    assert blas_threads.current_threads() == 1


def test_eager_mode_applies_the_default_and_keeps_a_pin(restore_threads, monkeypatch):
    """Eager ops run outside any Session: entering eager mode makes the Session's
    choice (the free cores by default), and an earlier pin stays."""
    if blas_threads.current_threads() is None:
        pytest.skip("no BLAS library visible to threadpoolctl")
    for k in blas_threads._ENV:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(blas_threads, "default_threads", lambda: 1)
    blas_threads.set_threads(2, session=False)
    blas_threads._state["pinned"] = False
    with tf.eager_mode():
        assert blas_threads.current_threads() == 1
    tf.config.threading.set_intra_op_parallelism_threads(2)  # a pin
    with tf.eager_mode():
        assert blas_threads.current_threads() == 2


def test_enable_eager_execution_takes_the_configs_threads():
    code = (
        "import miniflow as tf\n"
        "from miniflow.core import blas_threads\n"
        "if blas_threads.current_threads() is None: print('skip'); raise SystemExit\n"
        "tf.enable_eager_execution(config=tf.ConfigProto(intra_op_parallelism_threads=1))\n"
        "print(blas_threads.current_threads(), blas_threads._state['pinned'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in blas_threads._ENV}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    if out.stdout.strip() == "skip":
        pytest.skip("no BLAS library visible to threadpoolctl")
    assert out.stdout.split() == ["1", "True"]


def test_default_threads_follow_the_free_cores(restore_threads, monkeypatch):
    for k in blas_threads._ENV:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(blas_threads, "cpu_count", lambda: 8)
    monkeypatch.setattr(blas_threads, "running_now", lambda: None)  # a load average only
    monkeypatch.setattr(blas_threads.os, "getloadavg", lambda: (5.6, 0, 0))
    assert blas_threads.default_threads() == 2
    monkeypatch.setattr(blas_threads.os, "getloadavg", lambda: (0.2, 0, 0))
    assert blas_threads.default_threads() == 8
    monkeypatch.setattr(blas_threads.os, "getloadavg", lambda: (30.0, 0, 0))
    assert blas_threads.default_threads() == 1
    # what other processes run now, not the average: a job that ended a moment ago still
    # weighs in the average, not in the instant ...
    monkeypatch.setattr(blas_threads, "running_now", lambda: 0)
    assert blas_threads.default_threads() == 8
    # ... a load that has just started is in the instant, not yet in the average ...
    monkeypatch.setattr(blas_threads, "running_now", lambda: 6)
    monkeypatch.setattr(blas_threads.os, "getloadavg", lambda: (1.0, 0, 0))
    assert blas_threads.default_threads() == 2
    # ... and a passing blip (one reading of three) does not decide
    readings = iter([6, 0, 0])
    monkeypatch.setattr(blas_threads, "running_now", lambda: next(readings))
    assert blas_threads.default_threads() == 8
    monkeypatch.setattr(blas_threads, "running_now", lambda: 6)
    monkeypatch.setattr(blas_threads.os, "getloadavg", lambda: (9.0, 0, 0))
    assert blas_threads.default_threads() == 2  # both say 6 others are busy
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert blas_threads.set_threads(0) is None  # the user's environment wins


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises((ValueError, TypeError), match="intra_op_parallelism_threads|int"):
        blas_threads.set_threads(bad)


def test_running_now_leaves_out_this_processes_own_threads():
    """Threads of this process busy on the CPU (as BLAS threads are) are not another
    process's demand; a busy child process is."""
    import hashlib
    import threading
    import time

    if blas_threads.running_now() is None:
        pytest.skip("no /proc/loadavg here")

    def raw() -> int:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[3].split("/")[0])

    stop = threading.Event()
    data = b"x" * (8 << 20)

    def hash_without_the_gil():  # hashlib releases the GIL on large inputs
        while not stop.is_set():
            hashlib.sha256(data).digest()

    workers = [threading.Thread(target=hash_without_the_gil) for _ in range(2)]
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        for t in workers:
            t.start()
        time.sleep(0.5)
        samples = [(raw(), blas_threads.running_now()) for _ in range(20)]
    finally:
        stop.set()
        child.kill()
        child.wait()
        for t in workers:
            t.join()
    assert all(now >= 1 for _, now in samples)  # the child is runnable throughout
    # our two hashing threads (and this one) are in the machine's count, not in ours
    assert max(total - now for total, now in samples) >= 2
