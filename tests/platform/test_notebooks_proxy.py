"""Real Jupyter notebooks behind the platform's proxy: a kernel runs code over the proxied
websocket, JupyterLab loads, the Jupyter port refuses everyone but the proxy, the access
token is stored only as a hash, idle notebooks are culled."""

from __future__ import annotations

import hashlib
import json
import stat
import uuid

import httpx
import pytest
from platform_helpers import submit, wait_for, wait_job
from service_helpers import db_row

pytest.importorskip("jupyter_server", reason="the [notebook] extra is needed")
pytest.importorskip("ipykernel", reason="the [notebook] extra is needed")
pytest.importorskip("jupyterlab", reason="the [notebook] extra is needed")
ws_client = pytest.importorskip("websockets.sync.client")


def wait_state(client, nb_id, states, timeout=90):
    def done():
        nb = client.get(f"/v1/notebooks/{nb_id}").json()
        assert nb["state"] in states or nb["state"] in ("STARTING", "RUNNING"), nb
        return nb if nb["state"] in states else None

    return wait_for(done, timeout, interval=0.2, what=f"notebook {nb_id} in {states}")


@pytest.fixture(scope="module")
def notebook(alice):
    r = alice.post("/v1/notebooks", json={"name": "dev", "resources": {"cpu": 1}})
    assert r.status_code == 201, r.text
    created = r.json()
    try:
        nb = wait_state(alice, created["id"], {"RUNNING"})
        yield {**nb, "token": created["token"]}
    finally:
        alice.delete(f"/v1/notebooks/{created['id']}")


def proxy_url(server, nb, path=""):
    return f"{server.url}/v1/notebooks/{nb['id']}/proxy/{path}"


def ws_url(server, nb, path):
    return proxy_url(server, nb, path).replace("http://", "ws://", 1)


def execute(ws, code: str, timeout: float = 60) -> str:
    """Run ``code`` on the kernel behind ``ws``; returns the text/plain execute_result."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            return msg["content"]["data"]["text/plain"]
        if msg["msg_type"] == "error":
            raise AssertionError(msg["content"])


def test_a_kernel_runs_code_through_the_proxy(server, alice, notebook):
    auth = alice.headers["Authorization"]
    r = alice.post(f"/v1/notebooks/{notebook['id']}/proxy/api/kernels", json={"name": "python3"})
    assert r.status_code == 201, r.text
    kernel = r.json()["id"]
    try:
        url = ws_url(server, notebook, f"api/kernels/{kernel}/channels")
        with ws_client.connect(url, additional_headers={"Authorization": auth}) as ws:
            assert execute(ws, "1+1") == "2"
            assert execute(ws, "import os; os.getcwd().endswith('/work')") == "True"
        listed = alice.get(f"/v1/notebooks/{notebook['id']}/proxy/api/kernels").json()
        assert kernel in [k["id"] for k in listed]
    finally:
        alice.delete(f"/v1/notebooks/{notebook['id']}/proxy/api/kernels/{kernel}")


def test_jupyterlab_loads_in_a_browser_with_the_access_token(server, notebook):
    assert notebook["token"].startswith("mfn_")
    assert notebook["url"] == proxy_url(server, notebook, "lab")
    with httpx.Client(timeout=30) as browser:  # no API token: the access token only
        assert browser.get(notebook["url"]).status_code == 401
        login = browser.get(notebook["url"], params={"token": notebook["token"]})
        assert login.status_code == 303 and "token" not in login.headers["location"]
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert f"Path=/v1/notebooks/{notebook['id']}/proxy/" in cookie
        page = browser.get(login.headers["location"])
        assert page.status_code == 200 and "JupyterLab" in page.text
        assert f"/v1/notebooks/{notebook['id']}/proxy/" in page.text  # base URL in the page
        static = page.text.split('src="', 1)[1].split('"', 1)[0]
        asset = browser.get(httpx.URL(notebook["url"]).join(static))
        assert asset.status_code == 200 and len(asset.content) > 1000
        assert browser.get(proxy_url(server, notebook, "api/contents")).status_code == 200
        # A browser request from another site is refused even with the cookie.
        evil = browser.post(
            proxy_url(server, notebook, "api/contents"),
            json={"type": "file"},
            headers={"Origin": "http://evil.example"},
        )
        assert evil.status_code == 403
    with httpx.Client(timeout=30) as stranger:
        bad = stranger.get(notebook["url"], params={"token": "mfn_guess"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"


def test_a_cross_site_websocket_with_the_cookie_is_refused(server, alice, notebook):
    r = alice.post(f"/v1/notebooks/{notebook['id']}/proxy/api/kernels", json={"name": "python3"})
    kernel = r.json()["id"]
    cookie = f"mfp-notebook-{notebook['id']}={notebook['token']}"
    url = ws_url(server, notebook, f"api/kernels/{kernel}/channels")
    try:
        with pytest.raises(Exception, match="403"):
            ws_client.connect(
                url, additional_headers={"Cookie": cookie}, origin="http://evil.example"
            )
        same_site = f"http://127.0.0.1:{server.port}"
        with ws_client.connect(url, additional_headers={"Cookie": cookie}, origin=same_site) as ws:
            assert execute(ws, "6*7") == "42"
        with pytest.raises(Exception, match="403"):
            ws_client.connect(url)  # no credentials at all
    finally:
        alice.delete(f"/v1/notebooks/{notebook['id']}/proxy/api/kernels/{kernel}")


def test_only_the_owner_reaches_the_notebook(server, alice, bob, admin, notebook):
    path = f"/v1/notebooks/{notebook['id']}/proxy/api/contents"
    assert alice.get(path).status_code == 200
    assert bob.get(path).status_code == 404
    assert admin.get(path).status_code == 404  # admins manage notebooks, not run code in them
    assert admin.get(f"/v1/notebooks/{notebook['id']}").json()["token"] is None
    assert alice.get(f"/v1/notebooks/{notebook['id']}").json()["token"] is None  # shown once
    assert httpx.get(server.url + path).status_code == 401
    assert bob.post(f"/v1/notebooks/{notebook['id']}/token").status_code == 404
    assert admin.post(f"/v1/notebooks/{notebook['id']}/token").status_code == 404
    assert alice.get("/v1/notebooks/999999/proxy/api/contents").status_code == 404
    # A notebook's access token opens that notebook only.
    other = f"{server.url}/v1/notebooks/999999/proxy/api/contents"
    r = httpx.get(other, headers={"Authorization": f"Bearer {notebook['token']}"})
    assert r.status_code == 401


def test_the_jupyter_port_refuses_direct_requests(server, bob, notebook):
    (port,) = db_row(server.data_dir, "SELECT port FROM notebooks WHERE id = ?", notebook["id"])
    base = f"http://127.0.0.1:{port}/v1/notebooks/{notebook['id']}/proxy/"
    assert httpx.get(base + "api/contents", timeout=5).status_code == 403
    guessed = {"Authorization": f"token {notebook['token']}"}  # the access token is not it
    assert httpx.get(base + "api/contents", headers=guessed, timeout=5).status_code == 403
    attack = (
        "import sys, urllib.request, urllib.error\n"
        f"req = urllib.request.Request({base + 'api/contents'!r}, method='GET')\n"
        "try:\n    print('HTTP', urllib.request.urlopen(req, timeout=5).status)\n"
        "except urllib.error.HTTPError as e:\n    print('HTTP', e.code)\n"
        "except OSError as e:\n    print('REFUSED', e)\n"
    )
    job = submit(bob, attack, resources={"cpu": 0.2, "memory_mb": 128})
    done = wait_job(bob, job["id"])
    log = bob.get(f"/v1/jobs/{job['id']}/logs").text
    assert done["state"] == "SUCCEEDED" and ("HTTP 403" in log or "REFUSED" in log), log


def test_the_access_token_is_stored_hashed_and_can_be_rotated(server, alice, notebook):
    (stored,) = db_row(
        server.data_dir, "SELECT token_hash FROM notebooks WHERE id = ?", notebook["id"]
    )
    assert stored == hashlib.sha256(notebook["token"].encode()).hexdigest()
    for f in server.data_dir.glob("platform.db*"):
        assert notebook["token"].encode() not in f.read_bytes()
    key = server.data_dir / "proxy.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    jupyter = server.data_dir / "notebooks" / f"nb-{notebook['id']}" / "jupyter"
    assert stat.S_IMODE(jupyter.stat().st_mode) & 0o077 == 0  # runtime files hold the token

    rotated = alice.post(f"/v1/notebooks/{notebook['id']}/token").json()["token"]
    assert rotated != notebook["token"]
    with httpx.Client(timeout=30) as browser:
        old = browser.get(notebook["url"], params={"token": notebook["token"]})
        assert old.status_code == 401
        assert browser.get(notebook["url"], params={"token": rotated}).status_code == 303
    notebook["token"] = rotated  # for the tests after this one


def test_a_stopped_notebook_answers_503_and_stays_unreachable(server, alice):
    nb = alice.post("/v1/notebooks", json={"resources": {"cpu": 0.5}}).json()
    try:
        wait_state(alice, nb["id"], {"RUNNING"})
        (port,) = db_row(server.data_dir, "SELECT port FROM notebooks WHERE id = ?", nb["id"])
        stopped = alice.post(f"/v1/notebooks/{nb['id']}/stop").json()
        assert stopped["state"] == "STOPPED" and "stopped by alice" in stopped["reason"]
        r = alice.get(f"/v1/notebooks/{nb['id']}/proxy/api/status")
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        assert alice.delete(f"/v1/notebooks/{nb['id']}").status_code == 204
    assert alice.get(f"/v1/notebooks/{nb['id']}").status_code == 404


def test_an_idle_notebook_is_culled(alice):
    nb = alice.post("/v1/notebooks", json={"idle_timeout_s": 2, "resources": {"cpu": 0.5}}).json()
    try:
        culled = wait_state(alice, nb["id"], {"STOPPED", "FAILED"}, timeout=120)
    finally:
        if alice.get(f"/v1/notebooks/{nb['id']}").json()["state"] in ("STARTING", "RUNNING"):
            alice.post(f"/v1/notebooks/{nb['id']}/stop")
        alice.delete(f"/v1/notebooks/{nb['id']}")
    assert culled["state"] == "STOPPED" and culled["reason"].startswith("culled: idle"), culled
