"""Serving a sharded model: a request fetches only its touched keys from the shards."""

import numpy as np

from miniflow.ps import PSConfig, PSJob, ShardClient, ShardedModel
from miniflow.ps.backends.local import LocalTransport


class CountingTransport(LocalTransport):
    """Records the keys of every pull that reaches a shard."""

    def __init__(self, shards):
        super().__init__(shards)
        self.pulled = []

    def call_many(self, calls):
        self.pulled += [c.arrays["keys"] for c in calls if c.header["op"] == "pull"]
        return super().call_many(calls)


def test_sharded_model_predicts_like_the_merged_model_fetching_only_touched_keys(ctr):
    job = PSJob(
        PSConfig(num_shards=3, num_workers=2, dims_log2=ctr.dims_log2, batch_size=ctr.batch_size)
    )
    r = job.run(ctr.train(), progress=False)
    transport = CountingTransport(job.backend.shards)
    served = ShardedModel(ShardClient(transport), ctr.dims_log2)
    request = ctr.test.slice(0, 50)
    np.testing.assert_allclose(
        served.predict_proba(request), r.model.predict_proba(request), rtol=1e-6
    )
    fetched = np.concatenate(transport.pulled)
    touched = np.unique(request.indices)
    assert len(transport.pulled) == 3  # one request per shard
    np.testing.assert_array_equal(np.sort(fetched), np.append(-1, touched))  # + the bias key
    assert served.keys_fetched == len(touched) < r.model.nnz / 10
    np.testing.assert_allclose(served.lookup(touched), r.model.lookup(touched), rtol=1e-6)


def test_connect_serves_from_process_shards(ctr, tmp_path):
    from miniflow.ps.backends.base import JobSpec
    from miniflow.ps.backends.process import ProcessBackend
    from miniflow.ps.partition import Partitions

    cfg = PSConfig(num_shards=2, num_workers=1, dims_log2=ctr.dims_log2)
    spec = JobSpec(
        cfg.shard_configs(str(tmp_path)), Partitions(str(tmp_path), 1, 1, []), 1, str(tmp_path)
    )
    backend = ProcessBackend(spec)
    try:
        backend.start_shards()
        trainer = backend.client(worker=0)
        keys = np.array([5, 17, 123456, -1])
        trainer.push(keys, np.array([0.3, -0.2, 0.1, 0.05]), step=0)
        served = ShardedModel.connect(backend.addresses, ctr.dims_log2, identity=backend.identity)
        np.testing.assert_array_equal(served.lookup(keys[:3]), trainer.pull(keys[:3]))
        assert served.lookup(np.array([99]))[0] == 0.0  # a key no shard has
        served.client.close()
        trainer.close()
    finally:
        backend.stop()
    assert all(p.poll() is not None for p in backend.shard_procs)


def test_serve_a_finished_job_from_its_checkpoints(ctr, tmp_path):
    job = PSJob(
        PSConfig(
            num_shards=2,
            num_workers=2,
            dims_log2=ctr.dims_log2,
            batch_size=ctr.batch_size,
            job_dir=str(tmp_path / "job"),
        )
    )
    r = job.run(ctr.train(), progress=False)
    request = ctr.test.slice(100, 300)
    with ShardedModel.from_checkpoints(tmp_path / "job", ctr.dims_log2) as served:
        procs = served._backend.shard_procs
        np.testing.assert_allclose(
            served.predict_proba(request), r.model.predict_proba(request), rtol=1e-6
        )
    assert all(p.poll() is not None for p in procs)  # close() stopped the shard processes
