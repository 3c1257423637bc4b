"""Kill tests on the process backend: SIGKILL a worker, then a shard, mid-training.

Each run is paced (at least 25 ms per worker step, ~80 steps) so the kill lands in the
middle of training on any machine; the kill is triggered from the job's progress
callback once a third (half) of the rows have been trained.
"""

import pytest
from ps_job_helpers import at_fraction, process_job, stopped


def test_sigkill_worker_is_replaced_and_nothing_is_lost(ctr, reference, tmp_path):
    job = process_job(ctr, tmp_path)
    on_progress, state = at_fraction(1 / 3, ctr.rows, lambda j: j.backend.kill_worker(1))
    r = job.run(ctr.train(), holdout=[ctr.test], progress=False, on_progress=on_progress)
    assert stopped(job)
    log = (tmp_path / "job" / "worker-1.log").read_text()
    print(f"worker 1 SIGKILLed after {state['at']} of {ctr.rows} rows")
    print("\n".join(r.events))
    print("worker 1 log:", log)
    assert state["at"] is not None and state["at"] < ctr.rows
    assert job.restarts == [0, 1]
    assert any("killed by SIGKILL" in e and "replacement #1" in e for e in r.events)
    # The replacement resumed at the step the shards lacked, not at 0 ...
    first = int(log.split('"first_step": ')[1].split(",")[0])
    assert 0 < first < r.partitions.steps
    # ... and every row reached every shard exactly once.
    for s in r.shard_stats:
        assert s["rows"] == ctr.rows and s["updates"] == r.partitions.steps
    auc = ctr.auc(r.model)
    print(f"auc {auc:.6f} vs single-process {reference.auc:.6f}")
    assert abs(auc - reference.auc) < 0.001


def test_async_sigkill_of_a_worker_and_a_shard(ctr, reference, tmp_path):
    """Async: the replacement worker re-runs its partition from the slowest shard's clock
    (duplicates dropped); the restored shard loses at most its updates since the last
    checkpoint (3 pushes of at most 256 rows), minus what the replays bring back."""
    job = process_job(ctr, tmp_path, sync=False, checkpoint_every=3)
    killed = []

    def on_progress(j, stats):
        if not killed and stats["rows"] >= ctr.rows / 4:
            killed.append(("worker 0", stats["rows"]))
            j.backend.kill_worker(0)
        elif len(killed) == 1 and stats["rows"] >= ctr.rows / 2:
            killed.append(("shard 1", stats["rows"]))
            j.backend.kill_shard(1)

    r = job.run(ctr.train(), holdout=[ctr.test], progress=False, on_progress=on_progress)
    assert stopped(job)
    s0, s1 = r.shard_stats
    print(f"killed {killed}\n" + "\n".join(r.events))
    print("shard 1 after recovery:", {k: s1[k] for k in ("restored_from", "rows", "duplicates")})
    assert [k for k, _ in killed] == ["worker 0", "shard 1"] and job.restarts == [1, 0]
    assert s0["rows"] == ctr.rows and s0["restored_from"] is None
    assert s1["restored_from"].endswith("shard-1.ckpt.npz")
    assert 0 <= ctr.rows - s1["rows"] <= 3 * 256
    auc = ctr.auc(r.model)
    print(f"auc {auc:.6f} vs single-process {reference.auc:.6f}")
    assert abs(auc - reference.auc) < 0.005


def test_sigkill_shard_restores_from_checkpoint_and_loses_only_what_it_says(
    ctr, reference, tmp_path
):
    job = process_job(ctr, tmp_path, checkpoint_every=3)
    on_progress, state = at_fraction(1 / 2, ctr.rows, lambda j: j.backend.kill_shard(1))
    r = job.run(ctr.train(), holdout=[ctr.test], progress=False, on_progress=on_progress)
    assert stopped(job)
    print(f"shard 1 SIGKILLed after {state['at']} of {ctr.rows} rows")
    print("\n".join(r.events))
    s0, s1 = r.shard_stats
    print(
        "shard 1 after recovery:",
        {
            k: s1[k]
            for k in (
                "restored_from",
                "restored_version",
                "lost_steps",
                "rows",
                "duplicates",
                "checkpoints",
            )
        },
    )
    assert state["at"] is not None and state["at"] < ctr.rows
    assert any("shard 1 died (killed by SIGKILL)" in e for e in r.events)
    assert s1["restored_from"].endswith("shard-1.ckpt.npz")
    assert s1["restored_version"] % 3 == 0  # the last periodic checkpoint
    # What was lost: the steps between that checkpoint and the crash, on shard 1 only.
    lost = [t for a, b in s1["lost_steps"] for t in range(a, b)]
    assert all(s1["restored_version"] <= t < s1["restored_version"] + 3 for t in lost)
    assert s1["rows"] == ctr.rows - sum(r.partitions.step_rows[t] for t in lost)
    assert s0["rows"] == ctr.rows and s0["lost_steps"] == [] and s0["restored_from"] is None
    auc = ctr.auc(r.model)
    print(f"lost steps {lost}; auc {auc:.6f} vs single-process {reference.auc:.6f}")
    assert abs(auc - reference.auc) < 0.001


def test_checkpoint_restore_round_trip_is_exact(ctr, tmp_path):
    from miniflow.ps.shard import Shard

    job = process_job(ctr, tmp_path, checkpoint_every=0)
    job.config.backend, job.config.pace = "local", 0.0
    r = job.run(ctr.train(), progress=False)
    cfg = job.backend.spec.shards[1]
    restored = Shard(cfg, restore=True)
    live = job.backend.shards[1]
    assert restored.incarnation != live.incarnation
    keys = live.keys()
    assert len(keys) == r.shard_stats[1]["keys"] and sorted(restored.keys()) == sorted(keys)
    for slot in live.opt.slots:
        assert (restored.opt.store.get(slot, keys) == live.opt.store.get(slot, keys)).all()
    assert restored.version == live.version and restored.opt.step == live.opt.step


@pytest.mark.parametrize("sync", [True, False])
def test_a_restarted_shard_gets_the_clients_last_push_again(tmp_path, sync):
    """In-process: a shard restored from a checkpoint one step old gets that step back
    from the client's replay, so its state equals the state before the crash."""
    import numpy as np

    from miniflow.ps.backends.local import LocalTransport
    from miniflow.ps.client import ShardClient
    from miniflow.ps.shard import Shard, ShardConfig

    cfg = ShardConfig(
        index=0,
        num_workers=1,
        hyperparameters={"alpha": 0.2, "beta": 1.0},
        sync=sync,
        checkpoint_path=str(tmp_path / "s.npz"),
    )
    shards = [Shard(cfg)]
    client = ShardClient(LocalTransport(shards), worker=0)
    keys = np.array([3, 7, -1], np.int64)
    client.push(keys, np.array([0.5, -0.5, 0.1]), step=0)
    client.checkpoint()
    client.push(keys, np.array([0.25, 0.25, 0.2]), step=1)  # after the checkpoint
    before_crash = client.pull(keys)
    shards[0] = Shard(cfg, restore=True)  # the crash loses step 1 ...
    assert not np.allclose(shards[0].pull(keys), before_crash)
    after = client.pull(keys, step=2)  # ... the stale incarnation makes the client replay it
    assert client.replays == 1
    np.testing.assert_array_equal(after, before_crash)
    assert shards[0].stats["lost_steps"] == []
    client.push(keys, np.array([0.25, 0.25, 0.2]), step=1)  # a late duplicate is dropped
    assert shards[0].stats["duplicates"] == 1


@pytest.mark.parametrize("restore", ["checkpoint", "empty"])
def test_a_restored_sync_shard_waits_for_the_slow_worker_and_loses_only_the_crash(
    tmp_path, restore
):
    """In-process, two workers, the order of their requests fixed: after the restart
    the fast worker's pull of t+1 (its push of t replayed) always reaches the shard
    before the slow worker's push of t. Once both have talked to the restored shard, it
    waits for that push instead of skipping step t (skipping lost every later step:
    issue 17). Before the slow one has, it cannot know the push will come (the worker
    may be blocked elsewhere, its push of t lost): it skips, once."""
    import threading

    import numpy as np

    from miniflow.ps.backends.local import LocalTransport
    from miniflow.ps.client import ShardClient
    from miniflow.ps.shard import Shard, ShardConfig

    cfg = ShardConfig(
        num_workers=2,
        hyperparameters={"alpha": 0.2, "beta": 1.0},
        checkpoint_path=str(tmp_path / "s.npz"),
        timeout=20,
    )
    keys = np.array([3, 7, -1], np.int64)

    def grad(w, t):
        return np.array([0.1 * (t + 1), -0.05 * (w + 1), 0.01 * (t - w)])

    shards = [Shard(cfg)]
    fast, slow = (ShardClient(LocalTransport(shards), worker=w) for w in (0, 1))
    for t in range(2):
        for c in (fast, slow):
            c.pull(keys, step=t)
            c.push(keys, grad(c.worker, t), step=t, rows=10)
        if t == 0 and restore == "checkpoint":
            fast.checkpoint()  # holds step 0; step 1 dies with the shard
    fast.pull(keys, step=2)
    slow.pull(keys, step=2)
    fast.push(keys, grad(0, 2), step=2, rows=10)  # pending when the shard dies
    shards[0] = Shard(cfg, restore=True)
    waiting = threading.Event()
    wait_for = shards[0]._cond.wait_for

    def spy(*a, **k):  # marks the fast worker's pull as arrived (waiting or not)
        waiting.set()
        return wait_for(*a, **k)

    shards[0]._cond.wait_for = spy
    last = 6
    for t in range(2, last):
        waiting.clear()
        pulled = threading.Thread(target=fast.pull, args=(keys,), kwargs={"step": t + 1})
        pulled.start()
        assert waiting.wait(10)
        slow.push(keys, grad(1, t), step=t, rows=10)  # after the fast worker's pull
        pulled.join(10)
        assert not pulled.is_alive()
        slow.pull(keys, step=t + 1)
        fast.push(keys, grad(0, t + 1), step=t + 1, rows=10)
    slow.push(keys, grad(1, last), step=last, rows=10)

    s = shards[0].statistics()
    lost_from = 1 if restore == "checkpoint" else 0
    # step 1 (after the checkpoint) died with the shard; step 2 was skipped by the
    # first pull of 3, so the slow worker's push of 2 was a duplicate; nothing after
    assert s["lost_steps"] == [[lost_from, 2], [2, 3]] and s["duplicates"] == 1
    assert s["version"] == last + 1 and s["clock"] == [last + 1] * 2
    kept = [0, *range(3, last + 1)] if restore == "checkpoint" else list(range(3, last + 1))
    assert s["rows"] == 20 * len(kept) and s["updates"] == len(kept)
    # the truth: a shard that never crashed, given only the steps that were kept (the
    # clients send gradients in the float32 of the shard's state)
    ref = Shard(ShardConfig(num_workers=1, hyperparameters=cfg.hyperparameters))
    for i, t in enumerate(kept):
        g = [grad(w, t).astype(np.float32).astype(np.float64) for w in (0, 1)]
        ref.push(0, i, keys, g[0] + g[1])
    np.testing.assert_allclose(shards[0].pull(keys), ref.pull(keys), rtol=1e-12)


def test_a_restored_sync_shard_does_not_wait_on_a_worker_that_has_not_rejoined(tmp_path):
    """Worker 0 pushed steps 14 and 15 before the crash and is blocked on another
    shard's barrier for step 15, waiting for worker 1's push of 15; worker 1 replays
    its push of 14 here and pulls 15. Waiting for worker 0's push of 14 (lost: its
    replay will be 15) would hang both workers; the shard skips to 15."""
    import numpy as np

    from miniflow.ps.shard import Shard, ShardConfig

    cfg = ShardConfig(num_workers=2, checkpoint_path=str(tmp_path / "none.npz"), timeout=5)
    shard = Shard(cfg, restore=True)  # no checkpoint: restarts empty
    keys = np.array([3, -1], np.int64)
    assert shard.push(1, 14, keys, np.array([0.5, 0.1]))  # worker 1's replay
    shard.pull(keys, worker=1, step=15)  # returns at once (a wait would time out)
    assert shard.version == 15 and shard.stats["lost_steps"] == [[0, 14], [14, 15]]
    assert shard.push(0, 15, keys, np.array([0.25, 0.1]))  # worker 0's replay, once free
    assert shard.push(1, 15, keys, np.array([0.25, 0.1]))
    assert shard.version == 16 and shard.stats["updates"] == 1
    shard.pull(keys, worker=0, step=16)  # both talked to it: an ordinary step
    assert shard.push(0, 16, keys, np.array([0.25, 0.1]))
    assert shard.version == 16  # waits for worker 1's push of 16
