"""Two users: neither can see or touch the other's jobs, through any endpoint."""

from __future__ import annotations

import pytest
from platform_helpers import submit, wait_job

from miniflow_platform.errors import NotFound
from miniflow_platform.paths import safe_join

SMALL = {"resources": {"cpu": 0.1, "memory_mb": 128}}


@pytest.fixture(scope="module")
def alices_jobs(alice):
    done = submit(
        alice,
        "import os, pathlib; print('alice secret'); "
        "pathlib.Path('out.txt').write_text('alice artifact')",
        **SMALL,
    )
    wait_job(alice, done["id"])
    waiting = submit(
        alice, "print(1)", priority=-1000, resources={"cpu": 2, "memory_mb": 128}
    )  # may run; fine either way
    return done, waiting


ENDPOINTS = [
    ("GET", "/v1/jobs/{id}"),
    ("GET", "/v1/jobs/{id}/logs"),
    ("GET", "/v1/jobs/{id}/logs?follow=true"),
    ("GET", "/v1/jobs/{id}/artifacts"),
    ("GET", "/v1/jobs/{id}/artifacts/out.txt"),
    ("POST", "/v1/jobs/{id}/cancel"),
    ("DELETE", "/v1/jobs/{id}"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_other_users_job_is_not_found(alice, bob, alices_jobs, method, path):
    for job in alices_jobs:
        r = bob.request(method, path.format(id=job["id"]))
        assert r.status_code == 404, (method, path, r.text)
        assert "alice" not in r.text
        assert alice.get(f"/v1/jobs/{job['id']}").status_code == 200  # still there


def test_lists_show_only_own_jobs(alice, bob, alices_jobs):
    assert {j["user"] for j in bob.get("/v1/jobs").json()["data"]} <= {"bob"}
    ids = [j["id"] for j in alice.get("/v1/jobs").json()["data"]]
    assert alices_jobs[0]["id"] in ids
    # a user filter does not widen a non-admin's view
    assert bob.get("/v1/jobs", params={"user_name": "alice"}).json()["count"] == 0


def test_owner_reads_own_artifact(alice, alices_jobs):
    r = alice.get(f"/v1/jobs/{alices_jobs[0]['id']}/artifacts/out.txt")
    assert r.text == "alice artifact"


def test_tokens_only_for_self_unless_admin(bob, admin):
    assert bob.post("/v1/users/alice/tokens").status_code == 404
    r = bob.post("/v1/users/bob/tokens")
    assert r.status_code == 201 and r.json()["token"].startswith("mfp_")
    assert admin.post("/v1/users/alice/tokens").status_code == 201


def test_revoked_token_stops_working(server, bob):
    new = bob.post("/v1/users/bob/tokens").json()
    with server.client(new["token"]) as c:
        assert c.get("/v1/users/me").status_code == 200
        other = server.client(server.new_user("ivan"))
        assert other.delete(f"/v1/users/bob/tokens/{new['id']}").status_code == 404
        assert other.delete(f"/v1/users/ivan/tokens/{new['id']}").status_code == 404
        assert bob.delete(f"/v1/users/bob/tokens/{new['id']}").status_code == 204
        assert c.get("/v1/users/me").status_code == 401


def test_ids_and_names_in_paths_are_validated(alice):
    for path in (
        "/v1/jobs/0",
        "/v1/jobs/-1",
        "/v1/jobs/abc",
        "/v1/jobs/1e3",
        "/v1/services/..%2F..",
        "/v1/services/UPPER",
        "/v1/notebooks/x",
    ):
        assert alice.get(path).status_code in (404, 422), path


def test_safe_join_refuses_escapes(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.txt").write_text("x")
    (tmp_path / "outside").write_text("y")
    (root / "link").symlink_to(tmp_path / "outside")
    assert safe_join(root, "ok.txt") == (root / "ok.txt").resolve()
    assert safe_join(root, "/ok.txt") == (root / "ok.txt").resolve()
    for bad in ("../outside", "a/../../outside", "link"):
        with pytest.raises(NotFound):
            safe_join(root, bad)
