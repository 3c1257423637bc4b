"""``miniflow lr train --ps-shards N ...``: the parameter-server path of the lr command.

``miniflow.cli.lr`` adds these options to its ``train`` parser with
:func:`add_arguments` and hands the parsed arguments to :func:`train` when
``--ps-shards`` is given. Everything else (input flags, optimizer flags, ``--model-out``,
``--metrics-out``, the JSON printed at the end) means what it means for single-process
training, and the exported model has the same format.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

__all__ = ["add_arguments", "train"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the parameter-server options to ``miniflow lr train``."""
    g = parser.add_argument_group("parameter server (train with shards and workers)")
    g.add_argument(
        "--ps-shards",
        type=int,
        metavar="N",
        help="train on N parameter-server shards (enables the options below)",
    )
    g.add_argument("--workers", type=int, default=2, metavar="M", help="data-parallel workers")
    g.add_argument("--backend", default="local", choices=("local", "process", "ray"))
    mode = g.add_mutually_exclusive_group()
    mode.add_argument(
        "--sync",
        dest="sync",
        action="store_true",
        default=True,
        help="barrier per step: equal to single-process training (default)",
    )
    mode.add_argument(
        "--async", dest="sync", action="store_false", help="no barrier; see --staleness"
    )
    g.add_argument("--staleness", type=int, help="async: max steps ahead of the slowest worker")
    g.add_argument(
        "--checkpoint-every",
        type=int,
        metavar="STEPS",
        help="shard checkpoint interval in updates (default 10; 0: only at the end)",
    )
    g.add_argument(
        "--max-lost-fraction",
        type=float,
        default=0.05,
        metavar="F",
        help="fail (exit 1) when a shard crash lost the updates of more than this "
        "fraction of the rows on some shard (default 0.05)",
    )
    g.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="longest wait at a barrier or for an unreachable shard (default 300)",
    )
    g.add_argument(
        "--worker-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="kill and replace the slowest worker when it has not advanced for this "
        "long (default 60; 0: never)",
    )
    g.add_argument("--job-dir", help="partitions, checkpoints, logs (default: a temp dir)")
    g.add_argument(
        "--sharded-export",
        action="store_true",
        help="each shard writes its part of the model (no process gathers it); "
        "--model-out then holds a sharded model that miniflow serve/predict load",
    )
    g.add_argument(
        "--pace",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="minimum seconds per worker step (demos and fault-injection drills)",
    )
    g.add_argument("--address", help="ray backend: address of an existing Ray cluster")
    g.add_argument(
        "--ray-cpus",
        type=float,
        default=1.0,
        metavar="N",
        help="ray backend: CPUs each shard actor and worker task reserves (default 1)",
    )
    g.add_argument(
        "--ray-placement",
        default="SPREAD",
        choices=("SPREAD", "PACK", "STRICT_SPREAD", "STRICT_PACK"),
        help="ray backend: placement-group strategy of the reservations (default SPREAD)",
    )


@contextlib.contextmanager
def _stdout_to_stderr():
    """While the job runs, file descriptor 1 points at stderr: nothing a library, Ray or
    a child process prints can mix into the JSON printed on stdout at the end."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def train(args: argparse.Namespace) -> int:
    """Runs the job; prints (and writes) the metrics JSON. A bad option or input value
    is one line on stderr and exit status 2."""
    try:
        return _train(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"miniflow lr train: error: {e}", file=sys.stderr)
        return 2


def _train(args: argparse.Namespace) -> int:
    from miniflow.ml.report import finish_training
    from miniflow.ml.source import DataSource
    from miniflow.ps.job import DataLossError, PSConfig, PSJob

    config = PSConfig(
        num_shards=args.ps_shards,
        num_workers=args.workers,
        backend=args.backend,
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
        max_lost_fraction=args.max_lost_fraction,
        timeout=args.timeout,
        worker_timeout=args.worker_timeout,
        job_dir=args.job_dir,
        pace=args.pace,
        address=args.address,
        export="sharded" if args.sharded_export else "merged",
        ray_cpus=args.ray_cpus,
        ray_placement=args.ray_placement,
    )
    job = PSJob(config)  # checks every option before anything starts
    for path in [args.train, *([args.test] if args.test else [])]:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file")
    train_data = DataSource(args.train, args.dims_log2, args.format)
    test = DataSource(args.test, args.dims_log2, args.format) if args.test else None
    failure = None
    try:
        with _stdout_to_stderr():
            result = job.run(
                train_data,
                holdout=test,
                progress=not args.no_progress,
                log=lambda line: print(line, file=sys.stderr),
            )
    except DataLossError as e:
        failure, result = str(e), e.result
    out = {
        "train_rows": result.rows,
        "epochs": [
            {
                "epoch": config.epochs,
                "rows": result.rows,
                "seconds": result.seconds,
                "progressive_log_loss": result.progressive_log_loss,
                "holdout": result.holdout,
            }
        ],
        "test": result.holdout,
        "parameter_server": {
            "shards": config.num_shards,
            "workers": config.num_workers,
            "backend": config.backend,
            "sync": config.sync,
            "examples_per_second": result.examples_per_second,
            "events": result.events,
            "shard_keys": [s["keys"] for s in result.shard_stats],
            "lost": {k: v for k, v in result.lost.items() if k != "messages"},
        },
    }
    if failure is not None:  # the report, but no model: too much was lost
        out["error"] = failure
        finish_training(out, None, None, args.metrics_out)
        print(f"miniflow lr train: error: {failure}", file=sys.stderr)
        return 1
    finish_training(out, result.model, args.model_out, args.metrics_out)
    return 0
