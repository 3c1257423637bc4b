"""/v1/schedules and /v1/models/{name}/metrics against a real server: a seconds-level job
schedule firing on the real clock, pause/resume, validation (422 naming the problem),
tenancy (404), the history, and the `miniflow schedules` CLI."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from datetime import datetime

import pytest
from platform_helpers import wait_for
from test_pipelines_api import SMALL, create

from miniflow_platform.schedules_cli import schedules_main

PING = {"command": [sys.executable, "-c", "pass"], "resources": SMALL}


def history(client, name: str) -> list[dict]:
    r = client.get(f"/v1/schedules/{name}/history")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_seconds_level_job_schedule_fires_on_time_and_pauses(alice):
    r = alice.post(
        "/v1/schedules",
        json={
            "name": "ping",
            "cron": "*/2 * * * * *",
            "job": PING,
            "concurrency_policy": "forbid",
        },
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["target"] == "job" and s["paused"] is False and len(s["upcoming"]) == 5
    gaps = {(when(b) - when(a)).total_seconds() for a, b in zip(s["upcoming"], s["upcoming"][1:])}
    assert gaps == {2.0}
    fired = wait_for(
        lambda: [f for f in history(alice, "ping") if f["state"] == "FIRED"][:3] or None,
        60,
        what="a fire",
    )
    fire = fired[0]
    assert when(fire["scheduled_at"]).second % 2 == 0
    assert when(fire["fired_at"]) >= when(fire["scheduled_at"])
    job = alice.get(f"/v1/jobs/{fire['run_id']}").json()
    assert job["name"] == f"schedule:{fire['id']}/ping"
    assert job["details"]["scheduled_at"] == fire["scheduled_at"].replace("+00:00", "Z")
    wait_for(
        lambda: history(alice, "ping")[-1]["outcome"] == "SUCCEEDED",
        60,
        what="the first job to succeed",
    )
    paused = alice.post("/v1/schedules/ping/pause").json()
    assert paused["paused"] and paused["next_fire_at"] is None and paused["upcoming"] == []
    count = len(history(alice, "ping"))
    resumed = alice.post("/v1/schedules/ping/resume").json()
    assert resumed["paused"] is False and resumed["next_fire_at"] is not None
    alice.post("/v1/schedules/ping/pause")
    # every time fired once at most (forbid may skip some while a job runs)
    times = [f["scheduled_at"] for f in history(alice, "ping") if f["state"] == "FIRED"]
    assert len(times) == len(set(times))
    assert len(history(alice, "ping")) >= count
    assert alice.delete("/v1/schedules/ping").status_code == 204
    assert alice.get("/v1/schedules/ping").status_code == 404


@pytest.fixture(scope="module")
def pipeline(alice):
    return create(alice, "sched_p", [{"name": "a", "command": ["true"]}], params={"x": 1})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"cron": "61 * * * *", "job": PING}, "invalid cron expression '61 * * * *': Bad minute"),
        ({"cron": "* * * * *", "timezone": "Mars/Base", "job": PING}, "unknown time zone"),
        ({"cron": "* * * * *"}, "give exactly one of pipeline and job"),
        ({"cron": "* * * * *", "job": PING, "pipeline": "p"}, "give exactly one of pipeline"),
        ({"cron": "* * * * *", "job": PING, "params": {"a": 1}}, "params are a pipeline's"),
        ({"cron": "* * * * *", "pipeline": "nope"}, "you have no pipeline named 'nope'"),
        ({"cron": "* * * * *", "pipeline": "sched_p", "params": {"zz": 1}}, "unknown params: zz"),
        (
            {"cron": "* * * * *", "job": {**PING, "resources": {"cpu": 64}}},
            "can never be scheduled: cpu 64.0 > capacity 2.0",
        ),
        ({"cron": "* * * * *", "job": PING, "max_catchup": 0}, "max_catchup"),
        ({"cron": "* * * * *", "job": PING, "catch_up": "sometimes"}, "catch_up"),
        ({"cron": "* * * * *", "job": PING, "concurrency_policy": "x"}, "concurrency_policy"),
        ({"cron": "* * * * *", "job": PING, "starting_deadline_s": -1}, "starting_deadline_s"),
        ({"cron": "* * * * *", "job": {**PING, "python_env": "relative"}}, "absolute path"),
    ],
)
def test_bad_definitions_are_refused_with_the_problem_named(alice, pipeline, body, message):
    r = alice.post("/v1/schedules", json={"name": "bad", **body})
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]["message"], r.json()


def test_tenancy_duplicates_and_admin_listing(alice, bob, admin):
    body = {"name": "mine", "cron": "0 3 * * *", "timezone": "Europe/Berlin", "job": PING}
    assert alice.post("/v1/schedules", json=body).status_code == 201
    r = alice.post("/v1/schedules", json=body)
    assert r.status_code == 409 and "already have a schedule named 'mine'" in r.text
    assert bob.post("/v1/schedules", json=body).status_code == 201  # names are per user
    s = alice.get("/v1/schedules/mine").json()
    # 03:00 in Berlin is 02:00 UTC in winter (CET) and 01:00 UTC in summer (CEST)
    hours = {when(t).strftime("%H:%M") for t in s["upcoming"]}
    assert hours in ({"02:00"}, {"01:00"}, {"01:00", "02:00"})
    assert bob.get("/v1/schedules/mine").json()["user"] == "bob"
    assert {x["user"] for x in bob.get("/v1/schedules").json()["data"]} == {"bob"}
    assert {"alice", "bob"} <= {x["user"] for x in admin.get("/v1/schedules").json()["data"]}
    assert bob.delete("/v1/schedules/mine").status_code == 204
    assert alice.get("/v1/schedules/mine").status_code == 200  # bob deleted his own
    for method, path in (
        ("GET", "/v1/schedules/mine/history"),
        ("POST", "/v1/schedules/mine/pause"),
        ("DELETE", "/v1/schedules/mine"),
    ):
        assert bob.request(method, path).status_code == 404
    assert alice.get("/v1/schedules/mine/history?limit=0").status_code == 422
    assert alice.get("/v1/schedules/mine/history?limt=3").status_code == 422
    assert alice.get("/v1/schedules/Bad Name").status_code == 422
    assert alice.delete("/v1/schedules/mine").status_code == 204


def test_model_metrics_endpoint_refuses_unknown_models_and_metrics(alice):
    r = alice.get("/v1/models/nothing/metrics")
    assert r.status_code == 404 and "has no metrics" in r.json()["error"]["message"]
    assert alice.get("/v1/models/x/metrics?metric=speed").status_code == 422


def cli(server, token: str, *args: str) -> tuple[int, str, str]:
    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.update(MINIFLOW_PLATFORM_URL=server.url, MINIFLOW_PLATFORM_TOKEN=token)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = schedules_main(list(args))
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()


def test_cli(server, tmp_path):
    token = server.new_user("carol")
    code, out, err = cli(
        server,
        token,
        *("create", "nightly", "--cron", "0 2 * * *", "--timezone", "Europe/Berlin"),
        *("--concurrency", "forbid", "--paused", "--cpu", "0.1", "--memory-mb", "128"),
        *("--", sys.executable, "-c", "pass"),
    )
    assert code == 0, err
    assert "nightly" in out and "forbid" in out and "Europe/Berlin" in out
    (tmp_path / "s.yaml").write_text(
        "name: every_minute\ncron: '* * * * *'\ncatch_up: none\n"
        f"job: {{command: ['{sys.executable}', '-c', 'pass'], resources: {{cpu: 0.1}}}}\n"
    )
    assert cli(server, token, "create", "--file", str(tmp_path / "s.yaml"))[0] == 0
    code, out, _ = cli(server, token, "list")
    assert code == 0 and "nightly" in out and "every_minute" in out
    code, out, _ = cli(server, token, "get", "nightly", "--json")
    assert code == 0 and '"paused": true' in out
    assert cli(server, token, "resume", "nightly")[0] == 0
    code, out, _ = cli(server, token, "pause", "nightly", "--json")
    assert '"paused": true' in out
    code, out, _ = cli(server, token, "history", "nightly")
    assert code == 0 and "SCHEDULED_AT" in out
    code, _, err = cli(server, token, "create", "x", "--cron", "* * * * *")
    assert code != 0 and "give --pipeline NAME or a command" in err
    code, _, err = cli(server, token, "create", "y", "--cron", "bad", "--", "true")
    assert code != 0 and "invalid cron expression 'bad'" in err
    assert cli(server, token, "delete", "nightly")[0] == 0
    code, _, err = cli(server, token, "get", "nightly")
    assert code != 0 and "HTTP 404" in err
