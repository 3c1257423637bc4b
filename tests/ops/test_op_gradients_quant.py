"""The straight-through gradients of the quantization ops (tests/ops/op_specs_quant.py:
why not finite differences) against TF's reference formulas on random inputs, in graph
and eager mode, and against numbers from real TensorFlow 2.21."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import miniflow as tf
from tests.ops.op_specs_quant import ROWS
from tests.quantization.tf_reference import TF


def _case(row, data):
    rank = data.draw(st.integers(1, 3), label="rank")
    shape = tuple(
        data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank), label="shape")
    )
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    x = rng.uniform(-3, 3, shape).astype(np.float32)
    dy = rng.uniform(-1, 1, shape).astype(np.float32)
    range_shape = shape[-1:] if row.per_channel else ()
    lo = rng.uniform(-2, 0.5, range_shape).astype(np.float32)
    hi = (lo + rng.uniform(0.5, 3, range_shape)).astype(np.float32)
    if row.op_type == "FakeQuantWithMinMaxArgs":  # attrs: Python floats
        lo, hi = float(lo), float(hi)
    return x, dy, lo, hi


def _expected(row, x, dy, lo, hi):
    want = row.reference(dy, x, np.asarray(lo, np.float32), np.asarray(hi, np.float32))
    return want if row.wrt_range else want[:1]


@pytest.mark.parametrize("row", ROWS, ids=[r.op_type for r in ROWS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_straight_through_gradient_graph_mode(row, data):
    x, dy, lo, hi = _case(row, data)
    with tf.Graph().as_default():
        xt = tf.placeholder(tf.float32, [None] * x.ndim)
        a, b = (lo, hi) if isinstance(lo, float) else (tf.constant(lo), tf.constant(hi))
        y = row.build(xt, a, b)
        assert y.op.type == row.op_type
        sources = [xt, a, b] if row.wrt_range else [xt]
        grads = tf.gradients(y, sources, grad_ys=tf.constant(dy))
        with tf.Session() as sess:
            got = sess.run(grads, {xt: x})
    for g, w in zip(got, _expected(row, x, dy, lo, hi)):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("row", ROWS, ids=[r.op_type for r in ROWS])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_straight_through_gradient_eager_mode(row, data):
    x, dy, lo, hi = _case(row, data)
    with tf.eager_mode():
        xt = tf.constant(x)
        a, b = (lo, hi) if isinstance(lo, float) else (tf.constant(lo), tf.constant(hi))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xt)
            if not isinstance(a, float):
                tape.watch(a)
                tape.watch(b)
            y = row.build(xt, a, b)
        sources = [xt, a, b] if row.wrt_range else [xt]
        got = tape.gradient(y, sources, output_gradients=tf.constant(dy))
        for g, w in zip(got, _expected(row, x, dy, lo, hi)):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-6, atol=1e-6)


FQ = [
    (-1, 1.2, 4, False),
    (-6, 6, 8, False),
    (0.5, 3, 8, True),
    (-3, -0.5, 5, False),
    (-2.3, 1.7, 3, True),
]
QDQ = [
    dict(range_given=False),
    dict(range_given=True),
    dict(range_given=True, signed_input=False),
    dict(range_given=True, num_bits=4, narrow_range=True),
    dict(range_given=True, round_mode="HALF_UP", num_bits=3),
    dict(range_given=False, num_bits=5, signed_input=False),
]


def test_gradients_match_tf_numbers():
    """Gradients of sum(y * [1..12]) as TF computed them (tf_reference.py)."""
    with tf.Graph().as_default():
        x = tf.constant(np.array(TF["x12"], np.float32))
        w = tf.range(1.0, 13.0)
        fetch = {}
        for i, (mn, mx, nb, nr) in enumerate(FQ):
            fetch[f"args{i}_g"] = tf.gradients(
                tf.fake_quant_with_min_max_args(x, mn, mx, nb, nr) * w, x
            )[0]
            a, b = tf.constant(float(mn)), tf.constant(float(mx))
            fetch[f"vars{i}_g"] = tf.gradients(
                tf.fake_quant_with_min_max_vars(x, a, b, nb, nr) * w, [x, a, b]
            )
        x43 = tf.reshape(x, [4, 3])
        a, b = tf.constant([-1.0, 0.5, -3.0]), tf.constant([1.2, 3.0, -0.5])
        y = tf.fake_quant_with_min_max_vars_per_channel(x43, a, b, 4)
        fetch["pc_g"] = tf.gradients(y * tf.reshape(w, [4, 3]), [x43, a, b])
        for k, kw in enumerate(QDQ):
            fetch[f"qdq{k}_g"] = tf.gradients(
                tf.quantization.quantize_and_dequantize(x, -2.5, 3.0, **kw) * w, x
            )[0]
            fetch[f"qdq{k}_g4"] = tf.gradients(
                tf.quantization.quantize_and_dequantize_v2(x, -2.5, 3.0, **kw) * w, x
            )[0]
        with tf.Session() as sess:
            got = sess.run(fetch)
    for key, value in got.items():
        want = TF[key]
        if isinstance(value, list):
            for g, wv in zip(value, want):
                np.testing.assert_array_equal(g, np.asarray(wv, np.float32), err_msg=key)
        else:
            np.testing.assert_array_equal(value, np.asarray(want, np.float32), err_msg=key)


def test_gradient_ops_are_not_differentiable_as_in_tf():
    with tf.Graph().as_default():
        x = tf.constant([[0.5, -1.2, 2.5]])
        g = tf.gradients(
            tf.fake_quant_with_min_max_vars(x, tf.constant(-1.0), tf.constant(1.0)), x
        )[0]
        assert g.op.type == "FakeQuantWithMinMaxVarsGradient"
        assert tf.gradients(g, x) == [None]  # TF 2.21 gives [None] too
