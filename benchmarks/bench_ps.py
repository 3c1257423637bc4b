"""Parameter-server throughput: examples/s for 1, 2 and 4 shards x workers on the
``process`` and ``ray`` backends, requests per second per shard, and the single-process
trainer on the same data, side by side. Prints a table; not part of pytest.

    python benchmarks/bench_ps.py [--rows 100000] [--ray-rows 40000] [--no-ray]

Each job is timed from starting its workers (worker process start-up and the workers'
parsing of their input included; shard start-up is not) to its last worker finishing;
the single-process rows include parsing too. "ex/s/worker" is the job's rate over its
workers. "pull/s" and "push/s" are the requests one shard served per second of the job;
"store B/key" the shards' key-store arrays over their keys. The "rpc" rows time a loop
of pull+push of 4,096 keys against one shard: the transport's own round-trip rate. The
Ray rows run on batches parsed by the driver (partitioned).
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
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_data import FMSource
from miniflow.ml.source import DataSource
from miniflow.ml.sparse_lr import SparseLRTrainer
from miniflow.ps import PSConfig, PSJob
from miniflow.ps.backends import make_backend
from miniflow.ps.backends.base import JobSpec
from miniflow.ps.partition import Partitions

DIMS = 22
BATCH = 1024
FACTORS = 4


def single_process(train, test, model="lr") -> dict:
    if model == "lr":
        t = SparseLRTrainer(DIMS, "ftrl", batch_size=BATCH)
    else:
        t = FMTrainer(DIMS, "ftrl", factors=FACTORS, batch_size=BATCH)
    t0 = time.perf_counter()
    t.fit(train, progress=False)
    seconds = time.perf_counter() - t0
    auc = metrics.roc_auc(test.labels, t.predict_proba(test))
    return {
        "backend": "single-process",
        "model": model,
        "shape": "-",
        "mode": "-",
        "rows": t.rows_seen,
        "seconds": seconds,
        "ex/s": t.rows_seen / seconds,
        "ex/s/worker": t.rows_seen / seconds,
        "auc": auc,
    }


def sharded(backend, n, train, test, sync=True, directory=None, model="lr") -> dict:
    cfg = PSConfig(
        num_shards=n,
        num_workers=n,
        backend=backend,
        sync=sync,
        dims_log2=DIMS,
        batch_size=BATCH,
        job_dir=tempfile.mkdtemp(dir=directory),
        model=model,
        factors=FACTORS,
    )
    r = PSJob(cfg).run(train, holdout=[test], progress=False)
    pulls = np.mean([s["pulls"] for s in r.shard_stats]) / r.seconds
    pushes = np.mean([s["pushes"] for s in r.shard_stats]) / r.seconds
    keys = sum(s["keys"] for s in r.shard_stats)
    return {
        "backend": backend,
        "model": model,
        "shape": f"{n}x{n}",
        "mode": "sync" if sync else "async",
        "rows": r.rows,
        "seconds": r.seconds,
        "ex/s": r.examples_per_second,
        "ex/s/worker": r.examples_per_second / n,
        "pull/s": pulls,
        "push/s": pushes,
        "store B/key": sum(s["store_bytes"] for s in r.shard_stats) / max(keys, 1),
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


def store_row(cls, n: int, batch: int = 4096) -> dict:
    """Bytes per key (tracemalloc: everything the store allocated; and the store's arrays,
    median and worst over the growth path from 20k keys on) and keys/s of FTRL's
    read-then-write of ``batch`` existing keys, for ``n`` keys from a 2^34 space."""
    import tracemalloc

    from miniflow.ml.optimizers import OPTIMIZERS

    FTRL = OPTIMIZERS["ftrl"]

    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 1 << 34, int(n * 1.01)))[:n]
    rng.shuffle(keys)
    tracemalloc.start()
    store = cls(FTRL.slots, dtype=np.float32)
    t0 = time.perf_counter()
    arrays = []  # the store's own accounting after each batch (from 20k keys on)
    for i in range(0, n, batch):
        store.put_many(("z", "n"), keys[i : i + batch], [np.float32(0.5), np.float32(1.0)])
        if hasattr(store, "nbytes") and len(store) >= 20_000:
            arrays.append(store.nbytes / len(store))
    insert = time.perf_counter() - t0
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    opt = FTRL(store=store, alpha=0.2)
    probes = [np.unique(rng.choice(keys, batch)) for _ in range(200)]
    t0 = time.perf_counter()
    for k in probes:
        store.get_many(("z", "n"), k)
    lookup = sum(map(len, probes)) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for k in probes:
        opt.weights(k)
        opt.update(k, np.ones(len(k)))
    update = sum(map(len, probes)) / (time.perf_counter() - t0)
    return {
        "store": cls.__name__,
        "keys": n,
        "bytes/key": size / n,
        "arrays typ/worst": f"{np.median(arrays):.1f}/{max(arrays):.1f}" if arrays else "-",
        "insert keys/s": n / insert,
        "lookup keys/s": lookup,
        "ftrl keys/s": update,
    }


def store_table(sizes=(100_000, 1_000_000, 3_000_000)) -> str:
    """The shard's key store before (``HashStore``: a dict) and after (``ArrayKeyStore``)."""
    from miniflow.ml.optimizers import HashStore
    from miniflow.ps.keystore import ArrayKeyStore

    rows = [store_row(cls, n) for n in sizes for cls in (HashStore, ArrayKeyStore)]
    cols = list(rows[0])
    cells = [
        [
            f"{r[c]:,.1f}"
            if c == "bytes/key"
            else r[c]
            if isinstance(r[c], str)
            else f"{r[c]:,.0f}"
            for c in cols
        ]
        for r in rows
    ]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def wire_table(n: int = 4096) -> str:
    """Bytes on the wire per touched key per worker step (pull request + reply + push),
    framing included, before (int64 keys, float64 values) and now."""
    from miniflow.core import wire
    from miniflow.ps.client import wire_keys

    def step_bytes(keys, value_dtype):
        vals = np.zeros(len(keys), value_dtype)
        frames = [{"keys": keys}, {"weights": vals}, {"keys": keys, "grads": vals}]
        return sum(len(b) for f in frames for b in wire.encode({"op": "x"}, f)) / len(keys)

    small = np.arange(n, dtype=np.int64) * 97  # ids below 2^31
    big = small + (1 << 33)  # a 2^34 key space
    lines = [f"wire bytes per touched key per step ({n} keys)"]
    lines.append(f"  before (int64 keys, float64 values): {step_bytes(small, np.float64):.1f}")
    lines.append(
        f"  float32 state, ids < 2^31:            {step_bytes(wire_keys(small), np.float32):.1f}"
    )
    lines.append(
        f"  float32 state, 2^34 ids:              {step_bytes(wire_keys(big), np.float32):.1f}"
    )
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    cols = ["backend", "model", "shape", "mode", "rows", "seconds", "ex/s", "ex/s/worker",
            "pull/s", "push/s", "store B/key", "auc"]  # fmt: skip
    fmt = {
        "seconds": "{:.2f}",
        "ex/s": "{:,.0f}",
        "ex/s/worker": "{:,.0f}",
        "store B/key": "{:.1f}",
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
    p.add_argument("--fm-rows", type=int, default=40_000)
    p.add_argument("--store-sizes", default="100000,1000000,3000000", help="key counts")
    p.add_argument("--no-ray", action="store_true")
    p.add_argument("--shapes", default="1,2,4")
    p.add_argument("--store-only", action="store_true", help="only the key-store table")
    args = p.parse_args()
    print(store_table([int(n) for n in args.store_sizes.split(",")]), "\n", flush=True)
    print(wire_table(), "\n", flush=True)
    if args.store_only:
        return
    shapes = [int(s) for s in args.shapes.split(",")]
    with tempfile.TemporaryDirectory() as d:
        write_ctr(os.path.join(d, "train.svm"), args.rows, DIMS, seed=1)
        write_ctr(os.path.join(d, "test.svm"), 20_000, DIMS, seed=2)
        train = concat_batches(list(read_libsvm(os.path.join(d, "train.svm"), DIMS)))
        test = concat_batches(list(read_libsvm(os.path.join(d, "test.svm"), DIMS)))
        # workers read the file themselves (as `miniflow lr train --ps-shards` does)
        source = DataSource(os.path.join(d, "train.svm"), DIMS)
        rows = [single_process(source, test)]
        rows += [sharded("process", n, source, test, directory=d) for n in shapes]
        rows += [sharded("process", n, source, test, sync=False, directory=d) for n in shapes]
        rows.append(rpc_loop("process", d))
        fm_rows = min(args.fm_rows, len(train))
        with open(os.path.join(d, "train.svm")) as src, open(os.path.join(d, "fm.svm"), "w") as dst:
            dst.writelines(line for _, line in zip(range(fm_rows), src))
        fm_source = FMSource(os.path.join(d, "fm.svm"), DIMS)
        rows.append(single_process(fm_source, test, model="fm"))
        rows.append(sharded("process", 2, fm_source, test, directory=d, model="fm"))
        print(table(rows), flush=True)
        if not args.no_ray:
            import ray

            from miniflow.ps.backends.ray import start_local_ray

            start_local_ray(num_cpus=8, log_to_driver=False)  # 4x4 reserves 8 CPUs
            try:
                small = train.slice(0, min(args.ray_rows, len(train)))
                rows.append(single_process([small], test))
                rows += [sharded("ray", n, [small], test, directory=d) for n in shapes]
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
