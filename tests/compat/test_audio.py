"""`tf.audio.encode_wav` / `decode_wav`, graph and eager. The WAV bytes and decoded values
were obtained from TensorFlow 2.21's `tf.compat.v1` in graph mode and written here."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

import miniflow as tf

AUDIO = np.array([[0.0, 0.5], [-0.5, 1.0], [1.2, -1.3], [0.25, -0.25]], np.float32)
# TF: encode_wav(AUDIO, 8000)
TF_WAV = bytes.fromhex(
    "524946463400000057415645666d74201000000001000200401f0000007d000004"
    "00100064617461100000000000004000c0ff7fff7f0080002000e0"
)
# TF: decode_wav(TF_WAV).audio (1.0 -> 32767/32768, -1.3 -> -1)
TF_DECODED = [[0.0, 0.5], [-0.5, 0.9999695], [0.9999695, -1.0], [0.25, -0.25]]


def test_encode_wav_writes_tfs_bytes():
    with tf.Graph().as_default(), tf.Session() as sess:
        encoded = tf.audio.encode_wav(AUDIO, 8000)
        assert (encoded.shape.as_list(), encoded.dtype) == ([], tf.string)  # TF
        assert sess.run(encoded) == TF_WAV
    with wave.open(io.BytesIO(TF_WAV)) as w:  # an independent reader agrees
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()) == (
            2,
            8000,
            2,
            4,
        )


def test_decode_wav_matches_tf_in_graph_and_eager():
    with tf.Graph().as_default(), tf.Session() as sess:
        decoded = tf.audio.decode_wav(TF_WAV)
        assert decoded.audio.shape.as_list() == [None, None]  # TF
        audio, rate = sess.run(decoded)
        fixed = tf.audio.decode_wav(TF_WAV, desired_channels=3, desired_samples=6)
        assert fixed.audio.shape.as_list() == [6, 3]  # TF
        padded = sess.run(fixed.audio)
        first = sess.run(tf.audio.decode_wav(TF_WAV, desired_channels=1).audio)
    np.testing.assert_allclose(audio, TF_DECODED, rtol=1e-6)
    assert rate == 8000 and audio.dtype == np.float32
    # TF: missing channels repeat the last one, missing samples are zeros
    np.testing.assert_allclose(padded[:4, 2], np.array(TF_DECODED)[:, 1], rtol=1e-6)
    np.testing.assert_array_equal(padded[4:], 0.0)
    np.testing.assert_allclose(first[:, 0], np.array(TF_DECODED)[:, 0], rtol=1e-6)
    with tf.eager_mode():
        again = tf.audio.decode_wav(tf.audio.encode_wav(AUDIO, 8000))
        np.testing.assert_allclose(again.audio.numpy(), TF_DECODED, rtol=1e-6)
        assert int(again.sample_rate) == 8000


def test_decode_wav_rejects_what_it_cannot_read():
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="RIFF"):
            sess.run(tf.audio.decode_wav(b"garbage").audio)
        eight_bit = io.BytesIO()
        with wave.open(eight_bit, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(1)
            w.setframerate(8000)
            w.writeframes(b"\x80\x90")
        with pytest.raises(tf.errors.InvalidArgumentError, match="16-bit"):
            sess.run(tf.audio.decode_wav(eight_bit.getvalue()).audio)
