"""tf.summary.tensor_summary and tf.summary.audio produce the bytes real TensorFlow 2.x
(`tf.compat.v1`, graph mode) produced for the same calls; eager mode gives the same."""

import numpy as np
import pytest

import miniflow as tf

CLIPS = np.array([[0.0, 0.5, -1.0, 1.0], [0.1, 0.2, 0.3, 0.4]], np.float32)
# encoded_audio_string of clip 0 at 8000 Hz, printed by TensorFlow.
TF_WAV = bytes.fromhex(
    "524946462c00000057415645666d74201000000001000100401f0000803e00000200"
    "10006461746108000000000000400080ff7f"
)


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _programs():
    return [
        tf.summary.tensor_summary("tens", tf.constant([[1.0, 2.0]])),
        tf.summary.audio("snd", tf.constant(CLIPS), 8000, max_outputs=1),
        tf.summary.audio("snd2", tf.constant(np.zeros((3, 2, 2), np.float32)), 8000.0),
    ]


def _check(tensor_bytes, audio_bytes, audio3_bytes):
    value = tf.Summary.FromString(tensor_bytes).value[0]
    assert value.tag == "tens"
    assert value.tensor.dtype == 1  # DT_FLOAT
    assert [d.size for d in value.tensor.tensor_shape.dim] == [1, 2]
    assert value.tensor.tensor_content == b"\x00\x00\x80?\x00\x00\x00@"
    (clip,) = tf.Summary.FromString(audio_bytes).value
    assert clip.tag == "snd/audio"
    assert (
        clip.audio.sample_rate,
        clip.audio.num_channels,
        clip.audio.length_frames,
        clip.audio.content_type,
    ) == (8000.0, 1, 4, "audio/wav")
    assert clip.audio.encoded_audio_string == TF_WAV
    many = tf.Summary.FromString(audio3_bytes).value
    assert [v.tag for v in many] == ["snd2/audio/0", "snd2/audio/1", "snd2/audio/2"]
    assert many[0].audio.num_channels == 2


def test_graph_mode_matches_tensorflow():
    ops = _programs()
    assert [t.name for t in ops] == ["tens:0", "snd:0", "snd2:0"]
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == ops
    with tf.Session() as sess:
        _check(*sess.run(ops))


def test_eager_mode_gives_the_same_bytes():
    with tf.eager_mode():
        _check(*[t.numpy() for t in _programs()])


def test_round_trip_through_file_writer_and_errors(tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    meta = tf.SummaryMetadata(display_name="shown")
    s = tf.summary.tensor_summary("t", tf.constant([1, 2, 3]), summary_metadata=meta)
    bad = tf.summary.audio("bad", tf.constant(np.zeros((2, 2, 2, 2), np.float32)), 10)
    with tf.Session() as sess:
        raw = sess.run(s)
        with pytest.raises(tf.errors.InvalidArgumentError, match="3-D or 2-D"):
            sess.run(bad)
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_summary(raw, global_step=7)
    writer.close()
    (path,) = list(tmp_path.glob("events.*"))
    values = [
        v
        for e in EventFileLoader(str(path)).Load()
        if e.HasField("summary")
        for v in e.summary.value
    ]
    assert values[0].metadata.display_name == "shown"
    np.testing.assert_array_equal(np.frombuffer(values[0].tensor.tensor_content, "<i4"), [1, 2, 3])
    with pytest.raises(TypeError, match="sample_rate must be a number"):
        tf.summary.audio("x", tf.zeros([1, 2]), tf.constant(8000.0))
