"""Up-front checks of a job's options and of its training rows, with one-line errors.

Everything a job is told is checked before any process starts, and every row before
it is partitioned, so a bad option or value fails in a second with a message that names
it, instead of hanging (``staleness -1``), training something else (``--ps-shards 0``)
or poisoning the model (a NaN feature value).
"""

from __future__ import annotations

import math

import numpy as np

from miniflow.ml.data import Batch

__all__ = ["check_config", "check_batch", "check_fraction", "MAX_DIMS_LOG2", "MAX_TASKS"]

MAX_DIMS_LOG2 = 62  # keys are int64, and BIAS_KEY (-1) must stay outside the key space
MAX_TASKS = 1024  # shards or workers: more is a typo, not a job
PLACEMENTS = ("SPREAD", "PACK", "STRICT_SPREAD", "STRICT_PACK")  # Ray's strategies
BACKEND_NAMES = ("local", "process", "ray")  # miniflow.ps.backends.BACKENDS (no import loop)


def _number(name: str, value, low: float, high: float = math.inf, low_open=False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        if high != math.inf:
            bound += f" and <= {high:g}"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")


def _integer(name: str, value, low: int, high: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be an integer <= {high}, got {value!r}")


def check_config(cfg) -> None:
    """Raises ``ValueError`` naming the first bad option of a ``PSConfig``."""
    from miniflow.ml.optimizers import OPTIMIZERS

    _integer("--ps-shards (num_shards)", cfg.num_shards, 1, MAX_TASKS)
    _integer("--workers (num_workers)", cfg.num_workers, 1, MAX_TASKS)
    if cfg.backend not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {cfg.backend!r}; expected one of {BACKEND_NAMES}")
    if cfg.sync and cfg.staleness is not None:
        raise ValueError("--staleness applies to async training only; drop it or pass --async")
    if cfg.staleness is not None:
        _integer("--staleness", cfg.staleness, 0)
    _integer("--dims-log2", cfg.dims_log2, 1, MAX_DIMS_LOG2)
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {cfg.optimizer!r}; expected one of {sorted(OPTIMIZERS)}"
        )
    _number("--alpha", cfg.alpha, 0, low_open=True)
    _number("--beta", cfg.beta, 0)
    _number("--lr", cfg.lr, 0, low_open=True)
    _number("--l1", cfg.l1, 0)
    _number("--l2", cfg.l2, 0)
    if cfg.dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64, got {cfg.dtype!r}")
    if getattr(cfg, "export", "merged") not in ("merged", "sharded"):
        raise ValueError(f"export must be 'merged' or 'sharded', got {cfg.export!r}")
    if getattr(cfg, "export", "merged") == "sharded" and not cfg.job_dir:
        raise ValueError("--sharded-export needs --job-dir: the shards write the model there")
    _number("--ray-cpus", getattr(cfg, "ray_cpus", 1.0), 0)
    if getattr(cfg, "ray_placement", "SPREAD") not in PLACEMENTS:
        raise ValueError(f"--ray-placement must be one of {PLACEMENTS}, got {cfg.ray_placement!r}")
    model = getattr(cfg, "model", "lr")
    if model not in ("lr", "fm", "ffm"):
        raise ValueError(f"model must be 'lr', 'fm' or 'ffm', got {model!r}")
    if model != "lr":
        cfg.factor_spec().check()
        _number("--factor-alpha", cfg.factor_alpha, 0, low_open=True)
        if cfg.factor_lr is not None:
            _number("--factor-lr", cfg.factor_lr, 0, low_open=True)
        if cfg.export == "sharded":
            raise ValueError("--sharded-export writes linear models only; drop it for FM/FFM")
    _integer("--batch-size", cfg.batch_size, 1)
    _integer("--epochs", cfg.epochs, 1)
    if cfg.checkpoint_every is not None:
        _integer("--checkpoint-every", cfg.checkpoint_every, 0)
    _integer("max_restarts", cfg.max_restarts, 0)
    check_fraction(cfg.max_lost_fraction)
    _number("--pace", cfg.pace, 0)
    _number("--timeout", cfg.timeout, 0, low_open=True)
    _number("--worker-timeout", cfg.worker_timeout, 0)
    if cfg.worker_timeout and cfg.worker_timeout >= cfg.timeout:
        raise ValueError(
            f"--worker-timeout ({cfg.worker_timeout:g}s) must be below --timeout "
            f"({cfg.timeout:g}s), or waiting workers give up before the hung one is replaced"
        )


def check_fraction(value) -> None:
    """``--max-lost-fraction`` is a number in [0, 1]."""
    _number("--max-lost-fraction", value, 0, 1)


def check_batch(batch: Batch, dims_log2: int, first_row: int) -> None:
    """Raises ``ValueError`` naming the first bad row (0-based, counted over the whole
    input) of a batch: ids outside ``[0, 2**dims_log2)``, non-finite values or labels."""
    indices = np.asarray(batch.indices)
    bad = (indices < 0) | (indices >= (1 << dims_log2))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        row = first_row + int(np.searchsorted(batch.indptr, at, side="right")) - 1
        raise ValueError(
            f"row {row}: feature id {int(indices[at])} is outside [0, 2**{dims_log2}) "
            f"({int(bad.sum())} such ids in this block)"
        )
    if batch.values is not None and not np.isfinite(batch.values).all():
        at = int(np.flatnonzero(~np.isfinite(batch.values))[0])
        row = first_row + int(np.searchsorted(batch.indptr, at, side="right")) - 1
        raise ValueError(f"row {row}: feature value {batch.values[at]} is not finite")
    labels = np.asarray(batch.labels)
    bad = ~np.isfinite(labels) | (labels < 0) | (labels > 1)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise ValueError(f"row {first_row + at}: label {labels[at]} is not in [0, 1]")
