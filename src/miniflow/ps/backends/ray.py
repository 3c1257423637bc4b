"""The ``ray`` backend: shards are Ray actors, workers are Ray tasks.

The same job runs on a laptop (``ray.init`` here) or on a cluster (``address=``, the
CLI's ``--address``). Shard actors are threaded (``max_concurrency``) so a pull that
waits at the sync barrier does not block the pushes that release it, and they are
restartable (``max_restarts``): Ray re-creates a dead shard actor, whose constructor
then restores the checkpoint, and re-sends the calls that were in flight
(``max_task_retries``); the new incarnation makes clients replay their last push, as
on the process backend. Worker tasks are retried by Ray when their process dies
(``max_retries``); a retried worker resumes at the first step some shard lacks.

On a multi-node cluster the job directory (partitions, checkpoints) must be on storage
every node can read, e.g. a shared filesystem mounted at the same path.

Placement: the job reserves ``ray_cpus`` CPUs for every shard and every worker in one
placement group (strategy ``ray_placement``, default ``SPREAD``: bundles over as many
nodes as possible), before anything starts. Shard i runs in bundle i, worker w in
bundle N+w, and a restarted actor or retried task returns to its bundle. A sync job
needs all its workers running at once; the group is all-or-nothing, so a cluster too
small for the job fails at the start with the numbers, instead of queueing some
workers forever. A local Ray started here declares at least as many CPUs as the job
reserves (Ray's CPUs are an accounting unit; ``ray_cpus=0`` turns reservations off).
"""

from __future__ import annotations

import os
import warnings

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from miniflow.ps.backends.base import Backend, WorkerState, import_path
from miniflow.ps.client import Call, ShardClient
from miniflow.ps.shard import Shard, ShardConfig
from miniflow.ps.worker import run_worker

__all__ = ["RayBackend", "RayTransport", "ShardActor", "start_local_ray"]


def start_local_ray(num_cpus: int | None = None, attempts: int = 4, **kwargs) -> None:
    """``ray.init`` of a local Ray on 127.0.0.1 without a dashboard, where children
    import this miniflow.

    Ray gives its raylet a fixed 30 s to register; on a heavily loaded machine that can
    fail, so the start is retried (after cleaning up) up to ``attempts`` times.
    """
    env = {"env_vars": {"PYTHONPATH": import_path()}}
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                runtime_env=env,
                **kwargs,
            )
            return
        except Exception:  # Ray raises a bare Exception for this timeout
            ray.shutdown()
            if attempt == attempts:
                raise


class ShardActor:
    """A :class:`Shard` in a Ray actor; restores its checkpoint when Ray restarts it."""

    def __init__(self, config: dict, restore: bool = False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Ray's own use of a deprecated API inside
            restarted = ray.get_runtime_context().was_current_actor_reconstructed
        self.shard = Shard(ShardConfig(**config), restore=restore or restarted)

    def handle(self, header: dict, arrays: dict) -> tuple[dict, dict]:
        return self.shard.handle(header, arrays)

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        """The Ray node this shard runs on."""
        return ray.get_runtime_context().get_node_id()


class RayTransport:
    """Submits every call before waiting for any (``ray.get`` on the list)."""

    def __init__(self, actors: list):
        self.actors = actors
        self.num_shards = len(actors)

    def call_many(self, calls: list[Call]) -> list[tuple[dict, dict]]:
        refs = [self.actors[c.shard].handle.remote(c.header, c.arrays) for c in calls]
        return ray.get(refs)

    def close(self) -> None:
        pass


def _run_worker(
    actors: list, index: int, partition: str, epochs: int, pace: float, factors=None
) -> dict:
    client = ShardClient(RayTransport(actors), index)
    return run_worker(client, partition, epochs, pace, factors=factors).__dict__


class RayBackend(Backend):
    name = "ray"

    def __init__(self, spec):
        super().__init__(spec)
        self.actors: list = []
        self.refs: dict[int, ray.ObjectRef] = {}
        self.placement = None
        self._started_ray = False

    def _bundle(self, index: int) -> dict:
        """Options that put a task or actor in bundle ``index`` of the job's group."""
        if self.placement is None:
            return {"num_cpus": 0}
        strategy = PlacementGroupSchedulingStrategy(
            self.placement, placement_group_bundle_index=index
        )
        return {"num_cpus": self.spec.ray_cpus, "scheduling_strategy": strategy}

    def _reserve(self) -> None:
        spec, n = self.spec, len(self.spec.shards) + self.spec.num_workers
        if not spec.ray_cpus:
            return
        self.placement = placement_group([{"CPU": spec.ray_cpus}] * n, spec.ray_placement)
        wait = min(spec.timeout, 60.0)
        try:
            ray.get(self.placement.ready(), timeout=wait)
        except ray.exceptions.GetTimeoutError:
            have = ray.cluster_resources().get("CPU", 0)
            remove_placement_group(self.placement)
            self.placement = None
            raise RuntimeError(
                f"Ray could not reserve {n} x {spec.ray_cpus:g} CPUs "
                f"({len(spec.shards)} shards + {spec.num_workers} workers, "
                f"{spec.ray_placement}) within {wait:g}s; the cluster has {have:g} CPUs. "
                "Lower --ray-cpus, use fewer shards/workers, or add nodes"
            ) from None

    def start_shards(self, restore: bool = False) -> None:
        if not ray.is_initialized():
            if self.spec.address:
                ray.init(
                    address=self.spec.address,
                    runtime_env={"env_vars": {"PYTHONPATH": import_path()}},
                )
            else:
                needed = (len(self.spec.shards) + self.spec.num_workers) * self.spec.ray_cpus
                start_local_ray(num_cpus=max(os.cpu_count() or 1, int(-(-needed // 1))))
            self._started_ray = True
        if self.placement is None:
            self._reserve()
        actor = ray.remote(ShardActor)
        base = {
            "max_concurrency": 2 * self.spec.num_workers + 4,
            "max_restarts": 3,
            "max_task_retries": 3,
        }
        self.actors = [
            actor.options(**base, **self._bundle(i)).remote(cfg.__dict__, restore)
            for i, cfg in enumerate(self.spec.shards)
        ]
        ray.get([a.pid.remote() for a in self.actors])  # constructed and serving

    def client(self, worker: int = -1, timeout: float | None = None) -> ShardClient:  # noqa: ARG002
        return ShardClient(RayTransport(self.actors), worker)

    def start_worker(self, index: int) -> None:
        bundle = self._bundle(len(self.spec.shards) + index)
        task = ray.remote(_run_worker).options(max_retries=3, **bundle)
        self.refs[index] = task.remote(
            self.actors,
            index,
            self.spec.partitions.path(index),
            self.spec.epochs,
            self.spec.pace,
            self.spec.shards[0].factors,
        )

    def poll(self) -> list[WorkerState]:
        ready, _ = ray.wait(list(self.refs.values()), num_returns=len(self.refs), timeout=0)
        ready = set(ready)
        states = []
        for i in range(self.spec.num_workers):
            ref = self.refs[i]
            if ref not in ready:
                states.append(WorkerState("running"))
                continue
            try:
                ray.get(ref)
                states.append(WorkerState("done"))
            except Exception as e:  # noqa: BLE001  a worker's error, reported to the job
                states.append(WorkerState("failed", f"{type(e).__name__}: {e}"))
        return states

    def kill_shard(self, index: int) -> None:
        ray.kill(self.actors[index], no_restart=False)  # Ray restarts it from the checkpoint
        ckpt = self.spec.shards[index].checkpoint_path
        source = (
            f"from its checkpoint {ckpt}"
            if ckpt and os.path.exists(ckpt)
            else "with EMPTY state (it had written no checkpoint)"
        )
        self.log(f"shard {index} actor killed; Ray restarts it {source}")

    def stop(self) -> None:
        for ref in self.refs.values():
            ray.cancel(ref, force=True)
        for a in self.actors:
            ray.kill(a, no_restart=True)
        self.actors, self.refs = [], {}
        if self.placement is not None:
            remove_placement_group(self.placement)
            self.placement = None
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False
