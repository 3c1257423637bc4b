"""``miniflow ps``: a parameter-server job laid out by hand (or by a platform, Kubernetes).

::

    miniflow ps init   --job-dir D --shards 2 --workers 2 [--dims-log2 ... optimizer ...]
    miniflow ps shard  --job-dir D --index 0 [--bind 127.0.0.1:0] [--secret-file F]
    miniflow ps worker --job-dir D --index 0 --input part-0.svm [...]
    miniflow ps report --job-dir D                     # rows trained, lost, per shard
    miniflow ps export --job-dir D --out model/        # each shard writes its own part

Every error is one line on stderr and exit status 2. ``report`` and ``export`` exit 1
(``export`` writing nothing) when a shard crash lost more than ``--max-lost-fraction``
of the rows. See docs/ps.md, "Standalone".
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from miniflow.ps.cli import add_job_arguments, config_from_args

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="miniflow ps", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    i = sub.add_parser("init", help="write JOB_DIR/job.json and a new job secret")
    i.add_argument("--job-dir", required=True)
    i.add_argument("--shards", type=int, required=True)
    i.add_argument("--workers", type=int, required=True)
    i.add_argument("--force", action="store_true", help="replace a job already in JOB_DIR")
    m = i.add_argument_group("model (as miniflow lr train / miniflow fm train)")
    m.add_argument("--model", default="lr", choices=("lr", "fm", "ffm"))
    m.add_argument("--dims-log2", type=int, default=22)
    m.add_argument("--optimizer", default="ftrl")
    for name, default in (("alpha", 0.2), ("beta", 1.0), ("lr", 0.1), ("l1", 0.0), ("l2", 0.0)):
        m.add_argument(f"--{name}", type=float, default=default)
    m.add_argument("--batch-size", type=int, default=1024, help="rows per global step")
    m.add_argument("--epochs", type=int, default=1)
    m.add_argument("--factors", type=int, default=8, help="fm/ffm: k")
    m.add_argument("--fields", type=int, default=0, help="ffm: number of fields")
    m.add_argument("--factor-alpha", type=float, default=0.1)
    m.add_argument("--factor-lr", type=float)
    m.add_argument("--factor-l2", type=float, default=1e-4)
    m.add_argument("--init-std", type=float, default=0.03)
    m.add_argument("--seed", type=int, default=0)
    add_job_arguments(i.add_argument_group("job"), coordinator=False)

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
    w.add_argument(
        "--format", default="auto", choices=("auto", "libsvm", "vw", "csv", "libffm", "cache")
    )
    w.add_argument("--secret-file")
    w.add_argument("--pace", type=float, default=0.0, help="minimum seconds per step (drills)")

    r = sub.add_parser("report", help="what the job trained and lost (JSON)")
    e = sub.add_parser("export", help="each shard writes its part of the model")
    e.add_argument("--out", required=True, help="the sharded model directory")
    for q in (r, e):
        q.add_argument("--job-dir", required=True)
        q.add_argument("--secret-file")
        q.add_argument(
            "--max-lost-fraction",
            type=float,
            metavar="F",
            help="exit 1 when a shard lost more than this fraction of the rows (default: "
            "the job's, 0.05 unless `init` said otherwise)",
        )
    return p


def _init(args) -> int:
    from miniflow.ps.standalone import init_job

    config = config_from_args(
        args, num_shards=args.shards, num_workers=args.workers, backend="process",
        worker_timeout=0.0, job_dir=None,
    )  # fmt: skip
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


def _report(args) -> tuple[dict, int]:
    """The job's loss report, its LOST lines on stderr, and the exit status it means."""
    from miniflow.ps.standalone import job_report

    report = job_report(args.job_dir, args.secret_file, args.max_lost_fraction)
    for line in report["lost"].pop("messages"):
        print(line, file=sys.stderr)
    if not report["exceeded"]:
        return report, 0
    report["error"] = (
        f"shard crashes lost the updates of {report['lost']['fraction']:.1%} of the rows on "
        f"some shard, above --max-lost-fraction {report['max_lost_fraction']:g}"
    )
    print(f"miniflow ps {args.command}: error: {report['error']}", file=sys.stderr)
    return report, 1


def _export(args) -> int:
    from miniflow.ps.standalone import export_job

    report, status = _report(args)
    if status:  # the report, but no model: too much was lost
        print(json.dumps(report))
        return status
    manifest = export_job(args.job_dir, args.out, args.secret_file)
    print(json.dumps({**manifest, "lost": report["lost"], "complete": report["complete"]}))
    return 0


def main(argv: list[str] | None = None) -> int:
    from miniflow.core.job_auth import AuthError

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
        if args.command == "report":
            report, status = _report(args)
            print(json.dumps(report))
            return status
        return _export(args)
    except (ValueError, OSError, AuthError, TimeoutError) as e:
        print(f"miniflow ps {args.command}: error: {e}", file=sys.stderr)
        return 2
