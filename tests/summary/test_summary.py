"""tf.summary ops and FileWriter, read back with TensorBoard's own EventAccumulator."""

import glob

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import miniflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _accumulate(logdir):
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def test_scalars_and_histograms_round_trip_through_tensorboard(tmp_path):
    x = tf.placeholder(tf.float32, [None], name="x")
    with tf.name_scope("train"):
        tf.summary.scalar("batch_mean", tf.reduce_mean(x))
    tf.summary.histogram("values", x)
    merged = tf.summary.merge_all()
    data = {
        step: np.random.default_rng(step).normal(size=50).astype(np.float32) for step in (0, 5, 10)
    }
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph)
        for step, values in data.items():
            serialized = sess.run(merged, {x: values})
            assert isinstance(serialized, bytes)
            writer.add_summary(serialized, step)
        writer.close()
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 1

    acc = _accumulate(tmp_path)
    assert sorted(acc.Tags()["scalars"]) == ["train/batch_mean"]
    assert acc.Tags()["histograms"] == ["values"]
    assert acc.Tags()["graph"] is True
    events = acc.Scalars("train/batch_mean")
    assert [e.step for e in events] == [0, 5, 10]
    for e, values in zip(events, data.values()):
        assert e.value == pytest.approx(float(values.mean()), rel=1e-6)
    for h, values in zip(acc.Histograms("values"), data.values()):
        v = values.astype(np.float64)
        assert h.histogram_value.num == 50
        assert h.histogram_value.min == pytest.approx(v.min())
        assert h.histogram_value.max == pytest.approx(v.max())
        assert h.histogram_value.sum == pytest.approx(v.sum(), rel=1e-5)
        assert h.histogram_value.sum_squares == pytest.approx(v @ v, rel=1e-5)
        assert sum(h.histogram_value.bucket) == 50
        limits = np.array(h.histogram_value.bucket_limit)
        counts = np.array(h.histogram_value.bucket)
        assert np.all(np.diff(limits) > 0)
        # Every value lies in the bucket whose right limit is the first one above it.
        expected = np.bincount(np.searchsorted(limits, v, side="right"), minlength=len(limits))
        np.testing.assert_array_equal(counts[counts > 0], expected[expected > 0])
    graph = acc.Graph()
    names = {n.name: n for n in graph.node}
    assert names["train/Mean"].op == "Mean" and "x" in list(names["train/Mean"].input)


def test_manual_summary_proto_and_flush_without_close(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path / "run"))
    summary = tf.summary.Summary(value=[tf.summary.Summary.Value(tag="acc", simple_value=0.75)])
    writer.add_summary(summary, 3)
    writer.flush()
    acc = _accumulate(tmp_path / "run")
    assert [(e.step, e.value) for e in acc.Scalars("acc")] == [(3, 0.75)]
    writer.close()


def test_summary_op_names_tags_and_errors():
    a = tf.summary.scalar("loss", tf.constant(1.0))
    b = tf.summary.scalar("loss", tf.constant(2.0))
    assert a.op.name == "loss" and b.op.name == "loss_1"
    assert a.dtype == tf.string and tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b]
    bad = tf.summary.scalar("vec", tf.constant([1.0, 2.0]), collections=[])
    dup = tf.summary.merge([a, a])
    nan = tf.summary.histogram("h", tf.constant([1.0, np.nan]))
    with tf.Session() as sess:
        parsed = tf.summary.Summary()
        parsed.ParseFromString(sess.run(tf.summary.merge([a, b])))
        assert [(v.tag, v.simple_value) for v in parsed.value] == [("loss", 1.0), ("loss_1", 2.0)]
        with pytest.raises(tf.errors.InvalidArgumentError, match="not the same shape"):
            sess.run(bad)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Duplicate tag loss"):
            sess.run(dup)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Nan in summary histogram"):
            sess.run(nan)
    assert tf.summary.merge_all(key="nothing_here") is None


def test_events_reach_disk_when_the_writer_is_dropped_without_close(tmp_path):
    import gc

    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_summary(
        tf.summary.Summary(value=[tf.summary.Summary.Value(tag="loss", simple_value=2.0)]), 7
    )
    del writer
    gc.collect()
    assert [(e.step, e.value) for e in _accumulate(tmp_path).Scalars("loss")] == [(7, 2.0)]


def test_summary_iterator_reads_back_and_detects_corruption(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_summary(
                tf.summary.Summary(
                    value=[tf.summary.Summary.Value(tag="acc", simple_value=step / 4)]
                ),
                step,
            )
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    events = list(tf.train.summary_iterator(path))
    assert events[0].file_version == "brain.Event:2"
    assert [
        (e.step, e.summary.value[0].tag, e.summary.value[0].simple_value) for e in events[1:]
    ] == [(0, "acc", 0.0), (1, "acc", 0.25), (2, "acc", 0.5)]
    raw = bytearray(open(path, "rb").read())
    raw[-6] ^= 0x10
    open(path, "wb").write(bytes(raw))
    with pytest.raises(tf.errors.DataLossError, match="corrupted record data"):
        list(tf.train.summary_iterator(path))
    open(path, "wb").write(bytes(raw[:-3]))
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        list(tf.train.summary_iterator(path))


def test_image_and_text_summaries_open_in_tensorboard(tmp_path):
    import io

    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, size=(2, 4, 5, 3)).astype(np.uint8)
    gray = np.array([[[[0.0], [0.5]], [[1.0], [2.0]]]])  # non-negative floats: max -> 255
    signed = np.array([[[[-1.0], [0.0]], [[0.5], [1.0]]]])
    tf.summary.image("rgb", tf.constant(rgb), max_outputs=2)
    tf.summary.image("gray", tf.constant(gray), max_outputs=1)
    tf.summary.image("signed", tf.constant(signed), max_outputs=1)
    tf.summary.text("note", tf.constant("hello *world*"))
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(sess.run(tf.summary.merge_all()), 1)
    acc = _accumulate(tmp_path)
    assert sorted(acc.Tags()["images"]) == [
        "gray/image",
        "rgb/image/0",
        "rgb/image/1",
        "signed/image",
    ]

    def decoded(tag):
        (event,) = acc.Images(tag)
        return np.array(Image.open(io.BytesIO(event.encoded_image_string)))

    for i in range(2):
        np.testing.assert_array_equal(decoded(f"rgb/image/{i}"), rgb[i])
    np.testing.assert_array_equal(decoded("gray/image"), np.round(gray[0, ..., 0] * 127.5))
    # Negative values: 0 -> 127, scaled so that -1 -> 0 (127/1 < 128/1).
    np.testing.assert_array_equal(decoded("signed/image"), np.round(signed[0, ..., 0] * 127 + 127))
    (text_event,) = acc.Tensors("note")
    assert text_event.tensor_proto.string_val == [b"hello *world*"]
