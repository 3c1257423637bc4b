"""Helpers of the parameter-server fault tests: a paced two-shard, two-worker job on the
process backend, a progress callback that acts once mid-training, and whether a job's
processes are all gone."""

from __future__ import annotations

from miniflow.ps import PSConfig, PSJob


def process_job(ctr, tmp_path, **kw) -> PSJob:
    """2 shards, 2 workers, 25 ms per worker step (~80 steps); ``kw`` overrides any field."""
    defaults = {
        "num_shards": 2,
        "num_workers": 2,
        "backend": "process",
        "dims_log2": ctr.dims_log2,
        "batch_size": ctr.batch_size,
        "pace": 0.025,
        "job_dir": str(tmp_path / "job"),
        "timeout": 120,
        "max_lost_fraction": 0.2,  # 80 steps: one checkpoint interval is ~4-12%
    }
    return PSJob(PSConfig(**{**defaults, **kw}))


def at_fraction(fraction, total, action):
    """An on_progress callback running ``action(job)`` once, when shard 0 has seen
    ``fraction * total`` rows; ``state["at"]`` is the row count it ran at."""
    state = {"at": None}

    def on_progress(job, stats):
        if state["at"] is None and stats["rows"] >= fraction * total:
            state["at"] = stats["rows"]
            action(job)

    return on_progress, state


def stopped(job) -> bool:
    """Every shard and worker process of ``job`` has exited."""
    procs = [*job.backend.shard_procs, *job.backend.worker_procs.values()]
    return all(p.poll() is not None for p in procs)
