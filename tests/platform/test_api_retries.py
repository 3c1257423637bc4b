"""Retries with exponential backoff (attempts recorded on the job) and the reason a
queued job waits (quota, capacity, priority, backoff), on real servers and jobs."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from platform_helpers import Server, kill_all_runs, submit, wait_for, wait_job

from miniflow_platform.jobs.service import backoff_s

SMALL = {"resources": {"cpu": 0.1, "memory_mb": 128}}


def ts(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)
    assert stamp.utcoffset() == timedelta(0), text  # always UTC, with its offset
    return stamp


def test_backoff_doubles_and_is_capped():
    p = SimpleNamespace(settings=SimpleNamespace(limits=SimpleNamespace(max_retry_delay_s=100.0)))
    job = SimpleNamespace(retry_backoff_s=10.0)
    assert [backoff_s(p, job, n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 80, 100]
    assert backoff_s(p, SimpleNamespace(retry_backoff_s=0.0), 3) == 0


def test_failing_job_is_retried_then_fails_with_every_attempt_recorded(alice):
    job = submit(
        alice, "print('try'); raise SystemExit(3)", max_retries=2, retry_backoff_s=0.3, **SMALL
    )
    assert job["max_retries"] == 2 and job["attempt"] == 1 and job["attempts"] == []
    done = wait_job(alice, job["id"], timeout=90)
    assert done["state"] == "FAILED" and done["exit_code"] == 3 and done["attempt"] == 3
    attempts = done["attempts"]
    assert [(a["attempt"], a["state"], a["exit_code"]) for a in attempts] == [
        (1, "FAILED", 3),
        (2, "FAILED", 3),
    ]
    assert all(a["reason"] == "exited with code 3" for a in attempts)
    # Backoff: retry n starts at least 0.3 * 2**(n-1) s after attempt n ended.
    assert ts(attempts[1]["started_at"]) - ts(attempts[0]["finished_at"]) >= timedelta(seconds=0.3)
    assert ts(done["started_at"]) - ts(attempts[1]["finished_at"]) >= timedelta(seconds=0.6)
    log = alice.get(f"/v1/jobs/{job['id']}/logs").text
    assert log.count("try\n") == 3
    assert "attempt 1 ended FAILED (exited with code 3); retry 1 of 2 in 0.3 s" in log
    assert "attempt 2 ended FAILED (exited with code 3); retry 2 of 2 in 0.6 s" in log


def test_flaky_job_succeeds_on_its_second_attempt(alice):
    code = (
        "import os, pathlib; f = pathlib.Path(os.environ['MINIFLOW_ARTIFACTS_DIR'], 'seen');"
        "first = not f.exists(); f.touch(); raise SystemExit(5 if first else 0)"
    )
    job = submit(alice, code, max_retries=3, retry_backoff_s=0.1, **SMALL)
    done = wait_job(alice, job["id"], timeout=60)
    assert done["state"] == "SUCCEEDED" and done["exit_code"] == 0 and done["attempt"] == 2
    assert [(a["state"], a["exit_code"]) for a in done["attempts"]] == [("FAILED", 5)]


def test_timeouts_are_retried_too(alice):
    job = submit(alice, "import time; time.sleep(30)", max_retries=1, timeout_s=0.5,
                 retry_backoff_s=0.1, **SMALL)  # fmt: skip
    done = wait_job(alice, job["id"], timeout=60)
    assert done["state"] == "TIMED_OUT"
    assert [a["state"] for a in done["attempts"]] == ["TIMED_OUT"]


def test_a_retry_waits_queued_with_its_backoff_and_can_be_cancelled(alice):
    job = submit(alice, "raise SystemExit(1)", max_retries=1, retry_backoff_s=600, **SMALL)
    queued = wait_for(
        lambda: (j := alice.get(f"/v1/jobs/{job['id']}").json())["attempts"] and j,
        timeout=60,
        what="the first attempt to end",
    )
    assert queued["state"] == "QUEUED" and queued["queue_reason"] == "backoff"
    ended = ts(queued["attempts"][0]["finished_at"])
    assert ts(queued["next_attempt_at"]) == ended + timedelta(seconds=600)
    assert queued["reason"] == "attempt 1 ended FAILED: exited with code 1"
    wait_for(
        lambda: (
            "starts after its backoff" in alice.get(f"/v1/jobs/{job['id']}").json()["queue_message"]
        ),
        what="the scheduler's message",
    )
    cancelled = alice.post(f"/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["state"] == "CANCELLED" and cancelled["queue_reason"] is None
    assert len(cancelled["attempts"]) == 1


def test_cancelled_jobs_are_not_retried(alice):
    job = submit(alice, "import time; time.sleep(60)", max_retries=3, **SMALL)
    wait_job(alice, job["id"], {"RUNNING"})
    assert alice.post(f"/v1/jobs/{job['id']}/cancel").json()["state"] == "CANCELLED"
    again = alice.get(f"/v1/jobs/{job['id']}").json()
    assert again["state"] == "CANCELLED" and again["attempts"] == []


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    srv = Server(
        tmp_path_factory.mktemp("queue") / "data", "--cpu", "1", "--quota-running-jobs", "1"
    )
    try:
        yield srv.start()
    finally:
        srv.stop()
        kill_all_runs(srv.data_dir)


def waiting(client, job_id: int, reason: str) -> dict:
    def check():
        job = client.get(f"/v1/jobs/{job_id}").json()
        return job if job["state"] == "QUEUED" and job["queue_reason"] == reason else None

    return wait_for(check, what=f"job {job_id} to wait for {reason}")


def test_queued_jobs_say_why_they_wait(tight):
    with tight.client(tight.new_user("fay")) as fay, tight.client(tight.new_user("gus")) as gus:
        sleep = [sys.executable, "-c", "import time; time.sleep(120)"]

        def post(client, cpu, priority=0):
            body = {"command": sleep, "resources": {"cpu": cpu, "memory_mb": 64}}
            r = client.post("/v1/jobs", json={**body, "priority": priority})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        a = post(fay, 1.0)
        wait_job(fay, a, {"RUNNING"})
        assert fay.get(f"/v1/jobs/{a}").json()["queue_reason"] is None
        b = post(fay, 0.1)
        c = post(gus, 1.0)
        d = post(gus, 0.1, priority=-5)
        assert "running-jobs quota 1 reached" in waiting(fay, b, "quota")["queue_message"]
        msg = waiting(gus, c, "capacity")["queue_message"]
        assert msg.startswith("needs cpu 1.0, memory 64 MiB") and "free now: cpu 0," in msg
        assert waiting(gus, d, "priority")["queue_message"].startswith(f"behind job {c} ")
        # The scheduler updates the reasons as things change: with fay's job gone, her
        # next job starts first (older), and gus's big one now waits for what it holds.
        fay.post(f"/v1/jobs/{a}/cancel")
        wait_job(fay, b, {"RUNNING"})
        wait_for(
            lambda: "free now: cpu 0.9," in waiting(gus, c, "capacity")["queue_message"],
            what="the capacity message to follow the change",
        )
        waiting(gus, d, "priority")
        for client, job in ((fay, b), (gus, c), (gus, d)):
            client.post(f"/v1/jobs/{job}/cancel")
