"""Issue 22, third round: the convolution's batch-chunked GEMMs with the col2im input
gradient and the compiled (numba) col2im and tiled max-pool loops (`ops/conv_compiled.py`).

Both paths run in every test that takes ``kernel_path`` (compiled, and NumPy through
``MINIFLOW_NO_NUMBA=1``), with ``MIN_SIZE`` at 0 so that small arrays take the compiled
loops and ``_CHUNK_BYTES`` small so that batches split into several chunks with a
remainder. Truths: the pre-issue-22 kernels (`conv_pool_reference.py`, tensordot and
argmax), finite differences, exact adjoints, and the NumPy twins bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import miniflow as tf
from miniflow.core import compiled
from miniflow.ops import conv_compiled as K, conv_ops as C, pool_tiled as T
from tests.ops import conv_pool_reference as R

pytest.importorskip("numba")

SETTINGS = settings(max_examples=10, deadline=None)


class _Path:
    """Switches between the compiled and the NumPy kernels inside one test."""

    def __init__(self, monkeypatch, name):
        self.name, self._mp = name, monkeypatch
        monkeypatch.setattr(K, "MIN_SIZE", 0)
        monkeypatch.setattr(C, "_CHUNK_BYTES", 600)  # a few images per chunk at most
        if name == "numpy":
            monkeypatch.setenv(compiled.ENV, "1")
        else:
            monkeypatch.delenv(compiled.ENV, raising=False)

    def chunk_bytes(self, nbytes):
        self._mp.setattr(C, "_CHUNK_BYTES", nbytes)


@pytest.fixture(params=["compiled", "numpy"])
def kernel_path(request, monkeypatch):
    path = _Path(monkeypatch, request.param)
    assert K.enabled(np.dtype(np.float32), 1) == (request.param == "compiled")
    return path


def _with_switch(value, fn):
    """``fn()`` with ``MINIFLOW_NO_NUMBA`` set to ``value`` (None: unset)."""
    before = os.environ.get(compiled.ENV)
    if value is None:
        os.environ.pop(compiled.ENV, None)
    else:
        os.environ[compiled.ENV] = value
    try:
        return fn()
    finally:
        os.environ.pop(compiled.ENV, None)
        if before is not None:
            os.environ[compiled.ENV] = before


conv_cases = st.fixed_dictionaries(
    {
        "n": st.integers(1, 5),
        "h": st.integers(1, 9),
        "w": st.integers(1, 9),
        "c": st.integers(1, 4),
        "o": st.integers(1, 4),
        "kh": st.integers(1, 5),
        "kw": st.integers(1, 5),
        "stride": st.sampled_from([(1, 1), (2, 2), (1, 2), (2, 1)]),
        "dil": st.sampled_from([(1, 1), (2, 1), (2, 2)]),
        "padding": st.sampled_from(["SAME", "VALID"]),
        "dtype": st.sampled_from([np.float32, np.float64]),
        "seed": st.integers(0, 2**16),
    }
)


def _conv_case(p):
    """Random input, filter and output gradient for a drawn case (None when VALID has
    no output or stride and dilation are both > 1, which conv2d refuses)."""
    dil = (1, 1) if max(p["stride"]) > 1 else p["dil"]
    eff_h, eff_w = (p["kh"] - 1) * dil[0] + 1, (p["kw"] - 1) * dil[1] + 1
    if p["padding"] == "VALID" and (p["h"] < eff_h or p["w"] < eff_w):
        return None
    rng = np.random.default_rng(p["seed"])
    x = rng.standard_normal((p["n"], p["h"], p["w"], p["c"])).astype(p["dtype"])
    f = rng.standard_normal((p["kh"], p["kw"], p["c"], p["o"])).astype(p["dtype"])
    y_shape = R.conv2d(x, f, p["stride"], dil, p["padding"]).shape
    dy = rng.standard_normal(y_shape).astype(p["dtype"])
    return x, f, dy, p["stride"], dil, p["padding"]


def _tol(dtype):
    # float32: the GEMMs sum over K in BLAS's blocking, which depends on the chunk's
    # shape, and the chunks of the filter gradient are summed in turn; float64: exact
    # to rounding.
    return {"rtol": 2e-5, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


# ---------------------------------------------------------------- convolution kernels
@SETTINGS
@given(p=conv_cases, chunk=st.sampled_from([1, 700, 5000, 1 << 30]))
def test_conv_kernels_equal_the_reference_on_random_geometries(p, chunk):
    """Forward, filter and input gradients over random shapes, strides, dilations,
    paddings and chunk sizes (1 byte: one image a chunk; 1 GB: one chunk), both paths."""
    case = _conv_case(p)
    if case is None:
        return
    x, f, dy, s, d, pad = case
    with pytest.MonkeyPatch.context() as mp:
        for name in ("compiled", "numpy"):
            _Path(mp, name).chunk_bytes(chunk)
            y = C._conv2d_kernel(x, f, s, d, pad)
            dx = C._conv_backprop_input_kernel(np.array(x.shape), f, dy, s, d, pad)
            df = C._conv_backprop_filter_kernel(x, np.array(f.shape), dy, s, d, pad)
            for got, want in (
                (y, R.conv2d(x, f, s, d, pad)),
                (dx, R.conv_backprop_input(x.shape, f, dy, s, d, pad)),
                (df, R.conv_backprop_filter(x, f.shape, dy, s, d, pad)),
            ):
                assert got.dtype == x.dtype and got.shape == want.shape, name
                np.testing.assert_allclose(got, want, **_tol(x.dtype), err_msg=name)


@SETTINGS
@given(p=conv_cases)
def test_input_gradient_paths_are_bit_identical(p):
    """The compiled col2im adds the taps in the NumPy twin's order: same bits."""
    case = _conv_case(p)
    if case is None:
        return
    x, f, dy, s, d, pad = case
    with pytest.MonkeyPatch.context() as mp:
        out = {}
        for name in ("compiled", "numpy"):
            _Path(mp, name)
            out[name] = C._conv_backprop_input_kernel(x.shape, f, dy, s, d, pad)
    np.testing.assert_array_equal(out["compiled"], out["numpy"])


@SETTINGS
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 5),
    oh=st.integers(1, 6),
    ow=st.integers(1, 6),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    pad=st.tuples(st.integers(0, 3), st.integers(0, 3)),
    crop=st.tuples(st.integers(-2, 3), st.integers(-2, 3)),
    n0=st.integers(0, 2),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_col2im_compiled_equals_its_numpy_twin(
    n, c, oh, ow, kh, kw, sh, sw, dh, dw, pad, crop, n0, dtype, seed
):
    """Any geometry, including strides and dilations together, paddings that put taps
    outside the input on every side, and a chunk written at an image offset."""
    rng = np.random.default_rng(seed)
    h = max(1, (oh - 1) * sh + (kh - 1) * dh + 1 - pad[0] - crop[0])
    w = max(1, (ow - 1) * sw + (kw - 1) * dw + 1 - pad[1] - crop[1])
    dcols = rng.standard_normal((n * oh * ow, kh * kw * c)).astype(dtype)
    base = rng.standard_normal((n + n0, h, w, c)).astype(dtype)
    geometry = (oh, ow, kh, kw, sh, sw, dh, dw, pad[0], pad[1])
    fast, slow = base.copy(), base.copy()
    K._col2im(dcols, fast, n0, *geometry)
    K.col2im_numpy(dcols, slow, n0, *geometry)
    np.testing.assert_array_equal(fast, slow)
    # and against a scalar loop over every (row, tap, channel)
    want = base.copy()
    for r in range(n * oh * ow):
        img, rest = divmod(r, oh * ow)
        y, xo = divmod(rest, ow)
        for i in range(kh):
            for j in range(kw):
                yy, xx = y * sh + i * dh - pad[0], xo * sw + j * dw - pad[1]
                if 0 <= yy < h and 0 <= xx < w:
                    want[n0 + img, yy, xx] += dcols[r, (i * kw + j) * c : (i * kw + j + 1) * c]
    np.testing.assert_allclose(fast, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_conv_backprops_stay_exact_adjoints(kernel_path, seed):
    """<conv(x, f), dy> = <x, backprop_input(dy)> = <f, backprop_filter(x, dy)>, float64,
    with batches split across chunks."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((7, 9, 8, 3))
    f = rng.standard_normal((3, 4, 3, 5))
    for s, pad in (((1, 1), "SAME"), ((2, 2), "SAME"), ((2, 1), "VALID")):
        y = C._conv2d_kernel(x, f, s, (1, 1), pad)
        dy = rng.standard_normal(y.shape)
        dx = C._conv_backprop_input_kernel(x.shape, f, dy, s, (1, 1), pad)
        df = C._conv_backprop_filter_kernel(x, f.shape, dy, s, (1, 1), pad)
        inner = np.sum(y * dy)
        assert np.sum(x * dx) == pytest.approx(inner, rel=1e-10, abs=1e-10)
        assert np.sum(f * df) == pytest.approx(inner, rel=1e-10, abs=1e-10)


def _fd_check(loss_and_grads, arrays, rng, eps=1e-6, points=6):
    """Central differences of ``loss_and_grads(*arrays)[0]`` at random entries of each
    array against the gradients it returns."""
    _, grads = loss_and_grads(*arrays)
    for arr, grad in zip(arrays, grads):
        for _ in range(points):
            idx = tuple(int(rng.integers(0, k)) for k in arr.shape)
            old = arr[idx]
            arr[idx] = old + eps
            up = loss_and_grads(*arrays)[0]
            arr[idx] = old - eps
            down = loss_and_grads(*arrays)[0]
            arr[idx] = old
            assert (up - down) / (2 * eps) == pytest.approx(grad[idx], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("strides,padding", [(1, "SAME"), (2, "SAME"), (1, "VALID"), (2, "VALID")])
def test_cnn_gradients_match_finite_differences(kernel_path, strides, padding):
    """tf.gradients of conv -> ReLU -> 2x2 max-pool -> conv (float64, graph mode) against
    central differences, on both paths: Conv2DBackpropInput/Filter and MaxPoolGrad."""
    rng = np.random.default_rng(strides)
    x0 = rng.standard_normal((5, 10, 10, 2))
    w1 = rng.standard_normal((3, 3, 2, 4))
    w2 = rng.standard_normal((3, 3, 4, 3))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, x0.shape)
        a = tf.placeholder(tf.float64, w1.shape)
        b = tf.placeholder(tf.float64, w2.shape)
        h = tf.nn.relu(tf.nn.conv2d(x, a, [1, strides, strides, 1], padding))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        y = tf.nn.conv2d(h, b, [1, 1, 1, 1], "SAME")
        r = tf.constant(rng.standard_normal([int(d) for d in y.shape]))
        loss = tf.reduce_sum(y * r)
        grads = tf.gradients(loss, [x, a, b])
        with tf.Session() as sess:

            def run(xv, av, bv):
                out = sess.run([loss, grads], {x: xv, a: av, b: bv})
                return out[0], out[1]

            _fd_check(run, [x0, w1, w2], rng)


# ---------------------------------------------------------------- max pooling
def _pool_input(rng, shape, kind, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    if kind == "relu":
        x = np.maximum(x, 0)  # zeros: ties inside windows
    elif kind == "ints":
        x = np.round(x)  # more ties
    elif kind == "nan":
        x.flat[rng.integers(0, x.size, max(1, x.size // 7))] = np.nan
    elif kind == "inf":
        x.flat[rng.integers(0, x.size, max(1, x.size // 7))] = -np.inf
        x.flat[rng.integers(0, x.size, max(1, x.size // 9))] = np.inf
    return x


@SETTINGS
@given(
    n=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    c=st.integers(1, 6),
    k=st.sampled_from([(2, 2), (1, 2), (3, 3), (2, 3), (1, 1)]),
    padding=st.sampled_from(["SAME", "VALID"]),
    kind=st.sampled_from(["normal", "relu", "ints", "nan", "inf"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_compiled_max_pool_equals_the_numpy_twin(n, h, w, c, k, padding, kind, dtype, seed):
    """Tiling windows (VALID with rows and columns left over too), ties, NaN (the
    window's output is NaN and its gradient goes nowhere, as in the NumPy kernel) and
    infinities: same bits as `pool_tiled`."""
    out_hw = T.tiles((n, h, w, c), k, k, padding)
    if out_hw is None:
        return
    rng = np.random.default_rng(seed)
    x = _pool_input(rng, (n, h, w, c), kind, dtype)
    dy = rng.standard_normal((n, *out_hw, c)).astype(dtype)
    np.testing.assert_array_equal(K.max_pool_tiled(x, k, out_hw), T.max_pool(x, k, out_hw))
    np.testing.assert_array_equal(
        K.max_pool_grad_tiled(x, dy, k, out_hw), T.max_pool_grad(x, dy, k, out_hw)
    )
    if kind != "nan":  # the argmax reference has its own NaN rule
        ref = R.max_pool_grad(x, dy, k, k, padding)
        np.testing.assert_array_equal(K.max_pool_grad_tiled(x, dy, k, out_hw), ref)


def test_max_pool_kernels_take_the_compiled_path_only_when_enabled(kernel_path, monkeypatch):
    """The op kernels call the compiled loops on the compiled path, never on the NumPy
    one, and give the same values on non-contiguous inputs."""
    calls = []
    for name in ("max_pool_tiled", "max_pool_grad_tiled"):
        real = getattr(K, name)
        monkeypatch.setattr(
            K, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a)
        )
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 12, 6)).astype(np.float32)[:, :, ::2, ::2]  # strided
    y = C._max_pool_kernel(x, (2, 2), (2, 2), "VALID")
    dy = rng.standard_normal(y.shape).astype(np.float32)
    g = C._max_pool_grad_kernel(x, dy, (2, 2), (2, 2), "VALID")
    np.testing.assert_array_equal(y, R.max_pool(x, (2, 2), (2, 2), "VALID"))
    np.testing.assert_array_equal(g, R.max_pool_grad(x, dy, (2, 2), (2, 2), "VALID"))
    want = ["max_pool_tiled", "max_pool_grad_tiled"] if kernel_path.name == "compiled" else []
    assert calls == want


# ---------------------------------------------------------------- switch, sizes, edges
def test_enabled_needs_the_switch_a_float_dtype_and_size(monkeypatch):
    big = K.MIN_SIZE
    assert _with_switch(None, lambda: K.enabled(np.dtype(np.float32), big))
    assert _with_switch("0", lambda: K.enabled(np.dtype(np.float64), big))
    assert not _with_switch("1", lambda: K.enabled(np.dtype(np.float32), big))
    for dtype in (np.float16, np.int32, np.int64, np.complex64):
        assert not _with_switch(None, lambda dtype=dtype: K.enabled(np.dtype(dtype), big))
    assert not _with_switch(None, lambda: K.enabled(np.dtype(np.float32), big - 1))


def test_the_numpy_path_never_calls_numba(monkeypatch):
    """With the switch on, the kernels run even when the compiled loops are broken."""
    monkeypatch.setattr(K, "MIN_SIZE", 0)

    def broken(*args):
        raise AssertionError("compiled loop called")

    for name in ("_col2im", "_max_pool", "_max_pool_grad"):
        monkeypatch.setattr(K, name, broken)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 6, 2)).astype(np.float32)
    f = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    dy = rng.standard_normal((3, 6, 6, 4)).astype(np.float32)

    def run():
        dx = C._conv_backprop_input_kernel(x.shape, f, dy, (1, 1), (1, 1), "SAME")
        m = C._max_pool_kernel(x, (2, 2), (2, 2), "VALID")
        g = C._max_pool_grad_kernel(x, np.ones_like(m), (2, 2), (2, 2), "VALID")
        return dx, m, g

    dx, m, g = _with_switch("1", run)
    np.testing.assert_allclose(
        dx, R.conv_backprop_input(x.shape, f, dy, (1, 1), (1, 1), "SAME"), rtol=2e-5, atol=2e-5
    )
    with pytest.raises(AssertionError, match="compiled loop called"):
        _with_switch(None, run)


def test_half_precision_and_empty_batches(kernel_path):
    """float16 takes the NumPy twins on either path; an empty batch gives empty (or
    zero) results of the right shapes instead of an error."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6, 5, 2)).astype(np.float16)
    f = rng.standard_normal((3, 2, 2, 4)).astype(np.float16)
    dy = rng.standard_normal((3, 6, 5, 4)).astype(np.float16)
    dx = C._conv_backprop_input_kernel(x.shape, f, dy, (1, 1), (1, 1), "SAME")
    assert dx.dtype == np.float16
    np.testing.assert_allclose(
        dx.astype(np.float32),
        R.conv_backprop_input(
            x.shape, f.astype(np.float32), dy.astype(np.float32), (1, 1), (1, 1), "SAME"
        ),
        rtol=2e-2,
        atol=2e-2,
    )
    assert C._max_pool_kernel(x, (2, 2), (2, 2), "VALID").dtype == np.float16
    empty = np.zeros((0, 6, 5, 2), np.float32)
    f32, dy0 = f.astype(np.float32), np.zeros((0, 6, 5, 4), np.float32)
    assert C._conv2d_kernel(empty, f32, (1, 1), (1, 1), "SAME").shape == (0, 6, 5, 4)
    assert C._conv_backprop_input_kernel(empty.shape, f32, dy0, (1, 1), (1, 1), "SAME").shape == (
        0,
        6,
        5,
        2,
    )
    df = C._conv_backprop_filter_kernel(empty, f.shape, dy0, (1, 1), (1, 1), "SAME")
    assert df.shape == f.shape and not df.any()
    # VALID with a filter as large as the input plus one stride: an empty output
    x32, f_big = x.astype(np.float32), np.ones((7, 5, 2, 4), np.float32)
    none = np.zeros((3, 0, 1, 4), np.float32)
    assert C._conv2d_kernel(x32, f_big, (1, 1), (1, 1), "VALID").shape == (3, 0, 1, 4)
    dx0 = C._conv_backprop_input_kernel(x.shape, f_big, none, (1, 1), (1, 1), "VALID")
    assert dx0.shape == x.shape and not dx0.any()
    df0 = C._conv_backprop_filter_kernel(x32, f_big.shape, none, (1, 1), (1, 1), "VALID")
    assert df0.shape == f_big.shape and not df0.any()
    assert (
        C._max_pool_grad_kernel(
            empty, np.zeros((0, 3, 2, 2), np.float32), (2, 2), (2, 2), "VALID"
        ).shape
        == empty.shape
    )


def test_wrong_output_gradient_shapes_are_still_errors(kernel_path):
    x = np.zeros((2, 6, 6, 3), np.float32)
    f = np.zeros((3, 3, 3, 4), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
        C._conv_backprop_input_kernel(x.shape, f, np.zeros((2, 5, 6, 4), np.float32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
        C._conv_backprop_filter_kernel(
            x, f.shape, np.zeros((2, 6, 6, 4), np.float32), padding="VALID"
        )


def test_input_gradients_in_parallel_threads(kernel_path):
    """The chunk buffers are per thread and the compiled loop releases the GIL: four
    threads computing different input gradients get their own results."""
    rng = np.random.default_rng(4)
    f = rng.standard_normal((5, 5, 3, 8)).astype(np.float32)
    dys = [rng.standard_normal((6, 10, 10, 8)).astype(np.float32) for _ in range(4)]
    shape = (6, 10, 10, 3)
    want = [C._conv_backprop_input_kernel(shape, f, dy, (1, 1), (1, 1), "SAME") for dy in dys]
    got, errors = [None] * 4, []

    def work(k):
        try:
            for _ in range(5):
                got[k] = C._conv_backprop_input_kernel(shape, f, dys[k], (1, 1), (1, 1), "SAME")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_training_a_cnn_gives_the_same_losses_on_both_paths(monkeypatch):
    """Five Adam steps of a small CNN (conv + ReLU + pool twice, dense head), float32:
    the compiled and NumPy paths agree to float32 rounding."""
    monkeypatch.setattr(K, "MIN_SIZE", 0)

    def train():
        rng = np.random.default_rng(5)
        xs = rng.standard_normal((8, 12, 12, 1)).astype(np.float32)
        labels = rng.integers(0, 3, 8)
        with tf.Graph().as_default():
            x = tf.constant(xs)
            w1 = tf.Variable(rng.standard_normal((3, 3, 1, 4)).astype(np.float32) * 0.3)
            w2 = tf.Variable(rng.standard_normal((3, 3, 4, 6)).astype(np.float32) * 0.3)
            wd = tf.Variable(rng.standard_normal((54, 3)).astype(np.float32) * 0.3)
            h = tf.nn.max_pool(
                tf.nn.relu(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")),
                [1, 2, 2, 1],
                [1, 2, 2, 1],
                "SAME",
            )
            h = tf.nn.max_pool(
                tf.nn.relu(tf.nn.conv2d(h, w2, [1, 1, 1, 1], "SAME")),
                [1, 2, 2, 1],
                [1, 2, 2, 1],
                "SAME",
            )
            logits = tf.matmul(tf.reshape(h, [8, 54]), wd)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
            step = tf.train.AdamOptimizer(0.01).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                return [sess.run([step, loss])[1] for _ in range(5)]

    fast, slow = _with_switch(None, train), _with_switch("1", train)
    assert fast[-1] < fast[0]
    np.testing.assert_allclose(fast, slow, rtol=1e-5)


def test_small_models_do_not_import_numba():
    """A CNN step whose arrays are all under MIN_SIZE stays in NumPy: numba (~0.5 s and
    ~100 MB) is not imported; one over it is."""
    code = """
import sys
import numpy as np
import miniflow as tf
from miniflow.ops import conv_compiled
n = int(sys.argv[1])
with tf.Graph().as_default():
    x = tf.constant(np.ones((n, 16, 16, 4), np.float32))
    w = tf.Variable(np.ones((3, 3, 4, 8), np.float32))
    y = tf.nn.max_pool(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    g = tf.gradients(tf.reduce_sum(y), [x, w])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(g)
print("numba" in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if k != compiled.ENV}
    for n, want in ((1, "False"), (32, "True")):
        out = subprocess.run(
            [sys.executable, "-c", code, str(n)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == want, (n, out.stdout, out.stderr)
