"""The API's contract: one error shape everywhere (FastAPI's own 404/405/422 included),
UTC timestamps with their offset, error statuses declared per route in the OpenAPI
document, unknown query parameters refused, and old databases upgraded in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from platform_helpers import submit, wait_job
from sqlalchemy import create_engine, inspect, text

from miniflow_platform.config import Settings
from miniflow_platform.db import Base
from miniflow_platform.main import build_platform

SMALL = {"resources": {"cpu": 0.1, "memory_mb": 128}}


def shape(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


def test_every_kind_of_error_has_the_one_shape(server, alice, bob):
    with server.client(None) as anon:
        assert "bearer token" in shape(anon.get("/v1/jobs"), 401, "unauthorized")["message"]
    shape(alice.get("/v1/users"), 403, "forbidden")
    shape(alice.get("/v1/no-such-thing"), 404, "not_found")  # FastAPI's routing 404
    shape(alice.get("/v1/jobs/424242"), 404, "not_found")  # a service's 404
    shape(alice.put("/v1/jobs"), 405, "method_not_allowed")
    err = shape(alice.post("/v1/jobs", json={"command": "not a list"}), 422, "validation_error")
    assert err["message"].startswith("invalid request: body.command:")
    assert err["details"][0]["loc"] == ["body", "command"] and err["details"][0]["type"]
    err = shape(
        alice.post("/v1/jobs", content=b"{not json", headers={"Content-Type": "application/json"}),
        422,
        "validation_error",
    )
    assert err["details"][0]["type"] == "json_invalid"
    job = submit(alice, "print(1)", **SMALL)
    wait_job(alice, job["id"])
    err = shape(alice.post(f"/v1/jobs/{job['id']}/cancel"), 409, "conflict")
    assert "already ended" in err["message"]
    shape(bob.get(f"/v1/jobs/{job['id']}"), 404, "not_found")


def test_unknown_query_parameters_are_refused(alice):
    err = shape(alice.get("/v1/jobs?stat=RUNNING"), 422, "validation_error")
    assert err["details"][0]["loc"] == ["query", "stat"] and "state" in err["details"][0]["msg"]
    assert alice.get("/v1/jobs?state=RUNNING").status_code == 200


def test_timestamps_are_utc_with_an_offset(alice):
    before = datetime.now(UTC)
    job = submit(alice, "print(1)", **SMALL)
    done = wait_job(alice, job["id"])
    stamps = [done["created_at"], done["started_at"], done["finished_at"]]
    stamps.append(alice.get("/v1/users/me").json()["created_at"])
    for stamp in stamps:
        parsed = datetime.fromisoformat(stamp)
        assert parsed.utcoffset() == timedelta(0), stamp
    created = datetime.fromisoformat(done["created_at"])
    assert before - timedelta(seconds=5) <= created <= datetime.now(UTC)


def test_a_job_of_one_kind_is_not_found_under_the_other(alice, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (tmp_path / "in.txt").write_text("1\n")
    pred = alice.post(
        "/v1/predictions",
        json={"model_dir": str(model), "inputs": [str(tmp_path / "in.txt")], **SMALL},
    )
    assert pred.status_code == 201, pred.text
    pid = pred.json()["id"]
    err = shape(alice.get(f"/v1/jobs/{pid}"), 404, "not_found")
    assert err["message"] == f"training job {pid} not found"
    assert alice.get(f"/v1/predictions/{pid}").json()["kind"] == "prediction"
    job = submit(alice, "print(1)", **SMALL)
    err = shape(alice.get(f"/v1/predictions/{job['id']}/logs"), 404, "not_found")
    assert err["message"] == f"prediction job {job['id']} not found"
    alice.post(f"/v1/predictions/{pid}/cancel")


ALL_ERRORS = {"400", "401", "403", "404", "409", "413", "422"}


def test_openapi_declares_error_statuses_per_route(alice):
    doc = alice.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "ErrorResponse" in schemas and "HTTPValidationError" not in schemas
    seen = set()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            declared = {s for s in op["responses"] if s[0] == "4"}
            seen |= declared
            for status in declared:
                content = op["responses"][status]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/ErrorResponse"}, (path, status)
            if path == "/healthz":
                assert not declared
                continue
            assert "401" in declared, (method, path)
            if "{" in path:
                assert "404" in declared, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= declared, (method, path)
    assert seen == ALL_ERRORS
    jobs = doc["paths"]["/v1/jobs/{job_id}/cancel"]["post"]["responses"]
    assert {"401", "404", "409", "422"} <= set(jobs)
    assert "403" in doc["paths"]["/v1/users"]["post"]["responses"]
    assert "409" in doc["paths"]["/v1/users"]["post"]["responses"]


def _bounds(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                yield value
            else:
                yield from _bounds(value)
    elif isinstance(node, list):
        for value in node:
            yield from _bounds(value)


def test_openapi_integer_bounds_survive_the_float_they_are_written_as(alice):
    """FastAPI writes bounds as JSON floats; a client reading 2**62 back gets
    4611686018427388000, generates it, and the server refuses its own schema's value."""
    doc = alice.get("/openapi.json").json()
    bounds = list(_bounds(doc))
    assert len(bounds) > 20
    for bound in bounds:
        assert abs(bound) <= 2**53, bound


def test_old_databases_get_the_new_columns(tmp_path):
    """A database from before retries/queue reasons/pids: the server adds the columns and
    reads the old rows with defaults."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)
    new = (
        "pids",
        "max_retries",
        "retry_backoff_s",
        "attempts",
        "next_attempt_at",
        "queue_reason",
        "queue_message",
    )
    with engine.begin() as conn:
        for column in new:
            conn.execute(text(f"ALTER TABLE jobs DROP COLUMN {column}"))
        conn.execute(text("INSERT INTO users (name, is_admin, created_at) VALUES ('old', 0, '2020-01-01 00:00:00')"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO jobs (kind, owner_id, name, command, env, cpu, memory_mb, gpu, "
            "gpu_devices, priority, state, reason, isolation, details, created_at) VALUES "
            "('training', 1, '', '[\"true\"]', '{}', 1, 64, 0, '[]', 0, 'SUCCEEDED', '', '', "
            "'{}', '2020-01-01 00:00:00')"
        ))  # fmt: skip
    engine.dispose()
    platform = build_platform(settings)
    columns = {c["name"] for c in inspect(platform.sessions.kw["bind"]).get_columns("jobs")}
    assert set(new) <= columns
    from miniflow_platform.jobs.models import Job
    from miniflow_platform.jobs.schemas import JobPublic

    with platform.sessions() as session:
        public = JobPublic.of(session.get(Job, 1), "/x")
    assert public.max_retries == 0 and public.attempts == [] and public.attempt == 1
    assert public.created_at.isoformat() == "2020-01-01T00:00:00+00:00"


@pytest.mark.parametrize("path", ["/v1/jobs/0", "/v1/jobs/-1", "/v1/jobs/abc", "/v1/jobs/1e3"])
def test_bad_ids_are_validation_errors(alice, path):
    shape(alice.get(path), 422, "validation_error")
