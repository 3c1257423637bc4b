"""Readers on small files against what TensorFlow's readers returned for the same files
(tests/queues/fixtures/expected_reads.json, written with the files by make_fixtures.py in
the benchmark environment; the TFRecord file itself was written by TensorFlow)."""

import json
from pathlib import Path

import numpy as np
import pytest

import miniflow as tf

pytestmark = pytest.mark.timeout(60)
FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "expected_reads.json").read_text())


def read_all(make_reader, files, up_to=None):
    """The same procedure as make_fixtures.read_all, in miniflow."""
    q = tf.FIFOQueue(10, tf.string, shapes=[[]])
    enq = q.enqueue_many([[str(FIXTURES / f) for f in files]])
    reader = make_reader()
    kv = reader.read(q) if up_to is None else reader.read_up_to(q, up_to)
    counts = [reader.num_records_produced(), reader.num_work_units_completed()]
    out = []
    with tf.Session() as sess:
        sess.run(enq)
        sess.run(q.close())
        try:
            while True:
                k, v = sess.run(kv)
                if up_to is None:
                    k, v = [k], [v]
                out.append(
                    [
                        [x.decode().replace(str(FIXTURES), "{dir}") for x in k],
                        [x.replace(bytes(FIXTURES), b"{dir}").hex() for x in v],
                    ]
                )
        except tf.errors.OutOfRangeError:
            pass
        n, w = sess.run(counts)
    return {"reads": out, "records_produced": int(n), "work_units_completed": int(w)}


CASES = {
    "text_skip1": (
        lambda: tf.TextLineReader(skip_header_lines=1),
        ["lines_a.csv", "lines_b.csv"],
        None,
    ),
    "text": (tf.TextLineReader, ["lines_a.csv"], None),
    "text_up_to3": (tf.TextLineReader, ["lines_a.csv", "lines_b.csv"], 3),
    "tfrecord": (tf.TFRecordReader, ["records.tfrecord"], None),
    "tfrecord_up_to2": (tf.TFRecordReader, ["records.tfrecord"], 2),
    "whole": (tf.WholeFileReader, ["lines_a.csv", "fixed.bin"], None),
    "fixed": (
        lambda: tf.FixedLengthRecordReader(4, header_bytes=3, footer_bytes=2),
        ["fixed.bin"],
        None,
    ),
    "fixed_hop": (
        lambda: tf.FixedLengthRecordReader(4, header_bytes=3, footer_bytes=2, hop_bytes=3),
        ["fixed.bin"],
        None,
    ),
    "identity": (tf.IdentityReader, ["lines_a.csv", "fixed.bin"], None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reader_matches_tensorflow(case):
    make, files, up_to = CASES[case]
    assert read_all(make, files, up_to) == EXPECTED[case]


def test_reader_ops_like_tf():
    r = tf.TextLineReader()
    assert r.reader_ref.name == "TextLineReaderV2:0" and r.reader_ref.dtype == tf.resource
    assert not r.supports_serialize and tf.WholeFileReader().supports_serialize
    q = tf.FIFOQueue(2, tf.string)
    k, v = r.read(q)
    assert (k.name, v.name, k.dtype) == ("ReaderReadV2:0", "ReaderReadV2:1", tf.string)
    ks, _ = r.read_up_to(q.queue_ref, 3)  # a queue handle works too
    assert ks.shape.as_list() == [None]
    assert r.num_records_produced().dtype == tf.int64
    assert r.reset().type == "ReaderResetV2"
    assert isinstance(r, tf.ReaderBase)


def test_tfrecord_reader_parses_examples_written_by_tf():
    q = tf.train.string_input_producer(
        [str(FIXTURES / "records.tfrecord")], num_epochs=1, shuffle=False
    )
    _, serialized = tf.TFRecordReader().read(q)
    parsed = tf.parse_single_example(
        serialized,
        {
            "x": tf.FixedLenFeature([2], tf.float32),
            "label": tf.FixedLenFeature([], tf.int64),
            "name": tf.FixedLenFeature([], tf.string),
        },
    )
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        rows = []
        try:
            while True:
                rows.append(sess.run(parsed))
        except tf.errors.OutOfRangeError:
            pass
        coord.request_stop()
        coord.join(threads)
    assert [r["name"] for r in rows] == [b"row0", b"row1", b"row2", b"row3", b"row4"]
    np.testing.assert_allclose([r["x"] for r in rows], [[i * 0.5, -i] for i in range(5)])
    assert [int(r["label"]) for r in rows] == [0, 1, 0, 1, 0]


def test_reset_and_counts():
    q = tf.FIFOQueue(10, tf.string, shapes=[[]])
    enq = q.enqueue_many([[str(FIXTURES / "lines_a.csv")] * 2])
    r = tf.TextLineReader()
    k, _ = r.read(q)
    with tf.Session() as sess:
        sess.run(enq)
        assert sess.run(k).endswith(b"lines_a.csv:1")
        assert sess.run(r.num_records_produced()) == 1
        sess.run(r.reset())  # forgets the file in progress: the next read starts file 2
        assert sess.run(r.num_records_produced()) == 0
        assert sess.run(k).endswith(b"lines_a.csv:1")


def test_missing_file_is_not_found():
    q = tf.FIFOQueue(10, tf.string, shapes=[[]])
    enq = q.enqueue(str(FIXTURES / "no_such_file.txt"))
    k, _ = tf.WholeFileReader().read(q)
    with tf.Session() as sess:
        sess.run(enq)
        with pytest.raises(tf.errors.NotFoundError, match="no_such_file"):
            sess.run(k)


def test_readers_refuse_eager():
    with tf.eager_mode(), pytest.raises(RuntimeError, match="tf.data"):
        tf.TextLineReader()
