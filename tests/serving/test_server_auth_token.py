"""`miniflow serve --auth-token-env VAR`: every request needs `Authorization: Bearer $VAR`."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from serving_helpers import (
    ServerProcess,
    child_env,
    http,
    instances,
    lr_truth,
    random_rows,
    write_lr_model,
)

TOKEN = "s3cret-token-for-this-test"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("auth")
    write_lr_model(base / "1", seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODEL_TOKEN", TOKEN)
        server = ServerProcess(
            ["--model-dir", str(base), "--name", "m", "--auth-token-env", "MODEL_TOKEN"]
        )
    try:
        yield server, base
    finally:
        assert server.stop() == 0


def test_requests_without_the_token_get_401(served):
    server, _ = served
    body = {"instances": instances(random_rows(0, 2))}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        for method, path, payload in (
            ("GET", "/v1/models/m", None),
            ("GET", "/healthz", None),
            ("GET", "/monitoring/prometheus/metrics", None),
            ("POST", "/v1/models/m:predict", body),
        ):
            status, answer = http(method, server.url + path, payload, headers)
            assert status == 401, (method, path, headers)
            assert "token" in answer["error"]


def test_requests_with_the_token_are_served(served):
    server, base = served
    rows = random_rows(1, 5)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, answer = http(
        "POST", server.url + "/v1/models/m:predict", {"instances": instances(rows)}, auth
    )
    assert status == 200
    assert answer["predictions"] == pytest.approx(lr_truth(base / "1", rows), rel=1e-5)
    assert http("GET", server.url + "/healthz", None, auth)[0] == 200


def test_a_refused_body_is_not_read_as_the_next_request(served):
    """After a 401 the connection closes, so the unread body can never be parsed as a request."""
    server, _ = served
    host, port = server.url.removeprefix("http://").split(":")
    smuggled = b"GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n"
    request = (
        b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\n"
        + f"Content-Length: {len(smuggled)}\r\n\r\n".encode()
        + smuggled
    )
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.") == 1 and received.startswith(b"HTTP/1.1 401")


def test_an_empty_or_missing_variable_is_refused_at_start(tmp_path):
    write_lr_model(tmp_path / "1", seed=4)
    env = child_env()
    env.pop("NO_SUCH_TOKEN_VAR", None)
    r = subprocess.run(
        [sys.executable, "-m", "miniflow.cli.main", "serve", "--model-dir", str(tmp_path)]
        + ["--port", "0", "--auth-token-env", "NO_SUCH_TOKEN_VAR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "$NO_SUCH_TOKEN_VAR is unset or empty" in r.stderr
