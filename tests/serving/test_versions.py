"""Version management of a running server: hot switching, bad versions, several models."""

from __future__ import annotations

import shutil
import threading

import numpy as np
from serving_helpers import instances, lr_truth, random_rows, write_lr_model

from miniflow.serving.config import load_model_config
from miniflow.serving.manager import ModelConfig, VersionPolicy


def _served_versions(server, name="ctr"):
    status, body = server.get(f"/v1/models/{name}")
    if status != 200:
        return {}
    return {int(e["version"]): e for e in body["model_version_status"]}


def test_hot_switch_to_a_new_version_without_failing_requests(tmp_path, start_server):
    write_lr_model(tmp_path / "1", seed=11)
    server = start_server("--model-dir", tmp_path, "--name", "ctr", "--poll-seconds", "0.1")
    rows = random_rows(0, 8)
    v1, v2 = lr_truth(tmp_path / "1", rows), None
    status, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert status == 200
    np.testing.assert_allclose(body["predictions"], v1, rtol=1e-6)

    # Clients keep sending while version 2 appears; every request must succeed.
    results, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            results.append(server.post("/v1/models/ctr:predict", {"instances": instances(rows)}))

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        write_lr_model(tmp_path / "2", seed=12)
        v2 = lr_truth(tmp_path / "2", rows)
        server.wait_for(
            lambda: _served_versions(server).get(2, {}).get("state") == "AVAILABLE",
            "version 2 to be served",
        )
        server.wait_for(
            lambda: (
                len(results) > 0
                and results[-1][0] == 200
                and np.allclose(results[-1][1]["predictions"], v2, rtol=1e-6)
            ),
            "requests answered by version 2",
        )
    finally:
        stop.set()
        for t in threads:
            t.join()
    for status, body in results:
        assert status == 200
        got = body["predictions"]
        assert np.allclose(got, v1, rtol=1e-6) or np.allclose(got, v2, rtol=1e-6)

    assert _served_versions(server)[1]["state"] == "END"  # the old version was unloaded
    status, body = server.post("/v1/models/ctr/versions/1:predict", {"instances": instances(rows)})
    assert status == 404


def test_a_version_that_fails_to_load_does_not_replace_the_serving_one(tmp_path, start_server):
    write_lr_model(tmp_path / "1", seed=21)
    server = start_server("--model-dir", tmp_path, "--name", "ctr", "--poll-seconds", "0.1")
    rows = random_rows(1, 5)
    truth1 = lr_truth(tmp_path / "1", rows)

    broken = tmp_path / ".tmp-2"
    broken.mkdir()
    (broken / "model.json").write_text('{"format": "miniflow.sparse_lr", "version": 1}')
    broken.rename(tmp_path / "2")  # no weights.npz: loading fails
    server.wait_for(lambda: 2 in _served_versions(server), "version 2 to be tried")
    status = _served_versions(server)
    assert status[1]["state"] == "AVAILABLE"
    assert status[2]["state"] == "END"
    assert status[2]["status"]["error_code"] == "UNKNOWN"
    assert "failed to load sparse_lr model" in status[2]["status"]["error_message"]
    assert "weights.npz" in status[2]["status"]["error_message"]

    code, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert code == 200
    np.testing.assert_allclose(body["predictions"], truth1, rtol=1e-6)
    assert server.get("/healthz") == (200, {"status": "ok", "models": {"ctr": [1]}})
    assert any(
        "version 2 failed to load; still serving [1]" in line for line in server.stderr_lines
    )
    _, metrics = server.get("/monitoring/prometheus/metrics")
    assert 'miniflow_serving_model_load_failures_total{model="ctr"} 1' in metrics.splitlines()

    # Repairing the directory makes the poller try it again, and it takes over.
    shutil.rmtree(tmp_path / "2")
    write_lr_model(tmp_path / "2", seed=22)
    server.wait_for(
        lambda: _served_versions(server).get(2, {}).get("state") == "AVAILABLE",
        "the repaired version 2 to be served",
    )
    code, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    np.testing.assert_allclose(body["predictions"], lr_truth(tmp_path / "2", rows), rtol=1e-6)


def test_empty_base_directory_is_unhealthy_until_a_version_appears(tmp_path, start_server):
    server = start_server("--model-dir", tmp_path, "--name", "ctr", "--poll-seconds", "0.1")
    assert server.get("/healthz") == (503, {"status": "unavailable", "models": {"ctr": []}})
    assert server.get("/v1/models/ctr") == (
        404,
        {"error": "Could not find any versions of model ctr"},
    )
    write_lr_model(tmp_path / "5", seed=5)
    server.wait_for(lambda: server.get("/healthz")[0] == 200, "version 5 to be served")


def test_several_models_from_a_tf_serving_config_file(tmp_path, start_server):
    for v in (1, 2, 3):
        write_lr_model(_mk(tmp_path / "ctr") / str(v), seed=30 + v)
    write_lr_model(_mk(tmp_path / "other") / "7", seed=40, dims_log2=6)
    config = tmp_path / "models.config"
    config.write_text(
        """
# two models; 'ctr' keeps versions 1 and 2 (not the newest, 3)
model_config_list {
  config {
    name: 'ctr'
    base_path: 'ctr'
    model_platform: 'tensorflow'
    model_version_policy { specific { versions: 1 versions: 2 } }
  }
  config { name: "other" base_path: "%s" }
}
"""
        % (tmp_path / "other")
    )
    assert load_model_config(config) == [
        ModelConfig("ctr", str(tmp_path / "ctr"), VersionPolicy("specific", versions=(1, 2))),
        ModelConfig("other", str(tmp_path / "other")),
    ]
    server = start_server("--model-config-file", config)
    rows = random_rows(2, 4, dims_log2=6)
    for name, version, expect in [
        ("ctr", 1, 1),
        ("ctr", 2, 2),
        ("ctr", None, 2),
        ("other", None, 7),
    ]:
        path = f"/v1/models/{name}" + (f"/versions/{version}" if version else "") + ":predict"
        code, body = server.post(path, {"instances": instances(rows)})
        assert code == 200, body
        np.testing.assert_allclose(
            body["predictions"], lr_truth(tmp_path / name / str(expect), rows), rtol=1e-6
        )
    assert sorted(_served_versions(server, "ctr")) == [1, 2]
    assert (
        server.post("/v1/models/ctr/versions/3:predict", {"instances": instances(rows)})[0] == 404
    )
    assert server.get("/healthz") == (
        200,
        {"status": "ok", "models": {"ctr": [2, 1], "other": [7]}},
    )


def _mk(path):
    path.mkdir(parents=True, exist_ok=True)
    return path
