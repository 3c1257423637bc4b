"""PATCH /v1/schedules/{name} and `miniflow schedules update` against a real server: the
next time recomputed from the new cron and zone (checked with zoneinfo, not cronsim),
a firing schedule switched to other times and another command with its history kept,
validation naming the field, and the version guard: of two edits racing on the version
they read, one wins and the other gets 409."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from platform_helpers import wait_for
from test_pipelines_api import SMALL, create
from test_schedules_api import cli, history

PING = {"command": [sys.executable, "-c", "print('before')"], "resources": SMALL}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def make(client, name: str, **body) -> dict:
    body = {"cron": "0 3 * * *", "timezone": "Europe/Berlin", "job": PING, **body}
    r = client.post("/v1/schedules", json={"name": name, **body})
    assert r.status_code == 201, r.text
    return r.json()


def patch(client, name: str, **body):
    return client.patch(f"/v1/schedules/{name}", json=body)


def test_a_new_cron_and_zone_recompute_the_next_times(alice):
    created = make(alice, "zones")
    assert created["version"] == 1 and created["updated_at"] is None
    before = datetime.now(UTC)
    r = patch(alice, "zones", cron="30 6 * * 1-5", timezone="America/New_York", version=1)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["cron"] == "30 6 * * 1-5" and s["timezone"] == "America/New_York"
    assert s["version"] == 2 and when(s["updated_at"]) >= before - timedelta(seconds=1)
    ny = ZoneInfo("America/New_York")
    local = [when(t).astimezone(ny) for t in s["upcoming"]]
    assert len(local) == 5 and when(s["next_fire_at"]) == when(s["upcoming"][0])
    assert all((t.hour, t.minute, t.second) == (6, 30, 0) for t in local)
    assert all(t.weekday() < 5 for t in local)  # Monday to Friday
    # the next weekday 06:30 in New York after now, computed by hand
    day = datetime.now(ny)
    while True:
        first = datetime(day.year, day.month, day.day, 6, 30, tzinfo=ny)
        if first > datetime.now(ny) and first.weekday() < 5:
            break
        day += timedelta(days=1)
    assert local[0] == first
    assert [t.date() for t in local] == sorted({t.date() for t in local})  # one a day
    # other fields keep their values; policies change without moving the next time
    assert s["job"]["command"] == PING["command"] and s["concurrency_policy"] == "allow"
    r = patch(alice, "zones", concurrency_policy="forbid", catch_up="all", max_catchup=3)
    assert r.status_code == 200, r.text
    assert r.json()["next_fire_at"] == s["next_fire_at"] and r.json()["version"] == 3
    assert (r.json()["concurrency_policy"], r.json()["catch_up"]) == ("forbid", "all")
    # an alias is stored expanded; sending what it already is changes nothing
    assert patch(alice, "zones", cron="@daily").json()["cron"] == "0 0 * * *"
    same = patch(alice, "zones", cron="0 0 * * *", version=4)
    assert same.status_code == 200 and same.json()["version"] == 4
    assert alice.delete("/v1/schedules/zones").status_code == 204


def test_pause_and_resume_through_patch(alice):
    make(alice, "pausing")
    paused = patch(alice, "pausing", paused=True).json()
    assert paused["paused"] and paused["next_fire_at"] is None and paused["upcoming"] == []
    # an edit while paused does not start it again
    still = patch(alice, "pausing", cron="0 4 * * *").json()
    assert still["paused"] and still["next_fire_at"] is None
    resumed = patch(alice, "pausing", paused=False).json()
    local = when(resumed["next_fire_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (4, 0)
    assert when(resumed["next_fire_at"]) - datetime.now(UTC) <= timedelta(days=1)
    assert resumed["version"] == 4
    # the pause and resume endpoints are edits too
    assert alice.post("/v1/schedules/pausing/pause").json()["version"] == 5
    assert alice.delete("/v1/schedules/pausing").status_code == 204


def test_a_firing_schedule_moves_to_its_new_times_and_keeps_its_history(alice):
    make(alice, "moving", cron="*/2 * * * * *", timezone="UTC", concurrency_policy="forbid")

    def fired(after: datetime | None = None):
        return [
            f
            for f in history(alice, "moving")
            if f["state"] == "FIRED" and (after is None or when(f["scheduled_at"]) > after)
        ]

    old = wait_for(fired, 60, what="a fire of the old cron")
    assert all(when(f["scheduled_at"]).second % 2 == 0 for f in old)
    new_job = {**PING, "command": [sys.executable, "-c", "print('after')"]}
    r = patch(alice, "moving", cron="1-59/2 * * * * *", job=new_job)  # odd seconds now
    assert r.status_code == 200, r.text
    edited = r.json()
    edited_at = when(edited["updated_at"])
    assert all(when(t).second % 2 == 1 for t in edited["upcoming"])
    new = wait_for(lambda: fired(edited_at), 60, what="a fire of the new cron")
    for f in new:
        assert when(f["scheduled_at"]).second % 2 == 1, f  # never the old cron's times
        job = alice.get(f"/v1/jobs/{f['run_id']}").json()
        assert job["command"] == new_job["command"]
    alice.post("/v1/schedules/moving/pause")
    ids = {f["id"] for f in history(alice, "moving")}
    assert {f["id"] for f in old} <= ids  # the history from before the edit stays
    for f in old:
        job = alice.get(f"/v1/jobs/{f['run_id']}").json()
        assert job["command"] == PING["command"]
    assert alice.delete("/v1/schedules/moving").status_code == 204


@pytest.fixture(scope="module")
def pipeline(alice):
    return create(alice, "upd_p", [{"name": "a", "command": ["true"]}], params={"x": 1, "y": 2})


def test_a_pipeline_schedule_gets_new_params_and_another_pipeline(alice, pipeline):
    make(alice, "piped", job=None, pipeline="upd_p", params={"x": 5})
    r = patch(alice, "piped", params={"y": 7})
    assert r.status_code == 200 and r.json()["params"] == {"y": 7}  # replaced as a whole
    create(alice, "upd_q", [{"name": "b", "command": ["true"]}], params={"z": 0})
    r = patch(alice, "piped", pipeline="upd_q", params={"z": 3})
    assert r.status_code == 200, r.text
    assert (r.json()["pipeline"], r.json()["params"]) == ("upd_q", {"z": 3})
    r = patch(alice, "piped", pipeline="upd_p")  # its params {"z": 3} are not upd_p's
    assert r.status_code == 422 and "unknown params: z" in r.json()["error"]["message"]
    assert alice.get("/v1/schedules/piped").json()["pipeline"] == "upd_q"  # nothing applied


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"cron": "61 * * * *"}, "cron", "invalid cron expression '61 * * * *': Bad minute"),
        ({"cron": "0 0 30 2 *"}, "cron", "Bad day-of-month"),  # cronsim: Feb 30
        ({"cron": "@sometimes"}, "cron", "unknown cron alias"),
        ({"timezone": "Mars/Base"}, "timezone", "unknown time zone 'Mars/Base'"),
        ({"timezone": "../../etc/passwd"}, "timezone", "unknown time zone"),
        ({"cron": None}, None, "cron cannot be null"),
        ({"paused": None, "job": None}, None, "job, paused cannot be null"),
        ({"max_catchup": 0}, "max_catchup", "greater than or equal to 1"),
        ({"starting_deadline_s": 0}, "starting_deadline_s", "greater than 0"),
        ({"concurrency_policy": "often"}, "concurrency_policy", "allow"),
        ({"version": 0}, "version", "greater than or equal to 1"),
        ({"version": 2**53 + 1}, "version", "less than or equal to"),
        ({"owner": "bob"}, "owner", "Extra inputs are not permitted"),
        ({"params": {"a": 1}}, None, "runs a job: it takes no params"),
        ({"pipeline": "upd_p"}, None, "runs a job: it takes no pipeline"),
        ({"job": {**PING, "resources": {"cpu": 64}}}, None, "cpu 64.0 > capacity 2.0"),
        ({"job": {**PING, "python_env": "relative"}}, None, "absolute path"),
        ({"job": {"command": []}}, "job", "at least 1 item"),
    ],
)
def test_bad_edits_are_refused_naming_the_field(alice, pipeline, body, field, message):
    if alice.get("/v1/schedules/strict").status_code == 404:
        make(alice, "strict")
    before = alice.get("/v1/schedules/strict").json()
    r = alice.patch("/v1/schedules/strict", json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert message in error["message"], error
    if field is not None:
        assert error["details"][0]["loc"][:2] == ["body", field], error
    after = alice.get("/v1/schedules/strict").json()
    assert after == before  # nothing of a refused edit is applied


def test_a_job_schedule_refuses_pipeline_fields(alice, pipeline):
    make(alice, "forpipe", job=None, pipeline="upd_p")
    r = patch(alice, "forpipe", job=PING)
    assert r.status_code == 422 and "runs a pipeline: it takes no job" in r.text
    r = patch(alice, "forpipe", pipeline="nope")
    assert r.status_code == 422 and "you have no pipeline named 'nope'" in r.text


def test_a_stale_version_is_refused_and_racing_edits_have_one_winner(alice):
    s = make(alice, "raced")
    assert patch(alice, "raced", description="one", version=s["version"]).status_code == 200
    stale = patch(alice, "raced", description="two", version=s["version"])
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert "was edited since you read it" in error["message"] and error["details"] == {
        "version": s["version"] + 1
    }
    assert alice.get("/v1/schedules/raced").json()["description"] == "one"
    for round_ in range(4):
        version = alice.get("/v1/schedules/raced").json()["version"]
        barrier = threading.Barrier(2)
        answers: dict[str, int] = {}

        def edit(label: str, version=version, barrier=barrier, answers=answers) -> None:
            barrier.wait()
            answers[label] = patch(alice, "raced", description=label, version=version).status_code

        threads = [threading.Thread(target=edit, args=(f"r{round_}-{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(answers.values()) == [200, 409], answers
        winner = next(k for k, v in answers.items() if v == 200)
        now = alice.get("/v1/schedules/raced").json()
        assert now["description"] == winner and now["version"] == version + 1
    assert alice.delete("/v1/schedules/raced").status_code == 204


def test_other_users_cannot_edit(alice, bob):
    make(alice, "private")
    r = patch(bob, "private", cron="* * * * *")
    assert r.status_code == 404
    assert alice.get("/v1/schedules/private").json()["cron"] == "0 3 * * *"
    assert patch(alice, "Bad Name", cron="* * * * *").status_code == 422
    assert alice.delete("/v1/schedules/private").status_code == 204


def test_cli_update(server, tmp_path, pipeline):
    token = server.new_user("erin")
    with server.client(token) as erin:
        create(erin, "cli_p", [{"name": "a", "command": ["true"]}], params={"x": 1, "y": 2})
    args = ("create", "nightly", "--cron", "0 2 * * *", "--pipeline", "cli_p", "--param", "x=3")
    assert cli(server, token, *args)[0] == 0
    code, out, err = cli(
        server, token, "update", "nightly", "--cron", "15 4 * * *", "--timezone", "Asia/Tokyo"
    )
    assert code == 0, err
    assert "15 4 * * *" in out and "Asia/Tokyo" in out
    code, out, err = cli(server, token, "update", "nightly", "--param", "y=9", "--json")
    assert code == 0, err
    assert json.loads(out)["params"] == {"x": "3", "y": "9"}  # merged into the current ones
    code, out, err = cli(server, token, "update", "nightly", "--unset-param", "x", "--json")
    assert code == 0 and json.loads(out)["params"] == {"y": "9"}
    code, _, err = cli(server, token, "update", "nightly", "--param", "zz=1")
    assert code != 0 and "unknown params: zz" in err
    code, _, err = cli(server, token, "update", "nightly", "--if-version", "1", "--pause")
    assert code != 0 and "HTTP 409" in err and "edited since you read it" in err
    code, _, err = cli(server, token, "update", "nightly")
    assert code != 0 and "nothing to change" in err
    code, _, err = cli(server, token, "update", "nightly", "--cron", "bad")
    assert code != 0 and "invalid cron expression 'bad'" in err
    code, _, err = cli(server, token, "update", "nightly", "--", "true")
    assert code != 0 and "runs a pipeline, not a command" in err
    job_args = ("create", "ping", "--cron", "0 1 * * *", "--cpu", "0.1", "--env", "A=1")
    assert cli(server, token, *job_args, "--", sys.executable, "-c", "pass")[0] == 0
    code, out, err = cli(
        server, token, "update", "ping", "--cpu", "0.2", "--env", "B=2", "--json",
        "--", "python", "-V",
    )  # fmt: skip
    assert code == 0, err
    with server.client(token) as erin:
        job = erin.get("/v1/schedules/ping").json()["job"]
    assert job["command"] == ["python", "-V"] and job["resources"]["cpu"] == 0.2
    assert job["env"] == {"A": "1", "B": "2"}
    (tmp_path / "patch.yaml").write_text("concurrency_policy: replace\npaused: true\n")
    code, out, err = cli(server, token, "update", "ping", "--file", str(tmp_path / "patch.yaml"))
    assert code == 0 and "replace" in out, err


def test_an_older_database_gets_the_version_columns(tmp_path):
    """Schedules created by a server without edits read as version 1, never edited."""
    import sqlite3

    from sqlalchemy import create_engine

    import miniflow_platform.main  # noqa: F401  (every model registered on Base)
    from miniflow_platform.db import Base, add_missing_columns

    db = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE schedules DROP COLUMN version")
    conn.execute("ALTER TABLE schedules DROP COLUMN updated_at")
    conn.execute("INSERT INTO users (name, is_admin, created_at) VALUES ('old', 0, '2020-01-01')")
    conn.execute(
        "INSERT INTO schedules (owner_id, name, description, cron, timezone, target, params,"
        " concurrency, catch_up, max_catchup, paused, created_at)"
        " VALUES (1, 'old', '', '* * * * *', 'UTC', 'job', '{}', 'allow', 'once', 10, 0,"
        " '2020-01-01')"
    )
    conn.commit()
    conn.close()
    engine = create_engine(f"sqlite:///{db}")
    assert sorted(add_missing_columns(engine)) == ["schedules.updated_at", "schedules.version"]
    with engine.connect() as c:
        row = c.exec_driver_sql("SELECT version, updated_at FROM schedules").one()
    assert tuple(row) == (1, None)
    engine.dispose()
