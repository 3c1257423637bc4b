"""Ray placement on a two-node Ray cluster on this machine (a head and a second node,
each a raylet on 127.0.0.1, as `ray start --head` + `ray start --address` would make):
shards and workers reserve real CPUs, spread over both nodes, and a job too big for
the cluster fails at the start with the numbers."""

import os

import pytest

from miniflow.ps import PSConfig, PSJob


@pytest.fixture(scope="module")
def two_nodes():
    if os.environ.get("MINIFLOW_RAY_CLUSTER_TEST") == "0":
        pytest.skip("MINIFLOW_RAY_CLUSTER_TEST=0: the two-raylet Ray cluster test is off")
    ray = pytest.importorskip("ray")
    import ray._private.ray_constants as ray_constants
    from ray.cluster_utils import Cluster

    from miniflow.ps.backends.base import import_path

    local = {"num_cpus": 2, "node_ip_address": "127.0.0.1"}
    cluster = _start_cluster(Cluster, local)
    try:
        # ray.init rewrites a loopback address to the host's outward address (for
        # real clusters), where these loopback-bound nodes do not listen.
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)
            ray.init(
                address=cluster.address,
                log_to_driver=False,
                runtime_env={"env_vars": {"PYTHONPATH": import_path()}},
            )
            yield ray
    finally:
        ray.shutdown()
        cluster.shutdown()


def _start_cluster(cluster_class, local, attempts: int = 3):
    """A head and a second node. Ray gives a raylet a fixed 30 s to register, which a
    loaded 2-CPU machine can miss while Ray's own Python agents start; a node that
    misses it is retried, and a cluster that cannot start is a skip, not a failure."""
    last = None
    for _ in range(attempts):
        cluster = cluster_class(shutdown_at_exit=True)
        try:
            cluster.add_node(**local, include_dashboard=False)
            cluster.add_node(**local)
            cluster.wait_for_nodes(timeout=180)
            return cluster
        except Exception as e:  # Ray raises a bare Exception on a startup timeout
            if "timed out during startup" not in str(e):
                cluster.shutdown()
                raise
            last = e
            cluster.shutdown()
    pytest.skip(f"Ray could not start two nodes here in {attempts} attempts: {last}")


def _config(ctr, tmp_path, **kw):
    defaults = {
        "num_shards": 2,
        "num_workers": 2,
        "backend": "ray",
        "dims_log2": ctr.dims_log2,
        "batch_size": ctr.batch_size,
        "job_dir": str(tmp_path / "job"),
    }
    return PSConfig(**{**defaults, **kw})


@pytest.mark.slow
def test_shards_and_workers_reserve_cpus_spread_over_two_nodes(two_nodes, ctr, reference, tmp_path):
    ray = two_nodes
    from ray.util import placement_group_table

    seen = {}

    def on_progress(job, stats):
        if not seen:
            backend = job.backend
            seen["bundles"] = placement_group_table(backend.placement)["bundles_to_node_id"]
            seen["shards"] = ray.get([a.node.remote() for a in backend.actors])
            seen["free"] = ray.available_resources().get("CPU", 0)

    r = PSJob(_config(ctr, tmp_path)).run(
        ctr.train(), holdout=[ctr.test], progress=False, on_progress=on_progress
    )
    nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2
    # 4 bundles of 1 CPU on 2 nodes of 2 CPUs: every CPU reserved, both nodes used
    assert len(seen["bundles"]) == 4 and set(seen["bundles"].values()) == nodes
    assert seen["free"] == 0
    # each shard actor runs on the node of its bundle
    assert seen["shards"] == [seen["bundles"][0], seen["bundles"][1]]
    assert abs(ctr.auc(r.model) - reference.auc) < 0.001  # sync: single-process result
    assert _cpus_back(ray, 4)  # the reservation was released


@pytest.mark.slow
def test_a_job_bigger_than_the_cluster_fails_at_the_start_with_the_numbers(
    two_nodes, ctr, tmp_path
):
    cfg = _config(ctr, tmp_path, ray_cpus=2, timeout=5, worker_timeout=0)
    with pytest.raises(RuntimeError, match=r"reserve 4 x 2 CPUs .* the cluster has 4 CPUs"):
        PSJob(cfg).run(ctr.train(), progress=False)
    assert _cpus_back(two_nodes, 4)


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
