"""Request limits on a real server: body size (declared and streamed), job environment,
pids, retries. Each limit answers 413 or 422 in the one error shape, naming the limit."""

from __future__ import annotations

import json
import re
import socket
import sys

import pytest
from platform_helpers import Server, kill_all_runs

LIMITS = {
    "max_body_bytes": 65536,
    "max_env_vars": 8,
    "max_env_bytes": 1024,
    "max_pids": 1000,
    "max_retries": 3,
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    args = [a for k, v in LIMITS.items() for a in ("--limit", f"{k}={v}")]
    srv = Server(tmp_path_factory.mktemp("limits") / "data", "--cpu", "2", *args)
    try:
        yield srv.start()
    finally:
        srv.stop()
        kill_all_runs(srv.data_dir)


@pytest.fixture(scope="module")
def carol(small):
    with small.client(small.new_user("carol")) as c:
        yield c


def job(**extra):
    return {"command": [sys.executable, "-c", "pass"], **extra}


def raw_request(port: int, data: bytes) -> tuple[str, str]:
    """Send raw bytes; return (status line + headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += s.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        while len(body) < length:
            body += s.recv(65536)
    return head.decode(), body.decode()


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body["error"]


def test_body_over_the_limit_is_refused_by_its_content_length_unread(small, carol):
    token = carol.headers["Authorization"].encode()
    # Declares 1 GB and sends nothing: the answer must come without reading a byte.
    head, body = raw_request(
        small.port,
        b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: " + token + b"\r\nContent-Length: 1000000000\r\n\r\n",
    )
    assert head.startswith("HTTP/1.1 413"), head
    err = json.loads(body)["error"]
    assert err["code"] == "too_large" and "65536" in err["message"], err


def test_streamed_body_over_the_limit_is_refused_at_the_limit(carol):
    pad = "x" * 40_000

    def chunks():  # chunked encoding: no Content-Length to check up front
        yield b'{"command": ["true"], "name": "'
        yield pad.encode()
        yield pad.encode()
        yield b'"}'

    r = carol.post("/v1/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    err = error(r, 413, "too_large")
    assert "65536" in err["message"] and err["details"] == {"limit_bytes": 65536}


def test_body_under_the_limit_passes_the_body_check(carol):
    r = carol.post("/v1/jobs", json=job(name="n" * 100))
    assert r.status_code == 201, r.text


def test_too_many_environment_variables(carol):
    env = {f"V{i}": "1" for i in range(9)}
    err = error(carol.post("/v1/jobs", json=job(env=env)), 422, "invalid_request")
    assert "9 variables" in err["message"] and "limits.max_env_vars" in err["message"]


def test_environment_over_its_byte_limit(carol):
    env = {"BIG": "v" * 1100}  # 3 + 1100 bytes > 1024
    err = error(carol.post("/v1/jobs", json=job(env=env)), 422, "invalid_request")
    assert "1103 bytes" in err["message"] and "limits.max_env_bytes" in err["message"]
    # Bytes, not characters: 400 three-byte characters are 1200 bytes.
    err = error(carol.post("/v1/jobs", json=job(env={"U": "\u20ac" * 400})), 422, "invalid_request")
    assert "1201 bytes" in err["message"]
    assert carol.post("/v1/jobs", json=job(env={"OK": "v" * 1000})).status_code == 201


def test_environment_of_100_mb_is_refused_by_the_body_limit(carol):
    big = "v" * (100 * 2**20)
    r = carol.post("/v1/jobs", json=job(env={"BIG": big}))
    error(r, 413, "too_large")


@pytest.mark.parametrize(
    "env",
    [{"1BAD": "x"}, {"A-B": "x"}, {"": "x"}, {"NUL": "a\x00b"}],
    ids=["digit", "dash", "empty", "nul"],
)
def test_invalid_environment_names_and_values(carol, env):
    error(carol.post("/v1/jobs", json=job(env=env)), 422, "validation_error")


def test_pids_limit_is_a_job_resource(small, carol):
    r = carol.post("/v1/jobs", json=job(resources={"cpu": 0.1, "memory_mb": 64, "pids": 64}))
    assert r.status_code == 201, r.text
    assert r.json()["resources"]["pids"] == 64
    default = carol.post("/v1/jobs", json=job(resources={"cpu": 0.1, "memory_mb": 64})).json()
    assert default["resources"]["pids"] == 512  # Settings.default_pids_limit
    err = error(carol.post("/v1/jobs", json=job(resources={"pids": 1001})), 422, "invalid_request")
    assert "limits.max_pids" in err["message"]
    error(carol.post("/v1/jobs", json=job(resources={"pids": 0})), 422, "validation_error")


def test_max_retries_over_the_server_limit(carol):
    err = error(carol.post("/v1/jobs", json=job(max_retries=4)), 422, "invalid_request")
    assert "limits.max_retries" in err["message"]


def test_empty_program_is_refused(carol):
    err = error(carol.post("/v1/jobs", json={"command": ["", "x"]}), 422, "invalid_request")
    assert "command[0]" in err["message"]


def test_one_code_source_only(carol, tmp_path):
    r = carol.post("/v1/jobs", json=job(working_dir=str(tmp_path), code_upload_id=1))
    err = error(r, 422, "invalid_request")
    assert "at most one of" in err["message"]


def test_server_keeps_serving_after_refusals(carol):
    assert carol.get("/v1/users/me").status_code == 200
