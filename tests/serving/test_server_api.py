"""The REST API of a real `miniflow serve` process: predictions, metadata, errors."""

from __future__ import annotations

import json
import re
import socket

import numpy as np
import pytest
from serving_helpers import (
    DIMS_LOG2,
    ServerProcess,
    http,
    instances,
    lr_truth,
    random_rows,
    write_lr_model,
)

MAX_BODY = 4096


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("ctr")
    write_lr_model(base / "1", seed=1)
    write_lr_model(base / "2", seed=2)
    server = ServerProcess(
        ["--model-dir", str(base), "--name", "ctr", "--max-body-bytes", str(MAX_BODY)]
    )
    yield server, base
    assert server.stop() == 0  # SIGTERM is a clean shutdown


def test_row_format_matches_in_process_prediction(served):
    server, base = served
    rows = random_rows(0, 20)
    status, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert status == 200
    np.testing.assert_allclose(body["predictions"], lr_truth(base / "2", rows), rtol=1e-6)


def test_columnar_format_and_named_signature_with_two_outputs(served):
    server, base = served
    rows = random_rows(1, 5)
    req = {
        "signature_name": "predict",
        "inputs": {"indices": [i for i, _ in rows], "values": [v for _, v in rows]},
    }
    status, body = server.post("/v1/models/ctr:predict", req)
    assert status == 200
    assert sorted(body["outputs"]) == ["logits", "probabilities"]
    np.testing.assert_allclose(
        body["outputs"]["probabilities"], lr_truth(base / "2", rows), rtol=1e-6
    )
    np.testing.assert_allclose(
        body["outputs"]["logits"], lr_truth(base / "2", rows, True), rtol=1e-5, atol=1e-6
    )


def test_row_format_with_two_outputs_gives_one_object_per_instance(served):
    server, base = served
    rows = random_rows(2, 3)
    status, body = server.post(
        "/v1/models/ctr:predict", {"signature_name": "predict", "instances": instances(rows)}
    )
    assert status == 200
    assert [sorted(p) for p in body["predictions"]] == [["logits", "probabilities"]] * 3
    np.testing.assert_allclose(
        [p["probabilities"] for p in body["predictions"]], lr_truth(base / "2", rows), rtol=1e-6
    )


def test_columnar_single_output_is_returned_bare(served):
    server, base = served
    rows = random_rows(3, 2)
    status, body = server.post(
        "/v1/models/ctr:predict",
        {"inputs": {"indices": [r[0] for r in rows], "values": [r[1] for r in rows]}},
    )
    assert status == 200
    np.testing.assert_allclose(body["outputs"], lr_truth(base / "2", rows), rtol=1e-6)


def test_specific_version_url_and_unloaded_version(served):
    server, base = served
    rows = random_rows(4, 3)
    status, body = server.post("/v1/models/ctr/versions/2:predict", {"instances": instances(rows)})
    assert status == 200
    np.testing.assert_allclose(body["predictions"], lr_truth(base / "2", rows), rtol=1e-6)
    # The default policy serves only the newest version; 1 is on disk but not loaded.
    status, body = server.post("/v1/models/ctr/versions/1:predict", {"instances": instances(rows)})
    assert status == 404
    assert body == {
        "error": "Servable not found for request: Specific(ctr, 1); serving versions: [2]"
    }


def test_status_endpoint(served):
    server, _ = served
    ok = {"error_code": "OK", "error_message": ""}
    assert server.get("/v1/models/ctr") == (
        200,
        {"model_version_status": [{"version": "2", "state": "AVAILABLE", "status": ok}]},
    )
    assert server.get("/v1/models/ctr/versions/2") == (
        200,
        {"model_version_status": [{"version": "2", "state": "AVAILABLE", "status": ok}]},
    )


def test_metadata_endpoint(served):
    server, _ = served
    status, body = server.get("/v1/models/ctr/metadata")
    assert status == 200
    dims2 = {"dim": [{"size": "-1", "name": ""}, {"size": "-1", "name": ""}], "unknown_rank": False}
    dims1 = {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}
    dims_n2 = {
        "dim": [{"size": "-1", "name": ""}, {"size": "2", "name": ""}],
        "unknown_rank": False,
    }
    inputs = {
        "indices": {"dtype": "DT_INT64", "tensor_shape": dims2, "name": "indices", "ragged": True},
        "values": {"dtype": "DT_FLOAT", "tensor_shape": dims2, "name": "values", "ragged": True},
    }
    prob = {"dtype": "DT_FLOAT", "tensor_shape": dims1, "name": "probabilities"}
    logit = {"dtype": "DT_FLOAT", "tensor_shape": dims1, "name": "logits"}
    method = "tensorflow/serving/predict"
    assert body == {
        "model_spec": {"name": "ctr", "signature_name": "", "version": "2"},
        "metadata": {
            "signature_def": {
                "signature_def": {
                    "serving_default": {
                        "inputs": inputs,
                        "outputs": {"probabilities": prob},
                        "method_name": method,
                    },
                    "predict": {
                        "inputs": inputs,
                        "outputs": {"probabilities": prob, "logits": logit},
                        "method_name": method,
                    },
                    "classification": {
                        "inputs": inputs,
                        "outputs": {
                            "classes": {
                                "dtype": "DT_STRING",
                                "tensor_shape": dims_n2,
                                "name": "classes",
                            },
                            "scores": {
                                "dtype": "DT_FLOAT",
                                "tensor_shape": dims_n2,
                                "name": "scores",
                            },
                        },
                        "method_name": "tensorflow/serving/classify",
                    },
                    "regression": {
                        "inputs": inputs,
                        "outputs": {
                            "outputs": {
                                "dtype": "DT_FLOAT",
                                "tensor_shape": dims1,
                                "name": "outputs",
                            }
                        },
                        "method_name": "tensorflow/serving/regress",
                    },
                }
            }
        },
    }


BAD_REQUESTS = [
    (
        "malformed JSON",
        b'{"instances": [',
        "JSON Parse error: Expecting value: line 1 column 16 (char 15)",
    ),
    (
        "not an object",
        [1, 2],
        "JSON Value: request body must be a JSON object with 'instances' or 'inputs'",
    ),
    ("neither key", {"signature_name": "predict"}, "Missing 'inputs' or 'instances' key"),
    (
        "both keys",
        {"instances": [], "inputs": {}},
        "Only one of 'instances' or 'inputs' can be specified",
    ),
    (
        "unknown top-level key",
        {"instances": [], "foo": 1},
        "Unknown key(s) ['foo'] in request; expected 'instances' or 'inputs', and optionally "
        "'signature_name'",
    ),
    ("empty instances", {"instances": []}, "'instances' must be a non-empty JSON list"),
    (
        "unknown input name",
        {"instances": [{"indices": [1], "values": [1.0], "extra": [2]}]},
        "instance 0: JSON object does not have named input: 'extra'; the signature's inputs are "
        "['indices', 'values']",
    ),
    (
        "missing input",
        {"instances": [{"indices": [1]}]},
        "instance 0: missing named input 'values'; the signature's inputs are "
        "['indices', 'values']",
    ),
    (
        "unknown signature",
        {"signature_name": "nope", "instances": [{"indices": [1], "values": [1.0]}]},
        'Serving signature name: "nope" not found in signature def; available: '
        "['classification', 'predict', 'regression', 'serving_default']",
    ),
    (
        "string values",
        {"instances": [{"indices": [1], "values": ["a"]}]},
        "input 'values': wrong dtype: expected float32 (numbers), got string values",
    ),
    (
        "float feature id",
        {"instances": [{"indices": [1.5], "values": [1.0]}]},
        "input 'indices': wrong dtype: expected int64 (integers), got non-integer number values",
    ),
    (
        "bool values",
        {"instances": [{"indices": [1], "values": [True]}]},
        "input 'values': wrong dtype: expected float32 (numbers), got boolean values",
    ),
    (
        "nested instance",
        {"instances": [{"indices": [[1, 2]], "values": [[1.0, 2.0]]}]},
        "input 'indices': wrong shape: each instance must be a flat list of numbers",
    ),
    (
        "scalar instance",
        {"instances": [{"indices": 3, "values": 1.0}]},
        "input 'indices', instance 0: expected a list of numbers, got int",
    ),
    (
        "length mismatch",
        {"instances": [{"indices": [1, 2], "values": [1.0]}]},
        "instance 0: 'indices' and 'values' have different lengths; every feature id needs "
        "exactly one value",
    ),
    (
        "index out of range",
        {
            "instances": [
                {"indices": [1], "values": [1.0]},
                {"indices": [5, 1 << DIMS_LOG2], "values": [1, 1]},
            ]
        },
        f"instance 1: feature index {1 << DIMS_LOG2} is out of range [0, {1 << DIMS_LOG2}) "
        f"(the model has 2^{DIMS_LOG2} features)",
    ),
    (
        "negative index",
        {"instances": [{"indices": [-1], "values": [1.0]}]},
        f"instance 0: feature index -1 is out of range [0, {1 << DIMS_LOG2}) (the model has "
        f"2^{DIMS_LOG2} features)",
    ),
    (
        "columnar batch sizes differ",
        {"inputs": {"indices": [[1], [2]], "values": [[1.0]]}},
        "Input batch sizes differ: {'indices': 2, 'values': 1}; every input must have the same "
        "size in its first dimension",
    ),
    (
        "index beyond int64",
        {"instances": [{"indices": [2**70], "values": [1.0]}]},
        "input 'indices': value out of range for int64",
    ),
    (
        "too-large body",
        {"instances": [{"indices": list(range(1000)), "values": [1.0] * 1000}]},
        None,
    ),
    (
        "classify takes examples",
        None,
        "Unknown key(s) ['instances'] in classify request; expected 'examples', "
        "and optionally 'context' and 'signature_name'",
    ),
]


@pytest.mark.parametrize("case, body, message", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_400_and_the_server_keeps_serving(served, case, body, message):
    server, base = served
    path = "/v1/models/ctr:classify" if case.startswith("classify") else "/v1/models/ctr:predict"
    raw = body if isinstance(body, bytes) else json.dumps(body or {"instances": []}).encode()
    status, reply = http("POST", server.url + path, raw)
    assert status == (413 if message is None else 400)
    if message is None:  # too-large body
        assert reply == {
            "error": f"Request body of {len(raw)} bytes exceeds the limit of "
            f"{MAX_BODY} bytes (--max-body-bytes)"
        }
    else:
        assert reply == {"error": message}
    rows = random_rows(5, 2)
    status, good = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert status == 200
    np.testing.assert_allclose(good["predictions"], lr_truth(base / "2", rows), rtol=1e-6)


def test_not_found_and_wrong_method(served):
    server, _ = served
    assert server.post("/v1/models/nope:predict", {"instances": [[1]]}) == (
        404,
        {"error": "Servable not found for request: Latest(nope); served models: ['ctr']"},
    )
    assert server.get("/v1/models/ctr/versions/7") == (
        404,
        {"error": "Servable not found for request: Specific(ctr, 7)"},
    )
    assert server.get("/v1/models/ctr/versions/7/metadata") == (
        404,
        {"error": "Servable not found for request: Specific(ctr, 7); serving versions: [2]"},
    )
    assert server.get("/v2/whatever") == (404, {"error": "Malformed request: GET /v2/whatever"})
    assert server.get("/v1/models/ctr:predict") == (405, {"error": "predict needs POST, got GET"})


def test_missing_content_length_is_refused(served):
    server, _ = served
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\n\r\n")
        chunks = []
        while chunk := s.recv(65536):  # the server closes the connection after replying
            chunks.append(chunk)
        reply = b"".join(chunks).decode()
    assert reply.startswith("HTTP/1.1 411 ")
    assert reply.endswith('{"error": "Content-Length required (chunked bodies are not supported)"}')


def test_health_and_prometheus_metrics(served):
    server, _ = served

    def counters():
        status, text = server.get("/monitoring/prometheus/metrics")
        assert status == 200
        found = {}
        for line in text.splitlines():
            m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
            if m:
                found[m[1] + (m[2] or "")] = float(m[3])
        return found

    before = counters()
    rows = random_rows(6, 2)
    for _ in range(3):
        assert server.post("/v1/models/ctr:predict", {"instances": instances(rows)})[0] == 200
    assert server.post("/v1/models/ctr:predict", b"{")[0] == 400
    assert server.get("/healthz") == (200, {"status": "ok", "models": {"ctr": [2]}})
    after = counters()

    def delta(key):
        return after.get(key, 0) - before.get(key, 0)

    ok = 'miniflow_serving_requests_total{model="ctr",api="predict",code="200"}'
    bad = 'miniflow_serving_requests_total{model="ctr",api="predict",code="400"}'
    err = 'miniflow_serving_request_errors_total{model="ctr",api="predict",code="400"}'
    assert (delta(ok), delta(bad), delta(err)) == (3, 1, 1)
    assert delta('miniflow_serving_request_latency_seconds_count{model="ctr",api="predict"}') == 4
    inf = 'miniflow_serving_request_latency_seconds_bucket{model="ctr",api="predict",le="+Inf"}'
    assert delta(inf) == 4
    # Three model calls of two rows each (the bad request never reached the model).
    assert delta('miniflow_serving_batch_size_count{model="ctr"}') == 3
    assert delta('miniflow_serving_batch_size_sum{model="ctr"}') == 6
    assert after['miniflow_serving_model_version{model="ctr"}'] == 2


def test_negative_content_length_is_refused(served):
    server, _ = served
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    reply = b"".join(chunks).decode()
    assert reply.startswith("HTTP/1.1 400 ")
    assert reply.endswith('{"error": "invalid Content-Length \'-5\'"}')
