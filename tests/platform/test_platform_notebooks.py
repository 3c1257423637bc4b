"""Real jupyter_server notebooks: token auth, owner-only token, stop, idle culling."""

from __future__ import annotations

import httpx
import pytest
from platform_helpers import wait_for

pytest.importorskip("jupyter_server", reason="the [notebook] extra (jupyter_server) is needed")


def wait_state(client, nb_id, states, timeout=60):
    def done():
        nb = client.get(f"/v1/notebooks/{nb_id}").json()
        assert nb["state"] in states or nb["state"] in ("STARTING", "RUNNING"), nb
        return nb if nb["state"] in states else None

    return wait_for(done, timeout, interval=0.2, what=f"notebook {nb_id} in {states}")


def test_notebook_answers_with_its_token_and_only_its_owner_sees_it(alice, bob, admin):
    r = alice.post("/v1/notebooks", json={"name": "dev", "resources": {"cpu": 0.5}})
    assert r.status_code == 201, r.text
    nb = r.json()
    assert nb["token"] and nb["url"].startswith("http://127.0.0.1:")
    try:
        nb = wait_state(alice, nb["id"], {"RUNNING"})
        status = httpx.get(
            nb["url"] + "api/status", headers={"Authorization": f"token {nb['token']}"}, timeout=5
        )
        assert status.status_code == 200 and "last_activity" in status.json()
        assert httpx.get(nb["url"] + "api/contents", timeout=5).status_code == 403
        assert nb["last_activity"] is not None

        assert bob.get(f"/v1/notebooks/{nb['id']}").status_code == 404
        assert bob.post(f"/v1/notebooks/{nb['id']}/stop").status_code == 404
        assert bob.delete(f"/v1/notebooks/{nb['id']}").status_code == 404
        assert bob.get(f"/v1/notebooks/{nb['id']}/logs").status_code == 404
        assert "Jupyter Server" in alice.get(f"/v1/notebooks/{nb['id']}/logs").text
        assert nb["id"] not in [n["id"] for n in bob.get("/v1/notebooks").json()["data"]]
        seen_by_admin = admin.get(f"/v1/notebooks/{nb['id']}").json()
        assert seen_by_admin["user"] == "alice" and seen_by_admin["token"] is None
    finally:
        stopped = alice.post(f"/v1/notebooks/{nb['id']}/stop").json()
    assert stopped["state"] == "STOPPED" and "stopped by alice" in stopped["reason"]
    with pytest.raises(httpx.HTTPError):
        httpx.get(nb["url"] + "api/status", timeout=2)
    assert alice.delete(f"/v1/notebooks/{nb['id']}").status_code == 204
    assert alice.get(f"/v1/notebooks/{nb['id']}").status_code == 404


def test_idle_notebook_is_culled(alice):
    nb = alice.post("/v1/notebooks", json={"idle_timeout_s": 2, "resources": {"cpu": 0.5}}).json()
    try:
        culled = wait_state(alice, nb["id"], {"STOPPED", "FAILED"}, timeout=90)
    finally:
        if alice.get(f"/v1/notebooks/{nb['id']}").json()["state"] in ("STARTING", "RUNNING"):
            alice.post(f"/v1/notebooks/{nb['id']}/stop")
    assert culled["state"] == "STOPPED" and culled["reason"].startswith("culled: idle"), culled
