"""Pipeline ``deploy`` steps against a real server and the real `miniflow serve`: create a
model service, update it (a new generation), skip by condition, fail and keep serving."""

from __future__ import annotations

import json
import sqlite3

import pytest
from platform_helpers import Server, kill_all_runs
from service_helpers import PREDICT, db_row, logit, make_model
from test_pipelines_api import by_name, create, py, start, wait_run

SMALL = {"cpu": 0.25, "memory_mb": 256}
# A "training" step: a real miniflow sparse LR model whose logit on PREDICT's instance is
# bias + 0.5 * 1 + 0.25 * 2 = bias + 1.0 (hand-computed; see service_helpers).
TRAIN = (
    "import sys, numpy as np; from miniflow.ml.sparse_lr import SparseLinearModel; "
    "SparseLinearModel(np.array([1, 2], np.int64), np.array([0.5, 0.25], np.float32), "
    "float(sys.argv[1]), 4, {}).save('model/1')"
)


def train_step() -> dict:
    return {"name": "train", "command": py(TRAIN, "{{params.bias}}"), "resources": SMALL}


def deploy_step(service: str, model_dir: str, *deps: str, **extra) -> dict:
    return {
        "name": "deploy",
        "kind": "deploy",
        "service": service,
        "model_dir": model_dir,
        "depends_on": list(deps),
        "resources": SMALL,
        **extra,
    }


def predict_logit(client, url: str) -> float:
    r = client.post(url + ":predict", json=PREDICT)
    assert r.status_code == 200, r.text
    return logit(r.json())


def run_ok(client, pipeline: str, **params) -> dict:
    run = wait_run(client, pipeline, start(client, pipeline, **params)["id"], timeout=180)
    assert run["state"] == "SUCCEEDED", [(s["name"], s["state"], s["reason"]) for s in run["steps"]]
    return by_name(run)


def test_train_then_deploy_creates_the_service_then_updates_it(alice, tmp_path_factory):
    echo = "import json, sys; json.dump({'seen': int(sys.argv[1])}, open('outputs.json', 'w'))"
    steps = [
        train_step(),
        deploy_step("ship-svc", "{{steps.train.artifacts}}/model", "train"),
        {
            "name": "after",
            "command": py(echo, "{{steps.deploy.outputs.generation}}"),
            "depends_on": ["deploy"],
            "resources": SMALL,
        },
    ]
    create(alice, "ship", steps, params={"bias": -1.0})
    steps = run_ok(alice, "ship")
    url = "/v1/services/ship-svc/v1/models/ship-svc"
    assert steps["deploy"]["outputs"] == {"service": "ship-svc", "generation": 1, "url": url}
    assert steps["deploy"]["job_id"] is None
    assert steps["after"]["outputs"] == {"seen": 1}  # deploy outputs reach later steps
    svc = alice.get("/v1/services/ship-svc").json()
    assert svc["state"] == "AVAILABLE" and svc["generation"] == 1
    assert svc["model_dir"] == steps["train"]["artifacts_dir"] + "/model"
    assert predict_logit(alice, url) == pytest.approx(0.0, abs=1e-6)  # bias -1 + 1.0

    # A second run with a new model: the same service, generation 2, the new answers.
    steps = run_ok(alice, "ship", bias=1.0)
    assert steps["deploy"]["outputs"]["generation"] == 2
    assert steps["after"]["outputs"] == {"seen": 2}
    svc = alice.get("/v1/services/ship-svc").json()
    assert svc["generation"] == 2 and svc["update"]["state"] == "SUCCEEDED"
    assert predict_logit(alice, url) == pytest.approx(2.0, abs=1e-6)

    # A model dir that does not exist: generation 3 never serves, the step fails with the
    # service's reason, and generation 2 serves on.
    missing = tmp_path_factory.mktemp("no-model") / "nope"
    create(alice, "broken", [deploy_step("ship-svc", str(missing))])
    run = wait_run(alice, "broken", start(alice, "broken")["id"], timeout=180)
    step = by_name(run)["deploy"]
    assert run["state"] == "FAILED" and step["state"] == "FAILED", step
    assert "generation 3" in step["reason"] and "does not exist" in step["reason"], step
    assert "generation 2 serves on" in step["reason"]
    svc = alice.get("/v1/services/ship-svc").json()
    assert svc["generation"] == 2 and svc["update"]["state"] == "FAILED"
    assert predict_logit(alice, url) == pytest.approx(2.0, abs=1e-6)


def test_another_tenants_service_name_fails_the_step(alice, bob, tmp_path_factory):
    model = tmp_path_factory.mktemp("m")
    r = alice.post("/v1/services", json={"name": "taken-svc", "model_dir": str(model)})
    assert r.status_code == 201, r.text
    create(bob, "steal", [deploy_step("taken-svc", str(model))])
    run = wait_run(bob, "steal", start(bob, "steal")["id"])
    step = by_name(run)["deploy"]
    assert step["state"] == "FAILED" and "belongs to another user" in step["reason"]
    assert alice.get("/v1/services/taken-svc").json()["generation"] == 1


def test_a_false_condition_skips_the_deploy(alice):
    auc = "import json; json.dump({'auc': 0.6}, open('outputs.json', 'w'))"
    steps = [
        {"name": "evaluate", "command": py(auc), "resources": SMALL},
        deploy_step(
            "never-svc",
            "/nonexistent",
            "evaluate",
            when="steps.evaluate.outputs.auc > params.serving_auc",
        ),
    ]
    create(alice, "gated", steps, params={"serving_auc": 0.9})
    steps = run_ok(alice, "gated")
    assert steps["deploy"]["state"] == "SKIPPED"
    assert alice.get("/v1/services/never-svc").status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service": None}, "needs service"),
        ({"model_dir": None}, "needs model_dir"),
        ({"service": "under_score"}, "not a service name"),
        ({"command": ["true"]}, "does not take command"),
        ({"data": "/x"}, "does not take data"),
    ],
)
def test_bad_deploy_steps_are_422(alice, change, message):
    step = {**deploy_step("ok-svc", "/m"), **change}
    step = {k: v for k, v in step.items() if v is not None}
    r = alice.post("/v1/pipelines", json={"name": "bad", "steps": [step]})
    assert r.status_code == 422, r.text
    assert message in r.text


def test_a_restart_in_either_window_of_a_deploy_deploys_once(tmp_path, tmp_path_factory):
    model = make_model(tmp_path_factory.mktemp("m") / "base", bias=-1.0)
    server = Server(tmp_path / "data", "--cpu", "2", "--memory-mb", "8192")

    def crash_into(run_id: int, from_generation: int) -> None:
        """The state a kill -9 leaves between recording the intent and the next tick."""
        server.kill9()
        outputs = json.dumps({"service": "crash-svc", "from_generation": from_generation})
        with sqlite3.connect(server.data_dir / "platform.db") as db:
            db.execute(
                "UPDATE pipeline_runs SET state='RUNNING', finished_at=NULL WHERE id=?", (run_id,)
            )
            db.execute(
                "UPDATE pipeline_step_runs SET state='SUBMITTING', outputs=?, finished_at=NULL "
                "WHERE run_id=?",
                (outputs, run_id),
            )
        server.start()

    try:
        server.start()
        alice = server.client(server.new_user("alice"))
        create(alice, "crashy", [deploy_step("crash-svc", str(model))])
        first = start(alice, "crashy")["id"]
        assert run_ok_id(alice, "crashy", first)["deploy"]["outputs"]["generation"] == 1
        # Window 1: the service was created but the step still says SUBMITTING.
        crash_into(first, 0)
        assert run_ok_id(alice, "crashy", first)["deploy"]["outputs"]["generation"] == 1
        assert db_row(server.data_dir, "SELECT last_generation FROM model_services") == (1,)
        # Window 2: the intent (from generation 1) was recorded, the update never started.
        crash_into(first, 1)
        assert run_ok_id(alice, "crashy", first)["deploy"]["outputs"]["generation"] == 2
        assert db_row(server.data_dir, "SELECT last_generation FROM model_services") == (2,)
        assert db_row(server.data_dir, "SELECT count(*) FROM model_services") == (1,)
        url = "/v1/services/crash-svc/v1/models/crash-svc"
        assert predict_logit(alice, url) == pytest.approx(0.0, abs=1e-6)
    finally:
        server.stop()
        kill_all_runs(server.data_dir)


def run_ok_id(client, pipeline: str, run_id: int) -> dict:
    run = wait_run(client, pipeline, run_id, timeout=120)
    assert run["state"] == "SUCCEEDED", [(s["name"], s["state"], s["reason"]) for s in run["steps"]]
    return by_name(run)
