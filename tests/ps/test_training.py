"""Sharded training reaches the single-process model: local and process backends,
sync (equal up to float summation order) and async (close)."""

import numpy as np
import pytest

from miniflow.ps import PSConfig, PSJob
from miniflow.ps.sharding import shard_of


def _run(ctr, backend, sync, tmp_path, **kw):
    cfg = PSConfig(
        num_shards=2,
        num_workers=2,
        backend=backend,
        sync=sync,
        dims_log2=ctr.dims_log2,
        batch_size=ctr.batch_size,
        job_dir=str(tmp_path / "job"),
        **kw,
    )
    job = PSJob(cfg)
    result = job.run(ctr.train(), holdout=[ctr.test], progress=False, log=print)
    return job, result


@pytest.mark.parametrize("backend", ["local", "process"])
def test_sync_equals_single_process(ctr, reference, backend, tmp_path):
    trainer, ref_auc = reference.trainer, reference.auc
    job, r = _run(ctr, backend, True, tmp_path)
    auc = ctr.auc(r.model)
    print(f"{backend} sync auc {auc:.6f} vs single-process {ref_auc:.6f}")
    assert abs(auc - ref_auc) < 0.001
    assert r.holdout["auc"] == pytest.approx(auc)
    # Stronger than the AUC: the same weights, up to float32 summation order.
    assert reference.max_weight_diff(r.model) < 1e-5
    assert r.model.bias == pytest.approx(trainer.bias, abs=1e-6)
    assert r.rows == 40_000 and r.model.nnz == trainer.to_model().nnz
    # Every shard applied every step exactly once and holds only keys it owns.
    for s in r.shard_stats:
        assert s["rows"] == 40_000 and s["updates"] == r.partitions.steps
        assert s["duplicates"] == 0 and s["lost_steps"] == []
    owners = shard_of(r.model.keys, 2)
    assert 0.4 < np.mean(owners == 0) < 0.6  # the hash partitioning balances the keys
    if backend == "process":
        assert all(p.poll() is not None for p in job.backend.shard_procs)
        assert all(p.poll() is not None for p in job.backend.worker_procs.values())


@pytest.mark.parametrize("backend", ["local", "process"])
def test_async_is_close_to_single_process(ctr, reference, backend, tmp_path):
    ref_auc = reference.auc
    _, r = _run(ctr, backend, False, tmp_path)
    auc = ctr.auc(r.model)
    print(f"{backend} async auc {auc:.6f} vs single-process {ref_auc:.6f}")
    assert abs(auc - ref_auc) < 0.005
    # Async applies each worker's half-step on arrival: twice the updates of sync.
    assert r.shard_stats[0]["updates"] == 2 * r.partitions.steps
    assert r.shard_stats[0]["rows"] == 40_000


def test_bounded_staleness_and_more_epochs(ctr, reference, tmp_path):
    ref_auc = reference.auc
    _, r = _run(ctr, "local", False, tmp_path, staleness=1, epochs=2)
    assert r.rows == 80_000
    assert abs(ctr.auc(r.model) - ref_auc) < 0.01  # two passes: close, not equal


def test_merged_model_is_the_single_process_format(ctr, tmp_path):
    from miniflow.ml.sparse_lr import load_model

    _, r = _run(ctr, "local", True, tmp_path)
    r.model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(ctr.test), r.model.predict_proba(ctr.test))
    assert loaded.meta["parameter_server"]["num_shards"] == 2
