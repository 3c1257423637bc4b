"""End-to-end platform demo: train a model as a job, serve it, ask it a prediction.

    python examples/platform_demo.py [--keep]

Starts `miniflow-platform serve` on a free loopback port with a temporary data dir,
creates a user, then through the REST API:

1. submits a training job: `miniflow data gen-ctr` + `miniflow lr train` (one job,
   `sh -c`), writing the model into the job's artifacts directory;
2. starts a model service from that job's output (`miniflow serve` under the platform);
3. sends a prediction through the platform (`POST /v1/services/NAME:predict`);
4. runs a batch prediction job over the test file.

Needs the miniflow library's `data`, `lr`, `serve` and `predict` commands.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise SystemExit(f"demo: timed out waiting for {what}")


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    log = (data_dir.parent / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "miniflow_platform.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--single-tenant",  # one user; jobs are still isolated where the machine can
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None and SystemExit("server exited")

    wait(up, 60, "the platform server")
    text = (data_dir.parent / "server.log").read_text()
    token = re.search(r"admin token \(shown once, store it\): (\S+)", text).group(1)
    return proc, url, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--python-env",
        default=None,
        help="virtualenv whose bin/miniflow the workloads use (default: this one)",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="miniflow-platform-demo-"))
    proc, url, admin_token = start_server(root / "data")
    print(f"platform running at {url} (data in {root})")
    try:
        admin = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60
        )
        token = admin.post("/v1/users", json={"name": "demo"}).json()["token"]
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        script = (
            "set -e\n"
            "miniflow data gen-ctr --rows 22000 --dims-log2 12 --seed 1 "
            "--format libsvm --out all.svm\n"
            "head -n 20000 all.svm > train.svm && tail -n 2000 all.svm > test.svm\n"
            "rm all.svm\n"
            "miniflow lr train --train train.svm --test test.svm --dims-log2 12 "
            "--model-out model/1 --no-progress\n"
        )  # model/ = base dir, 1/ = version
        env = {"python_env": args.python_env} if args.python_env else {}
        job = api.post(
            "/v1/jobs",
            json={
                "name": "train-ctr",
                "command": ["sh", "-c", script],
                "resources": {"cpu": 1, "memory_mb": 2048},
                "timeout_s": 600,
                **env,
            },
        ).json()
        print(f"1. training job {job['id']} submitted")
        done = wait(
            lambda: (
                (j := api.get(f"/v1/jobs/{job['id']}").json())["state"]
                in {"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "OOM_KILLED"}
                and j
            ),
            600,
            "training",
        )
        print(api.get(f"/v1/jobs/{job['id']}/logs").text[-1500:])
        if done["state"] != "SUCCEEDED":
            raise SystemExit(f"demo: training ended {done['state']}: {done['reason']}")
        files = api.get(f"/v1/jobs/{job['id']}/artifacts").json()["files"]
        print(f"   training job ended {done['state']}; artifacts: {files[:5]}")

        api.post(
            "/v1/services",
            json={
                "name": "ctr",
                "model_job_id": job["id"],
                "resources": {"cpu": 1, "memory_mb": 2048},
                **env,
            },
        )
        svc = wait(
            lambda: (
                (s := api.get("/v1/services/ctr").json())["state"] in {"AVAILABLE", "FAILED"} and s
            ),
            120,
            "the model service",
        )
        print(f"2. model service {svc['name']}: {svc['state']} at {svc['url']}")
        test_file = Path(done["artifacts_dir"]) / "test.svm"
        first = test_file.read_text().splitlines()[0].split()[1:]
        instance = {
            "indices": [int(t.split(":")[0]) for t in first],
            "values": [float(t.split(":")[1]) for t in first],
        }
        r = api.post("/v1/services/ctr:predict", json={"instances": [instance]})
        print(f"3. prediction through the platform: HTTP {r.status_code} {json.dumps(r.json())}")

        pred = api.post(
            "/v1/predictions",
            json={"model_job_id": job["id"], "inputs": [str(test_file)], "format": "libsvm", **env},
        ).json()
        pdone = wait(
            lambda: (
                (j := api.get(f"/v1/predictions/{pred['id']}").json())["state"]
                not in ("QUEUED", "RUNNING")
                and j
            ),
            600,
            "batch prediction",
        )
        outputs = api.get(f"/v1/predictions/{pred['id']}/artifacts").json()["files"]
        print(f"4. batch prediction job {pred['id']}: {pdone['state']}, outputs {outputs}")
        api.delete("/v1/services/ctr")
        return 0 if pdone["state"] == "SUCCEEDED" and r.status_code == 200 else 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(root)], check=False)


if __name__ == "__main__":
    sys.exit(main())
