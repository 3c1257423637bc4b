"""TF Serving's REST conventions for DT_STRING tensors: ``{"b64": ...}`` inputs in row and
columnar requests, plain JSON strings, and ``*_bytes`` outputs written back as b64.

The expected behaviour is TF Serving's documented REST API (g3doc/api_rest.md,
"Encoding binary values" and "Output of binary values"): binary values travel as JSON
objects whose only key is ``b64``, and outputs whose name ends in ``_bytes`` are encoded
the same way.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import miniflow as tf
from miniflow.serving.codec import decode_predict, encode_predict, parse_json
from miniflow.serving.errors import InvalidRequest
from miniflow.serving.signature import SignatureDef, TensorSpec

OBJ = np.dtype(object)


def b64(raw: bytes) -> dict:
    return {"b64": base64.b64encode(raw).decode()}


def example(x0: float, x1: float) -> bytes:
    feat = tf.train.Feature(float_list=tf.train.FloatList(value=[x0, x1]))
    return tf.train.Example(features=tf.train.Features(feature={"x": feat})).SerializeToString()


def sigs(**inputs: TensorSpec) -> dict:
    out = {"y": TensorSpec("y:0", np.dtype(np.float32), (None,))}
    return {"serving_default": SignatureDef(dict(inputs), out)}


ONE = sigs(examples=TensorSpec("s:0", OBJ, (None,)))
NAMED = sigs(
    image=TensorSpec("i:0", OBJ, (None,)), k=TensorSpec("k:0", np.dtype(np.int64), (None,))
)
MATRIX = sigs(s=TensorSpec("s:0", OBJ, (None, 2)))


# -- decoding -------------------------------------------------------------------------------
BLOBS = [b"\x00\xff\x10binary", b"", "é".encode(), bytes(range(256))]


def test_row_format_single_string_input_takes_b64_objects():
    req = decode_predict({"instances": [b64(b) for b in BLOBS]}, ONE)
    got = req.inputs["examples"]
    assert got.dtype == object and got.shape == (4,) and req.rows == 4 and not req.columnar
    assert got.tolist() == BLOBS


def test_columnar_format_single_and_named_inputs():
    req = decode_predict({"inputs": [b64(b) for b in BLOBS]}, ONE)
    assert req.columnar and req.inputs["examples"].tolist() == BLOBS
    req = decode_predict({"inputs": {"image": [b64(b"ab"), b64(b"c")], "k": [1, 2]}}, NAMED)
    assert req.inputs["image"].tolist() == [b"ab", b"c"]
    np.testing.assert_array_equal(req.inputs["k"], [1, 2])


def test_row_format_named_inputs_mix_b64_and_numbers():
    # The documented example: {"image": {"b64": ...}, "caption": "seaside"} per instance.
    body = {
        "instances": [
            {"image": {"b64": "aW1hZ2UgYnl0ZXM="}, "k": 3},
            {"image": {"b64": "YXdlc29tZSBpbWFnZSBieXRlcw=="}, "k": 4},
        ]
    }
    req = decode_predict(body, NAMED)
    assert req.inputs["image"].tolist() == [b"image bytes", b"awesome image bytes"]
    assert req.inputs["k"].tolist() == [3, 4]


def test_plain_strings_are_utf8_and_may_mix_with_b64():
    req = decode_predict({"instances": ["seaside", "мир", b64(b"\x80")]}, ONE)
    assert req.inputs["examples"].tolist() == [b"seaside", "мир".encode(), b"\x80"]


def test_unpadded_base64_is_accepted():
    req = decode_predict({"instances": [{"b64": "YWI"}, {"b64": "YWJj"}]}, ONE)
    assert req.inputs["examples"].tolist() == [b"ab", b"abc"]


def test_two_dimensional_string_input():
    body = {"instances": [[b64(b"a"), "b"], ["c", b64(b"d")]]}
    got = decode_predict(body, MATRIX).inputs["s"]
    assert got.shape == (2, 2) and got.tolist() == [[b"a", b"b"], [b"c", b"d"]]


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"instances": [{"b64": "not base64!"}]},
            "input 'examples': Unable to base64 decode 'not base64!'",
        ),
        ({"instances": [{"b64": "YW-_"}]}, "Unable to base64 decode"),  # URL-safe alphabet
        ({"instances": [{"b64": "YWJjZ"}]}, "Unable to base64 decode"),  # impossible length
        (
            {"instances": [{"b64": 12}]},
            "input 'examples': the value of \"b64\" must be a string of base64, got a number",
        ),
        (
            {"instances": [5]},
            "input 'examples': wrong dtype: expected string (JSON strings or "
            '{"b64": "..."} objects), got a number',
        ),
        ({"instances": [None]}, "got null"),
        (
            {"inputs": [{"b64": "YQ==", "x": 1}]},
            'binary values are {"b64": "..."} objects with no other key',
        ),
        (
            {"instances": [[b64(b"a")], [b64(b"b")]]},
            "input 'examples': wrong shape: lists nested deeper than the signature's rank 1",
        ),
    ],
)
def test_bad_string_values_are_clear_invalid_requests(body, message):
    with pytest.raises(InvalidRequest) as e:
        decode_predict(body, ONE)
    assert message in str(e.value)


def test_string_inputs_must_be_rectangular_and_of_the_signature_shape():
    with pytest.raises(InvalidRequest, match="nested lists must be rectangular"):
        decode_predict({"instances": [["a", "b"], ["c"]]}, MATRIX)
    with pytest.raises(InvalidRequest, match="nested lists must be rectangular"):
        decode_predict({"instances": [["a", "b"], "c"]}, MATRIX)
    with pytest.raises(InvalidRequest, match=r"wrong shape: got \[2, 3\]"):
        decode_predict({"instances": [["a", "b", "c"], ["d", "e", "f"]]}, MATRIX)


def test_b64_object_for_a_numeric_input_is_refused():
    with pytest.raises(InvalidRequest, match="input 'k'"):
        decode_predict({"inputs": {"image": ["a"], "k": [b64(b"\x01")]}}, NAMED)


def test_deeply_nested_json_is_a_parse_error_not_a_crash():
    with pytest.raises(InvalidRequest, match="nested too deeply"):
        parse_json(b"[" * 200_000 + b"]" * 200_000)


# -- encoding -------------------------------------------------------------------------------
def test_bytes_outputs_are_b64_and_other_strings_are_text():
    out = {
        "classes": np.array([[b"0", b"1"]], object),
        "echo_bytes": np.array([b"\x00\xff"], object),
        "scores": np.array([[0.25, 0.75]], np.float32),
    }
    doc = encode_predict(out, columnar=True)["outputs"]
    assert doc == {
        "classes": [["0", "1"]],
        "echo_bytes": [{"b64": "AP8="}],
        "scores": [[0.25, 0.75]],
    }
    rows = encode_predict(out, columnar=False)["predictions"]
    assert rows == [{"classes": ["0", "1"], "echo_bytes": {"b64": "AP8="}, "scores": [0.25, 0.75]}]
    json.dumps(rows)  # serialisable as it stands


# -- over HTTP, a real server process -----------------------------------------------------------
def export(path) -> None:
    """Parses serialized Examples: y = 2 * sum(x); echo_bytes = the input; n = its length."""
    graph = tf.Graph()
    with graph.as_default():
        s = tf.placeholder(tf.string, [None], name="serialized")
        x = tf.parse_example(s, {"x": tf.FixedLenFeature([2], tf.float32)})["x"]
        y = tf.multiply(tf.reduce_sum(x, axis=1), 2.0, name="y")
        echo = tf.identity(s, name="echo")
        n = tf.strings.length(s, name="n")
        with tf.Session() as sess:
            tf.saved_model.simple_save(
                sess, str(path), {"examples": s}, {"y": y, "echo_bytes": echo, "n": n}
            )


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("parsing")
    export(d / "1")
    return d


def test_rest_predict_on_serialized_examples_row_and_columnar(base, start_server):
    server = start_server("--model-dir", base, "--name", "ex")
    protos = [example(1.0, 2.5), example(-3.0, 0.25)]
    code, meta = server.get("/v1/models/ex/metadata")
    assert code == 200
    inputs = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
    assert inputs["examples"]["dtype"] == "DT_STRING"
    code, body = server.post("/v1/models/ex:predict", {"instances": [b64(p) for p in protos]})
    assert code == 200, body
    assert [p["y"] for p in body["predictions"]] == [7.0, -5.5]
    assert [p["n"] for p in body["predictions"]] == [len(p) for p in protos]
    assert [base64.b64decode(p["echo_bytes"]["b64"]) for p in body["predictions"]] == protos
    code, body = server.post("/v1/models/ex:predict", {"inputs": [b64(p) for p in protos]})
    assert code == 200, body
    assert body["outputs"]["y"] == [7.0, -5.5]
    assert [base64.b64decode(v["b64"]) for v in body["outputs"]["echo_bytes"]] == protos


def test_rest_malformed_b64_is_400_and_the_server_keeps_serving(base, start_server):
    server = start_server("--model-dir", base, "--name", "ex")
    code, body = server.post("/v1/models/ex:predict", {"instances": [{"b64": "%%%"}]})
    assert code == 400
    assert body["error"].startswith("input 'examples': Unable to base64 decode '%%%'")
    # Bytes that are valid base64 but not an Example: the model's parse fails -> 400.
    code, body = server.post("/v1/models/ex:predict", {"instances": [b64(b"\xff\xff")]})
    assert code == 400, body
    code, body = server.post("/v1/models/ex:predict", {"instances": [b64(example(1, 1))]})
    assert code == 200 and body["predictions"][0]["y"] == 4.0


def test_rest_b64_strings_count_toward_the_body_limit(base, start_server):
    server = start_server("--model-dir", base, "--name", "ex", "--max-body-bytes", "4096")
    big = {"instances": [b64(b"\x00" * 4096)]}  # 5.4 kB of base64 in the body
    code, body = server.post("/v1/models/ex:predict", big)
    assert code == 413 and "exceeds the limit of 4096 bytes" in body["error"]
    code, body = server.post("/v1/models/ex:predict", {"instances": [b64(example(0, 1))]})
    assert code == 200 and body["predictions"][0]["y"] == 2.0
