"""cosine_decay_restarts, linear_cosine_decay and noisy_linear_cosine_decay against numbers
printed by real TensorFlow 2.x (`tf.compat.v1`, graph mode) for the same calls."""

import numpy as np
import pytest

import miniflow as tf

STEPS = [0, 3, 7, 10, 15, 29, 30, 31, 70, 100, 150]

CASES = {  # name: (schedule of a step tensor, TF's op name, TF's values at STEPS)
    "sgdr": (
        lambda s: tf.train.cosine_decay_restarts(0.1, s, 10),
        "SGDRDecay:0",
        [
            0.10000000149011612,
            0.07938926666975021,
            0.020610740408301353,
            0.10000000149011612,
            0.08535534143447876,
            0.0006155818700790405,
            0.10000000149011612,
            0.09984586387872696,
            0.10000000149011612,
            0.0691341683268547,
            0.10000000149011612,
        ],
    ),
    "sgdr_t1": (
        lambda s: tf.train.cosine_decay_restarts(0.1, s, 10, t_mul=1.0, m_mul=0.5, alpha=0.1),
        "SGDRDecay:0",
        [
            0.10000000149011612,
            0.08145033568143845,
            0.028549665585160255,
            0.055000003427267075,
            0.032499998807907104,
            0.010550613515079021,
            0.021250000223517418,
            0.020974693819880486,
            0.010703125037252903,
            0.010087891481816769,
            0.010002746246755123,
        ],
    ),
    "sgdr_t3": (
        lambda s: tf.train.cosine_decay_restarts(0.1, s, 7, t_mul=3.0, m_mul=0.9),
        "SGDRDecay:0",
        [
            0.10000000149011612,
            0.06112603470683098,
            0.08999999612569809,
            0.08554359525442123,
            0.06144032999873161,
            0.08094964921474457,
            0.08079873770475388,
            0.08054764568805695,
            0.020249996334314346,
            0.07249287515878677,
            0.056731998920440674,
        ],
    ),
    "lin": (
        lambda s: tf.train.linear_cosine_decay(0.1, s, 50),
        "LinearCosineDecay:0",
        [
            0.10010000318288803,
            0.09326749294996262,
            0.08200756460428238,
            0.07246067374944687,
            0.055672477930784225,
            0.015877509489655495,
            0.013919658027589321,
            0.012105632573366165,
            0.00010000000474974513,
            0.00010000000474974513,
            0.00010000000474974513,
        ],
    ),
    "lin2": (
        lambda s: tf.train.linear_cosine_decay(0.5, s, 40, num_periods=2.0, alpha=0.1, beta=0.01),
        "LinearCosineDecay:0",
        [
            0.5550000071525574,
            0.41186994314193726,
            0.10032468289136887,
            0.004999999888241291,
            0.1862500011920929,
            0.009588454850018024,
            0.004999999888241291,
            0.008976660668849945,
            0.054999999701976776,
            0.054999999701976776,
            0.054999999701976776,
        ],
    ),
    "noise_free": (
        lambda s: tf.train.noisy_linear_cosine_decay(0.1, s, 50, initial_variance=0.0),
        "NoisyLinearCosineDecay:0",
        [
            0.10010000318288803,
            0.09326749294996262,
            0.08200756460428238,
            0.07246067374944687,
            0.055672477930784225,
            0.015877509489655495,
            0.013919658027589321,
            0.012105632573366165,
            0.00010000000474974513,
            0.00010000000474974513,
            0.00010000000474974513,
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_schedule_matches_tensorflow(case):
    make, name, want = CASES[case]
    tf.reset_default_graph()
    step = tf.placeholder(tf.int64, [])
    lr = make(step)
    assert lr.name == name and lr.dtype == tf.float32
    with tf.Session() as s:
        got = [s.run(lr, {step: i}) for i in STEPS]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)
    with tf.eager_mode():
        eager = [float(make(tf.constant(i, tf.int64))) for i in STEPS]
    np.testing.assert_allclose(eager, want, rtol=1e-5, atol=1e-8)


def test_noisy_linear_cosine_decay_is_seeded_and_has_the_documented_variance():
    def draws():
        tf.reset_default_graph()
        tf.set_random_seed(3)
        lr = tf.train.noisy_linear_cosine_decay(1.0, 0, 100, initial_variance=4.0, beta=0.0)
        with tf.Session() as s:
            return np.array([s.run(lr) for _ in range(2000)])

    a, b = draws(), draws()
    np.testing.assert_array_equal(a, b)
    # At step 0 the cosine factor is 1, so lr = 1 + N(0, 4 / 1**0.55).
    assert abs(a.mean() - 1.0) < 0.15 and abs(a.std() - 2.0) < 0.15


def test_piecewise_constant_decay_and_missing_step():
    tf.reset_default_graph()
    assert tf.train.piecewise_constant_decay is tf.train.piecewise_constant
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.cosine_decay_restarts(0.1, None, 10)
    with pytest.raises(ValueError, match="global_step is required"):
        tf.train.linear_cosine_decay(0.1, None, 10)
