"""Schedules end to end on real servers whose clock a test moves (``--clock-file``):
times missed while the server was killed with -9 run once or not by policy, never
twice; and the example pipeline (gen data -> train sparse LR -> evaluate -> deploy if
better) on a seconds-level cron, twice, each step once per run, its evaluation degraded
by a threshold and recorded as the model's metric series."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from platform_helpers import Server, kill_all_runs, wait_for
from sklearn.datasets import load_svmlight_file
from sklearn.metrics import log_loss, roc_auc_score

from miniflow_platform.schedules.clock import FileClock

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
SMALL = {"cpu": 0.5, "memory_mb": 1024}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def iso(seconds: float) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


def history(client, name: str) -> list[dict]:
    return list(reversed(client.get(f"/v1/schedules/{name}/history").json()["data"]))


def fired(client, name: str) -> list[str]:
    return [f["scheduled_at"] for f in history(client, name) if f["state"] == "FIRED"]


def settled(client, names) -> bool:
    """Every fire of every schedule has its run, and every run ended."""
    rows = [f for n in names for f in history(client, n)]
    return all(f["state"] != "SUBMITTING" for f in rows) and all(
        f["outcome"] in (None, "SUCCEEDED") for f in rows if f["state"] == "FIRED"
    )


@pytest.fixture
def clocked(tmp_path):
    clock = FileClock(tmp_path / "clock.txt")
    clock.set(T0)
    server = Server(
        tmp_path / "data", "--cpu", "2", "--memory-mb", "8192", "--clock-file", str(clock.path)
    )
    try:
        yield server.start(), clock
    finally:
        server.stop()
        kill_all_runs(server.data_dir)


def test_times_missed_while_the_server_was_down_run_once_or_not_by_policy(
    clocked, tmp_path_factory
):
    server, clock = clocked
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.txt"  # writable by tenants
    ledger.touch()
    ledger.chmod(0o666)
    record = "import os, sys; open(sys.argv[1], 'a').write(os.environ['MINIFLOW_SCHEDULED_AT'] + ' ' + sys.argv[2] + '\\n')"
    alice = server.client(server.new_user("alice"))
    policies = {
        "once": {"catch_up": "once"},
        "all": {"catch_up": "all"},
        "none": {"catch_up": "none", "starting_deadline_s": 4},
        "crash": {"catch_up": "once"},
    }
    for name, extra in policies.items():
        job = {"command": [sys.executable, "-c", record, str(ledger), name], "resources": SMALL}
        body = {"name": name, "cron": "*/10 * * * * *", "job": job, **extra}
        assert alice.post("/v1/schedules", json=body).status_code == 201
    clock.set(at(10.5))
    wait_for(lambda: all(fired(alice, n) for n in policies), 60, what="the first fires")
    wait_for(lambda: settled(alice, policies), 120, what="the first jobs")
    first_job = history(alice, "crash")[0]["run_id"]
    server.kill9()
    clock.set(at(45))  # 20, 30 and 40 pass while the server is down
    # The crash landed in both windows of schedule "crash": its fire of 10 had created
    # its job but not recorded it, and the decision to fire 20 was committed before its
    # job was created.
    db = sqlite3.connect(server.data_dir / "platform.db")
    with db:
        (sid,) = db.execute("SELECT id FROM schedules WHERE name = 'crash'").fetchone()
        db.execute(
            "UPDATE schedule_fires SET state = 'SUBMITTING', run_id = NULL, fired_at = NULL "
            "WHERE schedule_id = ?",
            (sid,),
        )
        db.execute(
            "INSERT INTO schedule_fires (schedule_id, scheduled_at, count, state, target, "
            "reason) VALUES (?, ?, 1, 'SUBMITTING', 'job', '')",
            (sid, at(20).replace(tzinfo=None).isoformat(sep=" ")),
        )
        db.execute(
            "UPDATE schedules SET last_scheduled_at = ?, next_fire_at = ? WHERE id = ?",
            (
                at(20).replace(tzinfo=None).isoformat(sep=" "),
                at(30).replace(tzinfo=None).isoformat(sep=" "),
                sid,
            ),
        )
    db.close()
    server.start()  # its first tick, before it answers, handles the missed times
    wait_for(lambda: settled(alice, policies), 120, what="the catch-up jobs")
    clock.set(at(50.5))  # then the schedules go on as usual
    wait_for(lambda: all(iso(50) in fired(alice, n) for n in policies), 60, what="fires of 50")
    wait_for(lambda: settled(alice, policies), 120, what="the last jobs")
    expected = {
        "once": [10, 40, 50],
        "all": [10, 20, 30, 40, 50],
        "none": [10, 50],  # 40 was 5 s late at the restart, over the 4 s deadline
        "crash": [10, 20, 40, 50],
    }
    skipped = {"once": (20, 2), "all": None, "none": (20, 3), "crash": (30, 1)}
    for name in policies:
        assert fired(alice, name) == [iso(t) for t in expected[name]], name
        gaps = [f for f in history(alice, name) if f["state"] == "SKIPPED"]
        if skipped[name] is None:
            assert gaps == [], name
        else:
            (gap,) = gaps
            assert (gap["scheduled_at"], gap["count"]) == (
                iso(skipped[name][0]),
                skipped[name][1],
            ), name
            assert "came while the server was down" in gap["reason"]
    assert history(alice, "crash")[0]["run_id"] == first_job  # adopted, not created again
    # Each fired time ran exactly once: one job each, one ledger line each.
    lines = Counter(tuple(line.split()) for line in ledger.read_text().splitlines())
    assert lines == {(iso(t), name): 1 for name in policies for t in expected[name]}
    db = sqlite3.connect(server.data_dir / "platform.db")
    names = Counter(n.split("/")[1] for (n,) in db.execute("SELECT name FROM jobs"))
    db.close()
    assert names == {name: len(expected[name]) for name in policies}


def ctr_pipeline(deploy_dir: Path) -> dict:
    gen = ["miniflow", "data", "gen-ctr", "--dims-log2", "12", "--model-seed", "7"]
    deploy = (
        "import json, shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2], dirs_exist_ok=True);"
        "json.dump({'deployed': sys.argv[2]}, open('outputs.json', 'w'))"
    )
    steps = [
        {"name": "gen_train", "command": [*gen, "--rows", "3000", "--seed", "1", "--out", "t.svm"]},
        {"name": "gen_test", "command": [*gen, "--rows", "600", "--seed", "2", "--out", "e.svm"]},
        {
            "name": "train",
            "depends_on": ["gen_train"],
            "command": [
                *("miniflow", "lr", "train", "--train", "{{steps.gen_train.artifacts}}/t.svm"),
                *("--dims-log2", "12", "--model-out", "model", "--no-progress"),
            ],
        },
        {
            "name": "evaluate",
            "kind": "evaluate",
            "depends_on": ["train", "gen_test"],
            "model_dir": "{{steps.train.artifacts}}/model",
            "data": "{{steps.gen_test.artifacts}}/e.svm",
            "model": "ctr",
            "thresholds": {"min_auc": 0.99, "max_log_loss": 5},
        },
        {
            "name": "deploy",
            "depends_on": ["evaluate"],
            "when": "steps.evaluate.outputs.auc > params.serving_auc",
            "command": [
                *(sys.executable, "-c", deploy),
                *("{{steps.train.artifacts}}/model", "{{params.deploy_dir}}"),
            ],
        },
    ]
    for s in steps:
        s["resources"] = SMALL
    return {
        "name": "ctr",
        "params": {"serving_auc": 0.5, "deploy_dir": str(deploy_dir)},
        "steps": steps,
    }


def test_the_example_pipeline_on_a_seconds_level_schedule_runs_twice_each_step_once(
    clocked, tmp_path_factory
):
    server, clock = clocked
    alice = server.client(server.new_user("alice"))
    deploy_dir = tmp_path_factory.mktemp("deploy") / "serving-model"
    assert alice.post("/v1/pipelines", json=ctr_pipeline(deploy_dir)).status_code == 201
    body = {
        "name": "retrain",
        "cron": "*/10 * * * * *",
        "pipeline": "ctr",
        "concurrency_policy": "forbid",
    }
    assert alice.post("/v1/schedules", json=body).status_code == 201

    def run_of(fire: dict) -> dict:
        return alice.get(f"/v1/pipelines/ctr/runs/{fire['run_id']}").json()

    def wait_ended(fire: dict) -> dict:
        return wait_for(
            lambda: (r := run_of(fire))["state"] != "RUNNING" and r, 600, 0.5, "the run"
        )

    def decided(n: int) -> list[dict]:
        rows = history(alice, "retrain")
        done = len(rows) == n and all(f["state"] != "SUBMITTING" for f in rows)
        return rows if done else []

    clock.set(at(10.5))
    first = wait_for(lambda: decided(1), 60, what="the first fire")[0]
    clock.set(at(20.5))  # run 1 is still running: forbid skips 20
    wait_for(lambda: decided(2), 60, what="the skipped fire")
    run1 = wait_ended(first)
    clock.set(at(30.5))
    second = wait_for(lambda: decided(3), 60, what="the second fire")[2]
    run2 = wait_ended(second)
    alice.post("/v1/schedules/retrain/pause")
    rows = history(alice, "retrain")
    assert [(f["scheduled_at"], f["state"]) for f in rows] == [
        (iso(10), "FIRED"),
        (iso(20), "SKIPPED"),
        (iso(30), "FIRED"),
    ]
    assert rows[1]["reason"] == f"run {run1['id']} still active (forbid)"
    for fire, run in ((rows[0], run1), (rows[2], run2)):
        assert run["state"] == "SUCCEEDED", [
            (s["name"], s["state"], s["reason"]) for s in run["steps"]
        ]
        assert run["trigger"] == f"schedule:{fire['id']}"
        assert (fire["outcome"], fire["degraded"]) == ("SUCCEEDED", True)
        steps = {s["name"]: s for s in run["steps"]}
        assert all(s["state"] == "SUCCEEDED" for s in steps.values())  # deploy included
        assert run["degraded"] is True
        assert steps["evaluate"]["reason"].startswith("degraded: auc 0.")
        assert "< min_auc 0.99" in steps["evaluate"]["reason"]
        m = steps["evaluate"]["outputs"]
        assert m["degraded"] is True and m["rows"] == 600
        # the evaluation's metrics against sklearn on its own kept predictions
        _, labels = load_svmlight_file(
            str(Path(steps["gen_test"]["artifacts_dir"]) / "e.svm"), n_features=2**12
        )
        preds = np.loadtxt(Path(steps["evaluate"]["artifacts_dir"]) / "predictions.txt")
        assert m["auc"] == pytest.approx(roc_auc_score(labels, preds), abs=1e-9)
        assert m["log_loss"] == pytest.approx(log_loss(labels, preds), rel=1e-6)
        assert m["calibration"] == pytest.approx(preds.mean() / labels.mean(), rel=1e-6)
        assert 0.6 < m["auc"] < 0.99
    # each step of each run ran exactly once, as one job
    db = sqlite3.connect(server.data_dir / "platform.db")
    jobs = Counter(n for (n,) in db.execute("SELECT name FROM jobs"))
    db.close()
    steps = ("gen_train", "gen_test", "train", "evaluate", "deploy")
    assert jobs == {f"run-{r['id']}/{s}": 1 for r in (run1, run2) for s in steps}
    # the model's metric series: one point per metric per evaluation
    series = alice.get("/v1/models/ctr/metrics?metric=auc").json()
    assert series["degraded"] is True and series["count"] == 2
    aucs = {p["run_id"]: p for p in series["data"]}
    for run in (run1, run2):
        evaluate = next(s for s in run["steps"] if s["name"] == "evaluate")
        point = aucs[run["id"]]
        assert point["value"] == evaluate["outputs"]["auc"]
        assert (point["threshold"], point["degraded"]) == ("min_auc 0.99", True)
        assert point["job_id"] == evaluate["job_id"] and point["step"] == "evaluate"
    losses = alice.get("/v1/models/ctr/metrics?metric=log_loss").json()["data"]
    assert [p["degraded"] for p in losses] == [False, False]  # under max_log_loss 5
    bob = server.client(server.new_user("bob"))
    assert bob.get("/v1/models/ctr/metrics").status_code == 404  # alice's model


def test_a_daily_schedule_evaluates_the_version_the_service_serves_on_yesterdays_data(
    clocked, tmp_path_factory
):
    from service_helpers import make_model, wait_service

    server, clock = clocked
    alice = server.client(server.new_user("alice"))
    root = tmp_path_factory.mktemp("served")
    base = make_model(root / "lr", bias=-1.0)  # version 1: logit = -1 + 0.5 x1 + 0.25 x2
    days = root / "days"
    days.mkdir()
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, size=(60, 2))
    y = (rng.random(60) < 1 / (1 + np.exp(-(x[:, 0] - x[:, 1])))).astype(int)
    lines = [f"{label} 1:{a} 2:{b}\n" for label, (a, b) in zip(y, x, strict=True)]
    (days / "2026-05-31.svm").write_text("".join(lines))
    r = alice.post(
        "/v1/services",
        json={"name": "lr", "model_dir": str(base), "resources": {"cpu": 0.5, "memory_mb": 512}},
    )
    assert r.status_code == 201, r.text
    wait_service(alice, "lr", {"AVAILABLE"})
    pipeline = {
        "name": "daily_eval",
        "params": {"previous_date": "", "days": str(days)},
        "steps": [
            {
                "name": "evaluate",
                "kind": "evaluate",
                "service": "lr",
                "data": "{{params.days}}/{{params.previous_date}}.svm",
                "thresholds": {"min_auc": 0.6},
                "resources": SMALL,
            }
        ],
    }
    assert alice.post("/v1/pipelines", json=pipeline).status_code == 201
    body = {"name": "nightly_eval", "cron": "0 1 * * *", "timezone": "Europe/Berlin"}
    body["pipeline"] = "daily_eval"
    clock.set(datetime(2026, 5, 31, 20, 0, tzinfo=UTC))
    assert alice.post("/v1/schedules", json=body).status_code == 201
    clock.set(datetime(2026, 5, 31, 23, 0, 1, tzinfo=UTC))  # 01:00:01 on June 1 in Berlin

    def evaluated(n: int) -> dict:
        rows = history(alice, "nightly_eval")
        assert all(f["state"] in ("SUBMITTING", "FIRED") for f in rows), rows
        if len(rows) < n or rows[-1]["outcome"] in (None, "RUNNING"):
            return {}
        return alice.get(f"/v1/pipelines/daily_eval/runs/{rows[-1]['run_id']}").json()

    run = wait_for(lambda: evaluated(1), 300, 0.5, "the first evaluation")
    step = run["steps"][0]
    assert run["state"] == "SUCCEEDED", step["reason"]
    assert run["params"]["previous_date"] == "2026-05-31"
    m = step["outputs"]
    # hand-computed probabilities of version 1; sklearn's metrics on them
    p1 = 1 / (1 + np.exp(-(-1.0 + 0.5 * x[:, 0] + 0.25 * x[:, 1])))
    assert m["model_version"] == "1" and m["rows"] == 60
    assert m["auc"] == pytest.approx(roc_auc_score(y, p1), abs=1e-9)
    assert m["log_loss"] == pytest.approx(log_loss(y, p1), rel=1e-5)
    assert run["degraded"] is False and m["degraded"] is False
    # version 2 (weights reversed: a worse model) is picked up by the service...
    make_model(root / "staging", bias=1.0)
    w2 = root / "staging" / "1"
    meta = json.loads((w2 / "model.json").read_text())
    np.savez(w2 / "weights.npz", keys=np.array([1, 2]), values=np.array([-0.5, 0.25], np.float32))
    (w2 / "model.json").write_text(json.dumps(meta))
    w2.rename(base / "2")

    def serving_version() -> str:
        status = alice.get("/v1/services/lr/v1/models/lr").json()
        return status["model_version_status"][0]["version"]

    wait_for(lambda: serving_version() == "2", 60, what="the service to load version 2")
    (days / "2026-06-01.svm").write_text("".join(lines))
    clock.set(datetime(2026, 6, 1, 23, 0, 1, tzinfo=UTC))  # the next night
    run = wait_for(lambda: evaluated(2), 300, 0.5, "the second evaluation")
    m = run["steps"][0]["outputs"]
    p2 = 1 / (1 + np.exp(-(1.0 - 0.5 * x[:, 0] + 0.25 * x[:, 1])))
    assert m["model_version"] == "2"
    assert m["auc"] == pytest.approx(roc_auc_score(y, p2), abs=1e-9)
    assert m["auc"] < 0.6 and run["degraded"] is True  # crossed min_auc
    series = alice.get("/v1/models/lr/metrics?metric=auc").json()  # named after the service
    assert [(pt["version"], pt["degraded"]) for pt in series["data"]] == [("1", False), ("2", True)]
    assert series["degraded"] is True
    assert series["data"][0]["dataset"].endswith("2026-05-31.svm")
    alice.delete("/v1/services/lr")
