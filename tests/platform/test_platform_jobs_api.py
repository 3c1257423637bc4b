"""The jobs API on a real server (uvicorn, SQLite) with real subprocess jobs."""

from __future__ import annotations

import base64
import io
import json
import sys
import tarfile
import time

import psutil
from platform_helpers import TERMINAL, submit, wait_for, wait_job

SMALL = {"resources": {"cpu": 0.1, "memory_mb": 256}}


def test_health_needs_no_token_everything_else_does(server):
    with server.client(None) as anon:
        assert anon.get("/healthz").json() == {"status": "ok"}
        for method, path in (
            ("GET", "/v1/jobs"),
            ("POST", "/v1/jobs"),
            ("GET", "/v1/jobs/1"),
            ("GET", "/openapi.json"),
            ("GET", "/v1/notebooks"),
            ("GET", "/v1/services"),
            ("GET", "/v1/predictions"),
            ("GET", "/v1/users/me"),
        ):
            r = anon.request(method, path)
            assert r.status_code == 401, (path, r.text)
            assert "bearer token" in r.json()["error"]["message"]
    with server.client("mfp_not-a-real-token") as bad:
        r = bad.get("/v1/jobs")
        assert r.status_code == 401 and "unknown" in r.json()["error"]["message"]


def test_admin_endpoints_are_forbidden_to_users(alice, admin):
    assert alice.get("/v1/users").status_code == 403
    r = alice.post("/v1/users", json={"name": "mallory", "admin": True})
    assert r.status_code == 403 and "not an admin" in r.json()["error"]["message"]
    assert admin.get("/v1/users").json()["count"] >= 2
    assert alice.get("/v1/users/me").json()["name"] == "alice"


def test_tokens_are_stored_hashed(server, alice):
    token = alice.headers["Authorization"].split()[1]
    db = (server.data_dir / "platform.db").read_bytes()
    assert token.encode() not in db
    wal = server.data_dir / "platform.db-wal"
    assert not wal.exists() or token.encode() not in wal.read_bytes()


def test_openapi_document_is_served(alice):
    doc = alice.get("/openapi.json").json()
    for path in (
        "/v1/jobs",
        "/v1/jobs/{job_id}/logs",
        "/v1/notebooks",
        "/v1/services",
        "/v1/services/{name}:predict",
        "/v1/predictions",
    ):
        assert path in doc["paths"], path


def test_job_lifecycle_logs_and_artifacts(alice):
    code = (
        "import os, pathlib, time\n"
        "print('hello from', os.environ['MINIFLOW_JOB_ID'], os.environ['GREETING'])\n"
        "pathlib.Path(os.environ['MINIFLOW_ARTIFACTS_DIR'], 'model').mkdir()\n"
        "pathlib.Path('model/weights.txt').write_text('42')\n"
    )
    job = submit(alice, code, env={"GREETING": "hi"}, name="lifecycle", **SMALL)
    assert job["state"] == "QUEUED" and job["user"] == "alice"
    done = wait_job(alice, job["id"])
    assert done["state"] == "SUCCEEDED" and done["exit_code"] == 0
    assert done["started_at"] and done["finished_at"] and done["isolation"]
    assert f"hello from {job['id']} hi" in alice.get(f"/v1/jobs/{job['id']}/logs").text
    assert alice.get(f"/v1/jobs/{job['id']}/artifacts").json() == {"files": ["model/weights.txt"]}
    assert alice.get(f"/v1/jobs/{job['id']}/artifacts/model/weights.txt").text == "42"
    listed = alice.get("/v1/jobs", params={"state": "SUCCEEDED"}).json()
    assert job["id"] in [j["id"] for j in listed["data"]]
    assert alice.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert alice.get(f"/v1/jobs/{job['id']}").status_code == 404


def test_failed_job_keeps_exit_code(alice):
    job = submit(alice, "import sys; print('boom'); sys.exit(7)", **SMALL)
    done = wait_job(alice, job["id"])
    assert (done["state"], done["exit_code"]) == ("FAILED", 7)
    assert "boom" in alice.get(f"/v1/jobs/{job['id']}/logs").text


def test_artifact_paths_cannot_escape(alice, server):
    job = submit(alice, "print(1)", **SMALL)
    wait_job(alice, job["id"])
    (server.data_dir / "secret.txt").write_text("top secret")
    for path in (
        "../../secret.txt",
        "..%2F..%2Fsecret.txt",
        "%2e%2e/%2e%2e/secret.txt",
        "/etc/passwd",
        "../output.log",
        "..%2f..%2f..%2fplatform.db",
    ):
        r = alice.get(f"/v1/jobs/{job['id']}/artifacts/{path}")
        assert r.status_code in (404, 422), (path, r.status_code)  # 422: client-normalised URL
        assert "top secret" not in r.text


def test_follow_streams_logs_until_the_job_ends(alice):
    code = (
        "import time\nfor i in range(5):\n    print('line', i, flush=True)\n    time.sleep(0.3)\n"
    )
    job = submit(alice, code, **SMALL)
    start = time.time()
    with alice.stream("GET", f"/v1/jobs/{job['id']}/logs", params={"follow": "true"}) as r:
        text = "".join(r.iter_text())
    assert [f"line {i}" in text for i in range(5)] == [True] * 5
    assert time.time() - start >= 1.0  # it really waited for the output
    assert alice.get(f"/v1/jobs/{job['id']}").json()["state"] == "SUCCEEDED"


def test_code_archive_upload(alice):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"print('from the archive')\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    job = alice.post(
        "/v1/jobs",
        json={
            "command": ["python", "train.py"],
            **SMALL,
            "code_archive_b64": base64.b64encode(buf.getvalue()).decode(),
        },
    ).json()
    assert wait_job(alice, job["id"])["state"] == "SUCCEEDED"
    assert "from the archive" in alice.get(f"/v1/jobs/{job['id']}/logs").text


def test_malicious_archive_is_refused(alice):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("../../escape.py")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    r = alice.post(
        "/v1/jobs",
        json={"command": ["true"], "code_archive_b64": base64.b64encode(buf.getvalue()).decode()},
    )
    assert r.status_code == 422 and "archive" in r.json()["error"]["message"]


def test_working_dir_inside_another_users_job_is_refused(alice, bob, server):
    job = submit(alice, "print(1)", **SMALL)
    alices_dir = server.data_dir / "jobs" / f"job-{job['id']}"
    r = bob.post(
        "/v1/jobs", json={"command": ["cat", "output.log"], "working_dir": str(alices_dir)}
    )
    assert r.status_code == 422 and "outside your own jobs" in r.json()["error"]["message"]
    r = bob.post("/v1/jobs", json={"command": ["python"], "python_env": str(alices_dir)})
    assert r.status_code == 422 and "outside your own jobs" in r.json()["error"]["message"]
    r = bob.post("/v1/notebooks", json={"python_env": str(alices_dir)})
    assert r.status_code == 422 and "outside your own jobs" in r.json()["error"]["message"]


def test_invalid_requests_are_422(alice):
    for body in (
        {"command": []},
        {"command": ["x"], "resources": {"cpu": -1}},
        {"command": ["x"], "bogus": 1},
        {"command": ["x"], "env": {"1BAD": "v"}},
        {"command": ["x"], "resources": {"cpu": 64}},
        {"command": "not-a-list"},
        {"command": ["x"], "code_archive_b64": "***"},
    ):
        r = alice.post("/v1/jobs", json=body)
        assert r.status_code == 422, (body, r.text)


def test_oom_and_timeout_through_the_api(alice):
    oom = submit(alice, "x = bytearray(500 * 2**20)", resources={"cpu": 0.5, "memory_mb": 64})
    slow = submit(alice, "import time; time.sleep(60)", timeout_s=1, **SMALL)
    oom_done = wait_job(alice, oom["id"])
    assert oom_done["state"] == "OOM_KILLED", oom_done
    assert oom_done["isolation"] in ("cgroups-v1", "cgroups-v2", "rlimits")
    assert wait_job(alice, slow["id"])["state"] == "TIMED_OUT"


def test_gpu_job_sees_its_devices(alice):
    job = submit(
        alice,
        "import os; print('GPUS=' + os.environ['CUDA_VISIBLE_DEVICES'])",
        resources={"cpu": 0.1, "memory_mb": 128, "gpu": 2},
    )
    done = wait_job(alice, job["id"])
    assert done["resources"]["gpu_devices"] in (["0", "1"], ["0", "2"], ["1", "2"])
    assert (
        "GPUS=" + ",".join(done["resources"]["gpu_devices"])
        in alice.get(f"/v1/jobs/{job['id']}/logs").text
    )


def test_cancel_running_and_queued_and_nothing_is_left(alice, server):
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(120)\n"
    )
    big = submit(alice, code, resources={"cpu": 2, "memory_mb": 256})
    queued = submit(alice, "print('never')", **SMALL)
    wait_for(
        lambda: "started" in alice.get(f"/v1/jobs/{big['id']}/logs").text, 30, what="job output"
    )
    assert alice.get(f"/v1/jobs/{queued['id']}").json()["state"] == "QUEUED"
    run_dir = server.data_dir / "jobs" / f"job-{big['id']}"
    runner = psutil.Process(json.loads((run_dir / "runner.json").read_text())["pid"])
    tree = [runner, *runner.children(recursive=True)]
    assert len(tree) >= 3
    assert alice.delete(f"/v1/jobs/{big['id']}").status_code == 409
    r = alice.post(f"/v1/jobs/{queued['id']}/cancel")
    assert r.json()["state"] == "CANCELLED"
    r = alice.post(f"/v1/jobs/{big['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "CANCELLED", r.text
    assert "cancelled by alice" in r.json()["reason"]
    for proc in tree:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE, proc
    assert alice.post(f"/v1/jobs/{big['id']}/cancel").status_code == 409
    assert "never" not in alice.get(f"/v1/jobs/{queued['id']}/logs").text


def test_admin_sees_all_and_filters_by_user(admin, alice, bob):
    a = submit(alice, "print(1)", **SMALL)
    b = submit(bob, "print(2)", **SMALL)
    ids = {j["id"] for j in admin.get("/v1/jobs").json()["data"]}
    assert {a["id"], b["id"]} <= ids
    only_bob = admin.get("/v1/jobs", params={"user_name": "bob"}).json()["data"]
    assert {j["user"] for j in only_bob} == {"bob"}
    for c, j in ((alice, a), (bob, b)):
        wait_job(c, j["id"])
    assert all(
        j["state"] in TERMINAL
        for j in admin.get("/v1/jobs").json()["data"]
        if j["id"] in (a["id"], b["id"])
    )
    assert sys.executable  # jobs ran with the server's interpreter on PATH
