"""Candidate samplers, accidental hits, nce_loss and sampled_softmax_loss. Loss values
and gradients were computed by real TensorFlow with the same fixed ``sampled_values``
(tests/nn/data/tf_sampled.npz); sampler draws are checked by their distribution rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.nn.helpers import assert_both

R = np.load(Path(__file__).parent / "data" / "tf_sampled.npz")
SV = (R["sv0"], R["sv1"], R["sv2"])


@pytest.mark.parametrize(
    "key,fn",
    [
        (
            "nce",
            lambda w, b, x: tf.nn.nce_loss(w, b, R["lab"], x, 4, 10, num_true=2, sampled_values=SV),
        ),
        (
            "nce_r",
            lambda w, b, x: tf.nn.nce_loss(
                w, b, R["lab"], x, 4, 10, num_true=2, sampled_values=SV, remove_accidental_hits=True
            ),
        ),
        (
            "ssl",
            lambda w, b, x: tf.nn.sampled_softmax_loss(
                w, b, R["lab"], x, 4, 10, num_true=2, sampled_values=SV
            ),
        ),
    ],
)
def test_sampled_losses_match_tf(key, fn):
    assert_both(fn, R[key], R["W"], R["b"], R["x"], rtol=1e-5, atol=1e-5, dtype=np.float32)


def test_sampled_softmax_gradient_matches_tf():
    w = tf.constant(R["W"])
    loss = tf.nn.sampled_softmax_loss(
        w, R["b"], R["lab"], R["x"], 4, 10, num_true=2, sampled_values=SV
    )
    with tf.Session() as sess:
        np.testing.assert_allclose(
            sess.run(tf.convert_to_tensor(tf.gradients(loss, w)[0])), R["g"], rtol=1e-5, atol=1e-6
        )


def test_accidental_hits_match_tf():
    assert_both(
        lambda t, s: tf.nn.compute_accidental_hits(t, s, 2),
        [R["ah0"], R["ah1"], R["ah2"]],
        R["lab"],
        R["sv0"],
    )


def test_sampler_expected_counts():
    labels = np.array([[1, 2], [3, 4], [0, 7]])
    with tf.Session() as sess:
        s, te, se = sess.run(tf.nn.log_uniform_candidate_sampler(labels, 2, 3, False, 10, seed=1))
        p = lambda k: (np.log(k + 2) - np.log(k + 1)) / np.log(11)  # noqa: E731
        np.testing.assert_allclose(te, 3 * p(labels), rtol=1e-6)
        np.testing.assert_allclose(se, 3 * p(s), rtol=1e-6)
        s, te, se = sess.run(tf.nn.uniform_candidate_sampler(labels, 2, 5, True, 10, seed=3))
        assert len(set(s.tolist())) == 5 and s.dtype == np.int64
        assert np.all(te == te.flat[0]) and np.all(se == te.flat[0])
        tries = np.log1p(-te.flat[0]) / np.log1p(-0.1)  # 1 - 0.9 ** tries
        assert tries >= 5 and abs(tries - round(tries)) < 1e-3
        s, _, _ = sess.run(
            tf.nn.fixed_unigram_candidate_sampler(
                labels, 2, 3, True, 10, unigrams=[0, 0, 1, 1, 1, 0, 0, 0], num_reserved_ids=2
            )
        )
        assert set(s.tolist()) == {4, 5, 6}
        s, te, se = sess.run(tf.nn.all_candidate_sampler(labels, 2, 4, True))
        assert s.tolist() == [0, 1, 2, 3] and te.shape == (3, 2) and (se == 1).all()


def test_samplers_are_seeded_and_learned_unigram_learns():
    labels = np.array([[9]] * 4)
    with tf.Session() as sess:
        a = sess.run(tf.nn.uniform_candidate_sampler(labels, 1, 4, True, 50, seed=7)[0])
    with tf.Graph().as_default(), tf.Session() as sess:
        b = sess.run(tf.nn.uniform_candidate_sampler(labels, 1, 4, True, 50, seed=7)[0])
    np.testing.assert_array_equal(a, b)
    learned = tf.nn.learned_unigram_candidate_sampler(labels, 1, 20, False, 10, seed=1)
    with tf.Session() as sess:
        for _ in range(30):
            s = sess.run(learned.sampled_candidates)
    assert np.mean(s == 9) > 0.5
