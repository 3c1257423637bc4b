"""CTC loss, decoders and label utilities against outputs saved from real TensorFlow
(tests/nn/data/tf_ctc.npz; logits [6, 3, 5], blank = last class), eager and graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.nn.helpers import assert_both

R = np.load(Path(__file__).parent / "data" / "tf_ctc.npz")
X = R["x"]
SEQ = np.array([6, 4, 5], np.int32)
LABELS = ([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0], [2, 1]], [1, 1, 2, 3, 0, 2, 2], [3, 3])
DENSE, LENGTHS = np.array([[1, 1, 2], [3, 0, 0], [2, 2, 0]]), np.array([3, 2, 2])


def _labels():
    return tf.SparseTensor(*LABELS)


@pytest.mark.parametrize(
    "key,kwargs",
    [
        ("l", {}),
        ("l2", {"ctc_merge_repeated": False}),
        ("l3", {"preprocess_collapse_repeated": True}),
    ],
)
def test_ctc_loss_matches_tf(key, kwargs):
    assert_both(
        lambda x: tf.nn.ctc_loss(_labels(), x, SEQ, **kwargs),
        R[key],
        X,
        rtol=1e-5,
        atol=1e-5,
        dtype=np.float32,
    )


def test_ctc_loss_gradient_matches_tf_in_both_modes():
    x = tf.constant(X)
    grad = tf.gradients(tf.nn.ctc_loss(_labels(), x, SEQ), x)[0]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(grad), R["g"], rtol=1e-5, atol=1e-5)
    with tf.eager_mode():
        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.nn.ctc_loss(_labels(), x, SEQ))
        np.testing.assert_allclose(tape.gradient(loss, x).numpy(), R["g"], rtol=1e-5, atol=1e-5)


def test_ctc_loss_batch_major_and_v2_match_tf():
    assert_both(
        lambda x: tf.nn.ctc_loss(_labels(), tf.transpose(x, [1, 0, 2]), SEQ, time_major=False),
        R["l"],
        X,
        rtol=1e-5,
        atol=1e-5,
    )
    labels_blank0 = np.array([[1, 1, 2], [3, 4, 0], [2, 2, 0]])
    assert_both(
        lambda x: tf.nn.ctc_loss_v2(labels_blank0, x, LENGTHS, SEQ),
        R["lv2"],
        X,
        rtol=1e-5,
        atol=1e-5,
    )
    assert_both(
        lambda x: tf.nn.ctc_loss_v2(DENSE, x, LENGTHS, SEQ, blank_index=-1),
        R["lv2b"],
        X,
        rtol=1e-5,
        atol=1e-5,
    )


def test_ctc_loss_too_long_label():
    labels = tf.SparseTensor([[0, 0], [0, 1], [0, 2]], [1, 1, 1], [1, 3])
    x = np.zeros((4, 1, 3), np.float32)  # "1 1 1" needs 5 frames with blanks between
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="Not enough time"),
    ):
        sess.run(tf.nn.ctc_loss(labels, x, [4]))
    loss = tf.nn.ctc_loss(labels, x, [4], ignore_longer_outputs_than_inputs=True)
    with tf.Session() as sess:
        assert sess.run(loss).tolist() == [0.0]


def test_decoders_match_tf():
    def greedy(x):
        decoded, neg = tf.nn.ctc_greedy_decoder(x, SEQ)
        return tf.sparse_tensor_to_dense(decoded[0]), neg

    assert_both(greedy, [R["dec"], R["neg"]], X)

    def beam(x):
        decoded, logp = tf.nn.ctc_beam_search_decoder(x, SEQ, beam_width=10, top_paths=2)
        return [tf.sparse_tensor_to_dense(d) for d in decoded] + [logp]

    # paths equal TF's; scores differ by ~2e-3 because TF prunes beams differently
    assert_both(beam, [R["b0"], R["b1"], R["blp"]], X, rtol=0, atol=5e-3)

    def beam_v2(x):
        decoded, logp = tf.nn.ctc_beam_search_decoder_v2(x, SEQ, beam_width=10, top_paths=2)
        return [tf.sparse_tensor_to_dense(decoded[0]), logp]

    assert_both(beam_v2, [R["c0"], R["blp2"]], X, rtol=0, atol=5e-3)


def test_label_utilities_match_tf():
    assert_both(tf.nn.ctc_unique_labels, [R["ul0"], R["ul1"]], DENSE)
    assert_both(lambda d, n: tf.nn.collapse_repeated(d, n), [R["cr0"], R["cr1"]], DENSE, LENGTHS)
