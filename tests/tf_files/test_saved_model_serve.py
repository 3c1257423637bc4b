"""`miniflow serve` and `miniflow predict` on SavedModels exported by TensorFlow: the
real server in a subprocess on 127.0.0.1 answers TF Serving's REST API (row and columnar
``:predict``, ``signature_name``, ``/metadata``) with TensorFlow's predictions (1e-6)."""

from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
import pytest

from miniflow.cli.predict import main as predict_main

pytest.importorskip("tensorboard.compat.proto.meta_graph_pb2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "serving"))
from serving_helpers import ServerProcess

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MINE = os.path.join(FIXTURES, "saved_models")
# The graphs fixtures' SavedModels (lstm: dynamic_rnn's TF1 while loop).
GRAPH_MODELS = ["linear", "mlp", "cnn", "adam", "partitioned", "lstm"]


def tf_expected(name) -> dict:
    """``{signature: ({input: array}, {output: array})}`` recorded from TensorFlow."""
    if name.startswith("g_"):
        with np.load(os.path.join(FIXTURES, name[2:], "io.npz")) as z:
            (key,) = [k for k in z.files if k != "y"]
            return {"serving_default": ({key: z[key]}, {"y": z["y"]})}
    out: dict = {}
    with np.load(os.path.join(MINE, name, "expected.npz")) as z:
        for key in z.files:
            sig, kind, k = key.split("/")
            out.setdefault(sig, ({}, {}))[0 if kind == "in" else 1][k] = z[key]
    return out


def close(got, want):
    want = np.asarray(want)
    if want.dtype.kind == "S":
        assert np.asarray(got).tolist() == np.char.decode(want, "utf-8").tolist()
    else:
        np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One `miniflow serve` for every TF-exported model (each as version 1 of its base)."""
    root = tmp_path_factory.mktemp("tf_models")
    names = ["linear", "mlp", "asset"] + [f"g_{n}" for n in GRAPH_MODELS]
    lines = ["model_config_list {"]
    for name in names:
        src = (
            os.path.join(FIXTURES, name[2:], "saved_model")
            if name.startswith("g_")
            else os.path.join(MINE, name, "1")
        )
        shutil.copytree(src, root / name / "1")
        lines.append(f"  config {{ name: '{name}' base_path: '{root / name}' }}")
    (root / "models.config").write_text("\n".join(lines + ["}"]) + "\n")
    proc = ServerProcess(["--model-config-file", str(root / "models.config")])
    try:
        proc.wait_for(
            lambda: all(
                proc.get(f"/v1/models/{n}")[1]["model_version_status"][0]["state"] == "AVAILABLE"
                for n in names
            ),
            "every model to load",
        )
        yield proc
    finally:
        proc.stop()


MODELS = ["linear", "mlp", "asset"] + [f"g_{n}" for n in GRAPH_MODELS]


@pytest.mark.parametrize("name", MODELS)
def test_predict_row_and_columnar_give_tf_predictions(server, name):
    for sig, (inputs, outputs) in tf_expected(name).items():
        extra = {} if sig == "serving_default" else {"signature_name": sig}
        (key,) = inputs
        rows = inputs[key].tolist()
        code, body = server.post(f"/v1/models/{name}:predict", {"instances": rows, **extra})
        assert code == 200, body
        if len(outputs) == 1:
            close(body["predictions"], next(iter(outputs.values())))
        else:
            for k, want in outputs.items():
                close([p[k] for p in body["predictions"]], want)
        code, body = server.post(f"/v1/models/{name}:predict", {"inputs": {key: rows}, **extra})
        assert code == 200, body
        if len(outputs) == 1:
            close(body["outputs"], next(iter(outputs.values())))
        else:
            for k, want in outputs.items():
                close(body["outputs"][k], want)


def test_metadata_is_tf_serving_s(server):
    code, meta = server.get("/v1/models/mlp/metadata")
    assert code == 200
    assert meta["model_spec"]["name"] == "mlp" and meta["model_spec"]["version"] == "1"
    sigs = meta["metadata"]["signature_def"]["signature_def"]
    assert sorted(sigs) == ["hidden", "serving_default"]
    # TF Serving's GetModelMetadata JSON for this signature (the SignatureDef in the file).
    assert sigs["serving_default"] == {
        "inputs": {
            "x": {
                "dtype": "DT_FLOAT",
                "tensor_shape": {
                    "dim": [{"size": "-1", "name": ""}, {"size": "4", "name": ""}],
                    "unknown_rank": False,
                },
                "name": "x:0",
            }
        },
        "outputs": {
            "logits": {
                "dtype": "DT_FLOAT",
                "tensor_shape": {
                    "dim": [{"size": "-1", "name": ""}, {"size": "3", "name": ""}],
                    "unknown_rank": False,
                },
                "name": "logits/BiasAdd:0",
            },
            "probs": {
                "dtype": "DT_FLOAT",
                "tensor_shape": {
                    "dim": [{"size": "-1", "name": ""}, {"size": "3", "name": ""}],
                    "unknown_rank": False,
                },
                "name": "probs:0",
            },
        },
        "method_name": "tensorflow/serving/predict",
    }
    code, meta = server.get("/v1/models/g_partitioned/metadata")
    ids = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]["ids"]
    assert ids == {
        "dtype": "DT_INT64",
        "tensor_shape": {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False},
        "name": "ids:0",
    }


def test_bad_requests_are_4xx_and_the_server_keeps_serving(server):
    feeds, outputs = tf_expected("mlp")["serving_default"]
    bad = [
        {"instances": [[1.0, 2.0]]},  # wrong width
        {"inputs": {"nope": [[1.0, 2.0, 3.0, 4.0]]}},
        {"instances": [[1.0, 2.0, 3.0, 4.0]], "signature_name": "no_such_signature"},
        {"instances": [["a", "b", "c", "d"]]},
    ]
    for body in bad:
        code, reply = server.post("/v1/models/mlp:predict", body)
        assert code == 400 and reply["error"], (body, reply)
    code, reply = server.post("/v1/models/no_model:predict", {"instances": [[1.0]]})
    assert code == 404
    code, body = server.post("/v1/models/mlp:predict", {"instances": feeds["x"].tolist()})
    assert code == 200
    close([p["probs"] for p in body["predictions"]], outputs["probs"])


def test_batch_predict_on_tf_saved_models(tmp_path):
    # `miniflow predict` over a CSV (one-input model) and JSON lines with a signature.
    feeds, outputs = tf_expected("linear")["serving_default"]
    (tmp_path / "x.csv").write_text(
        "".join(",".join(repr(float(v)) for v in row) + "\n" for row in feeds["x"])
    )
    out = tmp_path / "linear.jsonl"
    args = ["--input", str(tmp_path / "x.csv"), "--format", "csv", "--output", str(out)]
    model = os.path.join(MINE, "linear", "1")
    assert predict_main(["--model-dir", model, *args, "--no-progress"]) == 0
    close([json.loads(line) for line in out.read_text().splitlines()], outputs["y"])

    feeds, outputs = tf_expected("mlp")["hidden"]
    (tmp_path / "x.jsonl").write_text(
        "".join(json.dumps({"features": row}) + "\n" for row in feeds["features"].tolist())
    )
    out = tmp_path / "hidden.jsonl"
    code = predict_main(
        [
            "--model-dir",
            os.path.join(MINE, "mlp"),  # a base directory: its newest version
            "--input",
            str(tmp_path / "x.jsonl"),
            "--format",
            "jsonl",
            "--signature-name",
            "hidden",
            "--output",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    close([json.loads(line) for line in out.read_text().splitlines()], outputs["hidden"])
