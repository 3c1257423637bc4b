"""tf.data file readers against files and elements written by real TensorFlow
(tests/data/fixtures/make_fixtures.py writes them, and ``tf_truth.json`` holds what TF
2.21's ``tf.compat.v1`` read back from them), plus hand-made corrupt inputs."""

import gzip
import json
import os
import sqlite3
import zlib

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.tfrecord import masked_crc32c
from tests.data.helpers import eager_values, graph_values

HERE = os.path.join(os.path.dirname(__file__), "fixtures")
TRUTH = json.load(open(os.path.join(HERE, "tf_truth.json")))
EXAMPLES = os.path.join(HERE, "examples.tfrecord")
FEATURES = {"id": tf.FixedLenFeature([], tf.int64), "x": tf.FixedLenFeature([2], tf.float32)}


def tolist(v):
    """As the fixture script records values (strings as latin-1 text)."""
    if isinstance(v, dict):
        return {k: tolist(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [tolist(x) for x in v]
    v = np.asarray(v)
    if v.dtype.kind in "OS":
        return (
            np.vectorize(lambda b: b.decode("latin-1"), otypes=[object])(v).tolist()
            if v.size
            else v.tolist()
        )
    return v.tolist()


def test_tfrecord_dataset_reads_tensorflow_written_file_graph_and_eager():
    want = TRUTH["tfrecord"]
    assert len(want) == 5
    ds = tf.data.TFRecordDataset(EXAMPLES)
    assert ds.output_types == tf.string and ds.output_shapes.as_list() == []
    assert tolist(graph_values(ds)) == want
    assert tolist(eager_values(lambda: tf.data.TFRecordDataset([EXAMPLES]))) == want


def test_tfrecord_gzip_written_by_tensorflow_and_parallel_reads_interleave():
    path = os.path.join(HERE, "plain.tfrecord.gz")
    got = graph_values(tf.data.TFRecordDataset(path, compression_type="GZIP"))
    assert got == [b"record-0", b"record-1", b"record-2"]
    both = graph_values(
        tf.data.TFRecordDataset(
            [path, EXAMPLES], compression_type="GZIP", num_parallel_reads=1
        ).take(3)
    )
    assert both == got
    # Two files read two at a time: one record of each in turn (TF's cycle order).
    tf.reset_default_graph()
    got = graph_values(tf.data.TFRecordDataset([path, path], "GZIP", num_parallel_reads=2))
    assert got == [b"record-0", b"record-0", b"record-1", b"record-1", b"record-2", b"record-2"]


def test_tfrecord_filenames_placeholder_fed_to_initializer(tmp_path):
    paths = []
    for k in range(2):
        paths.append(str(tmp_path / f"f{k}.tfrecord"))
        with tf.io.TFRecordWriter(paths[-1], "ZLIB") as w:
            for i in range(k + 2):
                w.write(f"{k}:{i}")
    names = tf.placeholder(tf.string, [None])
    it = tf.data.TFRecordDataset(names, compression_type="ZLIB").make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as s:
        s.run(it.initializer, {names: paths[::-1]})
        got = [s.run(nxt) for _ in range(5)]
        with pytest.raises(tf.errors.OutOfRangeError):
            s.run(nxt)
    assert got == [b"1:0", b"1:1", b"1:2", b"0:0", b"0:1"]


def _record(data: bytes) -> bytes:
    import struct

    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


@pytest.mark.parametrize("damage", ["flip_data", "truncate", "huge_length", "not_tfrecord"])
def test_corrupt_tfrecord_is_data_loss_after_the_good_records(tmp_path, damage):
    good = _record(b"good")
    bad = bytearray(_record(b"payload"))
    if damage == "flip_data":
        bad[14] ^= 0xFF
    elif damage == "truncate":
        bad = bad[:-3]
    elif damage == "huge_length":  # a corrupt length must not allocate or hang
        bad = bytearray(b"\xff" * 8) + bad[8:]
    else:
        good, bad = b"", bytearray(b"name,age\nann,31\n")
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(good + bytes(bad))
    nxt = tf.data.TFRecordDataset(str(path)).make_one_shot_iterator().get_next()
    with tf.Session() as s:
        if good:
            assert s.run(nxt) == b"good"
        # TF: DataLossError for this file too (fixture truth "corrupt_tfrecord").
        with pytest.raises(tf.errors.DataLossError):
            s.run(nxt)
    assert TRUTH["errors"]["corrupt_tfrecord"][0] == "DataLossError"


def test_missing_file_is_not_found():
    with pytest.raises(tf.errors.NotFoundError, match="no_such"):
        graph_values(tf.data.TFRecordDataset("/nonexistent/no_such.tfrecord"))


def test_fixed_length_records_with_header_and_footer():
    path = os.path.join(HERE, "fixed.bin")
    ds = tf.data.FixedLengthRecordDataset(path, 4, header_bytes=3, footer_bytes=2)
    assert (
        tolist(graph_values(ds))
        == TRUTH["fixed"]
        == ["0000", "0001", "0002", "0003", "0004", "0005"]
    )
    # Body not a multiple of record_bytes: TF raises InvalidArgumentError (fixture truth).
    assert TRUTH["errors"]["fixed_leftover"][0] == "InvalidArgumentError"
    with pytest.raises(tf.errors.InvalidArgumentError, match="record_bytes"):
        graph_values(tf.data.FixedLengthRecordDataset(path, 5))


def test_fixed_length_gzip(tmp_path):
    path = tmp_path / "r.bin.gz"
    path.write_bytes(gzip.compress(b"H" + bytes(range(12))))
    got = eager_values(
        lambda: tf.data.FixedLengthRecordDataset(
            str(path), 3, header_bytes=1, compression_type="GZIP"
        )
    )
    assert got == [bytes(range(i, i + 3)) for i in range(0, 12, 3)]


def test_text_line_dataset_endings_and_compression(tmp_path):
    path = os.path.join(HERE, "lines.txt")
    assert tolist(graph_values(tf.data.TextLineDataset(path))) == TRUTH["text_lines"]
    z = tmp_path / "lines.z"
    z.write_bytes(zlib.compress(open(path, "rb").read()))
    assert (
        tolist(eager_values(lambda: tf.data.TextLineDataset(str(z), "ZLIB"))) == TRUTH["text_lines"]
    )


def test_csv_dataset_matches_tensorflow():
    ds = tf.data.experimental.CsvDataset(
        os.path.join(HERE, "people.csv"),
        [tf.string, tf.constant([0], tf.int32), tf.constant([-1.0])],
        header=True,
    )
    assert ds.output_types == (tf.string, tf.int32, tf.float32)
    assert tolist(graph_values(ds)) == TRUTH["csv"]
    numbers = os.path.join(HERE, "numbers.csv")
    sel = tf.data.experimental.CsvDataset(
        numbers, [tf.int32, tf.string], header=True, select_cols=[0, 3]
    )
    assert tolist(graph_values(sel)) == TRUTH["csv_select"]
    exc = tf.data.experimental.CsvDataset(
        numbers, [tf.int64, tf.float64], header=True, exclude_cols=[0, 3]
    )
    assert tolist(eager_values(lambda: exc)) == TRUTH["csv_exclude"]


def test_csv_dataset_required_field_missing_is_invalid_argument(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("1,\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="required"):
        graph_values(tf.data.experimental.CsvDataset(str(path), [tf.int32, tf.int32]))


def test_make_csv_dataset_with_defaults_and_label():
    ds = tf.data.experimental.make_csv_dataset(
        os.path.join(HERE, "people.csv"),
        2,
        column_defaults=["", 0, 0.0],
        num_epochs=1,
        shuffle=False,
        label_name="score",
    )
    feats, label = ds.output_types
    assert feats == {"name": tf.string, "age": tf.int32} and label == tf.float32
    assert tolist(graph_values(ds)) == TRUTH["make_csv"]


def test_make_csv_dataset_infers_column_types_like_tensorflow():
    ds = tf.data.experimental.make_csv_dataset(
        os.path.join(HERE, "numbers.csv"), 3, num_epochs=1, shuffle=False
    )
    assert {k: v.name for k, v in ds.output_types.items()} == TRUTH["csv_inferred_types"]
    got = tolist(graph_values(ds))
    want = TRUTH["csv_inferred"]
    assert len(got) == len(want) == 1
    for key in want[0]:
        np.testing.assert_equal(got[0][key], want[0][key])


def test_parse_example_dataset_and_make_batched_features_dataset():
    ds = (
        tf.data.TFRecordDataset(EXAMPLES)
        .batch(2)
        .apply(tf.data.experimental.parse_example_dataset(FEATURES))
    )
    assert ds.output_types == {"id": tf.int64, "x": tf.float32}
    assert tolist(graph_values(ds)) == TRUTH["parse_example_dataset"]
    tf.reset_default_graph()
    ds = tf.data.experimental.make_batched_features_dataset(
        EXAMPLES, 2, FEATURES, num_epochs=1, shuffle=False
    )
    assert tolist(graph_values(ds)) == TRUTH["batched_features"]
    tf.reset_default_graph()
    ds = tf.data.experimental.make_batched_features_dataset(
        EXAMPLES, 5, FEATURES, label_key="id", num_epochs=2, shuffle=True, shuffle_seed=3
    )
    got = graph_values(ds)
    assert [sorted(label.tolist()) for _, label in got] == [[0, 1, 2, 3, 4]] * 2
    tf.reset_default_graph()
    ds = (
        tf.data.TFRecordDataset(EXAMPLES)
        .batch(3)
        .apply(
            tf.data.experimental.parse_example_dataset(
                {"tags": tf.VarLenFeature(tf.string), "id": tf.FixedLenFeature([], tf.int64)}
            )
        )
    )
    assert ds.output_classes["tags"] is tf.SparseTensor
    got = [
        (
            e["tags"].indices.tolist(),
            e["tags"].values.tolist(),
            e["tags"].dense_shape.tolist(),
            e["id"].tolist(),
        )
        for e in graph_values(ds)
    ]
    # TF 2.21 tf.compat.v1 on the same file:
    assert got == [
        ([[1, 0], [2, 0], [2, 1]], [b"t0", b"t0", b"t1"], [3, 2], [0, 1, 2]),
        ([[1, 0]], [b"t0"], [2, 1], [3, 4]),
    ]


def test_sql_dataset_reads_sqlite(tmp_path):
    db = str(tmp_path / "a.db")
    conn = sqlite3.connect(db)
    conn.execute("create table t (name text, age integer, w real)")
    conn.executemany("insert into t values (?, ?, ?)", [("a", 1, 0.5), ("b", 20, 1.5)])
    conn.commit()
    conn.close()
    ds = tf.data.experimental.SqlDataset(
        "sqlite", db, "select name, age, w from t order by age", (tf.string, tf.int32, tf.float64)
    )
    assert graph_values(ds) == [(b"a", 1, 0.5), (b"b", 20, 1.5)]
    assert eager_values(
        lambda: tf.data.experimental.SqlDataset(
            "sqlite", db, "select age from t where age > 5", tf.int64
        )
    ) == [20]
    with pytest.raises(tf.errors.InvalidArgumentError, match="number of columns"):
        graph_values(
            tf.data.experimental.SqlDataset("sqlite", db, "select age from t", (tf.int64, tf.int64))
        )
    with pytest.raises(tf.errors.InvalidArgumentError, match="not supported"):
        tf.data.experimental.SqlDataset("mysql", db, "select 1", tf.int64)


def test_experimental_tfrecord_writer_round_trip_graph_and_eager(tmp_path):
    path = str(tmp_path / "w.tfrecord")
    op = tf.data.experimental.TFRecordWriter(path, "GZIP").write(
        tf.data.Dataset.from_tensor_slices([b"a", b"bc", b""])
    )
    with tf.Session() as s:
        s.run(op)
    assert list(tf.io.tf_record_iterator(path, "GZIP")) == [b"a", b"bc", b""]
    with tf.eager_mode():
        tf.data.experimental.TFRecordWriter(path).write(
            tf.data.Dataset.range(3).map(lambda x: tf.as_string(x))
        )
        assert list(tf.data.TFRecordDataset(path).as_numpy_iterator()) == [b"0", b"1", b"2"]
    with pytest.raises(TypeError, match="scalar"):
        tf.data.experimental.TFRecordWriter(path).write(tf.data.Dataset.range(3))


def test_list_files_sorted_unshuffled_and_no_match():
    got = graph_values(tf.data.Dataset.list_files(os.path.join(HERE, "*.csv"), shuffle=False))
    assert got == [os.path.join(HERE, n).encode() for n in ("numbers.csv", "people.csv")]
    shuffled = graph_values(tf.data.Dataset.list_files(os.path.join(HERE, "*"), seed=5))
    assert sorted(shuffled) == sorted(
        os.path.join(HERE, n).encode()
        for n in os.listdir(HERE)
        if not os.path.isdir(os.path.join(HERE, n))
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="No files matched"):
        graph_values(tf.data.Dataset.list_files(os.path.join(HERE, "*.nothing")))


def test_parallel_reads_of_unequal_files_follow_tensorflow_order(tmp_path):
    paths = []
    for name, n in [("a", 3), ("b", 1), ("c", 2), ("d", 4)]:
        paths.append(str(tmp_path / f"{name}.tfrecord"))
        with tf.io.TFRecordWriter(paths[-1]) as w:
            for i in range(n):
                w.write(f"{name}{i}")
    got = graph_values(tf.data.TFRecordDataset(paths, num_parallel_reads=2))
    # Written by TF 2.21 tf.compat.v1 for the same four files:
    assert [g.decode() for g in got] == ["a0", "b0", "a1", "a2", "c0", "c1", "d0", "d1", "d2", "d3"]
