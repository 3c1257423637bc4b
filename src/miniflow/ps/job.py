"""A whole parameter-server training job: start, watch, recover, merge.

:class:`PSJob` is the coordinator. ``run`` lets the workers read a file input
themselves (each keeps its slice of every global step), or cuts any other stream of
batches into per-worker partition files (:mod:`miniflow.ps.partition`), starts the
shards and the workers on the
chosen backend, shows a tqdm bar (examples/s and the running progressive log loss,
read from shard 0's counters), replaces workers that die (the replacement resumes at
the first step some shard lacks), lets the backend restore shards that die, and at the
end merges the shards' non-zero weights into one
:class:`~miniflow.ml.sparse_lr.SparseLinearModel`: the same artifact the single-process
trainer exports, so ``load_model``, serving and batch prediction work unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from miniflow.ml import metrics
from miniflow.ml.data import Batch
from miniflow.ml.sparse_lr import SparseLinearModel
from miniflow.ps.backends import make_backend
from miniflow.ps.backends.base import Backend, JobSpec
from miniflow.ps.export import load_sharded_model, write_manifest
from miniflow.ps.factors import FactorSpec
from miniflow.ps.partition import Partitions, StreamedInput, write_partitions
from miniflow.ps.shard import ShardConfig, optimizer_hyperparameters
from miniflow.ps.validation import check_config

__all__ = ["PSConfig", "PSJob", "PSResult", "DataLossError", "DEFAULT_CHECKPOINT_EVERY"]

DEFAULT_CHECKPOINT_EVERY = 10
STARTUP_GRACE = 30.0  # seconds a (re)started worker has before its first step counts


class DataLossError(RuntimeError):
    """More was lost to shard crashes than ``max_lost_fraction`` allows (``.result``
    holds the finished job, its model and its loss report)."""

    def __init__(self, message: str, result: PSResult):
        super().__init__(message)
        self.result = result


@dataclass
class PSConfig:
    """A job's shape, consistency, model and fault-tolerance settings.

    Attributes:
        num_shards, num_workers: parameter-server shards and data-parallel workers.
        backend: ``local`` (threads), ``process`` (processes over loopback TCP) or ``ray``.
        sync: a barrier per step (equal to single-process training) or async.
        staleness: async only: max steps a worker may run ahead of the slowest.
        dims_log2, optimizer, alpha, beta, lr, l1, l2, dtype: as ``SparseLRTrainer``.
        batch_size: rows per *global* step (split over the workers).
        checkpoint_every: shard checkpoint every N updates (None: every
            :data:`DEFAULT_CHECKPOINT_EVERY`; 0: only at the end, so a shard crash
            loses everything that shard learned).
        job_dir: partitions, checkpoints and logs (default: a new temporary directory).
        max_restarts: replacements per worker before the job fails.
        max_lost_fraction: the job fails (:class:`DataLossError`) when some shard lost
            the updates of more than this fraction of the rows to a crash.
        timeout: seconds a pull may wait at a barrier or a request retry a shard.
        worker_timeout: a running worker that is the slowest and has not advanced for
            this many seconds is killed and replaced (0: never).
        pace: minimum seconds per worker step (fault-injection tests, demos).
        address: Ray cluster address (``ray`` backend; None starts a local Ray).
        ray_cpus, ray_placement: ``ray`` backend: CPUs each shard actor and worker task
            reserves, in one placement group of that strategy (``SPREAD``: over the
            nodes; ``PACK``, ``STRICT_SPREAD``, ``STRICT_PACK``).
        export: ``merged`` (the coordinator gathers the non-zero weights into one
            ``SparseLinearModel``) or ``sharded`` (each shard writes its part into
            ``JOB_DIR/model``; the result's model is a memory-mapped
            :class:`~miniflow.ps.export.ShardedLinearModel`).
        model: ``lr`` (logistic regression), or ``fm``/``ffm`` (factorization machines:
            factor rows are keys on the shards, :mod:`miniflow.ps.factors`; the result's
            model is an :class:`~miniflow.ml.fm_model.FMModel`).
        factors, fields, factor_alpha, factor_lr, factor_l2, init_std, seed: FM/FFM
            only, as :class:`~miniflow.ml.fm.FMTrainer`.
    """

    num_shards: int = 2
    num_workers: int = 2
    backend: str = "local"
    sync: bool = True
    staleness: int | None = None
    dims_log2: int = 22
    optimizer: str = "ftrl"
    alpha: float = 0.2
    beta: float = 1.0
    lr: float = 0.1
    l1: float = 0.0
    l2: float = 0.0
    dtype: str = "float32"
    batch_size: int = 1024
    epochs: int = 1
    checkpoint_every: int | None = None
    job_dir: str | None = None
    max_restarts: int = 3
    max_lost_fraction: float = 0.05
    pace: float = 0.0
    timeout: float = 300.0
    worker_timeout: float = 60.0
    address: str | None = None
    export: str = "merged"
    ray_cpus: float = 1.0
    ray_placement: str = "SPREAD"
    model: str = "lr"
    factors: int = 8
    fields: int = 0
    factor_alpha: float = 0.1
    factor_lr: float | None = None
    factor_l2: float = 1e-4
    init_std: float = 0.03
    seed: int = 0

    def factor_spec(self) -> FactorSpec | None:
        """The pairwise part of an FM/FFM job (None for ``lr``), with the factor
        optimizer's hyperparameters chosen as ``FMTrainer`` chooses them."""
        if self.model == "lr":
            return None
        if self.optimizer == "ftrl":
            hp = {"alpha": self.factor_alpha, "beta": self.beta}
        else:
            hp = {"lr": self.lr if self.factor_lr is None else self.factor_lr}
        return FactorSpec(
            self.model, self.factors, self.fields if self.model == "ffm" else 0,
            self.dims_log2, hp, self.factor_l2, self.init_std, self.seed,
        )  # fmt: skip

    @property
    def checkpoint_interval(self) -> int:
        every = self.checkpoint_every
        return DEFAULT_CHECKPOINT_EVERY if every is None else every

    def shard_configs(self, job_dir: str) -> list[ShardConfig]:
        hp = optimizer_hyperparameters(self.optimizer, self.alpha, self.beta, self.lr)
        spec = self.factor_spec()
        factors = asdict(spec) if spec is not None else None
        return [
            ShardConfig(
                index=i,
                num_shards=self.num_shards,
                num_workers=self.num_workers,
                optimizer=self.optimizer,
                hyperparameters=hp,
                l1=self.l1,
                l2=self.l2,
                dtype=self.dtype,
                sync=self.sync,
                staleness=self.staleness,
                checkpoint_path=os.path.join(job_dir, f"shard-{i}.ckpt.npz"),
                checkpoint_every=self.checkpoint_interval,
                timeout=self.timeout,
                dims_log2=self.dims_log2,
                factors=factors,
            )
            for i in range(self.num_shards)
        ]


@dataclass
class PSResult:
    """What a job produced."""

    model: SparseLinearModel  # an FMModel for an FM/FFM job
    rows: int
    seconds: float  # from starting the workers to the last one finishing
    progressive_log_loss: float
    startup_seconds: float  # starting the shards
    holdout: dict = field(default_factory=dict)
    shard_stats: list[dict] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    partitions: Partitions | StreamedInput | None = None
    lost: dict = field(default_factory=dict)

    @property
    def examples_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("nan")


class PSJob:
    """Runs one sharded training job.

    Args:
        config: a :class:`PSConfig`.

    Example:
        >>> job = PSJob(PSConfig(num_shards=2, num_workers=2, backend="process"))  # doctest: +SKIP
        >>> result = job.run(DataSource("train.svm", 22), holdout=DataSource("test.svm", 22))
        >>> result.model.save("model/")                                            # doctest: +SKIP
    """

    def __init__(self, config: PSConfig):
        check_config(config)
        self.config = config
        self.backend: Backend | None = None
        self.restarts: list[int] = [0] * config.num_workers
        self._progress: dict[int, tuple[int, float]] = {}  # worker -> (clock, since)

    def run(
        self,
        train: Iterable[Batch],
        holdout: Iterable[Batch] | None = None,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
        on_progress: Callable[[PSJob, dict], None] | None = None,
    ) -> PSResult:
        """Trains on ``train`` and returns the merged model.

        A :class:`~miniflow.ps.partition.StreamedInput`, or a ``DataSource``/``FMSource``
        of a text or cache file, is read by the workers themselves (nothing is written
        or read centrally but its first block, checked up front). Any other iterable of
        batches is read here once and partitioned into files.

        Args:
            holdout: evaluated with the merged model at the end.
            log: called with each recovery event and a summary line.
            on_progress: called about 10 times a second with shard 0's statistics
                (fault-injection tests call ``job.backend.kill_worker`` from it).
        """
        cfg = self.config
        job_dir = cfg.job_dir or tempfile.mkdtemp(prefix="miniflow-ps-")
        os.makedirs(job_dir, exist_ok=True)
        try:
            return self._run(job_dir, train, holdout, progress, log, on_progress)
        finally:
            if cfg.job_dir is None:
                shutil.rmtree(job_dir, ignore_errors=True)

    def _run(self, job_dir, train, holdout, progress, log, on_progress) -> PSResult:
        cfg = self.config
        parts = streamed_input(train, cfg)
        if parts is not None:
            parts.check()
        else:
            parts = write_partitions(
                train,
                os.path.join(job_dir, "partitions"),
                cfg.num_workers,
                cfg.batch_size,
                dims_log2=cfg.dims_log2,
            )
        spec = JobSpec(
            cfg.shard_configs(job_dir),
            parts,
            cfg.epochs,
            job_dir,
            cfg.pace,
            cfg.timeout,
            cfg.address,
            cfg.ray_cpus,
            cfg.ray_placement,
        )
        self.backend = backend = make_backend(cfg.backend, spec)
        t_start = time.perf_counter()
        clients = []
        try:
            backend.start_shards()
            coordinator = backend.client()
            clients.append(coordinator)
            t0 = time.perf_counter()
            for i in range(cfg.num_workers):
                backend.start_worker(i)
            # Progress polls must not hang on a shard that is being restarted.
            watcher = backend.client(timeout=1.0)
            clients.append(watcher)
            total = parts.rows * cfg.epochs if parts.rows is not None else None
            self._watch(backend, watcher, total, progress, on_progress, log)
            seconds = time.perf_counter() - t0
            if cfg.checkpoint_interval or cfg.job_dir:
                coordinator.checkpoint()
            if cfg.export == "sharded":
                exported = coordinator.export(os.path.abspath(os.path.join(job_dir, "model")))
            else:
                keys, weights, bias = coordinator.dump()
            if cfg.model != "lr":
                factor_rows, factor_vectors = coordinator.dump_factors()
            shard_stats = coordinator.stats()
        finally:
            for client in clients:
                client.close()
            backend.stop()
        rows, loss = shard_stats[0]["rows"], shard_stats[0]["loss"]
        meta = {
            "optimizer": {
                "name": cfg.optimizer,
                "l1": cfg.l1,
                "l2": cfg.l2,
                **optimizer_hyperparameters(cfg.optimizer, cfg.alpha, cfg.beta, cfg.lr),
            },
            "batch_size": cfg.batch_size,
            "rows_seen": rows,
            "parameter_server": {k: v for k, v in asdict(cfg).items() if k != "job_dir"},
        }
        if cfg.export == "sharded":
            directory = os.path.join(job_dir, "model")
            write_manifest(directory, exported, cfg.dims_log2, meta)
            model = load_sharded_model(directory)
        else:
            model = SparseLinearModel(keys, weights, bias, cfg.dims_log2, meta)
        if cfg.model != "lr":
            model = fm_model(cfg, model, factor_rows, factor_vectors, meta)
        result = PSResult(
            model,
            rows,
            seconds,
            loss / max(rows, 1),
            t0 - t_start,
            shard_stats=shard_stats,
            events=list(backend.events),
            partitions=parts,
        )
        result.lost = lost_report(shard_stats, *input_totals(parts, shard_stats, cfg.epochs))
        if holdout is not None:
            ys, ps = [], []
            for b in holdout:
                ys.append(b.labels)
                ps.append(model.predict_proba(b))
            result.holdout = metrics.summary(np.concatenate(ys), np.concatenate(ps))
        if log is not None:
            for line in result.lost["messages"]:
                log(line)
            log(describe(result, cfg))
        if result.lost["fraction"] > cfg.max_lost_fraction:
            raise DataLossError(
                f"shard crashes lost the updates of {result.lost['fraction']:.1%} of the rows "
                f"on some shard, above --max-lost-fraction {cfg.max_lost_fraction:g}: "
                + "; ".join(result.lost["messages"]),
                result,
            )
        return result

    def _watch(self, backend, coordinator, total, progress, on_progress, log) -> None:
        """Polls until every worker is done; replaces failed workers."""
        from tqdm import tqdm

        bar = tqdm(
            total=total,
            desc=f"ps {self.config.backend}",
            unit="ex",
            unit_scale=True,
            disable=not progress,
            mininterval=0.5,
            smoothing=0.1,
        )
        seen_events, stats = 0, {"rows": 0, "loss": 0.0}
        try:
            while True:
                states = backend.poll()
                for i, st in enumerate(states):
                    if st.status == "failed" and st.fatal:  # bad input: a retry fails too
                        raise ValueError(st.reason)
                    if st.status == "failed":
                        self._replace(backend, i, st.reason)
                for event in backend.events[seen_events:]:
                    if log is not None:
                        log(event)
                seen_events = len(backend.events)
                try:
                    stats = coordinator.shard_stats(0)
                except ConnectionError:
                    pass  # shard 0 is down; poll() restarts it
                # Shard 0's counters go back if it is restored from a checkpoint; the bar
                # only moves forward.
                bar.set_postfix_str(
                    f"logloss={stats['loss'] / max(stats['rows'], 1):.4f}", refresh=False
                )
                bar.update(max(0, min(stats["rows"], total or stats["rows"]) - bar.n))
                self._check_liveness(backend, states, stats)
                if on_progress is not None:
                    on_progress(self, stats)
                if all(st.status == "done" for st in states):
                    return
                time.sleep(0.1)
        finally:
            bar.close()

    def _check_liveness(self, backend: Backend, states, stats: dict) -> None:
        """Kills a worker that holds the others back: a running worker whose clock on
        shard 0 is the lowest, below some other worker's, and has not moved for
        ``worker_timeout`` seconds (plus :data:`STARTUP_GRACE` after a (re)start, which
        has imports to do). Workers waiting at a barrier are ahead, so never chosen."""
        timeout, clock = self.config.worker_timeout, stats.get("clock")
        running = [i for i, st in enumerate(states) if st.status == "running"]
        if not timeout or clock is None or not running:
            return
        now = time.monotonic()
        for i in running:
            if i not in self._progress:
                self._progress[i] = (clock[i], now + STARTUP_GRACE)
            elif self._progress[i][0] != clock[i]:
                self._progress[i] = (clock[i], now)
        slowest = min(clock[i] for i in running)
        if slowest == max(clock):
            return  # nobody is ahead: nobody is being held back (or a shard is down)
        for i in running:
            at, since = self._progress[i]
            if clock[i] == slowest and now - since > timeout:
                message = f"worker {i} made no progress for {now - since:.1f}s (at step {at})"
                try:
                    backend.kill_worker(i)
                except NotImplementedError:
                    raise RuntimeError(
                        f"{message}; the {backend.name} backend cannot replace a hung worker"
                    ) from None
                backend.log(f"{message}; killed it (--worker-timeout {timeout:g})")

    def _replace(self, backend: Backend, index: int, reason: str) -> None:
        if self.restarts[index] >= self.config.max_restarts:
            raise RuntimeError(
                f"worker {index} failed {self.restarts[index] + 1} times; last failure: {reason}"
            )
        self.restarts[index] += 1
        self._progress.pop(index, None)
        backend.log(
            f"worker {index} failed ({reason}); starting replacement "
            f"#{self.restarts[index]} on {_describe_input(backend.spec.partitions, index)}"
        )
        backend.start_worker(index)


def streamed_input(train, cfg: PSConfig) -> StreamedInput | None:
    """``train`` as input the workers read themselves, when it is one (a
    :class:`StreamedInput`, or a plain ``DataSource``/``FMSource`` of this job's
    ``dims_log2``); None for anything only this process can iterate."""
    from miniflow.ml.fm_data import FMSource
    from miniflow.ml.source import DataSource

    if isinstance(train, StreamedInput):
        return train
    spec = cfg.factor_spec()
    fb, fields = (spec.field_bits, spec.fields) if spec is not None else (0, 0)
    common = (cfg.dims_log2, cfg.num_workers, cfg.batch_size, cfg.model, fb, fields)
    if type(train) is DataSource and cfg.model == "lr":
        plain = train.cache is None and not train.skip_bad_rows and train.fmt != "csv"
        if plain and train.dims_log2 == cfg.dims_log2:
            return StreamedInput([train.path], train.fmt, *common)
    if type(train) is FMSource and cfg.model != "lr" and train.cache is None:
        if (train.dims_log2, train.field_bits, train.fields) == (cfg.dims_log2, fb, fields):
            return StreamedInput([train.path], train.fmt, *common)
    return None


def input_totals(parts, shard_stats: list[dict], epochs: int) -> tuple[int, int]:
    """(rows, global steps) the job's input held over all epochs: from the partition
    manifest, or (workers reading their own input) from what every worker's ``done``
    told the shards (any shard that still knows: a shard restored empty forgot it)."""
    if parts.rows is not None:
        return parts.rows * epochs, parts.steps * epochs
    told: dict[str, list[int]] = {}
    for s in shard_stats:
        told.update(s.get("inputs", {}))
    return sum(r for r, _ in told.values()), max((n for _, n in told.values()), default=0)


def _describe_input(parts, index: int) -> str:
    if isinstance(parts, StreamedInput):
        return f"its slice of {', '.join(parts.paths)}"
    return f"partition {parts.path(index)}"


def fm_model(cfg: PSConfig, linear: SparseLinearModel, rows, vectors, meta: dict):
    """The servable FM/FFM of a finished job (the format ``FMTrainer.to_model`` writes)."""
    from miniflow.ml.fm_model import FMModel

    spec = cfg.factor_spec()
    info = {
        **meta,
        "factor_optimizer": {"name": cfg.optimizer, **spec.hyperparameters},
        "factor_l2": spec.factor_l2,
        "init_std": spec.init_std,
        "seed": spec.seed,
    }
    return FMModel(linear, rows, vectors, spec.kind, spec.fields, spec.field_bits, info)


def describe(result: PSResult, cfg: PSConfig) -> str:
    """One summary line, in the style of the single-process trainer's epoch line."""
    mode = "sync" if cfg.sync else f"async(staleness={cfg.staleness})"
    text = (
        f"ps {cfg.backend} {cfg.num_shards} shards x {cfg.num_workers} workers {mode}: "
        f"{result.rows} rows in {result.seconds:.1f}s "
        f"({result.examples_per_second:,.0f} ex/s), "
        f"progressive logloss {result.progressive_log_loss:.5f}"
    )
    if result.holdout:
        text += (
            f", holdout auc {result.holdout['auc']:.5f} logloss {result.holdout['log_loss']:.5f}"
        )
    return text


def lost_report(shard_stats: list[dict], total_rows: int, total_steps: int) -> dict:
    """What shard crashes lost, per shard: the rows whose updates of that shard's keys
    are gone (all rows minus the rows the shard counted) and, in sync mode, the steps.

    ``fraction`` is the worst shard's lost rows over all rows.
    """
    shards, messages = [], []
    for s in shard_stats:
        rows = max(0, total_rows - int(s["rows"]))
        steps = sum(b - a for a, b in s["lost_steps"])
        restored = s.get("restored_from") or ("EMPTY state" if s.get("restored_empty") else None)
        shards.append(
            {
                "shard": s["index"],
                "lost_rows": rows,
                "lost_steps": steps,
                "lost_step_ranges": s["lost_steps"],
                "restored_from": restored,
                "checkpoint_errors": s.get("checkpoint_errors", []),
            }
        )
        if rows or steps:
            messages.append(
                f"LOST: shard {s['index']} lost its updates of {steps:,} of {total_steps:,} "
                f"steps, {rows:,} of {total_rows:,} rows ({rows / max(total_rows, 1):.2%}); "
                f"restarted from {restored}"
            )
        for e in s.get("checkpoint_errors", []):
            messages.append(f"shard {s['index']}: checkpoint write failed: {e}")
    worst = max((d["lost_rows"] for d in shards), default=0)
    return {
        "fraction": worst / total_rows if total_rows else 0.0,
        "rows": sum(d["lost_rows"] for d in shards),
        "of_rows": total_rows,
        "of_steps": total_steps,
        "shards": shards,
        "messages": messages,
    }
