"""``miniflow lr train --ps-shards N ...``: the parameter-server path of the lr command.

``miniflow.cli.lr`` adds these options to its ``train`` parser with
:func:`add_arguments` and hands the parsed arguments to :func:`train` when
``--ps-shards`` is given. Everything else (input flags, optimizer flags, ``--model-out``,
``--metrics-out``, the JSON printed at the end) means what it means for single-process
training, and the exported model has the same format.
"""

from __future__ import annotations

import argparse
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
        default=0,
        metavar="STEPS",
        help="shard checkpoint interval (0: only at the end)",
    )
    g.add_argument("--job-dir", help="partitions, checkpoints, logs (default: a temp dir)")
    g.add_argument("--address", help="ray backend: address of an existing Ray cluster")


def train(args: argparse.Namespace) -> int:
    """Runs the job described by ``args``; prints (and writes) the metrics JSON."""
    from miniflow.ml.report import finish_training
    from miniflow.ml.source import DataSource
    from miniflow.ps.job import PSConfig, PSJob

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
        job_dir=args.job_dir,
        address=args.address,
    )
    train_data = DataSource(args.train, args.dims_log2, args.format)
    test = DataSource(args.test, args.dims_log2, args.format) if args.test else None
    result = PSJob(config).run(
        train_data,
        holdout=test,
        progress=not args.no_progress,
        log=lambda line: print(line, file=sys.stderr),
    )
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
        },
    }
    finish_training(out, result.model, args.model_out, args.metrics_out)
    return 0
