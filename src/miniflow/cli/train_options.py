"""The training options that `miniflow lr train` and `miniflow fm train` share.

One definition, so the two commands take the same names, defaults and checks for
input files, the linear part's optimizer, batches, epochs, the cache, the outputs and
the parameter-server options; each command adds its own (formats, factors...).
"""

from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def batch_size(text: str):
    """argparse type: ``auto`` or an integer >= 1."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}")
    return value


def add_training_arguments(t: argparse.ArgumentParser, dims_log2: int, epochs_type=int) -> None:
    """--train/--test, --dims-log2, the linear optimizer (--optimizer, --alpha, --beta,
    --lr, --l1, --l2), --batch-size, --epochs, --cache, --model-out (alias --output),
    --metrics-out (alias --report), --no-progress and the parameter-server options."""
    from miniflow.ps.cli import add_arguments as add_ps_arguments  # --ps-shards, --workers...

    t.add_argument("--train", required=True, help="training file")
    t.add_argument("--test", help="holdout file, evaluated after every epoch")
    t.add_argument("--dims-log2", type=int, default=dims_log2, help="bits of the feature ids")
    t.add_argument("--optimizer", default="ftrl", choices=("ftrl", "adagrad", "sgd"))
    t.add_argument("--alpha", type=float, default=0.2, help="FTRL alpha")
    t.add_argument("--beta", type=float, default=1.0, help="FTRL beta")
    t.add_argument("--lr", type=float, default=0.1, help="learning rate (adagrad, sgd)")
    t.add_argument("--l1", type=float, default=0.0)
    t.add_argument("--l2", type=float, default=0.0)
    t.add_argument(
        "--batch-size",
        type=batch_size,
        default="auto",
        help="rows per update, or 'auto' (default): grows from 32 to 4096 with the rows seen",
    )
    t.add_argument("--epochs", type=epochs_type, default=1)
    t.add_argument(
        "--cache",
        help="binary cache of the training data (default with --epochs > 1: TRAIN.mfcache)",
    )
    t.add_argument("--model-out", "--output", dest="model_out", help="model directory")
    t.add_argument(
        "--metrics-out",
        "--report",
        dest="metrics_out",
        help="JSON report file (default MODEL_OUT/metrics.json)",
    )
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_ps_arguments(t)
