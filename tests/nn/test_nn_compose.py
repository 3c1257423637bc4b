"""`tf.nn` compositions (activations, statistics, lrn, losses, approx top-k) against
outputs saved from real TensorFlow (tests/nn/data/tf_nn_compose.npz), eager and graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.nn.helpers import assert_both

R = np.load(Path(__file__).parent / "data" / "tf_nn_compose.npz")
X, W, T, LI = R["x"], R["w"], R["t"], R["li"]


@pytest.mark.parametrize(
    "key,fn,args",
    [
        ("crelu", tf.nn.crelu, (X,)),
        ("silu", tf.nn.swish, (X,)),
        ("lrn", lambda x: tf.nn.lrn(x, 2, 1.5, 0.3, 0.6), (X,)),
        ("lrn0", tf.nn.local_response_normalization, (X,)),
        ("zf", lambda x: tf.nn.zero_fraction(tf.nn.relu(x)), (X,)),
        ("lp", tf.nn.log_poisson_loss, (T, LI)),
        ("lpf", lambda t, li: tf.nn.log_poisson_loss(t, li, compute_full_loss=True), (T, LI)),
        ("cal", tf.nn.compute_average_loss, (T,)),
    ],
)
def test_single_output_compositions_match_tf(key, fn, args):
    assert_both(fn, R[key], *args, rtol=2e-6, atol=2e-6, dtype=np.float32)


@pytest.mark.parametrize(
    "key,fn,args",
    [
        ("ss", lambda x: tf.nn.sufficient_statistics(x, [0, 2], shift=0.5), (X,)),
        (
            "nm",
            lambda x: tf.nn.normalize_moments(*tf.nn.sufficient_statistics(x, [0, 2], shift=0.5)),
            (X,),
        ),
        ("wm", lambda x, w: tf.nn.weighted_moments(x, [1, 3], w), (X, W)),
        ("amk", lambda x: tf.nn.approx_max_k(x, 2), (X,)),
    ],
)
def test_tuple_compositions_match_tf(key, fn, args):
    n = sum(1 for k in R.files if k.startswith(key) and k[len(key) :].isdigit())
    assert_both(fn, [R[f"{key}{i}"] for i in range(n)], *args, rtol=3e-6, atol=3e-6)


def test_silu_beta_relu_layer_xw_plus_b_against_numpy():
    x = np.array([[-1.0, 0.5], [2.0, -3.0]])
    w = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    b = np.array([0.1, -0.2, 0.3])
    assert_both(lambda a: tf.nn.silu(a, beta=2.0), x / (1 + np.exp(-2 * x)), x)
    assert_both(tf.nn.xw_plus_b, x @ w + b, x, w, b)
    assert_both(tf.nn.relu_layer, np.maximum(x @ w + b, 0), x, w, b)
    mean, var = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    beta, gamma = np.array([0.1, 0.2]), np.array([3.0, 4.0])
    want = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    assert_both(
        lambda *a: tf.nn.batch_norm_with_global_normalization(*a, 1e-3, True),
        want,
        x,
        mean,
        var,
        beta,
        gamma,
    )
    assert_both(
        lambda a: tf.nn.approx_min_k(a, 1, reduction_dimension=0),
        [np.min(x, 0, keepdims=True), np.argmin(x, 0)[None].astype(np.int32)],
        x,
    )
