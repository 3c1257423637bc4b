"""Graph models exported with tf.saved_model.simple_save: in process, over HTTP, offline."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import miniflow as tf
from miniflow.cli.predict import main as predict_main
from miniflow.serving import load_servable

W = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]], np.float32)
B = np.array([0.1, -0.2], np.float32)


def export(path) -> None:
    """y = x @ W + B (float32 [-1, 2]); z = sum(y, 1) + k (two inputs, two outputs)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        k = tf.placeholder(tf.int64, [None], name="k")
        w = tf.Variable(W, name="w")
        b = tf.Variable(B, name="b")
        y = tf.add(tf.matmul(x, w), b, name="y")
        z = tf.add(tf.reduce_sum(y, axis=1), tf.cast(k, tf.float32), name="z")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.saved_model.simple_save(sess, str(path), {"x": x, "k": k}, {"y": y, "z": z})


def truth(X, K):
    y = np.asarray(X, np.float64) @ W.astype(np.float64) + B
    return y, y.sum(axis=1) + np.asarray(K)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("dense")
    export(d / "1")
    return d


def test_servable_signature_and_one_plan_for_all_requests(base):
    servable = load_servable(base / "1")
    try:
        sig = servable.signature_defs["serving_default"]
        assert {k: (s.dtype.name, s.shape) for k, s in sig.inputs.items()} == {
            "x": ("float32", (None, 3)),
            "k": ("int64", (None,)),
        }
        assert {k: (s.dtype.name, s.shape) for k, s in sig.outputs.items()} == {
            "y": ("float32", (None, 2)),
            "z": ("float32", (None,)),
        }
        rng = np.random.default_rng(0)
        for n in (1, 5, 2, 7):
            X, K = rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 9, n)
            out = servable.predict("serving_default", {"x": X, "k": K})
            y, z = truth(X, K)
            np.testing.assert_allclose(out["y"], y, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(out["z"], z, rtol=1e-5, atol=1e-5)
        assert servable.session.plan_builds == 1  # compiled once, reused by every request
    finally:
        servable.close()


def test_rest_row_and_columnar_formats(base, start_server):
    server = start_server("--model-dir", base, "--name", "dense")
    X = [[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]
    K = [3, 4]
    y, z = truth(X, K)
    code, body = server.post(
        "/v1/models/dense:predict", {"instances": [{"x": X[0], "k": K[0]}, {"x": X[1], "k": K[1]}]}
    )
    assert code == 200
    np.testing.assert_allclose([p["y"] for p in body["predictions"]], y, rtol=1e-5)
    np.testing.assert_allclose([p["z"] for p in body["predictions"]], z, rtol=1e-5)
    code, body = server.post("/v1/models/dense:predict", {"inputs": {"x": X, "k": K}})
    assert code == 200
    np.testing.assert_allclose(body["outputs"]["y"], y, rtol=1e-5)
    np.testing.assert_allclose(body["outputs"]["z"], z, rtol=1e-5)

    code, meta = server.get("/v1/models/dense/metadata")
    inputs = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
    assert inputs["x"] == {
        "dtype": "DT_FLOAT",
        "name": "x:0",
        "tensor_shape": {
            "dim": [{"size": "-1", "name": ""}, {"size": "3", "name": ""}],
            "unknown_rank": False,
        },
    }
    assert inputs["k"]["dtype"] == "DT_INT64"

    bad = [
        (
            {"inputs": {"x": [[1.0, 2.0]], "k": [1]}},
            "input 'x': wrong shape: got [1, 2] for the batch, the signature expects [-1, 3] "
            "(-1 = any size; the first dimension is the batch)",
        ),
        (
            {"inputs": {"x": [[1.0, 2.0, 3.0]], "k": [1.5]}},
            "input 'k': wrong dtype: expected int64 (integers), got non-integer number values",
        ),
        ({"inputs": {"x": [[1, 2, 3], [4, 5]], "k": [1, 2]}}, None),
        (
            {"instances": [[1.0, 2.0, 3.0]]},
            "instance 0 must be a JSON object with the named inputs ['k', 'x']; the signature "
            "has 2 inputs",
        ),
    ]
    for req, message in bad:
        code, reply = server.post("/v1/models/dense:predict", req)
        assert code == 400
        if message is None:
            assert reply["error"].startswith(
                "input 'x': wrong shape: nested lists must be rectangular"
            )
        else:
            assert reply == {"error": message}


def test_single_input_model_and_batching_over_http(tmp_path, start_server):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.matmul(x, tf.constant(W), name="y")
        with tf.Session() as sess:
            tf.saved_model.simple_save(sess, str(tmp_path / "4"), {"x": x}, {"y": y})
    server = start_server(
        "--model-dir",
        tmp_path,
        "--name",
        "m",
        "--batch-max-size",
        "4",
        "--batch-timeout-ms",
        "30000",
    )
    rng = np.random.default_rng(1)
    rows = [rng.normal(size=(1, 3)).round(3).tolist() for _ in range(4)]
    barrier = threading.Barrier(4)

    def send(inst):
        barrier.wait()
        return server.post("/v1/models/m:predict", {"instances": inst})

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(send, rows))
    for inst, (code, body) in zip(rows, replies, strict=True):
        assert code == 200
        np.testing.assert_allclose(body["predictions"], np.array(inst) @ W, rtol=1e-5, atol=1e-6)
    _, metrics = server.get("/monitoring/prometheus/metrics")
    assert 'miniflow_serving_batch_size_count{model="m"} 1' in metrics.splitlines()


def test_batch_predict_csv_and_libsvm_on_a_dense_model(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.matmul(x, tf.constant(W), name="y")
        with tf.Session() as sess:
            tf.saved_model.simple_save(sess, str(tmp_path / "m" / "1"), {"x": x}, {"y": y})
    X = np.array([[1, 0, 2], [0, 0, 0], [0.5, -1, 0]], np.float64)
    (tmp_path / "x.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in X))
    (tmp_path / "x.svm").write_text("1 0:1 2:2\n0\n1 0:0.5 1:-1\n0 3:1\n")  # last: id 3 >= 3
    out = tmp_path / "csv.jsonl"
    assert (
        predict_main(
            [
                "--model-dir",
                str(tmp_path / "m"),
                "--input",
                str(tmp_path / "x.csv"),
                "--format",
                "csv",
                "--output",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    got = [json.loads(line) for line in out.read_text().splitlines()]
    np.testing.assert_allclose(got, X @ W, rtol=1e-5, atol=1e-6)
    out = tmp_path / "svm.jsonl"
    assert (
        predict_main(
            [
                "--model-dir",
                str(tmp_path / "m"),
                "--input",
                str(tmp_path / "x.svm"),
                "--format",
                "libsvm",
                "--output",
                str(out),
                "--skip-bad-rows",
                "--no-progress",
            ]
        )
        == 0
    )
    got = [json.loads(line) for line in out.read_text().splitlines()]
    np.testing.assert_allclose(got[:3], X @ W, rtol=1e-5, atol=1e-6)
    assert got[3] == {
        "error": "feature index 3 >= the model's input width 3",
        "source": str(tmp_path / "x.svm"),
        "line": 4,
    }


def _export_scaled(path, scale: float) -> None:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.matmul(x, tf.constant(W * scale), name="y")
        with tf.Session() as sess:
            tf.saved_model.simple_save(sess, str(path), {"x": x}, {"y": y})


def test_graph_model_hot_switch_and_corrupt_version(tmp_path, start_server):
    _export_scaled(tmp_path / "1", 1.0)
    server = start_server("--model-dir", tmp_path, "--name", "m", "--poll-seconds", "0.1")
    X = [[1.0, 2.0, 3.0]]

    def predict():
        code, body = server.post("/v1/models/m:predict", {"instances": X})
        assert code == 200
        return np.array(body["predictions"])

    np.testing.assert_allclose(predict(), np.array(X) @ W, rtol=1e-5)
    _export_scaled(tmp_path / ".tmp-2", 2.0)
    (tmp_path / ".tmp-2").rename(tmp_path / "2")
    server.wait_for(
        lambda: np.allclose(predict(), np.array(X) @ (2 * W), rtol=1e-5), "version 2 to answer"
    )

    corrupt = tmp_path / ".tmp-3"
    _export_scaled(corrupt, 3.0)
    saved = corrupt / "saved_model.json"
    saved.write_bytes(saved.read_bytes()[:-20])  # truncated
    corrupt.rename(tmp_path / "3")

    def version_3_failed():
        code, body = server.get("/v1/models/m/versions/3")
        return code == 200 and body["model_version_status"][0]["state"] == "END"

    server.wait_for(version_3_failed, "version 3 to fail")
    _, body = server.get("/v1/models/m/versions/3")
    assert (
        "failed to load saved_model model"
        in body["model_version_status"][0]["status"]["error_message"]
    )
    np.testing.assert_allclose(predict(), np.array(X) @ (2 * W), rtol=1e-5)
    assert server.get("/healthz") == (200, {"status": "ok", "models": {"m": [2]}})


def test_graph_op_error_from_input_values_is_a_400(tmp_path, start_server):
    table = np.array([0.5, 1.5, -2.0, 4.0], np.float32)
    graph = tf.Graph()
    with graph.as_default():
        ids = tf.placeholder(tf.int64, [None], name="ids")
        y = tf.gather(tf.constant(table), ids, name="emb")
        with tf.Session() as sess:
            tf.saved_model.simple_save(sess, str(tmp_path / "1"), {"ids": ids}, {"y": y})
    server = start_server("--model-dir", tmp_path, "--name", "emb")
    assert server.post("/v1/models/emb:predict", {"instances": [3, 0]}) == (
        200,
        {"predictions": [4.0, 0.5]},
    )
    code, body = server.post("/v1/models/emb:predict", {"instances": [1, 9]})
    assert code == 400
    assert body["error"].startswith("indices[1] = 9 is not in [0, 4)")  # TF's message
    assert server.post("/v1/models/emb:predict", {"inputs": [2]}) == (200, {"outputs": [-2.0]})
