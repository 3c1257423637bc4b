"""Model services behind the platform's authenticated proxy, with the real `miniflow serve`.

The attack from issue 15 — a prediction straight to the service's port, with no
token — is run both from the host and as another tenant's job on the real executor.
"""

from __future__ import annotations

import json

import httpx
import psutil
import pytest
from platform_helpers import wait_for, wait_job
from service_helpers import INSTANCE, PREDICT, db_row, logit, make_model, wait_service

ATTACK = """
import json, sys, urllib.request, urllib.error
port, name = int(sys.argv[1]), sys.argv[2]
for path, data in ((f"/v1/models/{name}", None),
                   (f"/v1/models/{name}:predict", json.dumps({"instances": [1]}).encode())):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers={"Authorization": "Bearer guessed"})
    try:
        print("HTTP", urllib.request.urlopen(req, timeout=5).status, path)
    except urllib.error.HTTPError as e:
        print("HTTP", e.code, path)
    except OSError as e:
        print("REFUSED", type(e).__name__, path)
"""


@pytest.fixture(scope="module")
def service(alice, tmp_path_factory):
    model = make_model(tmp_path_factory.mktemp("models") / "lr", bias=-1.0)
    body = {"name": "lr", "model_dir": str(model), "resources": {"cpu": 0.5, "memory_mb": 512}}
    r = alice.post("/v1/services", json=body)
    assert r.status_code == 201, r.text
    try:
        yield wait_service(alice, "lr", {"AVAILABLE"})
    finally:
        alice.delete("/v1/services/lr")


def test_direct_request_to_the_service_port_is_refused(server, alice, bob, service):
    (port,) = db_row(server.data_dir, "SELECT port FROM model_services WHERE name = ?", "lr")
    direct = f"http://127.0.0.1:{port}/v1/models/lr"
    # From the host: the port answers, but only with the platform's per-service token.
    assert httpx.get(direct, timeout=5).status_code == 401
    r = httpx.post(direct + ":predict", json=PREDICT, timeout=5)
    assert r.status_code == 401 and "token" in r.json()["error"]
    r = httpx.post(direct + ":predict", json=PREDICT, headers={"Authorization": "Bearer x"})
    assert r.status_code == 401
    for token in ("Bearer " + alice.headers["Authorization"].split()[1], "token x", ""):
        assert httpx.get(direct, headers={"Authorization": token}).status_code == 401
    # From another tenant's job on the real executor.
    done = wait_job(bob, submit_attack(bob, port))
    log = bob.get(f"/v1/jobs/{done['id']}/logs").text
    assert done["state"] == "SUCCEEDED", log
    assert "HTTP 200" not in log and log.count("HTTP 401") + log.count("REFUSED") == 2, log
    # Through the proxy, with alice's platform token, it works.
    r = alice.post("/v1/services/lr:predict", json=PREDICT)
    assert r.status_code == 200 and logit(r.json()) == pytest.approx(0.0), r.text


def submit_attack(client, port: int) -> int:
    r = client.post(
        "/v1/jobs",
        json={
            "command": ["python", "-c", ATTACK, str(port), "lr"],
            "resources": {"cpu": 0.2, "memory_mb": 128},
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_proxy_forwards_the_tf_serving_rest_api(alice, bob, admin, service):
    url = service["url"]
    assert url.endswith("/v1/services/lr/v1/models/lr")
    status = alice.get(url)
    assert status.status_code == 200
    assert status.json()["model_version_status"][0]["state"] == "AVAILABLE"
    meta = alice.get(url + "/metadata").json()
    assert set(meta["metadata"]["signature_def"]["signature_def"]) == {
        "serving_default",
        "predict",
        "classification",
        "regression",
    }
    assert alice.get(url + "/versions/1").status_code == 200
    r = alice.post(url + ":predict", json=PREDICT)
    assert r.status_code == 200 and logit(r.json()) == pytest.approx(0.0)
    assert admin.post(url + ":predict", json=PREDICT).status_code == 200  # admins may
    # The backend's own errors come through unchanged (TF Serving's {"error": ...}).
    r = alice.post(url + ":predict", json={"instances": [{"indices": [99], "values": [1.0]}]})
    assert r.status_code == 400 and "out of range" in r.json()["error"]
    assert alice.get(url.replace("/models/lr", "/models/nope")).status_code == 404
    # Other users and anonymous callers never reach it.
    assert bob.post(url + ":predict", json=PREDICT).status_code == 404
    assert bob.get(url).status_code == 404
    anonymous = httpx.post(url + ":predict", json=PREDICT, timeout=10)
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    # A GET with a body: forwarded without it, so the pooled connection to the backend
    # stays in step (else the body would be read as the next caller's request).
    for _ in range(3):
        assert alice.request("GET", url, content=b'{"instances": [1]}').status_code == 200
        r = alice.post(url + ":predict", json=PREDICT)
        assert r.status_code == 200, r.text
    # A platform token sent on is never what the backend sees (it would be refused).
    r = alice.post("/v1/services/lr:predict", json=PREDICT, headers={"Cookie": "a=b"})
    assert r.status_code == 200


def test_large_and_chunked_bodies_are_forwarded(alice, service):
    rows = 30_000
    body = json.dumps({"signature_name": "predict", "instances": [INSTANCE] * rows}).encode()
    assert len(body) > 1_000_000
    r = alice.post(
        "/v1/services/lr:predict", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200 and len(r.json()["predictions"]) == rows

    def chunks():  # no Content-Length: the proxy buffers it (model servers refuse chunked)
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    r = alice.post(service["url"] + ":predict", content=chunks())
    assert r.status_code == 200 and len(r.json()["predictions"]) == rows
    r = alice.post("/v1/services/lr:predict", content=b"[1, 2]")
    assert r.status_code == 422  # not a JSON object: refused before it reaches the model


def test_a_dead_backend_answers_502_then_503(server, alice, tmp_path):
    model = make_model(tmp_path / "m", bias=0.0)
    r = alice.post(
        "/v1/services",
        json={"name": "fragile", "model_dir": str(model), "resources": {"cpu": 0.2}},
    )
    assert r.status_code == 201, r.text
    try:
        wait_service(alice, "fragile", {"AVAILABLE"})
        (port,) = db_row(
            server.data_dir, "SELECT port FROM model_services WHERE name = ?", "fragile"
        )
        listener = next(
            c.pid
            for c in psutil.net_connections("tcp")
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
        )
        psutil.Process(listener).kill()
        r = alice.post("/v1/services/fragile:predict", json=PREDICT)
        if r.status_code == 502:  # before the scheduler notices
            assert r.json()["error"]["code"] == "bad_gateway", r.text
        else:
            assert r.status_code == 503, r.text
        failed = wait_for(
            lambda: (s := alice.get("/v1/services/fragile").json())["state"] == "FAILED" and s,
            30,
            what="service FAILED",
        )
        assert "exited" in failed["reason"] or "signal" in failed["reason"], failed
        r = alice.post("/v1/services/fragile:predict", json=PREDICT)
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    finally:
        alice.delete("/v1/services/fragile")
