"""Zero-downtime model service updates with the real `miniflow serve`.

A client keeps predicting through the proxy while the service is updated: every
answer must be 200, and once the API reports the new generation every answer must
come from the new model (v1 answers logit 0.0, v2 answers 2.0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from platform_helpers import wait_for
from service_helpers import PREDICT, logit, make_model, wait_service


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"v1": make_model(root / "v1", bias=-1.0), "v2": make_model(root / "v2", bias=1.0)}


def start(client, name, model_dir):
    body = {"name": name, "model_dir": str(model_dir), "resources": {"cpu": 0.5, "memory_mb": 512}}
    r = client.post("/v1/services", json=body)
    assert r.status_code == 201, r.text
    return wait_service(client, name, {"AVAILABLE"})


# Requests that take a while, so some are always in flight when generations change.
BIG = {**PREDICT, "instances": PREDICT["instances"] * 3000}


class Client(threading.Thread):
    """Predicts in a loop; records (status, logit or body, switched_before_sending)."""

    def __init__(self, client, name):
        super().__init__(daemon=True)
        self.client, self.name = client, name
        self.answers: list[tuple[int, object, bool]] = []
        self.switched = threading.Event()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            switched = self.switched.is_set()
            r = self.client.post(f"/v1/services/{self.name}:predict", json=BIG)
            value = logit(r.json()) if r.status_code == 200 else r.text
            self.answers.append((r.status_code, value, switched))


def test_update_switches_traffic_without_a_failed_request(server, alice, models):
    start(alice, "zdt", models["v1"])
    clients = [Client(alice, "zdt") for _ in range(3)]  # concurrent: some are always in flight
    client = clients[0]
    try:
        for c in clients:
            c.start()
        wait_for(lambda: len(client.answers) >= 20, 30, what="traffic before the update")
        r = alice.patch("/v1/services/zdt", json={"model_dir": str(models["v2"])})
        assert r.status_code == 200, r.text
        svc = r.json()
        assert svc["generation"] == 1 and svc["update"] == {
            "state": "UPDATING",
            "reason": "",
            "pending_generation": 2,
        }
        again = alice.patch("/v1/services/zdt", json={"model_dir": str(models["v1"])})
        assert again.status_code == 409 and "already updating" in again.text

        def switched():
            s = alice.get("/v1/services/zdt").json()
            return s if s["generation"] == 2 else None

        svc = wait_for(switched, 60, interval=0.05, what="traffic on generation 2")
        for c in clients:
            c.switched.set()
        assert svc["update"]["state"] == "SUCCEEDED" and svc["state"] == "AVAILABLE", svc
        assert svc["model_dir"] == str(models["v2"])
        n_after = len(client.answers)
        wait_for(lambda: len(client.answers) >= n_after + 20, 30, what="traffic after")
        # The old generation is stopped once drained (its runner wrote its exit record).
        old = server.data_dir / "services" / f"svc-{svc['id']}-g1" / "status.json"
        wait_for(old.exists, 30, what="generation 1 stopped")
    finally:
        for c in clients:
            c.done.set()
            c.join(30)
        alice.delete("/v1/services/zdt")
    answers = [a for c in clients for a in c.answers]
    bad = [a for a in answers if a[0] != 200]
    assert not bad, f"{len(bad)} of {len(answers)} requests failed: {bad[:5]}"
    before = [round(a[1], 5) for a in client.answers if not a[2]]
    after = [round(a[1], 5) for a in answers if a[2]]
    assert set(before) <= {0.0, 2.0} and before[0] == 0.0, before  # v1, then maybe v2
    assert after and set(after) == {2.0}, after  # only v2 once the API says generation 2


def test_a_failed_update_leaves_the_old_generation_serving(alice, models, tmp_path):
    start(alice, "keep", models["v1"])
    try:
        # A version directory instead of a base directory: `miniflow serve` exits at once.
        broken = models["v2"] / "1"
        r = alice.patch("/v1/services/keep", json={"model_dir": str(broken)})
        assert r.status_code == 200 and r.json()["update"]["state"] == "UPDATING"

        def update_ended():
            s = alice.get("/v1/services/keep").json()
            return s if s["update"]["state"] != "UPDATING" else None

        svc = wait_for(update_ended, 60, what="the update to end")
        assert svc["update"]["state"] == "FAILED", svc
        assert "is a model version itself" in svc["update"]["reason"], svc
        assert svc["update"]["pending_generation"] is None
        assert svc["generation"] == 1 and svc["state"] == "AVAILABLE"
        assert svc["model_dir"] == str(models["v1"])
        r = alice.post("/v1/services/keep:predict", json=PREDICT)
        assert r.status_code == 200 and logit(r.json()) == pytest.approx(0.0)
        log = alice.get("/v1/services/keep/logs", params={"generation": 2}).text
        assert "is a model version itself" in log
        assert alice.get("/v1/services/keep/logs", params={"generation": 3}).status_code == 404
        # The next update gets a fresh generation number and succeeds.
        r = alice.patch("/v1/services/keep", json={"model_dir": str(models["v2"])})
        assert r.json()["update"]["pending_generation"] == 3
        svc = wait_for(update_ended, 60, what="the second update to end")
        assert svc["update"]["state"] == "SUCCEEDED" and svc["generation"] == 3, svc
        r = alice.post("/v1/services/keep:predict", json=PREDICT)
        assert logit(r.json()) == pytest.approx(2.0)
    finally:
        alice.delete("/v1/services/keep")


def test_routes_count_requests_per_generation_across_a_switch():
    from miniflow_platform.proxy import Backend, Routes

    routes = Routes()
    g1, g2 = Backend(1001, {}, generation=1), Backend(1002, {}, generation=2)
    first = routes.acquire(7, lambda: g1)
    assert first == g1 and routes.acquire(7, lambda: g2) == g1  # the table wins once set
    routes.switch(7, g2)
    assert routes.acquire(7, lambda: g1) == g2
    assert routes.in_flight(7, 1) == 2 and routes.in_flight(7, 2) == 1
    routes.release(7, g1)
    routes.release(7, g1)
    assert routes.in_flight(7, 1) == 0  # now generation 1 may be stopped
    assert routes.in_flight(8, 1) == 0  # services do not share counters
    routes.forget(7)
    assert routes.acquire(7, lambda: g1) == g1  # rebuilt from the database after a stop


def test_stop_during_an_update_stops_both_generations(server, alice, models):
    svc = start(alice, "halt", models["v1"])
    try:
        r = alice.patch("/v1/services/halt", json={"model_dir": str(models["v2"])})
        assert r.json()["update"]["state"] == "UPDATING"
        stopped = alice.post("/v1/services/halt/stop").json()
        assert stopped["state"] == "STOPPED"
        assert stopped["update"]["state"] in ("FAILED", "SUCCEEDED")  # it may have switched
        for gen in (1, 2):
            status = server.data_dir / "services" / f"svc-{svc['id']}-g{gen}" / "status.json"
            wait_for(status.exists, 30, what=f"generation {gen} stopped")
        r = alice.post("/v1/services/halt:predict", json=PREDICT)
        assert r.status_code == 503
        r = alice.patch("/v1/services/halt", json={"model_dir": str(models["v1"])})
        assert r.status_code == 409 and "STOPPED" in r.json()["error"]["message"]
        time.sleep(1)  # a scheduler tick must not bring anything back
        assert alice.get("/v1/services/halt").json()["state"] == "STOPPED"
    finally:
        alice.delete("/v1/services/halt")


def test_an_update_without_room_for_a_second_generation_is_refused(alice, bob, models):
    body = {"name": "big", "model_dir": str(models["v1"]), "resources": {"cpu": 1.5}}
    assert alice.post("/v1/services", json=body).status_code == 201
    try:
        wait_service(alice, "big", {"AVAILABLE"})
        # The server has 2 CPUs: both generations (2 x 1.5) cannot run at once.
        r = alice.patch("/v1/services/big", json={"model_dir": str(models["v2"])})
        assert r.status_code == 409 and "capacity" in r.json()["error"]["message"], r.text
        svc = alice.get("/v1/services/big").json()
        assert (
            svc["generation"] == 1 and svc["update"]["state"] == "" and svc["state"] == "AVAILABLE"
        )
        assert logit(alice.post("/v1/services/big:predict", json=PREDICT).json()) == 0.0
        other = {"model_dir": str(models["v2"])}
        assert bob.patch("/v1/services/big", json=other).status_code == 404
    finally:
        alice.delete("/v1/services/big")


def test_cli_services_update_waits_for_the_switch(server, alice, models):
    start(alice, "cli-upd", models["v1"])
    token = alice.headers["Authorization"].split()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFLOW_PLATFORM")}
    env.update(MINIFLOW_PLATFORM_URL=server.url, MINIFLOW_PLATFORM_TOKEN=token)
    miniflow = str(Path(sys.executable).parent / "miniflow")

    def update(model_dir):
        return subprocess.run(
            [miniflow, "services", "update", "cli-upd", "--model-dir", str(model_dir), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    try:
        r = update(models["v2"])
        assert r.returncode == 0, r.stderr
        svc = json.loads(r.stdout)  # printed once traffic switched, not at UPDATING
        assert svc["generation"] == 2 and svc["update"]["state"] == "SUCCEEDED"
        assert logit(alice.post("/v1/services/cli-upd:predict", json=PREDICT).json()) == 2.0
        r = update(models["v1"] / "1")  # a version dir: the new generation fails
        assert r.returncode == 1 and "update failed, generation 2 serves on" in r.stderr
        assert "is a model version itself" in r.stderr
    finally:
        alice.delete("/v1/services/cli-upd")
