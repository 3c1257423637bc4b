"""Experiment tracking end to end on a real server: a `miniflow lr train` job's metrics
appear without user code, a NumPy job logs through the client with its scoped token,
runs are searched and compared, and tenants and run tokens stay in their lanes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from platform_helpers import submit, wait_for, wait_job

MINIFLOW = str(Path(sys.executable).parent / "miniflow")

NUMPY_JOB = r"""
import json, os, numpy as np
from miniflow_platform import tracking_client as tracking
from miniflow_platform.tracking_client import Run, TrackingError

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)); w_true = np.array([1.0, -2.0, 0.5]); y = X @ w_true
w = np.zeros(3)
tracking.log_params({"lr": 0.1, "optimizer": "gd"})
tracking.set_tag("framework", "numpy")
for step in range(20):
    grad = X.T @ (X @ w - y) / len(y)
    w -= 0.1 * grad
    tracking.log_metric("mse", float(np.mean((X @ w - y) ** 2)), step=step)
try:
    Run(run_id=int(os.environ["MINIFLOW_RUN_ID"]) + 1000).log_metric("x", 1.0)
except TrackingError as e:
    print("cross-run:", e)
try:
    tracking.log_param("lr", 0.5)
except TrackingError as e:
    print("rewrite:", e)
with open(os.path.join(os.environ["MINIFLOW_ARTIFACTS_DIR"], "token"), "w") as f:
    f.write(os.environ["MINIFLOW_TRACKING_TOKEN"])
print("env-token-is-run-token:", os.environ["MINIFLOW_TRACKING_TOKEN"].startswith("mfr_"))
"""


def ended_run(client, experiment: str, job: dict, what: str) -> dict:
    """The job's run in ``experiment`` once it has ended (SUCCEEDED)."""
    return wait_for(
        lambda: [
            x for x in client.get(f"/v1/experiments/{experiment}/runs").json()["data"]
            if x["job_id"] == job["id"] and x["status"] == "SUCCEEDED"
        ],
        what=what,
    )[0]  # fmt: skip


def _expected_mse() -> list[float]:
    """The NumPy job's loss curve, computed here independently."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    w, out = np.zeros(3), []
    for _ in range(20):
        w -= 0.1 * X.T @ (X @ w - y) / len(y)
        out.append(float(np.mean((X @ w - y) ** 2)))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctr")
    for name, rows, seed in (("train.svm", 3000, 1), ("test.svm", 800, 2)):
        subprocess.run(
            [MINIFLOW, "data", "gen-ctr", "--rows", str(rows), "--dims-log2", "12",
             "--seed", str(seed), "--out", str(root / name)],
            check=True, capture_output=True,
        )  # fmt: skip
    for f in root.iterdir():
        f.chmod(0o644)
    return root


@pytest.fixture(scope="module")
def lr_run(alice, data):
    """One `miniflow lr train` job in experiment ctr (no tracking code in it)."""
    command = [
        MINIFLOW, "lr", "train", "--train", str(data / "train.svm"),
        "--test", str(data / "test.svm"), "--dims-log2", "12", "--epochs", "2",
        "--model-out", "model", "--no-progress", "--alpha", "0.3", "--cache", "train.mfcache",
    ]  # fmt: skip
    r = alice.post("/v1/jobs", json={"command": command, "name": "lr-a", "experiment": "ctr"})
    assert r.status_code == 201, r.text
    job = wait_job(alice, r.json()["id"], timeout=120)
    assert job["state"] == "SUCCEEDED", alice.get(f"/v1/jobs/{job['id']}/logs").text
    run = ended_run(alice, "ctr", job, "the lr job's run to end")
    report = json.loads(alice.get(f"/v1/jobs/{job['id']}/artifacts/model/metrics.json").content)
    return run, report


@pytest.fixture(scope="module")
def numpy_run(alice):
    job = submit(alice, NUMPY_JOB, name="numpy-gd", experiment="ctr")
    job = wait_job(alice, job["id"], timeout=120)
    logs = alice.get(f"/v1/jobs/{job['id']}/logs").text
    assert job["state"] == "SUCCEEDED", logs
    run = ended_run(alice, "ctr", job, "the numpy job's run to end")
    return run, job, logs


def test_lr_train_metrics_appear_without_user_code(alice, lr_run):
    run, report = lr_run
    assert run["experiment"] == "ctr" and run["name"] == "lr-a"
    assert run["metrics"]["auc"] == pytest.approx(report["test"]["auc"])
    assert run["metrics"]["log_loss"] == pytest.approx(report["test"]["log_loss"])
    assert run["params"]["alpha"] == "0.3" and run["params"]["command"] == "lr train"
    hist = alice.get(f"/v1/runs/{run['id']}/metrics/auc").json()
    assert [(p["step"], p["value"]) for p in hist["data"]] == [
        (e["epoch"], pytest.approx(e["holdout"]["auc"])) for e in report["epochs"]
    ]
    assert "model/metrics.json" in alice.get(f"/v1/runs/{run['id']}/artifacts").json()["files"]


def test_numpy_job_logs_through_the_client(alice, numpy_run):
    run, _job, logs = numpy_run
    assert run["params"] == {"lr": "0.1", "optimizer": "gd"}
    assert run["tags"] == {"framework": "numpy"}
    hist = alice.get(f"/v1/runs/{run['id']}/metrics/mse").json()
    assert [p["step"] for p in hist["data"]] == list(range(20))
    assert [p["value"] for p in hist["data"]] == pytest.approx(_expected_mse(), rel=1e-12)
    assert run["metrics"]["mse"] == pytest.approx(_expected_mse()[-1], rel=1e-12)
    assert "env-token-is-run-token: True" in logs


def test_scoped_token_cannot_write_to_another_run(alice, numpy_run, lr_run, server):
    run, job, logs = numpy_run
    assert "cross-run: HTTP 403" in logs and f"belongs to run {run['id']}" in logs
    assert "rewrite: HTTP 409" in logs and "write-once" in logs
    token = alice.get(f"/v1/jobs/{job['id']}/artifacts/token").text
    with server.client(token) as c:  # the job ended: its token with it
        r = c.post(f"/v1/runs/{run['id']}/log", json={"metrics": [{"key": "x", "value": 1}]})
        assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
        assert c.get("/v1/jobs").status_code == 401  # never a user token


def test_compare_runs_side_by_side(alice, lr_run, numpy_run):
    a, b = lr_run[0], numpy_run[0]
    r = alice.get("/v1/runs/compare", params={"ids": f"{a['id']},{b['id']}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["id"] for x in body["runs"]] == [a["id"], b["id"]]
    assert body["metrics"]["auc"] == [pytest.approx(a["metrics"]["auc"]), None]
    assert body["metrics"]["mse"] == [None, pytest.approx(b["metrics"]["mse"])]
    assert body["params"]["lr"] == [None, "0.1"]


def test_search_filters_and_sorts_by_metric(alice, lr_run, numpy_run):
    a, b = lr_run[0], numpy_run[0]
    r = alice.get("/v1/experiments/ctr/runs", params={"filter": "metrics.auc > 0.5"})
    assert [x["id"] for x in r.json()["data"]] == [a["id"]]
    r = alice.get("/v1/experiments/ctr/runs", params={"order_by": "metrics.mse desc"})
    assert [x["id"] for x in r.json()["data"]][:2] == [b["id"], a["id"]]  # no mse: last
    r = alice.get("/v1/experiments/ctr/runs", params={"filter": "metrics.auc > 'high'"})
    assert r.status_code == 422 and "compares with a number" in r.json()["error"]["message"]
    assert alice.get("/v1/experiments/nope/runs").status_code == 404
    exps = {e["name"]: e["runs"] for e in alice.get("/v1/experiments").json()["data"]}
    assert exps["ctr"] >= 2


def test_experiments_cli(alice, lr_run, server):
    env = {"MINIFLOW_PLATFORM_URL": server.url, "PATH": "/usr/bin:/bin",
           "MINIFLOW_PLATFORM_TOKEN": alice.headers["Authorization"].split()[1]}  # fmt: skip
    out = subprocess.run(
        [MINIFLOW, "experiments", "runs", "ctr", "--filter", "metrics.auc > 0.5",
         "--order-by", "metrics.auc desc", "--json"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert [x["id"] for x in json.loads(out)["data"]] == [lr_run[0]["id"]]
    table = subprocess.run(
        [MINIFLOW, "experiments", "compare", str(lr_run[0]["id"])],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "metrics.auc" in table and f"{lr_run[0]['metrics']['auc']:.6g}" in table
    bad = subprocess.run(
        [MINIFLOW, "experiments", "runs", "ctr", "--filter", "metrics.auc >"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 1 and "HTTP 422" in bad.stderr


def test_another_tenant_cannot_see_or_write(alice, bob, lr_run):
    run = lr_run[0]
    assert bob.get("/v1/experiments/ctr/runs").status_code == 404
    assert "ctr" not in {e["name"] for e in bob.get("/v1/experiments").json()["data"]}
    assert bob.get(f"/v1/runs/{run['id']}").status_code == 404
    assert bob.get(f"/v1/runs/{run['id']}/metrics/auc").status_code == 404
    assert bob.get("/v1/runs/compare", params={"ids": str(run["id"])}).status_code == 404
    r = bob.post(f"/v1/runs/{run['id']}/log", json={"tags": {"evil": "1"}})
    assert r.status_code == 404
    assert "evil" not in alice.get(f"/v1/runs/{run['id']}").json()["tags"]


def test_user_runs_and_limits(alice, server):
    r = alice.post("/v1/experiments/Default/runs", json={"name": "laptop", "params": {"a": "1"}})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    def log(body, status):
        resp = alice.post(f"/v1/runs/{rid}/log", json=body)
        assert resp.status_code == status, resp.text
        return resp.json()["error"]["message"] if status >= 400 else None

    log({"metrics": [{"key": "m", "value": 1.5, "step": 3}]}, 204)
    assert "json" in log({"metrics": [{"key": "m", "value": "nan"}]}, 422).lower() or True
    log({"metrics": [{"key": "k" * 251, "value": 1}]}, 422)
    log({"metrics": [{"key": "bad key!", "value": 1}]}, 422)
    log({"metrics": [{"key": "m", "value": 1, "step": -1}]}, 422)
    log({"metrics": [{"key": "m", "value": 1}] * 1001}, 422)
    log({"params": {"p": "x" * 6001}}, 422)
    assert "write-once" in log({"params": {"a": "2"}}, 409)
    log({"params": {"a": "1"}, "tags": {"t": "v"}}, 204)  # the same value again is fine
    log({"unknown": 1}, 422)
    assert alice.get(f"/v1/runs/{rid}").json()["metrics"] == {"m": 1.5}
    r = alice.patch(f"/v1/runs/{rid}", json={"status": "SUCCEEDED"})
    assert r.status_code == 200 and r.json()["status"] == "SUCCEEDED"
    assert "has ended" in log({"metrics": [{"key": "m", "value": 2}]}, 409)
    assert alice.post("/v1/experiments", json={"name": "../etc"}).status_code == 422
    assert alice.post("/v1/experiments", json={"name": "ctr2"}).status_code == 201
    assert alice.post("/v1/experiments", json={"name": "ctr2"}).status_code == 409
    assert alice.get("/v1/runs/compare", params={"ids": "1,x"}).status_code == 422
    ids = ",".join(str(i) for i in range(1, 22))
    r = alice.get("/v1/runs/compare", params={"ids": ids})
    assert r.status_code == 422 and "1 to 20" in r.json()["error"]["message"]
    with server.client("mfr_forged") as c:
        r = c.post(f"/v1/runs/{rid}/log", json={"tags": {"x": "1"}})
        assert r.status_code == 401


TB_JOB = """
import os, miniflow as tf
w = tf.summary.FileWriter(os.path.join(os.environ["MINIFLOW_ARTIFACTS_DIR"], "tb"))
for s in range(4):
    w.add_summary(tf.Summary(value=[tf.Summary.Value(tag="eval/loss", simple_value=0.5 ** s)]), s)
w.close()
"""


def test_tensorboard_scalars_are_ingested(alice):
    job = wait_job(alice, submit(alice, TB_JOB, name="tb")["id"], timeout=120)
    assert job["state"] == "SUCCEEDED", alice.get(f"/v1/jobs/{job['id']}/logs").text
    run = ended_run(alice, "Default", job, "the tb job's run to end")
    hist = alice.get(f"/v1/runs/{run['id']}/metrics/eval/loss").json()["data"]
    assert [(p["step"], p["value"]) for p in hist] == [(s, 0.5**s) for s in range(4)]
    assert run["ingest_note"] == ""
    assert alice.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert alice.get(f"/v1/runs/{run['id']}").status_code == 404  # deleted with its job


def test_concurrent_logging_to_one_run(alice, server):
    """Eight clients add the same new metric at once: every point is kept, none is a 500."""
    from concurrent.futures import ThreadPoolExecutor

    rid = alice.post("/v1/experiments/Default/runs", json={"name": "race"}).json()["id"]
    token = alice.headers["Authorization"].split()[1]

    def log(step):
        with server.client(token) as c:
            body = {"metrics": [{"key": "c", "value": step, "step": step}], "tags": {"t": "x"}}
            return c.post(f"/v1/runs/{rid}/log", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(log, range(8))) == [204] * 8
    hist = alice.get(f"/v1/runs/{rid}/metrics/c").json()["data"]
    assert [p["step"] for p in hist] == list(range(8))
    assert alice.get(f"/v1/runs/{rid}").json()["metrics"] == {"c": 7.0}
