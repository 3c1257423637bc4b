"""`tf.train.SequenceExample`, `parse_(single_)sequence_example`, `decode_json_example`,
sparse serialization and `match_filenames_once`. Expected bytes and values were obtained
from TensorFlow 2.21 (`tf.compat.v1`)."""

import pytest

import miniflow as tf

# A SequenceExample as TF serialized it: context len=3; feature lists tok=[[1,2],[3,4],[5,6]]
# (int64) and w=[[b"a"], [b"b", b"c"]].
TF_SEQ = (
    b"\n\x0e\n\x0c\n\x03len\x12\x05\x1a\x03\n\x01\x03\x129\n\x1f\n\x03tok\x12\x18\n"
    b"\x06\x1a\x04\n\x02\x01\x02\n\x06\x1a\x04\n\x02\x03\x04\n\x06\x1a\x04\n\x02\x05"
    b"\x06\n\x16\n\x01w\x12\x11\n\x05\n\x03\n\x01a\n\x08\n\x06\n\x01b\n\x01c"
)


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _sparse(v):
    return v.indices.tolist(), v.values.tolist(), v.dense_shape.tolist()


def test_sequence_example_bytes_equal_tensorflow():
    se = tf.train.SequenceExample(
        context=tf.train.Features(feature={"len": _ints([3])}),
        feature_lists=tf.train.FeatureLists(
            feature_list={
                "tok": tf.train.FeatureList(feature=[_ints([1, 2]), _ints([3, 4]), _ints([5, 6])]),
                "w": tf.train.FeatureList(
                    feature=[
                        tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"a"])),
                        tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"b", b"c"])),
                    ]
                ),
            }
        ),
    )
    assert se.SerializeToString() == TF_SEQ
    assert tf.train.SequenceExample.FromString(TF_SEQ) == se


def short():
    return tf.train.SequenceExample(
        feature_lists=tf.train.FeatureLists(
            feature_list={"tok": tf.train.FeatureList(feature=[_ints([7, 8])])}
        )
    ).SerializeToString()


def test_parse_single_sequence_example_graph_and_eager():
    def build():
        return tf.io.parse_single_sequence_example(
            TF_SEQ,
            context_features={
                "len": tf.io.FixedLenFeature([], tf.int64),
                "missing": tf.io.FixedLenFeature([], tf.float32, default_value=1.0),
            },
            sequence_features={
                "tok": tf.io.FixedLenSequenceFeature([2], tf.int64),
                "w": tf.io.VarLenFeature(tf.string),
            },
        )

    context, seq = build()
    assert seq["tok"].shape.as_list() == [None, 2]
    with tf.Session() as sess:
        context, seq = sess.run([context, seq])
    assert context == {"len": 3, "missing": 1.0}
    assert seq["tok"].tolist() == [[1, 2], [3, 4], [5, 6]]
    assert _sparse(seq["w"]) == ([[0, 0], [1, 0], [1, 1]], [b"a", b"b", b"c"], [2, 2])
    with tf.eager_mode():
        context, seq = build()
        assert context["len"].numpy() == 3
        assert seq["tok"].numpy().tolist() == [[1, 2], [3, 4], [5, 6]]


def test_parse_sequence_example_batch():
    context, seq, lengths = tf.io.parse_sequence_example(
        [TF_SEQ, short()],
        context_features={"len": tf.io.FixedLenFeature([], tf.int64, default_value=0)},
        sequence_features={
            "tok": tf.io.FixedLenSequenceFeature([2], tf.int64),
            "w": tf.io.VarLenFeature(tf.string),
        },
    )
    with tf.Session() as sess:
        context, seq, lengths = sess.run([context, seq, lengths])
    assert context["len"].tolist() == [3, 0]
    assert seq["tok"].tolist() == [[[1, 2], [3, 4], [5, 6]], [[7, 8], [0, 0], [0, 0]]]
    assert _sparse(seq["w"]) == ([[0, 0, 0], [0, 1, 0], [0, 1, 1]], [b"a", b"b", b"c"], [2, 2, 2])
    assert lengths["tok"].tolist() == [3, 1]


def test_sequence_example_errors():
    missing = tf.io.parse_single_sequence_example(
        short(), sequence_features={"w": tf.io.FixedLenSequenceFeature([], tf.string)}
    )[1]["w"]
    allowed = tf.io.parse_single_sequence_example(
        short(),
        sequence_features={"w": tf.io.FixedLenSequenceFeature([], tf.string, allow_missing=True)},
    )[1]["w"]
    wrong = tf.io.parse_single_sequence_example(
        TF_SEQ, sequence_features={"tok": tf.io.FixedLenSequenceFeature([3], tf.int64)}
    )[1]["tok"]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="required but could not"):
            sess.run(missing)
        assert sess.run(allowed).shape == (0,)
        with pytest.raises(tf.errors.InvalidArgumentError, match="values size: 2"):
            sess.run(wrong)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse"):
            sess.run(
                tf.io.parse_single_sequence_example(
                    TF_SEQ[:-3], sequence_features={"w": tf.io.VarLenFeature(tf.string)}
                )[1]["w"]
            )
    with pytest.raises(ValueError, match="FixedLenFeature"):
        tf.io.parse_single_sequence_example(
            TF_SEQ, sequence_features={"tok": tf.io.FixedLenFeature([2], tf.int64)}
        )


# TF's decode_json_example output: entries in JSON order, repeated values unpacked.
JSON = (
    '{"features": {"feature": {"a": {"int64List": {"value": ["1", 2]}}, '
    '"b": {"floatList": {"value": [1.5]}}, "c": {"bytesList": {"value": ["eHk="]}}}}}'
)
JSON_PROTO = (
    b"\n(\n\x0b\n\x01a\x12\x06\x1a\x04\x08\x01\x08\x02\n\x0c\n\x01b\x12\x07\x12\x05\r"
    b"\x00\x00\xc0?\n\x0b\n\x01c\x12\x06\n\x04\n\x02xy"
)


def test_decode_json_example():
    with tf.Session() as sess:
        assert sess.run(tf.io.decode_json_example([JSON])).tolist() == [JSON_PROTO]
        for bad in (
            '{"features": 3}',
            "not json",
            ('{"features": {"feature": {"a": {}}}, "x": 1}'),
        ):
            with pytest.raises(tf.errors.InvalidArgumentError, match="JSON"):
                sess.run(tf.decode_json_example([bad]))
    with tf.eager_mode():
        assert tf.io.decode_json_example(JSON).numpy() == JSON_PROTO
    ex = tf.train.Example.FromString(JSON_PROTO)
    assert ex.features.feature["a"].int64_list.value == [1, 2]


SP_PROTOS = [  # serialize_sparse of ([[0, 1], [2, 0]], [1.5, 2.5], [3, 4]) by TF
    b'\x08\t\x12\x08\x12\x02\x08\x02\x12\x02\x08\x02" '
    + b"\x00" * 8
    + b"\x01"
    + b"\x00" * 7
    + b"\x02"
    + b"\x00" * 15,
]


def test_sparse_serialization():
    def sp():
        return tf.SparseTensor([[0, 1], [2, 0]], [1.5, 2.5], [3, 4])

    def sp3():
        return tf.SparseTensor([[0, 1, 1], [2, 0, 0], [2, 0, 3]], [1, 2, 3], [3, 2, 4])

    with tf.Session() as sess:
        assert sess.run(tf.io.serialize_sparse(sp()))[0] == SP_PROTOS[0]
        many = tf.serialize_many_sparse(sp())
        assert sess.run(many)[0, 0] == (
            b'\x08\t\x12\x08\x12\x02\x08\x01\x12\x02\x08\x01"\x08\x01' + b"\x00" * 7
        )
        back = sess.run(tf.io.deserialize_many_sparse(many, tf.float32))
        assert _sparse(back) == ([[0, 1], [2, 0]], [1.5, 2.5], [3, 4])
        two = tf.concat(
            [
                tf.io.serialize_many_sparse(sp3()),
                tf.io.serialize_many_sparse(tf.SparseTensor([[0, 0, 5]], [9], [1, 1, 6])),
            ],
            0,
        )
        got = tf.deserialize_many_sparse(two, tf.int32, rank=3)
        assert got.indices.shape.as_list() == [None, 3]
        assert _sparse(sess.run(got)) == (
            [[0, 1, 1], [2, 0, 0], [2, 0, 3], [3, 0, 5]],
            [1, 2, 3, 9],
            [4, 2, 6],
        )
        with pytest.raises(tf.errors.InvalidArgumentError, match="Requested SparseTensor"):
            sess.run(tf.io.deserialize_many_sparse(two, tf.float32))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse"):
            sess.run(tf.io.deserialize_many_sparse([[b"\xff", b"", b""]], tf.float32))
    with tf.eager_mode():
        back = tf.io.deserialize_many_sparse(tf.io.serialize_many_sparse(sp3()), tf.int32)
        assert back.values.numpy().tolist() == [1, 2, 3]


def test_match_filenames_once(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.txt").write_text("y")
    files = tf.io.match_filenames_once(str(tmp_path / "*.txt"))
    assert files.name == "matching_filenames:0" and files in tf.local_variables()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(files).tolist() == [str(tmp_path / n).encode() for n in ("a.txt", "b.txt")]
    assert tf.train.match_filenames_once is tf.io.match_filenames_once
