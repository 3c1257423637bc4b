"""How responsive the platform stays while a large code archive arrives.

Starts a platform server, then sends the same archive (random bytes in a stored zip,
so nothing compresses) two ways while a second client polls ``GET /v1/users/me``
back to back, and reports that client's latencies during the transfer:

* inline: ``POST /v1/jobs`` with ``code_archive_b64`` (one JSON body, parsed by
  FastAPI on the event loop);
* upload: ``POST /v1/uploads`` with the raw archive (streamed to disk by worker
  threads), then ``POST /v1/jobs`` with ``code_upload_id``.

The machine is shared, so the two are measured side by side in alternating rounds.

    .venv/bin/python benchmarks/bench_platform_upload.py [--mb 40] [--rounds 3]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("blob.bin", os.urandom(args.mb * 2**20))
    archive = buf.getvalue()
    port = _free_port()
    log = (root / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "miniflow_platform.cli", "serve", "--port", str(port)]
        + ["--data-dir", str(root / "data"), "--quota-disk-mb", "none"]
        + ["--limit", f"max_body_bytes={4 * len(archive)}", "--quota-running-jobs", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        token = _admin_token(root / "server.log", url)
        headers = {"Authorization": f"Bearer {token}"}
        results: dict[str, list[float]] = {"inline": [], "upload": []}
        for _ in range(args.rounds):
            for way in ("inline", "upload"):
                results[way] += _measure(url, headers, archive, way)
        print(f"archive {len(archive) / 2**20:.0f} MiB, {args.rounds} rounds")
        print("way      polls   median ms   p99 ms   max ms")
        for way, lat in results.items():
            lat.sort()
            p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
            print(
                f"{way:8} {len(lat):5}   {statistics.median(lat) * 1e3:9.1f}"
                f"   {p99 * 1e3:6.1f}   {lat[-1] * 1e3:6.1f}"
            )
    finally:
        server.terminate()
        server.wait(10)
    return 0


def _measure(url: str, headers: dict, archive: bytes, way: str) -> list[float]:
    done = threading.Event()
    latencies: list[float] = []

    def poll() -> None:
        with httpx.Client(base_url=url, headers=headers) as c:
            while not done.is_set():
                t = time.perf_counter()
                c.get("/v1/users/me")
                latencies.append(time.perf_counter() - t)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    latencies.clear()
    with httpx.Client(base_url=url, headers=headers, timeout=300) as c:
        body = {"command": ["true"], "resources": {"cpu": 0.1, "memory_mb": 64}}
        if way == "inline":
            body["code_archive_b64"] = base64.b64encode(archive).decode()
            r = c.post("/v1/jobs", json=body)
        else:
            up = c.post("/v1/uploads", content=archive)
            assert up.status_code == 201, up.text
            r = c.post("/v1/jobs", json={**body, "code_upload_id": up.json()["id"]})
        assert r.status_code == 201, r.text
    done.set()
    poller.join()
    return latencies


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_token(log: Path, url: str) -> str:
    for _ in range(300):
        found = re.search(r"admin token \(shown once, store it\): (\S+)", log.read_text())
        if found:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return found.group(1)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    raise RuntimeError(log.read_text())


if __name__ == "__main__":
    sys.exit(main())
