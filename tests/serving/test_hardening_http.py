"""The HTTP front end against slow, huge and malformed traffic (real server process,
raw sockets): every answer is JSON, counted in the metrics, and the server keeps
serving."""

from __future__ import annotations

import json
import socket
import time

import numpy as np
import pytest
from serving_helpers import instances, lr_truth, random_rows, write_lr_model

MAX_BODY = 1000


@pytest.fixture
def base(tmp_path):
    write_lr_model(tmp_path / "1", seed=7)
    return tmp_path


def _addr(server):
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _read_response(s: socket.socket, head_only=False):
    """(status, headers, body) of one response read from ``s``; None if closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = 0 if head_only else int(headers.get("Content-Length", 0))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _raw(server, data: bytes, shutdown=False, timeout=20):
    """Sends ``data`` on a new connection and reads one response (HEAD: no body)."""
    with socket.create_connection(_addr(server), timeout=timeout) as s:
        s.sendall(data)
        if shutdown:
            s.shutdown(socket.SHUT_WR)
        return _read_response(s, head_only=data.startswith(b"HEAD "))


def _closed_by_server(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def _post_head(length: int, path="/v1/models/ctr:predict") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()


def _predict_ok(server, base):
    rows = random_rows(1, 2)
    code, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert code == 200, body
    np.testing.assert_allclose(body["predictions"], lr_truth(base / "1", rows), rtol=1e-6)


def _metric(server, line_prefix: str) -> float:
    _, text = server.get("/monitoring/prometheus/metrics")
    vals = [float(ln.split()[-1]) for ln in text.splitlines() if ln.startswith(line_prefix)]
    return sum(vals)


def test_silent_and_stalled_connections_are_dropped(base, start_server):
    server = start_server(
        "--model-dir", base, "--name", "ctr", "--idle-timeout-s", "0.5", "--read-timeout-s", "0.5"
    )
    idle = [socket.create_connection(_addr(server), timeout=10) for _ in range(5)]
    stalled = socket.create_connection(_addr(server), timeout=10)
    stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # head never finished
    try:
        t0 = time.monotonic()
        for s in [*idle, stalled]:
            assert _closed_by_server(s)
        assert time.monotonic() - t0 < 8  # not held for the default 60 s
    finally:
        for s in [*idle, stalled]:
            s.close()
    # a keep-alive connection that goes quiet after a request is closed too
    with socket.create_connection(_addr(server), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(s)[0] == 200
        assert _closed_by_server(s)
    assert _metric(server, 'miniflow_serving_connections_closed_total{reason="timeout"}') >= 7
    _predict_ok(server, base)


def test_connections_over_the_cap_get_503_json(base, start_server):
    server = start_server("--model-dir", base, "--name", "ctr", "--max-connections", "3")
    held = [socket.create_connection(_addr(server), timeout=10) for _ in range(3)]
    try:
        for s in held:  # an answer on each proves it was accepted; keep-alive holds it
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(s)[0] == 200
        status, headers, body = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 503
        assert headers["Content-Type"] == "application/json"
        assert "3 connections open (--max-connections)" in json.loads(body)["error"]
    finally:
        for s in held:
            s.close()
    server.wait_for(lambda: server.get("/healthz")[0] == 200, "a free connection slot")
    assert _metric(server, 'miniflow_serving_connections_closed_total{reason="rejected"}') >= 1
    assert _metric(server, 'miniflow_serving_requests_total{model="",api="other",code="503"}') >= 1
    _predict_ok(server, base)


def test_oversized_body_is_413_and_unread(base, start_server):
    server = start_server("--model-dir", base, "--name", "ctr", "--max-body-bytes", str(MAX_BODY))
    status, headers, body = _raw(server, _post_head(10**9))  # nothing of it is sent
    assert status == 413 and headers["Connection"] == "close"
    assert json.loads(body) == {
        "error": f"Request body of {10**9} bytes exceeds the limit of {MAX_BODY} "
        "bytes (--max-body-bytes)"
    }
    _predict_ok(server, base)


def test_request_bytes_in_flight_are_capped_with_503(base, start_server):
    server = start_server(
        *("--model-dir", base, "--name", "ctr"),
        *("--max-body-bytes", str(MAX_BODY), "--max-inflight-bytes", "1500"),
    )
    rows = random_rows(2, 1)
    good = json.dumps({"instances": instances(rows)}).encode().ljust(800)
    with socket.create_connection(_addr(server), timeout=10) as slow:
        slow.sendall(_post_head(1000) + b"{")  # holds 1000 bytes of the budget
        deadline = time.monotonic() + 20
        while True:  # answered 200 until the server has read the slow request's head
            status, _, body = _raw(server, _post_head(len(good)) + good)
            if status != 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 503
        assert "would exceed the limit of 1500 (--max-inflight-bytes)" in json.loads(body)["error"]
        slow.shutdown(socket.SHUT_WR)
        assert _read_response(slow)[0] == 400  # the cut-short body, released
    status, _, body = _raw(server, _post_head(len(good)) + good)
    assert status == 200
    np.testing.assert_allclose(
        json.loads(body)["predictions"], lr_truth(base / "1", rows), rtol=1e-6
    )


@pytest.mark.parametrize("how", ["client closes", "client stalls"])
def test_truncated_body_is_400_and_not_processed(base, start_server, how):
    server = start_server("--model-dir", base, "--name", "ctr", "--read-timeout-s", "0.5")
    status, headers, body = _raw(server, _post_head(1000) + b"{}", shutdown=how == "client closes")
    assert status == 400 and headers["Connection"] == "close"
    # "{}" complete would be a 400 about missing 'instances': it was never parsed
    assert json.loads(body) == {
        "error": "Request body incomplete: received 2 of 1000 bytes (Content-Length) "
        "before the client stopped sending"
    }
    _predict_ok(server, base)


DEEP = "arrays or objects nested too deeply"


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"[" * 100_000, DEEP),
        (b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", DEEP),
        # 900 levels parse (json's limit is the recursion limit); the codec refuses them
        (b'{"instances": ' + b"[" * 900 + b"1" + b"]" * 900 + b"}", "must be a JSON object"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, DEEP),
    ],
    ids=["100k open", "100k balanced", "900 deep", "50k objects"],
)
def test_deep_json_nesting_is_400(base, start_server, body, expected):
    server = start_server("--model-dir", base, "--name", "ctr")
    status, headers, reply = _raw(server, _post_head(len(body)) + body)
    assert status == 400, reply[:200]
    assert headers["Content-Type"] == "application/json"
    assert expected in json.loads(reply)["error"]
    _predict_ok(server, base)


def test_every_method_and_malformed_request_gets_json(base, start_server):
    server = start_server("--model-dir", base, "--name", "ctr")
    for method in ("PUT", "DELETE", "OPTIONS", "PATCH", "GET"):
        req = f"{method} /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        status, headers, body = _raw(server, req.encode())
        assert status == 405, method
        assert json.loads(body) == {"error": f"predict needs POST, got {method}"}
    status, headers, body = _raw(server, b"HEAD /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and headers["Content-Type"] == "application/json" and body == b""
    status, headers, body = _raw(server, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200 and int(headers["Content-Length"]) > 0 and body == b""
    status, _, body = _raw(server, b"DELETE /v1/models/ctr HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and "use GET" in json.loads(body)["error"]
    status, _, body = _raw(server, b"PUT /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and json.loads(body) == {
        "error": "PUT is not allowed on /healthz; use GET"
    }
    # methods http.server has no handler for, and broken request lines
    status, _, body = _raw(server, b"BREW /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405
    assert json.loads(body) == {"error": "Method BREW is not allowed on /v1/models/ctr:predict"}
    for garbage in (
        b"complete garbage\r\n\r\n",
        b"GET / HTTP/1.1 x y\r\n\r\n",
        b"\x16\x03\x01\r\n",
    ):
        status, _, body = _raw(server, garbage)
        assert status == 400 and "error" in json.loads(body)
    long_header = b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n"
    status, _, body = _raw(server, long_header)
    assert status == 431 and "error" in json.loads(body)
    # a PUT with a body on :predict: its unread body closes the connection
    with socket.create_connection(_addr(server), timeout=10) as s:
        s.sendall(
            b"PUT /v1/models/ctr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
        )
        status, headers, _ = _read_response(s)
        assert status == 405 and headers["Connection"] == "close"
        assert _closed_by_server(s)
    assert (
        _metric(server, 'miniflow_serving_requests_total{model="ctr",api="predict",code="405"}')
        == 7
    )
    assert _metric(server, 'miniflow_serving_requests_total{model="",api="other",code="405"}') >= 1
    assert _metric(server, 'miniflow_serving_requests_total{model="",api="other",code="400"}') >= 1
    _predict_ok(server, base)
