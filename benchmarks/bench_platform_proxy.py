"""What the platform's authenticated proxy costs per model service request.

Starts a platform server and one model service (a tiny sparse LR model, the real
`miniflow serve`), then times sequential predict requests side by side, in rounds:
straight to the service port (with its backend token, read from the server's key as
only the platform could) and through the proxy (`POST /v1/services/NAME:predict`).

    .venv/bin/python benchmarks/bench_platform_proxy.py [--requests 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

BODY = {"signature_name": "predict", "instances": [{"indices": [1, 2], "values": [1.0, 2.0]}]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from miniflow.ml.sparse_lr import SparseLinearModel

    root = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    SparseLinearModel(np.array([1, 2]), np.array([0.5, 0.25], np.float32), 0.0, 4, {}).save(
        root / "model" / "1"
    )
    port = _free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "miniflow_platform.cli", "serve", "--port", str(port)]
        + ["--data-dir", str(root / "data"), "--poll-interval", "0.2"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        token = _admin_token(root / "server.log", url)
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        body = {"name": "bench", "model_dir": str(root / "model"), "resources": {"cpu": 1}}
        api.post("/v1/services", json=body).raise_for_status()
        while api.get("/v1/services/bench").json()["state"] != "AVAILABLE":
            time.sleep(0.2)
        direct = _direct_client(root / "data")
        # (name, client, method, path): "api" is an authenticated API call that forwards
        # nothing (token check + DB lookup), the floor under any proxied request.
        targets = (
            ("direct", direct[0], "POST", direct[1]),
            ("proxy", api, "POST", "/v1/services/bench:predict"),
            ("proxy GET", api, "GET", "/v1/services/bench/v1/models/bench"),
            ("api", api, "GET", "/v1/services/bench"),
        )
        for _name, client, method, path in targets:
            r = client.request(method, path, json=BODY if method == "POST" else None)
            assert r.status_code == 200, (path, r.status_code, r.text)
        results: dict[str, list[float]] = {name: [] for name, *_ in targets}
        for _ in range(args.rounds):
            for name, client, method, path in targets:
                t0 = time.perf_counter()
                for _ in range(args.requests):
                    r = client.request(method, path, json=BODY if method == "POST" else None)
                    r.raise_for_status()
                results[name].append((time.perf_counter() - t0) / args.requests * 1e3)
        for name, ms in results.items():
            print(f"{name:7s} ms/request per round: " + ", ".join(f"{m:.2f}" for m in ms))
        d, p, a = (statistics.median(results[k]) for k in ("direct", "proxy", "api"))
        print(
            f"median ms/request: direct {d:.2f}, proxy {p:.2f}, plain API call {a:.2f}; "
            f"forwarding costs {p - a:.2f} beyond an API call"
        )
        api.delete("/v1/services/bench")
    finally:
        server.terminate()
        server.wait(30)
    return 0


def _direct_client(data_dir: Path) -> tuple[httpx.Client, str]:
    import base64
    import hashlib
    import hmac

    with sqlite3.connect(data_dir / "platform.db") as db:
        sid, gen, port = db.execute(
            "SELECT id, generation, port FROM model_services WHERE name = 'bench'"
        ).fetchone()
    key = (data_dir / "proxy.key").read_bytes()
    digest = hmac.new(key, f"service:{sid}:{gen}".encode(), hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}
    )
    return client, "/v1/models/bench:predict"


def _admin_token(log: Path, url: str) -> str:
    deadline = time.time() + 60
    while time.time() < deadline:
        found = re.search(r"admin token \(shown once, store it\): (\S+)", log.read_text())
        try:
            if found and httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return found.group(1)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(log.read_text()[-2000:])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
