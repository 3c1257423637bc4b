"""Summary/Event protocol buffers built by hand (TF1's ``tf.Summary(value=[...])``) go
through FileWriter and are read back by TensorBoard's own event readers."""

import glob

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

import miniflow as tf


def test_hand_built_summary_is_read_by_tensorboard(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path))
    writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), global_step=0)
    for step, v in [(1, 0.5), (2, 0.25)]:
        writer.add_summary(
            tf.Summary(value=[tf.Summary.Value(tag="loss", simple_value=v)]), global_step=step
        )
    writer.add_summary(
        tf.Summary(value=[tf.Summary.Value(tag="acc", simple_value=0.75)]).SerializeToString(),
        global_step=3,
    )
    writer.close()
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["acc", "loss"]
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(1, 0.5), (2, 0.25)]
    assert [(e.step, e.value) for e in acc.Scalars("acc")] == [(3, 0.75)]
    (path,) = glob.glob(str(tmp_path / "events.*"))
    events = list(EventFileLoader(path).Load())
    logs = [e for e in events if e.HasField("session_log")]
    assert len(logs) == 1 and logs[0].session_log.status == 1  # START
    assert [e.step for e in events if e.HasField("summary")] == [1, 2, 3]


def test_proto_classes_are_the_same_in_both_namespaces():
    assert tf.summary.Summary is tf.Summary and tf.summary.Event is tf.Event
    assert tf.summary.SessionLog is tf.SessionLog
    assert tf.SummaryMetadata().plugin_data.plugin_name == ""
    hist = tf.HistogramProto(min=-1.0, max=2.0, num=3)
    assert tf.HistogramProto.FromString(hist.SerializeToString()).num == 3
    assert tf.LogMessage(level=tf.LogMessage.WARN, message="x").level == 30
    ev = tf.summary.Event(step=4, wall_time=1.5)
    assert tf.Event.FromString(ev.SerializeToString()).step == 4
    assert tf.summary.TaggedRunMetadata(tag="t").tag == "t"
    assert tf.summary.SummaryDescription(type_hint="scalar").type_hint == "scalar"
    with pytest.raises(AttributeError):
        tf.summary.NoSuchProto  # noqa: B018


def test_file_writer_cache_shares_and_clears(tmp_path):
    tf.reset_default_graph()
    a = tf.summary.FileWriterCache.get(str(tmp_path))
    assert tf.summary.FileWriterCache.get(str(tmp_path)) is a
    assert a.get_logdir() == str(tmp_path)
    tf.summary.FileWriterCache.clear()
    b = tf.summary.FileWriterCache.get(str(tmp_path))
    assert b is not a
    tf.summary.FileWriterCache.clear()
    assert tf.summary.all_v2_summary_ops() == []


def test_initialize_and_get_summary_description_follow_tf():
    # TF without a TF2 summary writer: RuntimeError in graph mode, None in eager mode.
    tf.reset_default_graph()
    with pytest.raises(RuntimeError, match="No default tf.contrib.summary.SummaryWriter"):
        tf.summary.initialize()
    with tf.eager_mode():
        assert tf.summary.initialize() is None
    s = tf.summary.tensor_summary("t", tf.constant(1.0))
    with pytest.raises(ValueError, match="Can't get_summary_description on TensorSummaryV2"):
        tf.summary.get_summary_description(s.op)

    class Node:  # a TF1 TensorSummary NodeDef, as TF's function reads it
        op = "TensorSummary"
        attr = {"description": b'{"typeHint": "scalar"}'}

    assert tf.summary.get_summary_description(Node()).type_hint == "scalar"
