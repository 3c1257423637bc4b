"""Test helpers: a real platform server under uvicorn in a subprocess, and run cleanup."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "OOM_KILLED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``miniflow-platform serve`` on a free loopback port, with its own data dir."""

    def __init__(self, data_dir: Path, *extra: str):
        self.data_dir = data_dir
        self.extra = list(extra)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.admin_token: str | None = None
        self.log = data_dir.parent / f"server-{data_dir.name}.log"

    def start(self, timeout: float = 30) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if isolation_mode() != "isolated" and "--single-tenant" not in self.extra:
            self.extra.append("--single-tenant")  # the server refuses "none" otherwise
        with self.log.open("ab") as log:  # the server keeps its own copy of the fd
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "miniflow_platform.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                    "--poll-interval",
                    "0.2",
                    *self.extra,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            self.stop()  # a server that never answered must not outlive the test
            raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")
        found = re.search(r"admin token \(shown once, store it\): (\S+)", self.log.read_text())
        if found and self.admin_token is None:
            self.admin_token = found.group(1)
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def new_user(self, name: str) -> str:
        with self.client(self.admin_token) as c:
            r = c.post("/v1/users", json={"name": name})
            assert r.status_code == 201, r.text
            return r.json()["token"]


@functools.cache
def isolation_mode() -> str:
    """The job isolation this machine allows: "isolated" or "none" (tests name it)."""
    from miniflow_platform.executors import modes

    return modes.probe().mode


def kill_all_runs(data_dir: Path) -> None:
    """Kill every run a test server left behind (runners live in their own sessions).

    Goes by spec.json, which the executor writes before starting the runner, so a run
    whose runner is still booting is waited for rather than missed.
    """
    from miniflow_platform.executors import cgroups
    from miniflow_platform.executors.runner import kill_tree

    parents = set()
    for spec_file in data_dir.rglob("spec.json"):
        groups = json.loads(spec_file.read_text())["cgroups"]
        parents.update(str(Path(g).parent) for g in groups)
        runner_file = spec_file.with_name("runner.json")
        status_file = spec_file.with_name("status.json")
        deadline = time.time() + 10
        while not runner_file.exists() and not status_file.exists() and time.time() < deadline:
            time.sleep(0.05)
        if runner_file.exists():
            info = json.loads(runner_file.read_text())
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(info["pid"])
                if abs(proc.create_time() - info["create_time"]) < 1:
                    kill_tree(proc.pid, groups, grace_s=0.5)
                    proc.kill()
                    proc.wait(5)
        cgroups.remove(groups)
    cgroups.remove(sorted(parents))


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_job(
    client: httpx.Client,
    job_id: int,
    states=TERMINAL,
    timeout: float = 60,
    prefix: str = "/v1/jobs",
) -> dict:
    def done():
        job = client.get(f"{prefix}/{job_id}").json()
        return job if job["state"] in states else None

    return wait_for(done, timeout, what=f"job {job_id} in {sorted(states)}")


def submit(client: httpx.Client, code: str, **body) -> dict:
    r = client.post("/v1/jobs", json={"command": [sys.executable, "-c", code], **body})
    assert r.status_code == 201, r.text
    return r.json()


FAKE_MINIFLOW = '''#!{python}
"""A stand-in for the `miniflow` CLI's serve/predict contract (used until the library lands)."""
import json, os, sys, argparse
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

cmd, rest = sys.argv[1], sys.argv[2:]
p = argparse.ArgumentParser()
if cmd == "serve":
    for a in ("--model-dir", "--name", "--port", "--host", "--auth-token-env"):
        p.add_argument(a)
    a = p.parse_args(rest)
    offset = float((Path(a.model_dir) / "offset").read_text())
    token = os.environ[a.auth_token_env] if a.auth_token_env else None

    class H(BaseHTTPRequestHandler):
        def parse_request(self):
            if not super().parse_request():
                return False
            if token and self.headers.get("Authorization") != "Bearer " + token:
                self.close_connection = True
                self._send(401, {{"error": "missing or wrong token"}})
                return False
            return True

        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == f"/v1/models/{{a.name}}":
                status = {{"version": "1", "state": "AVAILABLE"}}
                self._send(200, {{"model_version_status": [status]}})
            else:
                self._send(404, {{"error": "no such model"}})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            preds = [sum(x) + offset for x in body["instances"]]
            self._send(200, {{"predictions": preds}})

        def log_message(self, *args):
            pass

    print("serving", a.name, "on", a.port, flush=True)
    HTTPServer((a.host, int(a.port)), H).serve_forever()
elif cmd == "predict":
    for a in ("--model-dir", "--input", "--output", "--format"):
        p.add_argument(a)
    a = p.parse_args(rest)
    offset = float((Path(a.model_dir) / "offset").read_text())
    rows = Path(a.input).read_text().split()
    Path(a.output).write_text("".join(f"{{float(r) + offset}}\\n" for r in rows))
    print("predicted", len(rows), "rows", flush=True)
else:
    sys.exit(f"fake miniflow: unsupported command {{cmd}}")
'''


def make_fake_env(root: Path) -> Path:
    """A directory usable as ``python_env``: bin/miniflow is the fake CLI above."""
    (root / "bin").mkdir(parents=True, exist_ok=True)
    script = root / "bin" / "miniflow"
    script.write_text(FAKE_MINIFLOW.format(python=sys.executable))
    script.chmod(0o755)
    return root
