"""Hung workers under `miniflow serve --workers N` (issue 19): a worker stopped with
SIGSTOP, or with a model call stuck in a loop, is detected from its heartbeat, its
clients are answered 503 JSON, and it is killed and replaced.

Real subprocesses; every process started is stopped in teardown (the ``workers``
fixture SIGKILLs any worker pid a test saw, the ``start_server`` fixture the rest)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time

import pytest
from serving_helpers import http as http_call, instances, lr_truth, random_rows, write_lr_model

from miniflow.serving.liveness import Heartbeat, read_beats

ROWS = random_rows(11, 2)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(c) for c in f.read().split()]
    return [c for c in out if _alive(c)]


@pytest.fixture
def workers(start_server):
    seen: list[int] = []

    def start(*args):
        s = start_server(*args)
        pids = [int(p) for p in s.first_line.split("pids=", 1)[1].split()[0].split(",")]
        seen.extend(pids)
        s.seen = seen
        return s, pids

    yield start
    for pid in seen:
        if _alive(pid):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)


def _request(conn, method, path, body=None):
    conn.request(method, path, json.dumps(body) if body is not None else None)
    r = conn.getresponse()
    raw = r.read()
    return r.status, r.getheader("Content-Type"), raw


def _connection_to(url: str, pid: int, tries: int = 200) -> http.client.HTTPConnection:
    """A keep-alive connection that worker ``pid`` accepted (told by its metrics)."""
    host, port = url.rsplit("/", 1)[1].split(":")
    for _ in range(tries):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.connect()
        conn.auto_open = 0  # never reconnect silently (to another worker)
        _, _, text = _request(conn, "GET", "/monitoring/prometheus/metrics")
        if f'pid="{pid}"' in text.decode():
            return conn
        conn.close()
    pytest.fail(f"no connection landed on worker {pid}")


def _restarts(url: str) -> dict:
    _, text = http_call("GET", url + "/monitoring/prometheus/metrics")
    out = {}
    for line in text.splitlines():
        if line.startswith("miniflow_serving_worker_restarts_total{"):
            out[line.split('reason="', 1)[1].split('"', 1)[0]] = int(line.rsplit(" ", 1)[1])
    return out


def test_a_stopped_worker_is_answered_503_killed_and_replaced(tmp_path, workers):
    write_lr_model(tmp_path / "lr" / "1", seed=1)
    server, pids = workers(
        "--model-dir", tmp_path / "lr", "--name", "lr", "--workers", "2",
        "--worker-timeout-s", "3",
    )  # fmt: skip
    victim, other = pids
    stuck = _connection_to(server.url, victim)
    healthy = _connection_to(server.url, other)
    os.kill(victim, signal.SIGSTOP)
    server.wait_for(lambda: _state(victim) == "T", "the worker to stop")
    t0 = time.monotonic()
    status, ctype, raw = _request(
        stuck, "POST", "/v1/models/lr:predict", {"instances": instances(ROWS)}
    )
    waited = time.monotonic() - t0
    # the stopped worker never read the request: the supervisor answered it
    assert status == 503 and ctype == "application/json", (status, raw, server.stderr_lines)
    assert f"worker {victim} stopped answering (no heartbeat" in json.loads(raw)["error"]
    assert waited < 30
    server.wait_for(lambda: not _alive(victim), "the stopped worker to be killed")
    # the other worker's connection was never touched
    status, _, raw = _request(
        healthy, "POST", "/v1/models/lr:predict", {"instances": instances(ROWS)}
    )
    assert status == 200
    assert json.loads(raw)["predictions"] == pytest.approx(lr_truth(tmp_path / "lr" / "1", ROWS))
    sup = server.proc.pid
    server.wait_for(lambda: len(_children(sup)) == 2, "a replacement worker")
    server.seen.extend(_children(sup))
    for _ in range(10):  # fresh connections: every worker answers
        code, body = http_call(
            "POST", server.url + "/v1/models/lr:predict", {"instances": instances(ROWS)}
        )
        assert code == 200
    assert _restarts(server.url) == {"exited": 0, "hung": 1}
    assert any(f"(pid {victim}) hung: no heartbeat" in ln for ln in server.stderr_lines)


_STUCK_MODEL = """
import miniflow.serving.sparse_lr as m

_predict = m.SparseLRServable.predict


def predict(self, signature_name, inputs):
    if int(inputs["indices"].values[0]) == 999:  # a model call that never returns
        while True:
            pass
    return _predict(self, signature_name, inputs)


m.SparseLRServable.predict = predict
"""


def test_a_model_call_stuck_in_a_loop_is_answered_503_and_its_worker_replaced(
    tmp_path, workers, monkeypatch
):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_STUCK_MODEL)
    monkeypatch.setenv("PYTHONPATH", str(hook))
    write_lr_model(tmp_path / "lr" / "1", seed=2)
    server, pids = workers(
        "--model-dir", tmp_path / "lr", "--name", "lr", "--workers", "2",
        "--worker-timeout-s", "3",
    )  # fmt: skip
    t0 = time.monotonic()
    code, body = http_call(
        "POST",
        server.url + "/v1/models/lr:predict",
        {"instances": [{"indices": [999], "values": [1.0]}]},
    )
    assert code == 503
    assert "model call still running after" in body["error"]
    assert time.monotonic() - t0 < 30
    sup = server.proc.pid
    server.wait_for(lambda: sum(_alive(p) for p in pids) == 1, "the stuck worker to be killed")
    server.wait_for(lambda: len(_children(sup)) == 2, "a replacement worker")
    server.seen.extend(_children(sup))
    code, body = http_call(
        "POST", server.url + "/v1/models/lr:predict", {"instances": instances(ROWS)}
    )
    assert code == 200
    assert _restarts(server.url)["hung"] == 1
    assert any("a model call is still running after" in ln for ln in server.stderr_lines)


def test_worker_timeout_must_not_be_negative(start_server):
    import subprocess
    import sys

    from serving_helpers import child_env

    r = subprocess.run(
        [sys.executable, "-m", "miniflow.cli.main", "serve", "--model-dir", ".", "--workers", "2",
         "--worker-timeout-s", "-1"],
        capture_output=True, text=True, env=child_env(), timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and "--worker-timeout-s must be >= 0" in r.stderr


def test_heartbeat_answers_a_stuck_request_and_reports_it():
    r, w = os.pipe()
    os.set_blocking(r, False)
    beat = Heartbeat(w, timeout_s=0.2)
    server_side, client_side = socket.socketpair()
    try:
        beat.start()
        token = beat.begin(server_side)
        time.sleep(0.6)
        client_side.settimeout(5)
        reply = client_side.recv(4096).decode()
        assert reply.startswith("HTTP/1.1 503 ") and "Connection: close" in reply
        assert (
            "model call still running after" in json.loads(reply.split("\r\n\r\n", 1)[1])["error"]
        )
        got, stuck = read_beats(r)
        assert got and stuck is not None and stuck.startswith("stuck ")
        assert beat.end(token) is False  # the request path must not answer again
        token = beat.begin(server_side)
        assert beat.end(token) is True  # a request that ends in time
        time.sleep(0.15)
        assert read_beats(r) == (True, None)  # "ok" again
    finally:
        beat.stop()
        server_side.close()
        client_side.close()
        os.close(w)
        os.close(r)


def test_read_beats_raises_eof_when_the_worker_is_gone():
    r, w = os.pipe()
    os.set_blocking(r, False)
    assert read_beats(r) == (False, None)
    os.close(w)
    with pytest.raises(EOFError):
        read_beats(r)
    os.close(r)
