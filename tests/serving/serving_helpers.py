"""Helpers for the serving tests: model factories, independent reference predictions, a real server
process on a free loopback port, and a small urllib client."""

from __future__ import annotations

import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import miniflow
from miniflow.ml.sparse_lr import SparseLinearModel

# The directory that holds the `miniflow` package under test, for child processes
# (an editable checkout here, site-packages in CI).
SRC = str(Path(miniflow.__file__).resolve().parent.parent)
DIMS_LOG2 = 10


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def write_lr_model(path: Path, seed: int, dims_log2: int = DIMS_LOG2, nnz: int = 60) -> Path:
    """A random sparse LR model saved atomically (temp dir, then rename) at ``path``."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(1 << dims_log2, nnz, replace=False)
    tmp = path.parent / f".tmp-{path.name}"
    SparseLinearModel(keys, rng.normal(size=nnz), float(rng.normal()), dims_log2).save(tmp)
    os.rename(tmp, path)
    return path


def lr_truth(model_dir: Path, rows: list[tuple[list[int], list[float]]], logits=False):
    """P(click) per row computed directly from the saved weights (plain Python)."""
    meta = json.loads((Path(model_dir) / "model.json").read_text())
    with np.load(Path(model_dir) / "weights.npz") as z:
        w = dict(zip(z["keys"].tolist(), z["values"].tolist(), strict=True))
    out = []
    for idx, val in rows:
        m = meta["bias"] + sum(w.get(i, 0.0) * v for i, v in zip(idx, val, strict=True))
        out.append(m if logits else 1.0 / (1.0 + math.exp(-m)))
    return out


def random_rows(seed: int, n: int, dims_log2: int = DIMS_LOG2):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        k = int(rng.integers(0, 8))
        idx = sorted(rng.choice(1 << dims_log2, k, replace=False).tolist())
        rows.append((idx, np.round(rng.uniform(-2, 2, k), 3).tolist()))
    return rows


def instances(rows):
    return [{"indices": i, "values": v} for i, v in rows]


def libsvm_line(idx, val, label=1) -> str:
    """One row as a libsvm line (no newline): ``label i:v i:v ...``."""
    return f"{label} " + " ".join(f"{i}:{v}" for i, v in zip(idx, val, strict=True))


# -- HTTP ---------------------------------------------------------------------------------
def http(method: str, url: str, body: bytes | dict | None = None, headers=None):
    """(status, parsed JSON or text) of one request; HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if isinstance(body, dict | list) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    return status, (json.loads(raw) if ctype.startswith("application/json") else raw.decode())


class ServerProcess:
    """`miniflow serve ARGS --port 0` in a subprocess; ``url`` once it listens."""

    def __init__(self, args: list[str]):
        cmd = [sys.executable, "-m", "miniflow.cli.main", "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(), text=True
        )
        self.stderr_lines: list[str] = []
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, lines), daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.stderr_lines)) from None
        if not first.startswith("miniflow serve: listening on "):
            self.stop()
            raise RuntimeError(f"unexpected first line {first!r}:\n" + "".join(self.stderr_lines))
        self.first_line = first
        self.url = first.split()[4]

    @staticmethod
    def _pump(stream, lines):
        for line in stream:
            lines.put(line)
        lines.put("")

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def get(self, path: str):
        return http("GET", self.url + path)

    def post(self, path: str, body):
        return http("POST", self.url + path, body)

    def wait_for(self, predicate, what: str, timeout: float = 60.0):
        """Polls ``predicate()`` until true; fails the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        pytest.fail(f"timed out waiting for {what}; server log:\n" + "".join(self.stderr_lines))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
