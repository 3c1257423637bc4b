"""`tf.train.Example`, `tf.io.parse_example` / `parse_single_example` and TFRecord files.
Expected bytes and values were obtained from TensorFlow 2.21 (`tf.compat.v1`)."""

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.tfrecord import crc32c, masked_crc32c

# An Example as TF serialized it (its map entries in the order c, b, a).
TF_EXAMPLE = (
    b"\n:\n\r\n\x01c\x12\x08\n\x06\n\x02xy\n\x00\n\x11\n\x01b\x12\x0c\x12\n\n\x08"
    b"\x00\x00\xc0?\x00\x00\x00\xc0\n\x16\n\x01a\x12\x11\x1a\x0f\n\r\x01\xfe\xff"
    b"\xff\xff\xff\xff\xff\xff\xff\x01\xac\x02"
)


def example():
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "a": tf.train.Feature(int64_list=tf.train.Int64List(value=[1, -2, 300])),
                "b": tf.train.Feature(float_list=tf.train.FloatList(value=[1.5, -2.0])),
                "c": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"xy", b""])),
            }
        )
    )


def small():
    return tf.train.Example(
        features=tf.train.Features(
            feature={"a": tf.train.Feature(int64_list=tf.train.Int64List(value=[7]))}
        )
    )


def test_example_round_trips_and_reads_tensorflow_bytes():
    ex = example()
    assert tf.train.Example.FromString(TF_EXAMPLE) == ex
    data = ex.SerializeToString()
    assert len(data) == len(TF_EXAMPLE) and tf.train.Example.FromString(data) == ex
    assert ex.features.feature["a"].WhichOneof("kind") == "int64_list"
    assert ex.features.feature["b"].float_list.value == [1.5, -2.0]


def test_truncated_or_corrupt_protos_raise_value_errors():
    for cut in range(1, len(TF_EXAMPLE)):
        try:
            tf.train.Example.FromString(TF_EXAMPLE[:cut])
        except ValueError:
            pass
    with pytest.raises(ValueError, match="exceeds"):
        tf.train.Example.FromString(b"\n\xff\xff\xff\xff\x0f")  # a 4 GiB length, 0 bytes left
    with pytest.raises(ValueError, match="varint"):
        tf.train.Example.FromString(b"\n" + b"\xff" * 11)


def _sparse(v):
    return v.indices.tolist(), v.values.tolist(), v.dense_shape.tolist()


FEATURES = {
    "a": tf.io.VarLenFeature(tf.int64),
    "b": tf.io.FixedLenFeature([2], tf.float32, default_value=[0.0, 9.0]),
    "c": tf.VarLenFeature(tf.string),
    "d": tf.FixedLenFeature([], tf.int64, default_value=5),
}


def _check_batch(out):
    assert _sparse(out["a"]) == ([[0, 0], [0, 1], [0, 2], [1, 0]], [1, -2, 300, 7], [2, 3])
    assert out["b"].tolist() == [[1.5, -2.0], [0.0, 9.0]] and out["b"].dtype == np.float32
    assert _sparse(out["c"]) == ([[0, 0], [0, 1]], [b"xy", b""], [2, 2])
    assert out["d"].tolist() == [5, 5]


def test_parse_example_graph_and_eager():
    sers = [TF_EXAMPLE, small().SerializeToString()]
    out = tf.io.parse_example(sers, FEATURES)
    assert out["b"].shape.as_list() == [2, 2] and out["d"].dtype == tf.int64
    with tf.Session() as sess:
        _check_batch(sess.run(out))
    with tf.eager_mode():
        out = tf.parse_example(sers, FEATURES)
        _check_batch(
            {
                k: tf.SparseTensorValue(v.indices.numpy(), v.values.numpy(), v.dense_shape.numpy())
                if isinstance(v, tf.SparseTensor)
                else v.numpy()
                for k, v in out.items()
            }
        )


def test_parse_single_example_and_other_features():
    out = tf.parse_single_example(
        TF_EXAMPLE, {"a": tf.io.FixedLenFeature([3], tf.int64), "c": tf.io.VarLenFeature(tf.string)}
    )
    seq = tf.io.parse_example(
        [TF_EXAMPLE, small().SerializeToString()],
        {"a": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)},
    )["a"]
    sf = tf.train.Example(
        features=tf.train.Features(
            feature={
                "ix": tf.train.Feature(int64_list=tf.train.Int64List(value=[3, 0])),
                "v": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0, 2.0])),
            }
        )
    )
    sp = tf.io.parse_example(
        [sf.SerializeToString()], {"sp": tf.io.SparseFeature("ix", "v", tf.float32, 5)}
    )["sp"]
    with tf.Session() as sess:
        a, c, s, p = sess.run([out["a"], out["c"], seq, sp])
    assert a.tolist() == [1, -2, 300] and out["a"].shape.as_list() == [3]
    assert _sparse(c) == ([[0], [1]], [b"xy", b""], [2])
    assert s.tolist() == [[1, -2, 300], [7, 0, 0]]
    assert _sparse(p) == ([[0, 0], [0, 3]], [2.0, 1.0], [1, 5])


@pytest.mark.parametrize(
    "serialized,features,match",
    [
        (
            [small().SerializeToString()],
            {"b": tf.io.FixedLenFeature([2], tf.float32)},
            "required but could not be found",
        ),
        ([TF_EXAMPLE], {"a": tf.io.FixedLenFeature([2], tf.int64)}, "Values size: 3"),
        ([TF_EXAMPLE], {"a": tf.io.FixedLenFeature([3], tf.float32)}, "Data types don't match"),
        ([b"\x0a\x05abc"], {"a": tf.io.VarLenFeature(tf.int64)}, "Could not parse example"),
        ([TF_EXAMPLE[:-4]], {"a": tf.io.VarLenFeature(tf.int64)}, "Could not parse example"),
    ],
)
def test_parse_example_errors(serialized, features, match):
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=match):
        sess.run(tf.io.parse_example(serialized, features))
    with tf.eager_mode(), pytest.raises(tf.errors.InvalidArgumentError, match=match):
        tf.io.parse_example(serialized, features)


def test_parse_example_construction_errors():
    with pytest.raises(ValueError, match="allow_missing"):
        tf.io.parse_example([TF_EXAMPLE], {"a": tf.io.FixedLenSequenceFeature([], tf.int64)})
    with pytest.raises(ValueError, match="unsupported dtype"):
        tf.io.parse_example([TF_EXAMPLE], {"a": tf.io.FixedLenFeature([], tf.int32)})


# The first two records of a file TF's TFRecordWriter wrote (records b"abc" and b"").
TF_RECORDS = (
    b"\x03\x00\x00\x00\x00\x00\x00\x00\xb0\x99I\x0eabcnW\xf1!"
    b"\x00\x00\x00\x00\x00\x00\x00\x00)\x03\x98\x07\xd8\xea\x82\xa2"
)


def test_crc32c_known_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    assert masked_crc32c(b"abc") == int.from_bytes(b"nW\xf1!", "little")


def test_crc32c_pure_python_loop_equals_the_accelerated_one(monkeypatch):
    import numpy as np

    from miniflow.core import tfrecord

    data = [b"", b"\x00", b"123456789", np.random.default_rng(0).bytes(4099)]
    fast = [tfrecord.crc32c(d) for d in data]
    monkeypatch.setattr(tfrecord, "_fast_crc32c", None)
    assert [tfrecord.crc32c(d) for d in data] == fast
    assert fast[2] == 0xE3069283


def test_tfrecord_files_match_tensorflow(tmp_path):
    path = str(tmp_path / "r.tfrecord")
    with tf.io.TFRecordWriter(path) as w:
        w.write(b"abc")
        w.write(b"")
    assert (tmp_path / "r.tfrecord").read_bytes() == TF_RECORDS
    (tmp_path / "tf.tfrecord").write_bytes(TF_RECORDS)
    assert list(tf.python_io.tf_record_iterator(str(tmp_path / "tf.tfrecord"))) == [b"abc", b""]


@pytest.mark.parametrize("kind", ["ZLIB", "GZIP"])
def test_compressed_tfrecords(tmp_path, kind):
    file = tmp_path / "r"
    path = str(file)
    records = [b"xyz", b"q" * 100000, b""]
    with tf.python_io.TFRecordWriter(path, tf.io.TFRecordOptions(kind)) as w:
        for r in records:
            w.write(r)
    assert list(tf.io.tf_record_iterator(path, tf.io.TFRecordOptions(kind))) == records
    file.write_bytes(file.read_bytes()[: len(file.read_bytes()) // 2])
    with pytest.raises(tf.errors.DataLossError):
        list(tf.io.tf_record_iterator(path, tf.io.TFRecordOptions(kind)))


@pytest.mark.parametrize(
    "damage,match",
    [
        (lambda b: b[:13] + bytes([b[13] ^ 1]) + b[14:], "corrupted record at 12"),
        (lambda b: b[:8] + b"\x00" + b[9:], "corrupted record at 0"),
        (lambda b: b[:-3], "truncated record at 19"),
        (lambda b: b[:5], "truncated record at 0"),
        (
            lambda b: b"\xff" * 8 + masked_crc32c(b"\xff" * 8).to_bytes(4, "little"),
            "truncated record at 0",
        ),  # a huge length with a valid checksum: no huge allocation
    ],
)
def test_corrupt_tfrecords_raise_data_loss(tmp_path, damage, match):
    path = tmp_path / "bad"
    path.write_bytes(damage(TF_RECORDS))
    with pytest.raises(tf.errors.DataLossError, match=match):
        list(tf.io.tf_record_iterator(str(path)))


# Truncations of TF_EXAMPLE that TF's fast parser accepts: the outer Features length may
# run past the end as long as every feature-map entry inside is whole.
TF_ACCEPTED_CUTS = {
    0: {},
    2: {},
    17: {"c": [b"xy", b""]},
    36: {"b": [1.5, -2.0], "c": [b"xy", b""]},
}


def test_truncated_examples_parse_or_fail_exactly_like_tensorflow():
    feats = {
        "a": tf.io.VarLenFeature(tf.int64),
        "b": tf.io.VarLenFeature(tf.float32),
        "c": tf.io.VarLenFeature(tf.string),
    }
    ph = tf.placeholder(tf.string, [None])
    out = tf.io.parse_example(ph, feats)
    with tf.Session() as sess:
        for cut in range(len(TF_EXAMPLE)):
            if cut in TF_ACCEPTED_CUTS:
                got = sess.run(out, {ph: [TF_EXAMPLE[:cut]]})
                want = TF_ACCEPTED_CUTS[cut]
                assert {k: v.values.tolist() for k, v in got.items()} == {
                    k: want.get(k, []) for k in feats
                }, cut
            else:
                with pytest.raises(tf.errors.InvalidArgumentError):
                    sess.run(out, {ph: [TF_EXAMPLE[:cut]]})


@pytest.mark.parametrize(
    "data,want",
    [
        # a feature name that is not UTF-8: TF's parser takes names as bytes
        (TF_EXAMPLE.replace(b"\n\x01a\x12", b"\n\x01\xe3\x12"), {"b": [1.5, -2.0]}),
        # an outer length far past the end (0x91 0x3a = 7441)
        (b"\n\x91" + TF_EXAMPLE[1:], {"a": [1, -2, 300], "b": [1.5, -2.0]}),
        # a feature-map entry with a third, unknown field: TF rejects it
        (TF_EXAMPLE.replace(b"\n\x01a\x12\x11", b"\n\x01a(\x11"), None),
        # a packed float list longer than its Feature: TF rejects it
        (TF_EXAMPLE.replace(b"\x12\n\n\x08", b"\x12\n\n\x1d"), None),
    ],
)
def test_malformed_examples_match_tensorflow(data, want):
    """Cases found by fuzzing TF's parse_example (the outcome is TF's)."""
    out = tf.io.parse_example(
        [data], {"a": tf.io.VarLenFeature(tf.int64), "b": tf.io.VarLenFeature(tf.float32)}
    )
    with tf.Session() as sess:
        if want is None:
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(out)
        else:
            got = sess.run(out)
            assert {k: v.values.tolist() for k, v in got.items()} == {
                k: want.get(k, []) for k in ("a", "b")
            }
