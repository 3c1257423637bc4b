"""Serving benchmark (issues 7, 19): `miniflow serve` driven by concurrent clients over loopback.

The default run serves one sparse LR model from each of: a bare standard-library
``http.server`` doing the same NumPy lookup and dot (``--bare-server``: the floor of
CPU per request), and ``miniflow serve`` with 1, 2 and 4 workers (and 1 worker with
adaptive batching). For each, side by side in one run:

- CPU per request with one sequential client (``--cpu-requests``), from /proc of the
  server's whole process tree (supervisor and workers);
- CLIENTS persistent HTTP/1.1 connections from separate client processes for SECONDS:
  requests/s, p50/p99 latency and server CPU per request under load.

    python benchmarks/bench_serving.py [--clients 8] [--seconds 5] [--client-procs 2]
                                       [--servers bare,1,2,4,1+batch] [--src DIR]
                                       [--rounds 5] [--pin 0:1]
    python benchmarks/bench_serving.py --memory [--dims-log2 24]
    python benchmarks/bench_serving.py --models       (dense and sparse, batching on/off)

``--pin 0:1`` pins the client processes to CPU 0 and every server process (supervisor
and workers) to CPU 1, so clients and servers do not compete for the same core.
``--memory`` reports the summed PSS and RSS (/proc/PID/smaps_rollup) of 1, 2 and 4
workers serving a 2^24-weight model, memory-mapped and read into each worker
(``--model-cache-dir none``). ``--servers bare,1,src --src DIR`` adds one server
process run from another miniflow source tree (a before/after comparison). ``--compare-uvicorn`` adds the predict path as
a bare ASGI app under uvicorn; ``--batch-predict`` times ``miniflow predict`` on libsvm
rows with 0.1% bad ones.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
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
def _client_proc(
    port: int, path: str, body: bytes, threads: int, seconds: float, q, cpus=None
) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
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


def drive(
    port: int,
    model: str,
    request: dict,
    clients: int,
    procs: int,
    seconds: float,
    pid: int | None = None,
    cpus: set[int] | None = None,
):
    """Load for ``seconds``: req/s, p50/p99 and (given the server's ``pid``) its CPU ms
    per request."""
    body = json.dumps(request).encode()
    path = f"/v1/models/{model}:predict"
    _client_proc(port, path, body, 2, 0.5, mp.Queue())  # warm-up (plans, caches)
    cpu0 = tree_cpu(pid) if pid else 0.0
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    ps = [
        ctx.Process(target=_client_proc, args=(port, path, body, n, seconds, q, cpus))
        for n in per
        if n
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
    cpu = tree_cpu(pid) - cpu0 if pid else float("nan")
    lat_ms = np.array(lat) * 1e3
    return {
        "cpu_ms": cpu / max(1, len(lat)) * 1e3,
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


def _pinned(cpus: set[int] | None):
    """A ``preexec_fn`` that pins the child (and all it starts) to ``cpus``."""
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def start_server(
    base: Path, name: str, extra: list[str], src: str | None = None, cpus: set[int] | None = None
):
    src = src or _src_dir()
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
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
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, env=env, preexec_fn=_pinned(cpus)
    )
    line = proc.stdout.readline()
    if not line.startswith("miniflow serve: listening on"):
        proc.kill()
        raise RuntimeError(f"server failed to start: {line!r}")
    return proc, int(line.split()[4].rsplit(":", 1)[1])


# -- the bare baseline ---------------------------------------------------------------------
def bare_server(model_dir: str) -> None:
    """A bare ThreadingHTTPServer: parse JSON, the same sorted-key lookup and dot, answer.

    No routing, checks, metrics or version manager: the floor of CPU per request."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    meta = json.loads((Path(model_dir) / "model.json").read_text())
    with np.load(Path(model_dir) / "weights.npz") as z:
        keys, weights = z["keys"], z["values"]
    bias, last = meta["bias"], len(keys) - 1

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self):
            doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            out = []
            for inst in doc["instances"]:
                ids = np.asarray(inst["indices"], np.int64)
                pos = np.minimum(np.searchsorted(keys, ids), last)
                w = np.where(keys[pos] == ids, weights[pos], np.float32(0))
                m = float(w @ np.asarray(inst["values"], np.float32)) + bias
                out.append(1.0 / (1.0 + math.exp(-m)))
            body = json.dumps({"predictions": out}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"miniflow serve: listening on http://127.0.0.1:{httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


def start_bare(model_dir: Path, cpus: set[int] | None = None):
    proc = subprocess.Popen(
        [sys.executable, __file__, "--bare-server", str(model_dir)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_pinned(cpus),
    )
    line = proc.stdout.readline()
    return proc, int(line.split()[4].rsplit(":", 1)[1])


# -- server CPU and memory from /proc ---------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, i = [pid], 0
    while i < len(out):
        try:
            for task in os.listdir(f"/proc/{out[i]}/task"):
                with open(f"/proc/{out[i]}/task/{task}/children") as f:
                    out += [int(c) for c in f.read().split()]
        except OSError:
            pass
        i += 1
    return out


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / _TICK


def tree_memory(pid: int) -> dict:
    """Summed ``Pss`` and ``Rss`` (MiB) of ``pid`` and its descendants."""
    out = {"pss": 0.0, "rss": 0.0, "procs": 0}
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    key, _, rest = line.partition(":")
                    if key in ("Pss", "Rss"):
                        out[key.lower()] += int(rest.split()[0]) / 1024
            out["procs"] += 1
        except OSError:
            pass
    return out


def cpu_per_request(pid: int, port: int, path: str, body: bytes, n: int) -> float:
    """Server CPU ms per request, one client sending ``n`` requests back to back."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c0 = tree_cpu(pid)
    for _ in range(n):
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        conn.getresponse().read()
    conn.close()
    return (tree_cpu(pid) - c0) / n * 1e3


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


def _parse_pin(spec: str | None) -> tuple[set[int] | None, set[int] | None]:
    """``"0:1"`` -> (client CPUs {0}, server CPUs {1}); None: no pinning."""
    if not spec:
        return None, None
    clients, _, servers = spec.partition(":")
    return ({int(c) for c in clients.split(",")}, {int(c) for c in servers.split(",")})


def bench_workers(args) -> str:
    """The bare baseline and 1, 2, 4 workers (and batching) on one sparse LR model.

    Every server runs at once; the one-client CPU per request is measured in
    ``--rounds`` rounds that visit the servers in turn (so a burst of load from other
    jobs hits all of them alike), then each server gets the concurrent load alone."""
    client_cpus, server_cpus = _parse_pin(args.pin)
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)  # this process is the one-client client
    servers = list(dict.fromkeys(args.servers.split(",")))
    seq: dict[str, list[float]] = {s: [] for s in servers}
    load: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "lr"
        request = make_sparse_lr(base)
        body = json.dumps(request).encode()
        path = "/v1/models/sparse_lr:predict"
        procs: dict[str, tuple] = {}
        try:
            for server in servers:
                if server == "bare":
                    procs[server] = start_bare(base / "1", server_cpus)
                elif server == "src":  # one process from the --src tree (before/after)
                    procs[server] = start_server(base, "sparse_lr", [], args.src, server_cpus)
                else:
                    n, _, batch = server.partition("+")
                    extra = ["--workers", n] if n != "1" else []
                    if batch:
                        extra += ["--batch-max-size", str(args.batch_max_size)]
                        extra += ["--batch-timeout-ms", str(args.batch_timeout_ms)]
                    procs[server] = start_server(base, "sparse_lr", extra, cpus=server_cpus)
            for proc, port in procs.values():
                for _ in range(200):  # warm-up
                    cpu_per_request(proc.pid, port, path, body, 1)
            per_round = max(1, args.cpu_requests // args.rounds)
            for _ in range(args.rounds):
                for server, (proc, port) in procs.items():
                    seq[server].append(cpu_per_request(proc.pid, port, path, body, per_round))
            for server, (proc, port) in procs.items():
                load[server] = r = drive(
                    port,
                    "sparse_lr",
                    request,
                    args.clients,
                    args.client_procs,
                    args.seconds,
                    proc.pid,
                    client_cpus,
                )
                best, med = min(seq[server]), float(np.median(seq[server]))
                print(
                    f"{server:10s} {r['rps']:7.0f} req/s  p50 {r['p50']:6.2f} ms  p99 "
                    f"{r['p99']:6.2f} ms  CPU/req {r['cpu_ms']:.3f} ms (1 client: best "
                    f"{best:.3f}, median {med:.3f} ms)  errors {r['errors']}",
                    file=sys.stderr,
                )
        finally:
            for proc, _ in procs.values():
                proc.terminate()
            for proc, _ in procs.values():
                proc.wait(timeout=30)
    pin = (
        f"clients pinned to CPU {sorted(client_cpus)}, servers to CPU {sorted(server_cpus)}"
        if client_cpus
        else "clients and servers share all CPUs"
    )
    lines = [
        f"Sparse LR (2^20 dims, 200k weights, 40 ids/instance, 1 instance/request); load: "
        f"{args.clients} keep-alive clients in {args.client_procs} processes for "
        f"{args.seconds:g} s; 1 client: {args.rounds} rounds of {per_round} requests per "
        f"server, servers visited in turn; CPU per request from /proc of the server's "
        f"process tree; {os.cpu_count()} CPUs, {pin}.",
        "",
        "| server | req/s | p50 ms | p99 ms | CPU ms/req (load) | CPU ms/req, 1 client "
        "(best / median) | vs bare, 1 client (best / median) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    bare = seq.get("bare")
    for server in servers:
        r = load[server]
        name = {"bare": "bare http.server + NumPy", "src": f"--src {args.src}"}.get(
            server, _server_name(server)
        )
        best, med = min(seq[server]), float(np.median(seq[server]))
        ratio = f"{best / min(bare):.2f}x / {med / float(np.median(bare)):.2f}x" if bare else "-"
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
            f"{r['cpu_ms']:.3f} | {best:.3f} / {med:.3f} | {ratio} | {r['errors']} |"
        )
    return "\n".join(lines)


def _server_name(server: str) -> str:
    n, _, batch = server.partition("+")
    name = f"miniflow serve --workers {n}"
    return name + (" (adaptive batching)" if batch else "")


def bench_memory(args) -> str:
    """Summed PSS/RSS of 1, 2, 4 workers on a large model, mapped and not."""
    from miniflow.ml.sparse_lr import SparseLinearModel

    lines = [
        f"Memory of `miniflow serve --workers N` (supervisor + workers) serving a sparse "
        f"LR model of 2^{args.dims_log2} float32 weights (+ int64 keys), after 50 requests:",
        "",
        "| workers | model arrays | PSS MiB (sum) | RSS MiB (sum) | processes |",
        "|---:|---|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "big"
        n = 1 << args.dims_log2
        rng = np.random.default_rng(0)
        if args.memory_model == "saved":
            rows = 5000
            request = _big_saved_model(base / "1", rows, n // rows)
            size = sum(f.stat().st_size for f in (base / "1").rglob("*") if f.is_file()) / 2**20
            lines[0] = (
                f"Memory of `miniflow serve --workers N` (supervisor + workers) serving a "
                f"SavedModel y = x @ W with W float32 {rows} x {n // rows} ({size:.0f} MiB "
                "on disk), after 50 requests:"
            )
        else:
            SparseLinearModel(np.arange(n), rng.normal(0, 0.1, n), 0.0, args.dims_log2).save(
                base / "1"
            )
            size = (base / "1" / "weights.npz").stat().st_size / 2**20
            lines[0] += f" weights.npz is {size:.0f} MiB."
            ids = rng.choice(n, 40, replace=False)
            request = {"instances": [{"indices": sorted(ids.tolist()), "values": [1.0] * 40}]}
        body = json.dumps(request).encode()
        mapped = ["--model-cache-dir", str(Path(tmp) / "cache")]  # also for 1 process
        for mode, extra in (("mapped", mapped), ("in memory", ["--model-cache-dir", "none"])):
            for workers in (1, 2, 4):
                proc, port = start_server(base, "big", ["--workers", str(workers), *extra])
                try:
                    for _ in range(50):
                        cpu_per_request(proc.pid, port, "/v1/models/big:predict", body, 1)
                    m = tree_memory(proc.pid)
                finally:
                    proc.terminate()
                    proc.wait(timeout=60)
                lines.append(
                    f"| {workers} | {mode} | {m['pss']:.0f} | {m['rss']:.0f} | {m['procs']} |"
                )
                print(lines[-1], file=sys.stderr)
    return "\n".join(lines)


def _big_saved_model(path: Path, rows: int, cols: int) -> dict:
    """A SavedModel y = x @ W with one large variable W; returns a one-row request."""
    import miniflow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, rows], name="x")
        # an initializer op, not a constant: the graph must not hold a copy of W
        w = tf.Variable(tf.random_normal([rows, cols], stddev=0.1, seed=1), name="w")
        y = tf.matmul(x, w, name="y")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.saved_model.simple_save(sess, str(path), {"x": x}, {"y": y})
    return {"instances": [[0.01] * rows]}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--client-procs", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--servers", default="bare,1,2,4,1+batch")
    ap.add_argument("--cpu-requests", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=5, help="one-client CPU: rounds over the servers")
    ap.add_argument(
        "--pin",
        metavar="CLIENT_CPUS:SERVER_CPUS",
        help="pin the clients and the servers to CPUs, e.g. 0:1 (os.sched_setaffinity)",
    )
    ap.add_argument("--src", help="server 'src': one process from this miniflow source tree")
    ap.add_argument("--batch-max-size", type=int, default=32)
    ap.add_argument("--batch-timeout-ms", type=float, default=0.0)
    ap.add_argument("--memory", action="store_true", help="PSS of 1, 2, 4 workers instead")
    ap.add_argument("--dims-log2", type=int, default=24)
    ap.add_argument(
        "--memory-model",
        choices=("sparse", "saved"),
        default="sparse",
        help="with --memory: a sparse LR model, or a SavedModel with one 2^dims_log2 x 4-byte "
        "variable",
    )
    ap.add_argument("--models", action="store_true", help="dense and sparse, batching on/off")
    ap.add_argument("--bare-server", metavar="MODEL_DIR", help=argparse.SUPPRESS)
    ap.add_argument(
        "--compare-uvicorn",
        action="store_true",
        help="with --models: also the sparse LR predict path as a bare ASGI app under uvicorn",
    )
    ap.add_argument(
        "--batch-predict",
        action="store_true",
        help="time miniflow predict with 0.1%% bad rows (--skip-bad-rows) instead",
    )
    args = ap.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return 0
    if args.batch_predict:
        print(bench_batch_predict())
        return 0
    if args.models:
        return bench_models(args)
    text = bench_memory(args) if args.memory else bench_workers(args)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    name = {"sparse": "serving_memory.md", "saved": "serving_memory_saved.md"}[args.memory_model]
    name = name if args.memory else "serving.md"
    (RESULTS / name).write_text(text + "\n")
    return 0


def bench_models(args) -> int:
    """Each model with batching off and on (the issue 7 table)."""
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
    (RESULTS / "serving_models.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
