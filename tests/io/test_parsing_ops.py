"""`tf.io` decoders and file ops, graph and eager. Expected values and bytes were
obtained from TensorFlow 2.21 (`tf.compat.v1`, graph mode)."""

import gzip
import zlib

import numpy as np
import pytest

import miniflow as tf
from tests.ops.helpers import graph_and_eager as both


def run_error(fn, cls, match):
    tf.reset_default_graph()
    with tf.Session() as sess, pytest.raises(cls, match=match):
        sess.run(fn())
    with tf.eager_mode(), pytest.raises(cls, match=match):
        fn()


def test_decode_csv():
    a, b, c = both(lambda: tf.io.decode_csv(["1,2.5,x", "3,,y"], [[0], [1.0], ["d"]]))
    assert a.dtype == np.int32 and a.tolist() == [1, 3]
    assert b.dtype == np.float32 and b.tolist() == [2.5, 1.0]
    assert c.tolist() == [b"x", b"y"]
    assert both(lambda: tf.decode_csv(['"a,b",1', '"c""d",2'], [[""], [0]]))[0].tolist() == [
        b"a,b",
        b'c"d',
    ]
    assert both(lambda: tf.io.decode_csv(['"a",1'], [[""], [0]], use_quote_delim=False))[
        0
    ].tolist() == [b'"a"']
    assert both(lambda: tf.io.decode_csv(["NA,2"], [[0], [0]], na_value="NA"))[0].tolist() == [0]
    assert [
        v.tolist()
        for v in both(lambda: tf.io.decode_csv(["1,2,3"], [[0], [0]], select_cols=[0, 2]))
    ] == [[1], [3]]
    assert both(lambda: tf.io.decode_csv(["1;2"], [[0], [0]], field_delim=";"))[1].tolist() == [2]
    big = both(lambda: tf.io.decode_csv(["12345678901"], [tf.constant([0], tf.int64)]))[0]
    assert big.dtype == np.int64 and big.tolist() == [12345678901]
    assert both(lambda: tf.io.decode_csv([["1"], ["2"]], [[0]]))[0].shape == (2, 1)
    assert both(lambda: tf.io.decode_csv([" 1.5 "], [[0.0]]))[0].tolist() == [1.5]


@pytest.mark.parametrize(
    "record,defaults,match",
    [
        ("1,", [[0], np.zeros(0, np.int32)], "required but missing"),
        ("1,2,3", [[0], [0]], "Expect 2 fields but have 3"),
        ("1", [[0], [0]], "Expect 2 fields but have 1"),
        ("x,1", [[0], [0]], "not a valid int32"),
        ('"ab,1', [[""], [0]], "Quoted field has to end"),
        ('"a"b,1', [[""], [0]], "escaped by another quote"),
        ("12345678901", [[0]], "not a valid int32"),
    ],
)
def test_decode_csv_bad_records(record, defaults, match):
    run_error(lambda: tf.io.decode_csv([record], defaults), tf.errors.InvalidArgumentError, match)


def test_decode_csv_bad_arguments():
    with pytest.raises(ValueError, match="strictly increasing"):
        tf.io.decode_csv(["1,2"], [[0], [0]], select_cols=[1, 0])
    with pytest.raises(ValueError, match="do not match"):
        tf.io.decode_csv(["1,2"], [[0], [0]], select_cols=[0])
    with pytest.raises(TypeError, match="record_defaults"):
        tf.io.decode_csv(["1"], [[True]])


def test_decode_raw():
    got = both(lambda: tf.io.decode_raw([b"\x01\x00\x02\x00", b"\x03\x00\x04\x01"], tf.int16))
    assert got.dtype == np.int16 and got.tolist() == [[1, 2], [3, 260]]
    assert both(
        lambda: tf.decode_raw([b"\x01\x00\x02\x00"], tf.int16, little_endian=False)
    ).tolist() == [[256, 512]]
    assert both(lambda: tf.io.decode_raw(b"ab", tf.uint8)).tolist() == [97, 98]
    run_error(
        lambda: tf.io.decode_raw([b"\x01\x00\x02"], tf.int16),
        tf.errors.InvalidArgumentError,
        "not a multiple of 2",
    )
    run_error(
        lambda: tf.io.decode_raw([b"\x01\x00", b"\x01\x00\x02\x00"], tf.int16),
        tf.errors.InvalidArgumentError,
        "same size",
    )


def test_base64_web_safe():
    assert both(lambda: tf.io.encode_base64([b"\xff\xfe?>", b"a"])).tolist() == [b"__4_Pg", b"YQ"]
    assert both(lambda: tf.io.encode_base64([b"\xff\xfe?>", b"a"], pad=True)).tolist() == [
        b"__4_Pg==",
        b"YQ==",
    ]
    assert both(lambda: tf.io.decode_base64([b"__4_Pg", b"YQ==", b"YQ"])).tolist() == [
        b"\xff\xfe?>",
        b"a",
        b"a",
    ]
    for bad in (b"a", b"a+b/", b"Y=Q"):
        run_error(
            lambda bad=bad: tf.io.decode_base64([bad]), tf.errors.InvalidArgumentError, "base64"
        )


def test_decode_compressed():
    assert both(lambda: tf.io.decode_compressed([zlib.compress(b"hello")], "ZLIB")).tolist() == [
        b"hello"
    ]
    assert both(lambda: tf.io.decode_compressed([gzip.compress(b"hi")], "GZIP")).tolist() == [b"hi"]
    assert both(lambda: tf.io.decode_compressed([b"plain"])).tolist() == [b"plain"]
    run_error(
        lambda: tf.io.decode_compressed([b"hellohello"], "ZLIB"),
        tf.errors.DataLossError,
        "corrupt ZLIB",
    )
    run_error(
        lambda: tf.io.decode_compressed([gzip.compress(b"hello")[:-5]], "GZIP"),
        tf.errors.DataLossError,
        "corrupt GZIP",
    )


# TensorProto bytes exactly as TF's serialize_tensor writes them.
TENSOR_PROTOS = [
    (
        np.array([1.5, 2.0], np.float32),
        (b'\x08\x01\x12\x04\x12\x02\x08\x02"\x08\x00\x00\xc0?\x00\x00\x00@'),
    ),
    (np.array(3, np.int32), b'\x08\x03\x12\x00"\x04\x03\x00\x00\x00'),
    (
        np.array([[1, 2]], np.int64),
        (
            b'\x08\t\x12\x08\x12\x02\x08\x01\x12\x02\x08\x02"\x10\x01'
            + b"\x00" * 7
            + b"\x02"
            + b"\x00" * 7
        ),
    ),
    (np.array([b"ab", b"c"], dtype=object), b"\x08\x07\x12\x04\x12\x02\x08\x02B\x02abB\x01c"),
    (np.array(True), b'\x08\n\x12\x00"\x01\x01'),
    (np.zeros((0, 2), np.float64), b"\x08\x02\x12\x06\x12\x00\x12\x02\x08\x02"),
    (np.array([1], np.uint8), b'\x08\x04\x12\x04\x12\x02\x08\x01"\x01\x01'),
    (np.array([1.0], np.float16), b'\x08\x13\x12\x04\x12\x02\x08\x01"\x02\x00<'),
]


@pytest.mark.parametrize("value,proto", TENSOR_PROTOS)
def test_serialize_tensor_bytes_equal_tensorflow(value, proto):
    assert both(lambda: tf.io.serialize_tensor(tf.constant(value))) == proto
    dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
    back = both(lambda: tf.io.parse_tensor(proto, dtype))
    assert np.asarray(back).shape == value.shape
    np.testing.assert_array_equal(np.asarray(back), value)


def test_parse_tensor_errors():
    proto = TENSOR_PROTOS[0][1]
    run_error(
        lambda: tf.io.parse_tensor(proto, tf.int32), tf.errors.InvalidArgumentError, "Type mismatch"
    )
    for bad in (b"\xff\xff\xff", proto[:-3], b"\x08\x01\x12\x04\x12\x02\x08\x02\x22\x7f"):
        run_error(
            lambda bad=bad: tf.io.parse_tensor(bad, tf.float32),
            tf.errors.InvalidArgumentError,
            "Could not parse",
        )


def test_files(tmp_path):
    path = str(tmp_path / "sub" / "a.txt")
    tf.reset_default_graph()
    with tf.Session() as sess:
        sess.run(tf.io.write_file(path, "content"))
        assert sess.run(tf.read_file(path)) == b"content"
        assert sess.run(tf.io.matching_files(str(tmp_path / "sub" / "*.txt"))).tolist() == [
            path.encode()
        ]
        assert sess.run(tf.matching_files(str(tmp_path / "*.zzz"))).tolist() == []
    with tf.eager_mode():
        tf.write_file(path, "eager")
        assert tf.io.read_file(path).numpy() == b"eager"
    run_error(
        lambda: tf.io.read_file(str(tmp_path / "nope")), tf.errors.NotFoundError, "No such file"
    )


def test_more_csv_cases_match_tensorflow():
    assert both(lambda: tf.io.decode_csv(['"12"'], [[0]]))[0].tolist() == [12]
    assert both(lambda: tf.io.decode_csv(["1,2,3,4"], [[0]], select_cols=[1]))[0].tolist() == [2]
    run_error(
        lambda: tf.io.decode_csv([""], [[0]]),
        tf.errors.InvalidArgumentError,
        "Expect 1 fields but have 0",
    )
    run_error(
        lambda: tf.io.decode_csv(["1"], [[0]], select_cols=[1]),
        tf.errors.InvalidArgumentError,
        "fields",
    )
    run_error(
        lambda: tf.io.decode_csv(["1.5x"], [[0.0]]),
        tf.errors.InvalidArgumentError,
        "not a valid float",
    )
    assert both(
        lambda: tf.io.decode_raw([np.array([1.5, -2], np.float32).tobytes()], tf.float32)
    ).tolist() == [[1.5, -2.0]]
    assert both(lambda: tf.io.decode_base64([b"YWI="])).tolist() == [b"ab"]
    run_error(lambda: tf.io.decode_base64([b"YQ="]), tf.errors.InvalidArgumentError, "base64")
