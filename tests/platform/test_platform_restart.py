"""Kill -9 the server while jobs run and queue; restart; every job ends right, logs intact."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import psutil
from platform_helpers import Server, kill_all_runs, submit, wait_for, wait_job

LINES = (
    "import sys, time\n"
    "for i in range({n}):\n"
    "    print('{tag}', i, flush=True)\n"
    "    time.sleep(0.2)\n"
    "sys.exit({code})\n"
)


def _zombies_since(start: float) -> list[tuple[int, int, str]]:
    """Zombies this test could have made: children of pytest or of init, born after start."""
    found = []
    for proc in psutil.process_iter(["status", "create_time", "ppid", "name"]):
        info = proc.info
        if (
            info["status"] == psutil.STATUS_ZOMBIE
            and info["create_time"] >= start
            and info["ppid"] in (1, os.getpid())
        ):
            found.append((proc.pid, info["ppid"], info["name"]))
    return found


def test_restart_reconciles_every_job(tmp_path):
    t0 = time.time()
    server = Server(tmp_path / "data", "--cpu", "2", "--memory-mb", "4096")
    try:
        server.start()
        c = server.client(server.new_user("carol"))
        res = {"resources": {"cpu": 0.5, "memory_mb": 128}}
        ends_while_down = submit(c, LINES.format(n=8, tag="A", code=0), **res)
        outlives_restart = submit(c, LINES.format(n=40, tag="B", code=3), **res)
        vanishes = submit(c, "import time; print('D up', flush=True); time.sleep(120)", **res)
        queued = submit(c, "print('C ran')", resources={"cpu": 2, "memory_mb": 128})
        for job in (ends_while_down, outlives_restart, vanishes):
            wait_job(c, job["id"], states={"RUNNING"})
        wait_for(
            lambda: "D up" in c.get(f"/v1/jobs/{vanishes['id']}/logs").text, 30, what="job D output"
        )
        assert c.get(f"/v1/jobs/{queued['id']}").json()["state"] == "QUEUED"

        server.kill9()
        # While the server is down: D's processes die without an exit record.
        d_dir = server.data_dir / "jobs" / f"job-{vanishes['id']}"
        runner = psutil.Process(json.loads((d_dir / "runner.json").read_text())["pid"])
        for proc in [*runner.children(recursive=True), runner]:
            with contextlib.suppress(psutil.NoSuchProcess):  # a sandbox init takes its children
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs([runner], timeout=5)
        time.sleep(2.0)  # A finishes while no server is watching

        server.port = __import__("platform_helpers").free_port()
        server.url = f"http://127.0.0.1:{server.port}"
        server.start()
        c = server.client(c.headers["Authorization"].split()[1])

        a = wait_job(c, ends_while_down["id"])
        assert (a["state"], a["exit_code"]) == ("SUCCEEDED", 0)
        log_a = c.get(f"/v1/jobs/{a['id']}/logs").text
        assert [f"A {i}" in log_a for i in range(8)] == [True] * 8

        d = wait_job(c, vanishes["id"])
        assert d["state"] == "FAILED" and "gone" in d["reason"], d

        b = wait_job(c, outlives_restart["id"], timeout=60)
        assert (b["state"], b["exit_code"]) == ("FAILED", 3)
        log_b = c.get(f"/v1/jobs/{b['id']}/logs").text
        assert [f"B {i}" in log_b for i in range(40)] == [True] * 40

        q = wait_job(c, queued["id"], timeout=60)
        assert q["state"] == "SUCCEEDED"
        assert c.get(f"/v1/jobs/{q['id']}/logs").text.count("C ran") == 1  # not duplicated
        assert c.get("/v1/jobs").json()["count"] == 4  # nothing lost, nothing added
        try:
            wait_for(lambda: not _zombies_since(t0), 10, what="no zombie processes")
        except AssertionError as e:
            raise AssertionError(f"zombies: {_zombies_since(t0)}") from e
    finally:
        server.stop()
        kill_all_runs(server.data_dir)


def test_model_service_survives_a_server_crash(tmp_path):
    from platform_helpers import free_port, make_fake_env

    model = tmp_path / "model"
    (model / "1").mkdir(parents=True)
    (model / "offset").write_text("10")
    env = str(make_fake_env(tmp_path / "env"))
    server = Server(tmp_path / "data", "--cpu", "2", "--memory-mb", "4096")
    try:
        server.start()
        token = server.new_user("hank")
        c = server.client(token)
        r = c.post(
            "/v1/services",
            json={
                "name": "sticky",
                "model_dir": str(model),
                "python_env": env,
                "resources": {"cpu": 0.2, "memory_mb": 256},
            },
        )
        assert r.status_code == 201, r.text
        wait_for(
            lambda: c.get("/v1/services/sticky").json()["state"] == "AVAILABLE",
            30,
            what="service available",
        )
        server.kill9()
        server.port = free_port()
        server.url = f"http://127.0.0.1:{server.port}"
        server.start()
        c = server.client(token)
        svc = c.get("/v1/services/sticky").json()
        assert svc["state"] == "AVAILABLE", svc  # re-adopted, not restarted
        r = c.post("/v1/services/sticky:predict", json={"instances": [[1, 2]]})
        assert r.json() == {"predictions": [13.0]}
        assert c.post("/v1/services/sticky/stop").json()["state"] == "STOPPED"
    finally:
        server.stop()
        kill_all_runs(server.data_dir)
