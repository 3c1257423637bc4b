"""Incremental shard checkpoints: a delta holds only the rows written since the last
snapshot, a restored shard equals the one that wrote the chain, a failed write makes
the next snapshot a full one, and an explicit checkpoint compacts the chain."""

import glob
import os

import numpy as np

from miniflow.ps import checkpoint
from miniflow.ps.shard import Shard, ShardConfig, optimizer_hyperparameters

KEYS_PER_STEP = 50


def _shard(tmp_path, restore=False, every=1):
    cfg = ShardConfig(
        0,
        1,
        1,
        hyperparameters=optimizer_hyperparameters("ftrl"),
        checkpoint_path=str(tmp_path / "shard-0.ckpt.npz"),
        checkpoint_every=every,
        dims_log2=30,
    )
    return Shard(cfg, restore=restore)


def _step_keys(step):
    """Step 0 writes 1,000 keys; steps 1..9 write 50 new keys each; later steps
    rewrite the keys of step 1."""
    if step == 0:
        return np.arange(1000, dtype=np.int64)
    base = step if step < 10 else 1
    return np.arange(base * 10_000, base * 10_000 + KEYS_PER_STEP, dtype=np.int64)


def _push(shard, step, rng):
    keys = np.append(_step_keys(step), -1)
    shard.push(0, step, keys, rng.normal(size=len(keys)), rows=10, loss=1.0)


def _deltas(tmp_path):
    return sorted(glob.glob(str(tmp_path / "shard-0.ckpt.npz.delta-*")))


def _same_state(a, b, keys):
    np.testing.assert_array_equal(a.pull(keys), b.pull(keys))
    assert a.bias == b.bias and a.version == b.version
    assert a.clock.tolist() == b.clock.tolist()
    assert a.stats["rows"] == b.stats["rows"] and a.opt.step == b.opt.step


def test_deltas_hold_only_the_rows_of_their_interval_and_restore_exactly(tmp_path):
    rng = np.random.default_rng(0)
    shard = _shard(tmp_path)
    for step in range(6):
        _push(shard, step, rng)
    deltas = _deltas(tmp_path)
    # snapshot 1 is the full one (first after the start); 2..6 are deltas of one step
    assert len(deltas) == 5
    for step, path in enumerate(deltas, start=1):
        arrays, meta = checkpoint.load(path)
        assert meta["kind"] == "delta" and meta["seq"] == step + 1
        assert sorted(arrays["keys"].tolist()) == _step_keys(step).tolist()
    full, meta = checkpoint.load(str(tmp_path / "shard-0.ckpt.npz"))
    assert meta["kind"] == "full" and sorted(full["keys"].tolist()) == _step_keys(0).tolist()
    restored = _shard(tmp_path, restore=True)
    every = np.concatenate([_step_keys(s) for s in range(6)] + [[-1, 999_999]])
    _same_state(shard, restored, every)
    assert restored.stats["restored_deltas"] == 5 and restored._recovering


def test_deltas_past_half_the_store_are_compacted_into_a_full_snapshot(tmp_path):
    rng = np.random.default_rng(1)
    shard = _shard(tmp_path)
    for step in range(10):  # 10 x 50 new keys, each step a delta
        _push(shard, step, rng)
    assert len(_deltas(tmp_path)) == 9
    for step in range(10, 17):  # rewrites of the same 50 keys: small deltas ...
        _push(shard, step, rng)
    # ... until the deltas since the full one hold more than half the store (725 rows)
    _, meta = checkpoint.load(str(tmp_path / "shard-0.ckpt.npz"))
    assert meta["kind"] == "full" and meta["seq"] > 1
    assert len(_deltas(tmp_path)) < 9
    restored = _shard(tmp_path, restore=True)
    _same_state(shard, restored, np.concatenate([_step_keys(s) for s in range(10)]))


def test_a_failed_delta_write_is_reported_and_the_next_snapshot_is_full(tmp_path):
    rng = np.random.default_rng(2)
    shard = _shard(tmp_path)
    _push(shard, 0, rng)  # the full snapshot
    # the next delta's file name is taken by a directory: its write fails for real
    blocked = checkpoint.delta_path(shard.config.checkpoint_path, shard._base, 2)
    os.mkdir(blocked)
    _push(shard, 1, rng)
    assert shard.statistics()["checkpoint_errors"]
    _push(shard, 2, rng)  # must not be a delta on top of the missing one
    _, meta = checkpoint.load(shard.config.checkpoint_path)
    assert meta["kind"] == "full" and meta["seq"] == 3
    os.rmdir(blocked)
    restored = _shard(tmp_path, restore=True)
    _same_state(shard, restored, np.concatenate([_step_keys(s) for s in range(3)]))


def test_a_chain_with_a_missing_delta_restores_up_to_the_gap(tmp_path):
    rng = np.random.default_rng(3)
    shard = _shard(tmp_path)
    for step in range(4):
        _push(shard, step, rng)
    deltas = _deltas(tmp_path)
    os.remove(deltas[1])  # snapshot 3 lost: 4 must not be applied without it
    restored = _shard(tmp_path, restore=True)
    assert restored.stats["restored_deltas"] == 1
    assert restored.version == 2  # the state after snapshot 2 (steps 0 and 1)


def test_an_explicit_checkpoint_is_full_and_removes_the_deltas(tmp_path):
    rng = np.random.default_rng(4)
    shard = _shard(tmp_path, every=1)
    for step in range(3):
        _push(shard, step, rng)
    assert _deltas(tmp_path)
    shard.checkpoint()
    assert _deltas(tmp_path) == []
    arrays, meta = checkpoint.load(shard.config.checkpoint_path)
    assert meta["kind"] == "full" and len(arrays["keys"]) == 1000 + 2 * KEYS_PER_STEP
