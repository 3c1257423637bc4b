"""Parameter-server throughput: examples/s for 1, 2 and 4 shards x workers on the
``process`` and ``ray`` backends, requests per second per shard, and the single-process
trainer on the same data, side by side. Prints a table; not part of pytest.

    python benchmarks/bench_ps.py [--rows 100000] [--ray-rows 40000] [--no-ray]

Each job is timed from starting its workers (worker process start-up included; shard
start-up and partitioning the input are not, as the single-process run is timed on
already-parsed batches) to its last worker finishing. "pull/s" and "push/s" are the
requests one shard served per second of the job. The "rpc" rows time a loop of
pull+push of 4,096 keys against one shard: the transport's own round-trip rate.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from miniflow.ml import metrics
from miniflow.ml.data import concat_batches, read_libsvm
from miniflow.ml.datagen import write_ctr
from miniflow.ml.sparse_lr import SparseLRTrainer
from miniflow.ps import PSConfig, PSJob
from miniflow.ps.backends import make_backend
from miniflow.ps.backends.base import JobSpec
from miniflow.ps.partition import Partitions

DIMS = 22
BATCH = 1024


def single_process(train, test) -> dict:
    t = SparseLRTrainer(DIMS, "ftrl", batch_size=BATCH)
    t0 = time.perf_counter()
    t.fit([train], progress=False)
    seconds = time.perf_counter() - t0
    auc = metrics.roc_auc(test.labels, t.predict_proba(test))
    return {
        "backend": "single-process",
        "shape": "-",
        "mode": "-",
        "rows": len(train),
        "seconds": seconds,
        "ex/s": len(train) / seconds,
        "auc": auc,
    }


def sharded(backend, n, train, test, sync=True, directory=None) -> dict:
    cfg = PSConfig(
        num_shards=n,
        num_workers=n,
        backend=backend,
        sync=sync,
        dims_log2=DIMS,
        batch_size=BATCH,
        job_dir=tempfile.mkdtemp(dir=directory),
    )
    r = PSJob(cfg).run([train], holdout=[test], progress=False)
    pulls = np.mean([s["pulls"] for s in r.shard_stats]) / r.seconds
    pushes = np.mean([s["pushes"] for s in r.shard_stats]) / r.seconds
    return {
        "backend": backend,
        "shape": f"{n}x{n}",
        "mode": "sync" if sync else "async",
        "rows": r.rows,
        "seconds": r.seconds,
        "ex/s": r.examples_per_second,
        "pull/s": pulls,
        "push/s": pushes,
        "auc": r.holdout["auc"],
    }


def rpc_loop(backend, directory, keys=4096, seconds=3.0) -> dict:
    """Round trips of pull+push of ``keys`` keys against one shard (async, no waiting)."""
    cfg = PSConfig(num_shards=1, num_workers=1, backend=backend, sync=False, dims_log2=DIMS)
    spec = JobSpec(cfg.shard_configs(directory), Partitions(directory, 1, 1, []), 1, directory)
    b = make_backend(backend, spec)
    try:
        b.start_shards()
        client = b.client(worker=0)
        rng = np.random.default_rng(0)
        k = np.unique(rng.integers(0, 1 << DIMS, keys))
        g = rng.normal(size=len(k))
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            client.pull(k, step=n)
            client.push(k, g, step=n)
            n += 1
        elapsed = time.perf_counter() - t0
    finally:
        b.stop()
    return {
        "backend": backend,
        "shape": "rpc 1 shard",
        "mode": f"{len(k)} keys",
        "pull/s": n / elapsed,
        "push/s": n / elapsed,
        "seconds": elapsed,
    }


def table(rows: list[dict]) -> str:
    cols = ["backend", "shape", "mode", "rows", "seconds", "ex/s", "pull/s", "push/s", "auc"]
    fmt = {
        "seconds": "{:.2f}",
        "ex/s": "{:,.0f}",
        "pull/s": "{:,.1f}",
        "push/s": "{:,.1f}",
        "auc": "{:.5f}",
        "rows": "{:,}",
    }
    cells = [[fmt.get(c, "{}").format(r[c]) if c in r else "" for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--ray-rows", type=int, default=40_000)
    p.add_argument("--no-ray", action="store_true")
    p.add_argument("--shapes", default="1,2,4")
    args = p.parse_args()
    shapes = [int(s) for s in args.shapes.split(",")]
    with tempfile.TemporaryDirectory() as d:
        write_ctr(os.path.join(d, "train.svm"), args.rows, DIMS, seed=1)
        write_ctr(os.path.join(d, "test.svm"), 20_000, DIMS, seed=2)
        train = concat_batches(list(read_libsvm(os.path.join(d, "train.svm"), DIMS)))
        test = concat_batches(list(read_libsvm(os.path.join(d, "test.svm"), DIMS)))
        rows = [single_process(train, test)]
        rows += [sharded("process", n, train, test, directory=d) for n in shapes]
        rows += [sharded("process", n, train, test, sync=False, directory=d) for n in shapes]
        rows.append(rpc_loop("process", d))
        print(table(rows), flush=True)
        if not args.no_ray:
            import ray

            from miniflow.ps.backends.ray import start_local_ray

            start_local_ray(num_cpus=2, log_to_driver=False)
            try:
                small = train.slice(0, min(args.ray_rows, len(train)))
                rows.append(single_process(small, test))
                rows += [sharded("ray", n, small, test, directory=d) for n in shapes]
                rows.append(rpc_loop("ray", d))
            finally:
                ray.shutdown()
        print()
        print(table(rows))
        print(
            f"\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
            f"FTRL, 2^{DIMS} hashed features, global batch {BATCH}"
        )


if __name__ == "__main__":
    main()
