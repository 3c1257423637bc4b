"""The ray backend: shards as actors, workers as tasks, on a local Ray at 127.0.0.1."""

import pytest

from miniflow.ps import PSConfig, PSJob


@pytest.fixture(scope="module")
def local_ray():
    import ray  # the [ps] extra, which `make test` installs

    from miniflow.ps.backends.ray import start_local_ray

    # 2 shards + 2 workers reserve 1 CPU each (Ray CPUs are accounting units)
    start_local_ray(num_cpus=4, log_to_driver=False)  # 127.0.0.1, no dashboard
    yield ray
    ray.shutdown()
    assert not ray.is_initialized()


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_ray_sync_and_async_match_single_process_and_survive_a_shard_kill(ctr, reference, tmp_path):
    results = {}
    for sync in (True, False):
        job = PSJob(
            PSConfig(
                num_shards=2,
                num_workers=2,
                backend="ray",
                sync=sync,
                dims_log2=ctr.dims_log2,
                batch_size=ctr.batch_size,
                job_dir=str(tmp_path / f"job-{sync}"),
            )
        )
        r = job.run(ctr.train(), holdout=[ctr.test], progress=False, log=print)
        results[sync] = ctr.auc(r.model)
        assert job.backend.actors == []  # every actor was killed at the end
        if sync:
            assert reference.max_weight_diff(r.model) < 1e-5
    print(
        f"ray auc sync {results[True]:.6f} async {results[False]:.6f} "
        f"single-process {reference.auc:.6f}"
    )
    assert abs(results[True] - reference.auc) < 0.001
    assert abs(results[False] - reference.auc) < 0.005

    # Kill shard 1's actor mid-training: Ray restarts it and it restores its checkpoint.
    job = PSJob(
        PSConfig(
            num_shards=2,
            num_workers=2,
            backend="ray",
            sync=True,
            dims_log2=ctr.dims_log2,
            batch_size=ctr.batch_size,
            pace=0.05,
            checkpoint_every=3,
            job_dir=str(tmp_path / "job-kill"),
        )
    )
    killed = {}

    def on_progress(j, stats):
        if not killed and stats["rows"] >= ctr.rows / 3:
            killed["at"] = stats["rows"]
            j.backend.kill_shard(1)

    r = job.run(ctr.train(), holdout=[ctr.test], progress=False, on_progress=on_progress)
    s1 = r.shard_stats[1]
    print(
        f"killed at {killed['at']} rows; shard 1 restored from {s1['restored_from']} at "
        f"version {s1['restored_version']}, lost steps {s1['lost_steps']}"
    )
    assert s1["restored_from"] is not None and killed["at"] < ctr.rows
    lost = [t for a, b in s1["lost_steps"] for t in range(a, b)]
    assert s1["rows"] == ctr.rows - sum(r.partitions.step_rows[t] for t in lost)
    assert abs(ctr.auc(r.model) - reference.auc) < 0.001


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_ray_actors_and_tasks_reserve_cpus_in_one_placement_group(ctr, reference, tmp_path):
    import ray
    from ray.util import placement_group_table

    seen = {}

    def on_progress(job, stats):
        if not seen:
            seen["bundles"] = placement_group_table(job.backend.placement)["bundles_to_node_id"]
            seen["free"] = ray.available_resources().get("CPU", 0)
            seen["shards"] = ray.get([a.node.remote() for a in job.backend.actors])

    cfg = PSConfig(
        num_shards=2,
        num_workers=2,
        backend="ray",
        dims_log2=ctr.dims_log2,
        batch_size=ctr.batch_size,
        job_dir=str(tmp_path / "job"),
        ray_cpus=1,
    )
    r = PSJob(cfg).run(ctr.train(), holdout=[ctr.test], progress=False, on_progress=on_progress)
    assert len(seen["bundles"]) == 4 and seen["free"] == 0  # 4 x 1 CPU of the 4 declared
    assert seen["shards"] == [seen["bundles"][0], seen["bundles"][1]]
    assert reference.max_weight_diff(r.model) < 1e-5
    assert _cpus_back(ray, 4)  # the reservation is released at the end
    # a job bigger than the cluster fails at the start, with the numbers
    big = PSConfig(**{**cfg.__dict__, "ray_cpus": 3, "timeout": 5, "worker_timeout": 0})
    with pytest.raises(RuntimeError, match=r"reserve 4 x 3 CPUs .* the cluster has 4 CPUs"):
        PSJob(big).run(ctr.train(), progress=False)
    assert _cpus_back(ray, 4)


def _cpus_back(ray, n: int, timeout: float = 30.0) -> bool:
    """True once ``n`` CPUs are free again (Ray returns a removed group's CPUs soon, not
    at once)."""
    import time

    deadline = time.monotonic() + timeout
    while ray.available_resources().get("CPU", 0) != n:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_ray_fm_sync_reading_its_own_input_equals_the_single_process_trainer(ctr, tmp_path):
    """FM (issue 20) on Ray actors and tasks; the tasks read the file themselves."""
    from miniflow.ml.fm import FMTrainer
    from miniflow.ml.fm_data import FMSource
    from miniflow.ps.partition import StreamedInput

    ref = FMTrainer(ctr.dims_log2, "ftrl", factors=3, batch_size=ctr.batch_size)
    ref.fit(ctr.train(), progress=False)
    cfg = PSConfig(num_shards=2, num_workers=2, backend="ray", dims_log2=ctr.dims_log2,
                   batch_size=ctr.batch_size, model="fm", factors=3,
                   job_dir=str(tmp_path / "job"))  # fmt: skip
    r = PSJob(cfg).run(FMSource(ctr.train_path, ctr.dims_log2), progress=False)
    assert isinstance(r.partitions, StreamedInput)
    assert abs(ctr.auc(r.model) - ctr.auc(ref)) < 1e-4
    assert r.lost["rows"] == 0 and r.lost["of_rows"] == ctr.rows
