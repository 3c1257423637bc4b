"""``miniflow lr|fm train --ps-shards N ...``: the parameter-server path of both commands.

``miniflow.cli.lr`` and ``miniflow.cli.fm`` add these options to their ``train`` parsers
with :func:`add_arguments` and hand the parsed arguments to :func:`train` when
``--ps-shards`` is given. Everything else (input flags, optimizer and factor flags,
``--model-out``, ``--metrics-out``, the JSON printed at the end) means what it means for
single-process training, and the exported model has the same format.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

__all__ = ["add_arguments", "add_job_arguments", "train", "config_from_args"]

# PSConfig field <- argparse attribute, for the options every command spells the same
_SAME = (
    "sync", "staleness", "dims_log2", "optimizer", "alpha", "beta", "lr", "l1", "l2",
    "batch_size", "epochs", "checkpoint_every", "max_lost_fraction", "timeout",
    "worker_timeout", "job_dir", "pace", "address", "ray_cpus", "ray_placement",
    "factors", "fields", "factor_alpha", "factor_lr", "factor_l2", "init_std", "seed",
)  # fmt: skip


def add_job_arguments(g, coordinator: bool = True) -> None:
    """The options of a job's consistency and fault tolerance, to an argument group:
    shared by ``miniflow lr|fm train --ps-shards`` and ``miniflow ps init``
    (``coordinator``: also the options only a coordinating process acts on)."""
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
    if not coordinator:
        return
    g.add_argument(
        "--worker-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="kill and replace the slowest worker when it has not advanced for this "
        "long (default 60; 0: never)",
    )
    g.add_argument("--job-dir", help="checkpoints, logs (default: a temp dir)")
    g.add_argument(
        "--pace",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="minimum seconds per worker step (demos and fault-injection drills)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the parameter-server options to ``miniflow lr train`` / ``miniflow fm train``."""
    g = parser.add_argument_group("parameter server (train with shards and workers)")
    g.add_argument(
        "--ps-shards",
        type=int,
        metavar="N",
        help="train on N parameter-server shards (enables the options below)",
    )
    g.add_argument("--workers", type=int, default=2, metavar="M", help="data-parallel workers")
    g.add_argument("--backend", default="local", choices=("local", "process", "ray"))
    add_job_arguments(g)
    g.add_argument(
        "--sharded-export",
        action="store_true",
        help="each shard writes its part of the model (no process gathers it); "
        "--model-out then holds a sharded model that miniflow serve/predict load",
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


def config_from_args(args: argparse.Namespace, **fields):
    """The :class:`~miniflow.ps.job.PSConfig` of parsed arguments: every option the
    namespace has (``miniflow lr|fm train``, ``miniflow ps init``) under its own name,
    the rest at PSConfig's defaults; ``fields`` override."""
    from miniflow.ps.job import PSConfig

    values = {name: getattr(args, name) for name in _SAME if hasattr(args, name)}
    if getattr(args, "model", None) in ("lr", "fm", "ffm"):
        values["model"] = args.model
    if hasattr(args, "ps_shards"):
        values.update(num_shards=args.ps_shards, num_workers=args.workers)
        values.update(backend=args.backend)
        values.update(export="sharded" if args.sharded_export else "merged")
    return PSConfig(**{**values, **fields})


def train(args: argparse.Namespace, model: str = "lr") -> int:
    """Runs the job (``model``: ``lr``, ``fm`` or ``ffm``); prints (and writes) the
    metrics JSON. A bad option or input value is one line on stderr and exit status 2."""
    command = "lr train" if model == "lr" else "fm train"
    try:
        return _train(args, model)
    except (ValueError, FileNotFoundError) as e:
        print(f"miniflow {command}: error: {e}", file=sys.stderr)
        return 2


def _sources(args, config):
    """The training and holdout inputs, read as the single-process command reads them."""
    if config.model == "lr":
        from miniflow.ml.source import DataSource

        def source(path):
            return DataSource(path, config.dims_log2, args.format)
    else:
        from miniflow.ml.fm_data import FMSource

        spec = config.factor_spec()

        def source(path):
            return FMSource(path, config.dims_log2, args.format, spec.field_bits, spec.fields)

    return source(args.train), source(args.test) if args.test else None


def _train(args: argparse.Namespace, model: str) -> int:
    from miniflow.ml.report import finish_training
    from miniflow.ps.job import DataLossError, PSJob

    config = config_from_args(args, model=model)
    job = PSJob(config)  # checks every option before anything starts
    for path in [args.train, *([args.test] if args.test else [])]:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file")
    train_data, test = _sources(args, config)
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
        **({} if model == "lr" else {"kind": model}),
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
    # miniflow lr says --model-out/--metrics-out; miniflow fm --output/--report (aliases)
    model_out = getattr(args, "model_out", None) or getattr(args, "output", None)
    report = getattr(args, "metrics_out", None) or getattr(args, "report", None)
    if failure is not None:  # the report, but no model: too much was lost
        out["error"] = failure
        finish_training(out, None, None, report)
        print(
            f"miniflow {'lr' if model == 'lr' else 'fm'} train: error: {failure}", file=sys.stderr
        )
        return 1
    finish_training(out, result.model, model_out, report)
    return 0
