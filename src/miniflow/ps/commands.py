"""``miniflow ps``: a parameter-server job laid out by hand (or by a platform, Kubernetes).

::

    miniflow ps init   --job-dir D --shards 2 --workers 2 [--dims-log2 ... optimizer ...]
    miniflow ps shard  --job-dir D --index 0 [--bind 127.0.0.1:0] [--secret-file F]
    miniflow ps worker --job-dir D --index 0 --input part-0.svm [...]
    miniflow ps export --job-dir D --out model/        # each shard writes its own part

Every error is one line on stderr and exit status 2. See docs/ps.md, "Standalone".
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="miniflow ps", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    i = sub.add_parser("init", help="write JOB_DIR/job.json and a new job secret")
    i.add_argument("--job-dir", required=True)
    i.add_argument("--shards", type=int, required=True)
    i.add_argument("--workers", type=int, required=True)
    mode = i.add_mutually_exclusive_group()
    mode.add_argument("--sync", dest="sync", action="store_true", default=True)
    mode.add_argument("--async", dest="sync", action="store_false")
    i.add_argument("--staleness", type=int)
    i.add_argument("--dims-log2", type=int, default=22)
    i.add_argument("--optimizer", default="ftrl")
    i.add_argument("--alpha", type=float, default=0.2)
    i.add_argument("--beta", type=float, default=1.0)
    i.add_argument("--lr", type=float, default=0.1)
    i.add_argument("--l1", type=float, default=0.0)
    i.add_argument("--l2", type=float, default=0.0)
    i.add_argument("--batch-size", type=int, default=1024, help="rows per global step")
    i.add_argument("--epochs", type=int, default=1)
    i.add_argument("--checkpoint-every", type=int, help="updates (default 10)")
    i.add_argument("--timeout", type=float, default=300.0)
    i.add_argument("--force", action="store_true", help="replace a job already in JOB_DIR")

    s = sub.add_parser("shard", help="serve one shard until killed")
    s.add_argument("--job-dir", required=True)
    s.add_argument("--index", type=int, required=True)
    s.add_argument(
        "--bind",
        default="127.0.0.1:0",
        help="HOST:PORT to listen on (default 127.0.0.1:0, any free port; 0.0.0.0 "
        "listens on every interface, with a warning)",
    )
    s.add_argument("--advertise", help="HOST:PORT workers should connect to")
    s.add_argument(
        "--secret-file", help="job secret (default: $MINIFLOW_PS_SECRET, JOB_DIR/secret)"
    )

    w = sub.add_parser("worker", help="train on this worker's own input files")
    w.add_argument("--job-dir", required=True)
    w.add_argument("--index", type=int, required=True)
    w.add_argument("--input", nargs="+", required=True, metavar="FILE")
    w.add_argument("--format", default="auto", choices=("auto", "libsvm", "vw", "csv", "cache"))
    w.add_argument("--secret-file")
    w.add_argument("--pace", type=float, default=0.0, help="minimum seconds per step (drills)")

    e = sub.add_parser("export", help="each shard writes its part of the model")
    e.add_argument("--job-dir", required=True)
    e.add_argument("--out", required=True, help="the sharded model directory")
    e.add_argument("--secret-file")
    return p


def _init(args) -> int:
    from miniflow.ps.job import PSConfig
    from miniflow.ps.standalone import init_job

    config = PSConfig(
        num_shards=args.shards,
        num_workers=args.workers,
        backend="process",
        sync=args.sync,
        staleness=args.staleness,
        dims_log2=args.dims_log2,
        optimizer=args.optimizer,
        alpha=args.alpha,
        beta=args.beta,
        lr=args.lr,
        l1=args.l1,
        l2=args.l2,
        batch_size=args.batch_size,
        epochs=args.epochs,
        checkpoint_every=args.checkpoint_every,
        timeout=args.timeout,
        worker_timeout=0.0,
    )
    identity = init_job(args.job_dir, config, force=args.force)
    print(json.dumps({"job": identity.job_id, "job_dir": os.path.abspath(args.job_dir)}))
    return 0


def _worker(args) -> int:
    from miniflow.ps.standalone import run_worker_process

    result = run_worker_process(
        args.job_dir, args.index, args.input, args.format, args.secret_file, args.pace
    )
    print(json.dumps(result.__dict__))
    return 0


def _export(args) -> int:
    from miniflow.ps.standalone import export_job

    print(json.dumps(export_job(args.job_dir, args.out, args.secret_file)))
    return 0


def main(argv: list[str] | None = None) -> int:
    from miniflow.ps.auth import AuthError

    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if args.command == "init":
            return _init(args)
        if args.command == "shard":
            from miniflow.ps.standalone import run_shard

            return run_shard(args.job_dir, args.index, args.bind, args.advertise, args.secret_file)
        if args.command == "worker":
            return _worker(args)
        return _export(args)
    except (ValueError, OSError, AuthError, TimeoutError) as e:
        print(f"miniflow ps {args.command}: error: {e}", file=sys.stderr)
        return 2
