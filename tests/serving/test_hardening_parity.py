"""TF Serving parity: version labels (config and URLs), :classify and :regress on a
logistic regression, config file reloading, and TF Serving's metric names."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from serving_helpers import instances, lr_truth, random_rows, write_lr_model

from miniflow.serving.config import load_model_config


@pytest.fixture
def two_versions(tmp_path):
    base = tmp_path / "ctr"
    base.mkdir()
    write_lr_model(base / "1", seed=1)
    write_lr_model(base / "2", seed=2)
    return base


def _write_config(path, body: str):
    path.write_text(body)
    # a rewrite within the same mtime tick and size is still seen: bump the mtime
    t = time.time() + 1 + len(body) % 7
    import os

    os.utime(path, (t, t))


CONFIG = """
model_config_list {
  config {
    name: 'ctr'  base_path: 'ctr'
    model_version_policy { all {} }
    version_labels { key: 'stable' value: 1 }
    version_labels { key: 'canary' value: 2 }
  }
}
"""


def test_version_labels_from_the_config_file(two_versions, start_server):
    config = two_versions.parent / "models.config"
    config.write_text(CONFIG)
    assert load_model_config(config)[0].version_labels == {"stable": 1, "canary": 2}
    server = start_server("--model-config-file", config)
    rows = random_rows(0, 4)
    for label, version in (("stable", 1), ("canary", 2)):
        code, body = server.post(
            f"/v1/models/ctr/labels/{label}:predict", {"instances": instances(rows)}
        )
        assert code == 200
        np.testing.assert_allclose(
            body["predictions"], lr_truth(two_versions / str(version), rows), rtol=1e-6
        )
        code, status = server.get(f"/v1/models/ctr/labels/{label}")
        assert code == 200
        assert [e["version"] for e in status["model_version_status"]] == [str(version)]
        code, meta = server.get(f"/v1/models/ctr/labels/{label}/metadata")
        assert code == 200 and meta["model_spec"]["version"] == str(version)
    code, body = server.post("/v1/models/ctr/labels/beta:predict", {"instances": instances(rows)})
    assert code == 400
    assert body["error"].startswith("Unrecognized servable version label: beta")
    code, body = server.post("/v1/models/nope/labels/stable:predict", {"instances": [{}]})
    assert code == 404


@pytest.mark.parametrize(
    "labels, message",
    [
        ("version_labels { key: 'stable' value: 'x' }", "must name a version number"),
        ("version_labels { key: 'stable' value: -1 }", "must name a version number"),
        ("version_labels { value: 1 }", "bad version_labels"),
    ],
)
def test_bad_version_labels_are_refused_at_startup(tmp_path, labels, message):
    config = tmp_path / "models.config"
    config.write_text("model_config_list { config { name: 'm' base_path: 'm' " + labels + " } }")
    with pytest.raises(ValueError, match=message):
        load_model_config(config)


def test_json_config_labels(tmp_path):
    config = tmp_path / "models.json"
    config.write_text(
        json.dumps(
            {
                "model_config_list": {
                    "config": [{"name": "m", "base_path": "m", "version_labels": {"stable": "3"}}]
                }
            }
        )
    )
    assert load_model_config(config)[0].version_labels == {"stable": 3}


def test_classify_and_regress_a_logistic_regression(two_versions, start_server):
    server = start_server("--model-dir", two_versions, "--name", "ctr")
    rows = random_rows(5, 4)
    p = lr_truth(two_versions / "2", rows)  # plain-Python sigmoid of the saved weights
    examples = [{"indices": i, "values": v} for i, v in rows]
    # TF Serving's result formats: [[[label, score], ...] per example] and [value, ...]
    code, body = server.post("/v1/models/ctr:classify", {"examples": examples})
    assert code == 200, body
    assert [[c for c, _ in ex] for ex in body["result"]] == [["0", "1"]] * 4
    np.testing.assert_allclose(
        [[s for _, s in ex] for ex in body["result"]],
        [[1 - q, q] for q in p],
        rtol=1e-5,
        atol=1e-7,
    )
    code, body = server.post("/v1/models/ctr/versions/2:regress", {"examples": examples})
    assert code == 200, body
    np.testing.assert_allclose(body["result"], p, rtol=1e-6)

    # context features go into every example
    code, body = server.post(
        "/v1/models/ctr:regress",
        {"context": {"values": [2.0]}, "examples": [{"indices": [3]}, {"indices": [9]}]},
    )
    assert code == 200, body
    np.testing.assert_allclose(
        body["result"], lr_truth(two_versions / "2", [([3], [2.0]), ([9], [2.0])]), rtol=1e-6
    )


@pytest.mark.parametrize(
    "verb, body, message",
    [
        ("classify", {"examples": []}, "'examples' must be a non-empty JSON list of objects"),
        ("classify", {"examples": [1]}, "example 0 is not a JSON object of features"),
        ("regress", {"examples": [{}], "context": []}, "'context' must be a JSON object"),
        ("regress", {"instances": [{}]}, "Unknown key(s) ['instances'] in regress request"),
        (
            "classify",
            {"signature_name": "predict", "examples": [{"indices": [1], "values": [1]}]},
            "Expected classify signature method_name to be tensorflow/serving/classify. "
            "Was: tensorflow/serving/predict",
        ),
        (
            "regress",
            {"signature_name": "classification", "examples": [{"indices": [1], "values": [1]}]},
            "Expected regress signature method_name to be tensorflow/serving/regress",
        ),
        ("regress", {"examples": [{"indices": [1]}]}, "values"),
    ],
)
def test_bad_classify_and_regress_requests_are_400(two_versions, start_server, verb, body, message):
    server = start_server("--model-dir", two_versions, "--name", "ctr")
    code, reply = server.post(f"/v1/models/ctr:{verb}", body)
    assert code == 400 and message in reply["error"], reply


def test_config_file_is_reloaded_while_serving(two_versions, start_server):
    other = two_versions.parent / "other"
    other.mkdir()
    write_lr_model(other / "7", seed=7)
    config = two_versions.parent / "models.config"
    config.write_text(CONFIG)
    server = start_server(
        *("--model-config-file", config, "--poll-seconds", "0.05"),
        *("--model-config-file-poll-wait-seconds", "0.1"),
    )
    rows = random_rows(6, 3)
    req = {"instances": instances(rows)}
    assert server.post("/v1/models/other:predict", req)[0] == 404

    # add a model and move the 'stable' label to version 2
    _write_config(
        config,
        CONFIG.replace("value: 1", "value: 2")
        + "model_config_list { config { name: 'other' base_path: 'other' } }",
    )
    server.wait_for(lambda: server.post("/v1/models/other:predict", req)[0] == 200, "model added")
    code, body = server.post("/v1/models/other:predict", req)
    np.testing.assert_allclose(body["predictions"], lr_truth(other / "7", rows), rtol=1e-6)
    code, body = server.post("/v1/models/ctr/labels/stable:predict", req)
    np.testing.assert_allclose(body["predictions"], lr_truth(two_versions / "2", rows), rtol=1e-6)

    # a broken file is logged and changes nothing
    _write_config(config, "model_config_list { config { name: 'ctr' ")
    server.wait_for(
        lambda: any("not reloaded; keeping the running one" in ln for ln in server.stderr_lines),
        "the broken config to be seen",
    )
    assert server.post("/v1/models/other:predict", req)[0] == 200

    # removing a model stops serving it; the remaining one keeps its versions
    _write_config(config, CONFIG)
    server.wait_for(lambda: server.post("/v1/models/other:predict", req)[0] == 404, "removal")
    code, body = server.post("/v1/models/ctr/labels/stable:predict", req)
    np.testing.assert_allclose(body["predictions"], lr_truth(two_versions / "1", rows), rtol=1e-6)


def test_tf_serving_metric_names(two_versions, start_server):
    server = start_server("--model-dir", two_versions, "--name", "ctr")
    rows = random_rows(8, 2)
    for _ in range(3):
        assert server.post("/v1/models/ctr:predict", {"instances": instances(rows)})[0] == 200
    assert server.post("/v1/models/ctr:predict", {"instances": 5})[0] == 400
    _, text = server.get("/monitoring/prometheus/metrics")
    lines = text.splitlines()
    assert ':tensorflow:serving:request_count{model_name="ctr",status="OK"} 3' in lines
    assert (
        ':tensorflow:serving:request_count{model_name="ctr",status="INVALID_ARGUMENT"} 1' in lines
    )
    count = [
        ln
        for ln in lines
        if ln.startswith(':tensorflow:serving:request_latency_count{model_name="ctr",API="Predict"')
    ]
    assert count == [
        ':tensorflow:serving:request_latency_count{model_name="ctr",API="Predict",entrypoint="REST"} 4'
    ]
    total_us = next(
        float(ln.split()[-1])
        for ln in lines
        if ln.startswith(':tensorflow:serving:request_latency_sum{model_name="ctr",API="Predict"')
    )
    assert 0 < total_us < 4 * 30e6  # microseconds, as TF Serving reports them
    loads = [ln for ln in lines if ln.startswith(":tensorflow:core:load_attempt_count{")]
    assert len(loads) == 1 and loads[0].endswith('/2",status="OK"} 1')
    assert not math.isnan(total_us)
