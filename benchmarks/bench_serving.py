"""Serving benchmark (issue 7): `miniflow serve` driven by concurrent clients over loopback.

For each model (a small dense SavedModel, and a sparse LR model) and each mode (one model
call per request; micro-batching), starts a real server process, warms it up, then runs
CLIENTS persistent HTTP/1.1 connections from separate client processes for SECONDS and
reports requests/s and p50/p99 latency. Prints a markdown table and writes
results/serving.md.

    python benchmarks/bench_serving.py [--clients 8] [--seconds 5] [--client-procs 2]
                                       [--compare-uvicorn]

``--compare-uvicorn`` also serves the sparse LR predict path from a bare ASGI app under
uvicorn, the measurement behind the choice of the standard library's server.

``--batch-predict`` instead times ``miniflow predict`` (in process) on libsvm rows, clean
and with 0.1% bad rows under ``--skip-bad-rows``, alternating the two and repeating.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _src_dir() -> str:
    import miniflow

    return str(Path(miniflow.__file__).resolve().parent.parent)


# -- models ------------------------------------------------------------------------------
def make_sparse_lr(base: Path, dims_log2: int = 20, nnz: int = 200_000) -> dict:
    from miniflow.ml.sparse_lr import SparseLinearModel

    rng = np.random.default_rng(0)
    keys = rng.choice(1 << dims_log2, nnz, replace=False)
    SparseLinearModel(keys, rng.normal(0, 0.1, nnz), -1.0, dims_log2).save(base / "1")
    inst = {
        "indices": sorted(rng.choice(1 << dims_log2, 40, replace=False).tolist()),
        "values": [1.0] * 40,
    }
    return {"instances": [inst]}


def make_dense(base: Path, width: int = 32, hidden: int = 64) -> dict | None:
    """A 32-64-1 MLP exported with tf.saved_model.simple_save; None if unavailable."""
    import miniflow as tf

    if not hasattr(tf, "saved_model"):
        return None
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, width], name="x")
        w1 = tf.Variable(tf.random_normal([width, hidden], stddev=0.1, seed=1))
        w2 = tf.Variable(tf.random_normal([hidden, 1], stddev=0.1, seed=2))
        y = tf.sigmoid(tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2), name="y")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.saved_model.simple_save(sess, str(base / "1"), {"x": x}, {"y": y})
    return {"instances": np.random.default_rng(1).normal(size=(1, width)).round(4).tolist()}


# -- load generation ---------------------------------------------------------------------
def _client_proc(port: int, path: str, body: bytes, threads: int, seconds: float, q) -> None:
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            if r.status != 200:
                errors[0] += 1
        conn.close()
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put((lat, errors[0]))


def drive(port: int, model: str, request: dict, clients: int, procs: int, seconds: float):
    body = json.dumps(request).encode()
    path = f"/v1/models/{model}:predict"
    _client_proc(port, path, body, 2, 0.5, mp.Queue())  # warm-up (plans, caches)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    ps = [
        ctx.Process(target=_client_proc, args=(port, path, body, n, seconds, q)) for n in per if n
    ]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    lat, errors = [], 0
    for _ in ps:
        part, err = q.get()
        lat += part
        errors += err
    for p in ps:
        p.join()
    wall = time.perf_counter() - t0
    lat_ms = np.array(lat) * 1e3
    return {
        "requests": len(lat),
        "errors": errors,
        "rps": len(lat) / min(wall, seconds + 1e-9),
        "p50": float(np.percentile(lat_ms, 50)),
        "p99": float(np.percentile(lat_ms, 99)),
    }


def _progress(name: str, mode: str, r: dict) -> None:
    print(
        f"{name:10s} batching={mode:16s} {r['rps']:8.0f} req/s  p50 {r['p50']:6.2f} ms  "
        f"p99 {r['p99']:6.2f} ms  errors {r['errors']}",
        file=sys.stderr,
    )


def start_server(base: Path, name: str, extra: list[str]):
    env = dict(os.environ, PYTHONPATH=_src_dir() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [
        sys.executable,
        "-m",
        "miniflow.cli.main",
        "serve",
        "--model-dir",
        str(base),
        "--name",
        name,
        "--port",
        "0",
        "--log-level",
        "WARNING",
        *extra,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line.startswith("miniflow serve: listening on"):
        proc.kill()
        raise RuntimeError(f"server failed to start: {line!r}")
    return proc, int(line.split()[4].rsplit(":", 1)[1])


def make_asgi_app():
    """The same predict path as a bare ASGI app (for ``--compare-uvicorn``); the model
    directory comes from $BENCH_MODEL."""
    from miniflow.serving import load_servable
    from miniflow.serving.codec import decode_predict, encode_predict, parse_json

    servable = load_servable(os.environ["BENCH_MODEL"])

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        req = decode_predict(parse_json(body), servable.signature_defs)
        out = encode_predict(servable.predict(req.signature_name, req.inputs), req.columnar)
        data = json.dumps(out).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


def start_uvicorn(model_dir: Path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ, BENCH_MODEL=str(model_dir), PYTHONPATH=os.pathsep.join([_src_dir(), str(HERE)])
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench_serving:make_asgi_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


def bench_batch_predict(rows: int = 100_000, repeats: int = 3) -> str:
    """Seconds of predict_files on clean rows vs the same rows with 0.1% bad ones."""
    from miniflow.serving.batch_predict import predict_files
    from miniflow.serving.sparse_lr import SparseLRServable

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        make_sparse_lr(Path(tmp) / "lr")
        servable = SparseLRServable.load(str(Path(tmp) / "lr" / "1"))
        ids = rng.integers(0, 1 << 20, (rows, 20))
        lines = ["1 " + " ".join(f"{i}:1" for i in sorted(set(r.tolist()))) for r in ids]
        clean = Path(tmp) / "clean.svm"
        clean.write_text("\n".join(lines) + "\n")
        for k in rng.choice(rows, rows // 1000, replace=False):
            lines[k] = "1 12:oops"
        dirty = Path(tmp) / "dirty.svm"
        dirty.write_text("\n".join(lines) + "\n")
        times: dict[str, list[float]] = {"clean": [], "0.1% bad": []}
        for _ in range(repeats):
            for name, path in (("clean", clean), ("0.1% bad", dirty)):
                t0 = time.perf_counter()
                predict_files(
                    servable,
                    [str(path)],
                    str(Path(tmp) / "out.txt"),
                    skip_bad_rows=True,
                    progress=False,
                )
                times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    return (
        f"miniflow predict, {rows} libsvm rows x 20 ids, batch 1024, best of {repeats}: "
        f"clean {best['clean']:.2f} s, 0.1% bad rows with --skip-bad-rows "
        f"{best['0.1% bad']:.2f} s ({best['0.1% bad'] / best['clean']:.2f}x)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--client-procs", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--batch-max-size", type=int, default=32)
    ap.add_argument("--batch-timeout-ms", type=float, default=1.0)
    ap.add_argument(
        "--compare-uvicorn",
        action="store_true",
        help="also run the sparse LR predict path as a bare ASGI app under uvicorn",
    )
    ap.add_argument(
        "--batch-predict",
        action="store_true",
        help="time miniflow predict with 0.1%% bad rows (--skip-bad-rows) instead",
    )
    args = ap.parse_args()
    if args.batch_predict:
        print(bench_batch_predict())
        return 0

    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        models = {}
        dense = make_dense(Path(tmp) / "dense")
        if dense is None:
            notes.append(
                "dense SavedModel: not available (this miniflow has no tf.saved_model yet)"
            )
        else:
            models["dense"] = (Path(tmp) / "dense", dense, "MLP 32-64-1, 1 instance/request")
        models["sparse_lr"] = (
            Path(tmp) / "lr",
            make_sparse_lr(Path(tmp) / "lr"),
            "2^20 dims, 200k weights, 40 features/instance, 1/request",
        )
        batching = [
            "--batch-max-size",
            str(args.batch_max_size),
            "--batch-timeout-ms",
            str(args.batch_timeout_ms),
        ]
        for name, (base, request, what) in models.items():
            for mode, extra in (
                ("off", []),
                (f"max {args.batch_max_size}, {args.batch_timeout_ms:g} ms", batching),
            ):
                proc, port = start_server(base, name, extra)
                try:
                    r = drive(port, name, request, args.clients, args.client_procs, args.seconds)
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
                rows.append((name, what, mode, r))
                _progress(name, mode, r)
        if args.compare_uvicorn:
            base, request, what = models["sparse_lr"]
            proc, port = start_uvicorn(base / "1")
            try:
                r = drive(port, "sparse_lr", request, args.clients, args.client_procs, args.seconds)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            rows.append(("sparse_lr", what, "off (uvicorn + bare ASGI app)", r))
            _progress("sparse_lr", "uvicorn", r)
            notes.append(
                "the uvicorn row runs the same decode/predict/encode code in a bare "
                "ASGI app (no routing, metrics or version manager)"
            )

    lines = [
        f"Serving benchmark: {args.clients} concurrent keep-alive clients in "
        f"{args.client_procs} processes, {args.seconds:g} s per row, loopback, "
        f"{os.cpu_count()} CPUs (clients and server share them).",
        "",
    ]
    lines += [
        "| model | request | batching | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name, what, mode, r in rows:
        lines.append(
            f"| {name} | {what} | {mode} | {r['rps']:.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {r['errors']} |"
        )
    lines += [""] + [f"Note: {n}" for n in notes]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serving.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
