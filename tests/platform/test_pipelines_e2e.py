"""Pipelines end to end: the real `miniflow` CLI (gen data -> train sparse LR -> evaluate ->
deploy if better -> batch predict), and a server killed with -9 mid-run."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from platform_helpers import Server, kill_all_runs, wait_for
from sklearn.datasets import load_svmlight_file
from sklearn.metrics import roc_auc_score
from test_pipelines_api import by_name, create, py, start, wait_run

SMALL = {"cpu": 0.5, "memory_mb": 1024}


@pytest.fixture
def fresh_server(tmp_path):
    srv = Server(tmp_path / "data", "--cpu", "2", "--memory-mb", "8192")
    try:
        yield srv.start()
    finally:
        srv.stop()
        kill_all_runs(srv.data_dir)


def ctr_pipeline(deploy_dir: Path) -> dict:
    gen = ["miniflow", "data", "gen-ctr", "--dims-log2", "12", "--model-seed", "7"]
    deploy = (
        "import json, shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], dirs_exist_ok=True);"
        "json.dump({'deployed': sys.argv[2], 'auc': float(sys.argv[3])}, open('outputs.json', 'w'))"
    )
    steps = [
        {
            "name": "gen_train",
            "command": [*gen, "--rows", "3000", "--seed", "1", "--out", "train.svm"],
        },
        {
            "name": "gen_test",
            "command": [*gen, "--rows", "600", "--seed", "2", "--out", "test.svm"],
        },
        {
            "name": "train",
            "depends_on": ["gen_train"],
            "command": [
                "miniflow",
                "lr",
                "train",
                "--train",
                "{{steps.gen_train.artifacts}}/train.svm",
                "--dims-log2",
                "12",
                "--model-out",
                "model",
                "--no-progress",
            ],
            "max_retries": 1,
            "timeout_s": 300,
        },
        {
            "name": "evaluate",
            "kind": "evaluate",
            "depends_on": ["train", "gen_test"],
            "model_dir": "{{steps.train.artifacts}}/model",
            "data": "{{steps.gen_test.artifacts}}/test.svm",
        },
        {
            "name": "deploy",
            "depends_on": ["evaluate"],
            "when": "steps.evaluate.outputs.auc > params.serving_auc",
            "command": py(
                deploy,
                "{{steps.train.artifacts}}/model",
                "{{params.deploy_dir}}",
                "{{steps.evaluate.outputs.auc}}",
            ),
        },
        {
            "name": "predict",
            "kind": "batch_predict",
            "depends_on": ["deploy", "gen_test"],
            "model_dir": "{{steps.deploy.outputs.deployed}}",
            "inputs": ["{{steps.gen_test.artifacts}}/test.svm"],
        },
    ]
    for s in steps:
        s["resources"] = SMALL
    return {
        "name": "ctr",
        "params": {"serving_auc": 0.5, "deploy_dir": str(deploy_dir)},
        "steps": steps,
    }


def test_gen_train_evaluate_deploy_if_better_then_predict(fresh_server, tmp_path_factory):
    alice = fresh_server.client(fresh_server.new_user("alice"))
    deploy_dir = tmp_path_factory.mktemp("deploy") / "serving-model"  # writable by tenants
    spec = ctr_pipeline(deploy_dir)
    create(alice, spec.pop("name"), spec.pop("steps"), **spec)
    run = wait_run(alice, "ctr", start(alice, "ctr")["id"], timeout=600)
    steps = by_name(run)
    assert run["state"] == "SUCCEEDED", [(s["name"], s["state"], s["reason"]) for s in run["steps"]]
    metrics = steps["evaluate"]["outputs"]
    assert metrics["rows"] == 600
    # The evaluation agrees with sklearn on the batch predictions of the deployed model.
    test_svm = Path(steps["gen_test"]["artifacts_dir"]) / "test.svm"
    _, labels = load_svmlight_file(str(test_svm), n_features=2**12)
    preds = np.loadtxt(Path(steps["predict"]["artifacts_dir"]) / "predictions.txt")
    assert preds.shape == (600,) and ((preds > 0) & (preds < 1)).all()
    assert metrics["auc"] == pytest.approx(roc_auc_score(labels, preds), abs=1e-9)
    assert metrics["auc"] > 0.6  # data from a known logistic model (ground truth AUC ~0.85)
    assert steps["deploy"]["outputs"] == {"deployed": str(deploy_dir), "auc": metrics["auc"]}
    assert (deploy_dir / "metrics.json").is_file()
    # A serving model that is already better: the new one is not deployed, nor used.
    run = wait_run(alice, "ctr", start(alice, "ctr", serving_auc=0.99)["id"], timeout=600)
    steps = by_name(run)
    assert run["state"] == "SUCCEEDED", run["steps"]
    assert steps["deploy"]["state"] == "SKIPPED" and steps["predict"]["state"] == "SKIPPED"


def test_a_server_killed_mid_run_resumes_it_and_runs_each_step_once(tmp_path, tmp_path_factory):
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.txt"  # writable by tenants
    ledger.touch()
    ledger.chmod(0o666)
    record = "import sys, time; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n'); time.sleep(float(sys.argv[3]))"

    def step(name, seconds, *deps):
        return {
            "name": name,
            "command": py(record, str(ledger), name, str(seconds)),
            "depends_on": list(deps),
            "resources": {"cpu": 0.1, "memory_mb": 128},
        }

    steps = [
        step("a", 0),
        step("b", 4, "a"),
        step("c", 0, "b"),
        step("d", 0, "b"),
        step("e", 0, "c", "d"),
    ]
    server = Server(tmp_path / "data", "--cpu", "2", "--memory-mb", "8192")
    try:
        server.start()
        alice = server.client(server.new_user("alice"))
        create(alice, "resumable", steps)
        run_id = start(alice, "resumable")["id"]
        url = f"/v1/pipelines/resumable/runs/{run_id}"
        wait_for(
            lambda: by_name(alice.get(url).json())["b"]["state"] == "RUNNING", 60, what="b runs"
        )
        server.kill9()
        # Make the crash land in the two windows of a submission: c was being submitted
        # and had no job yet; b's job existed but its id was not recorded.
        db = sqlite3.connect(server.data_dir / "platform.db")
        with db:
            db.execute(
                "UPDATE pipeline_step_runs SET state='SUBMITTING', job_id=NULL "
                "WHERE run_id=? AND name IN ('b', 'c')",
                (run_id,),
            )
        db.close()
        server.start()
        run = wait_run(alice, "resumable", run_id, timeout=120)
        assert run["state"] == "SUCCEEDED", run["steps"]
    finally:
        server.stop()
        kill_all_runs(server.data_dir)
    assert Counter(ledger.read_text().split()) == {n: 1 for n in "abcde"}
    db = sqlite3.connect(server.data_dir / "platform.db")
    names = Counter(name for (name,) in db.execute("SELECT name FROM jobs"))
    db.close()
    assert names == {f"run-{run_id}/{n}": 1 for n in "abcde"}
    # Each step ran once, as one job, in dependency order.
    ids = {s["name"]: s["job_id"] for s in run["steps"]}
    assert len(set(ids.values())) == 5 and all(ids.values())
    started = {s["name"]: s["started_at"] for s in run["steps"]}
    assert started["b"] < started["c"] and started["b"] < started["d"]
