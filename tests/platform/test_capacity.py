"""GET /v1/capacity against a real server with quotas: two users' running jobs, a model
service and two jobs the scheduler holds back (one by quota, one by capacity). The
numbers are checked against hand-computed sums and against what the jobs and usage
endpoints say; an admin sees every user, a user only themself."""

from __future__ import annotations

import pytest
from platform_helpers import Server, kill_all_runs, submit, wait_for, wait_job

SLEEP = "import time; time.sleep(300)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("capacity")
    srv = Server(
        root / "data",
        *("--cpu", "3", "--memory-mb", "8192", "--gpus", "0,1"),
        *("--quota-cpu", "1", "--quota-running-jobs", "2", "--quota-gpu", "1"),
    )
    try:
        yield srv.start()
    finally:
        srv.stop()
        kill_all_runs(srv.data_dir)


def queued_for(client, job_id: int, reason: str) -> dict:
    def done():
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["state"] == "QUEUED", job
        return job if job["queue_reason"] == reason else None

    return wait_for(done, 30, what=f"job {job_id} queued for {reason}")


@pytest.fixture(scope="module")
def busy(server, alice, bob, tmp_path_factory):
    """alice: a 1-CPU 1-GPU job running, a 0.5-CPU job over her CPU quota; bob: a 1-CPU
    job running; carol: a model service (0.5 CPU); dave: a 1-CPU job within his quota
    that does not fit the 0.5 CPU left."""
    from service_helpers import make_model, wait_service

    carol = server.client(server.new_user("carol"))
    dave = server.client(server.new_user("dave"))
    base = make_model(tmp_path_factory.mktemp("capmodel") / "m", bias=0.0)
    for p in [base, *base.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    svc = {"name": "cap", "model_dir": str(base), "resources": {"cpu": 0.5, "memory_mb": 1024}}
    assert carol.post("/v1/services", json=svc).status_code == 201
    jobs = []
    try:
        wait_service(carol, "cap", {"AVAILABLE"}, timeout=120)
        a = submit(alice, SLEEP, name="a", resources={"cpu": 1, "memory_mb": 256, "gpu": 1})
        c = submit(bob, SLEEP, name="c", resources={"cpu": 1, "memory_mb": 300})
        jobs += [(alice, a), (bob, c)]
        wait_job(alice, a["id"], {"RUNNING"})
        wait_job(bob, c["id"], {"RUNNING"})
        b = submit(alice, SLEEP, name="b", resources={"cpu": 0.5, "memory_mb": 128})
        d = submit(dave, SLEEP, name="d", resources={"cpu": 1, "memory_mb": 128})
        jobs += [(alice, b), (dave, d)]
        queued_for(alice, b["id"], "quota")
        queued_for(dave, d["id"], "capacity")
        yield {"carol": carol, "dave": dave, "jobs": {"a": a, "b": b, "c": c, "d": d}}
    finally:
        for client, job in jobs:
            client.post(f"/v1/jobs/{job['id']}/cancel")
        carol.delete("/v1/services/cap")
        carol.close()
        dave.close()


def test_an_admin_sees_the_whole_server(admin, busy):
    r = admin.get("/v1/capacity")
    assert r.status_code == 200, r.text
    cap = r.json()
    assert cap["scope"] == "server"
    assert cap["capacity"] == {
        "cpu": 3.0,
        "memory_mb": 8192,
        "gpus": 2,
        "gpu_devices": ["0", "1"],
        "free_gpu_devices": cap["capacity"]["free_gpu_devices"],
    }
    # by hand: jobs a (1 cpu, 256 MiB, 1 GPU) and c (1, 300) + the service (0.5, 1024)
    assert cap["used"] == {"cpu": 2.5, "memory_mb": 256 + 300 + 1024, "gpus": 1}
    assert cap["free"] == {"cpu": 0.5, "memory_mb": 8192 - 1580, "gpus": 1}
    running = admin.get("/v1/jobs?state=RUNNING").json()["data"]
    gpu_held = {g for j in running for g in j["resources"]["gpu_devices"]}
    assert len(gpu_held) == 1
    assert cap["capacity"]["free_gpu_devices"] == sorted({"0", "1"} - gpu_held)
    assert cap["quota"] == {
        "cpu": 1.0,
        "memory_mb": None,
        "gpu": 1,
        "running_jobs": 2,
        "disk_bytes": cap["quota"]["disk_bytes"],
    }
    q = cap["queue"]
    counts = ("queued_jobs", "running_jobs", "notebooks", "service_generations")
    assert [q[k] for k in counts] == [2, 2, 0, 1]
    assert q["queued"] == {"cpu": 1.5, "memory_mb": 256, "gpus": 0}
    assert q["by_reason"] == {"quota": 1, "capacity": 1}
    users = {u["user"]: u for u in cap["users"]}
    assert {"admin", "alice", "bob", "carol", "dave"} <= set(users)
    alice = users["alice"]
    assert alice["held"] == {"cpu": 1.0, "memory_mb": 256, "gpus": 1} and alice["running_jobs"] == 1
    assert sorted(alice["quota_reached"]) == ["cpu", "gpu"]
    assert alice["queue"]["by_reason"] == {"quota": 1} and alice["queue"]["queued_jobs"] == 1
    bob = users["bob"]
    assert bob["held"] == {"cpu": 1.0, "memory_mb": 300, "gpus": 0}
    assert bob["quota_reached"] == ["cpu"] and bob["queue"]["queued_jobs"] == 0
    dave = users["dave"]
    assert dave["held"]["cpu"] == 0.0 and dave["quota_reached"] == []
    assert dave["queue"]["by_reason"] == {"capacity": 1}
    carol = users["carol"]
    assert carol["held"] == {"cpu": 0.5, "memory_mb": 1024, "gpus": 0}
    assert carol["queue"]["service_generations"] == 1 and carol["running_jobs"] == 0
    assert users["admin"]["held"] == {"cpu": 0.0, "memory_mb": 0, "gpus": 0}
    # the same numbers as each user's usage endpoint (one source)
    for name in ("alice", "bob", "carol"):
        compute = admin.get(f"/v1/users/{name}/usage").json()["compute"]
        held = users[name]["held"]
        assert (compute["cpu"], compute["memory_mb"], compute["gpus"]) == (
            held["cpu"],
            held["memory_mb"],
            held["gpus"],
        )
    # and the running jobs' own resources add up to what the users hold
    for name in ("alice", "bob"):
        mine = [j for j in running if j["user"] == name]
        assert sum(j["resources"]["cpu"] for j in mine) == users[name]["held"]["cpu"]


def test_a_user_sees_only_their_own_share(alice, busy):
    cap = alice.get("/v1/capacity").json()
    assert cap["scope"] == "user"
    assert [u["user"] for u in cap["users"]] == ["alice"]
    assert cap["queue"] == cap["users"][0]["queue"]
    assert cap["queue"]["queued_jobs"] == 1 and cap["queue"]["by_reason"] == {"quota": 1}
    assert cap["queue"]["service_generations"] == 0  # carol's service is not hers
    assert cap["free"]["cpu"] == 0.5  # the server's totals are public to its users
    for other in ("bob", "carol", "dave", "admin"):
        assert f'"{other}"' not in alice.get("/v1/capacity").text


def test_capacity_needs_a_token_and_takes_no_parameters(server, alice):
    r = alice.get("/v1/capacity?user=bob")
    assert r.status_code == 422 and "user" in r.json()["error"]["message"]
    with server.client(None) as anonymous:
        assert anonymous.get("/v1/capacity").status_code == 401
    with server.client("mfp_wrong") as wrong:
        assert wrong.get("/v1/capacity").status_code == 401


def test_capacity_frees_when_the_work_ends(admin, alice, bob, busy):
    owners = ((alice, "b"), (alice, "a"), (bob, "c"), (busy["dave"], "d"))
    for client, name in owners:
        client.post(f"/v1/jobs/{busy['jobs'][name]['id']}/cancel")
    for client, name in owners:
        wait_job(client, busy["jobs"][name]["id"], {"CANCELLED"})
    cap = admin.get("/v1/capacity").json()
    assert cap["used"] == {"cpu": 0.5, "memory_mb": 1024, "gpus": 0}  # the service only
    assert cap["queue"]["queued_jobs"] == 0 and cap["queue"]["by_reason"] == {}
    assert busy["carol"].delete("/v1/services/cap").status_code in (200, 204)
    wait_for(
        lambda: admin.get("/v1/capacity").json()["used"]["cpu"] == 0.0,
        30,
        what="the service's CPU to be free",
    )
