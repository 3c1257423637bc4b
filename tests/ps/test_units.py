"""Sharding, wire format and shard semantics, each against an independent computation."""

import io
import pickle
import threading

import numpy as np
import pytest

from miniflow.core import wire
from miniflow.ml.optimizers import CoordinateFTRL
from miniflow.ps.shard import Shard, ShardConfig
from miniflow.ps.sharding import BIAS_KEY, shard_of, split_by_shard


def test_shard_of_is_the_documented_formula_and_balances_sequential_ids():
    keys = np.arange(100_000, dtype=np.int64)
    expected = [((int(k) * 0x9E3779B97F4A7C15) % 2**64 >> 32) % 4 for k in keys[:1000]]
    assert shard_of(keys[:1000], 4).tolist() == expected
    counts = np.bincount(shard_of(keys, 4), minlength=4)
    assert counts.min() > 0.97 * 25_000
    assert shard_of(np.array([BIAS_KEY, 2**40]), 3)[0] == 0
    with pytest.raises(ValueError, match="num_shards"):
        shard_of(keys, 0)


def test_split_by_shard_is_a_partition_of_positions():
    keys = np.random.default_rng(0).integers(0, 2**34, 5000)
    parts = split_by_shard(keys, 3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(5000))
    for s, idx in enumerate(parts):
        assert (shard_of(keys[idx], 3) == s).all() and (np.diff(idx) > 0).all()


def test_wire_round_trip_and_refusals():
    f = io.BytesIO()
    arrays = {
        "keys": np.array([1, -1, 2**40]),
        "w": np.array([0.5, 1.5], np.float32),
        "empty": np.zeros((0,), np.float64),
        "m": np.arange(6, dtype=np.int32).reshape(2, 3),
    }
    wire.write_frame(f, {"op": "pull", "step": 3}, arrays)
    raw = f.getvalue()
    h, b = int.from_bytes(raw[4:8], "little"), int.from_bytes(raw[8:16], "little")
    assert raw[:4] == b"MFPS" and b == 3 * 8 + 2 * 4 + 0 + 6 * 4 and len(raw) == 16 + h + b
    assert raw[16 : 16 + h].decode().startswith('{"op":"pull"')  # the header is plain JSON
    assert raw[16 + h : 16 + h + 24] == arrays["keys"].astype("<i8").tobytes()
    header, got = wire.read_frame(io.BytesIO(raw))
    assert header == {"op": "pull", "step": 3}
    for k, a in arrays.items():
        np.testing.assert_array_equal(got[k], a)
        assert got[k].dtype == a.dtype
    with pytest.raises(ValueError, match="dtype object"):
        wire.encode({}, {"x": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="bad magic"):
        wire.read_frame(io.BytesIO(pickle.dumps({"op": "pull"}) + b"\0" * 16))
    with pytest.raises(ValueError, match="truncated"):
        wire.read_frame(io.BytesIO(raw[:-3]))


def _cfg(**kw):
    return ShardConfig(**{"hyperparameters": {"alpha": 0.1, "beta": 1.0}, **kw})


def test_shard_update_equals_the_optimizer_on_a_dense_store():
    shard = Shard(_cfg(num_workers=1, sync=False, l1=0.01))
    dense = CoordinateFTRL(1000, alpha=0.1, beta=1.0, l1=0.01)
    rng = np.random.default_rng(1)
    for step in range(20):
        keys = np.unique(rng.integers(0, 1000, 50))
        g = rng.normal(size=len(keys))
        shard.push(0, step, keys, g)
        dense.update(keys, g)
    all_keys = np.arange(1000)
    np.testing.assert_allclose(shard.pull(all_keys), dense.weights(all_keys), rtol=1e-6, atol=1e-7)
    touched = np.count_nonzero(dense.store.array("n"))
    assert shard.num_keys == touched < 1000  # rows only for touched keys


def test_sync_shard_sums_one_step_of_all_workers_and_drops_duplicates():
    shard = Shard(_cfg(num_workers=2, sync=True))
    single = Shard(_cfg(num_workers=1, sync=True))
    shard.push(0, 0, np.array([1, 2]), np.array([0.5, 1.0]))
    assert shard.version == 0  # waits for worker 1
    assert shard.push(0, 0, np.array([1, 2]), np.array([0.5, 1.0])) is False  # duplicate
    shard.push(1, 0, np.array([2, 3, BIAS_KEY]), np.array([0.25, -1.0, 0.3]))
    single.push(0, 0, np.array([1, 2, 3, BIAS_KEY]), np.array([0.5, 1.25, -1.0, 0.3]))
    keys = np.array([1, 2, 3, BIAS_KEY])
    assert shard.version == 1 and shard.stats["duplicates"] == 1
    np.testing.assert_allclose(shard.pull(keys), single.pull(keys))
    with pytest.raises(RuntimeError, match="incomplete"):
        shard.push(0, 5, np.array([1]), np.array([1.0]))  # cannot skip steps when healthy


def test_sync_pull_waits_for_the_step_and_async_staleness_bounds_the_lead():
    shard = Shard(_cfg(num_workers=2, sync=True, timeout=5))
    got = []
    t = threading.Thread(target=lambda: got.append(shard.pull(np.array([7]), worker=0, step=1)))
    t.start()
    shard.push(0, 0, np.array([7]), np.array([1.0]))
    t.join(0.2)
    assert t.is_alive() and not got  # step 0 is incomplete: worker 1 has not pushed
    shard.push(1, 0, np.array([7]), np.array([1.0]))
    t.join(5)
    assert got and got[0][0] != 0.0

    stale = Shard(_cfg(num_workers=2, sync=False, staleness=1, timeout=0.3))
    for step in range(2):
        stale.push(0, step, np.array([1]), np.array([0.1]))
    stale.pull(np.array([1]), worker=0, step=1)  # 1 ahead of worker 1 (at 0): allowed
    with pytest.raises(TimeoutError, match="slowest worker"):
        stale.pull(np.array([1]), worker=0, step=2)  # 2 ahead: waits, and times out here
    stale.finish(1)  # a finished worker no longer holds anyone back
    stale.pull(np.array([1]), worker=0, step=2)


def test_unknown_op_and_stale_incarnation_are_reported_not_raised():
    shard = Shard(_cfg())
    reply, _ = shard.handle({"op": "frobnicate"}, {})
    assert reply["ok"] is False and "unknown op 'frobnicate'" in reply["error"]
    reply, _ = shard.handle({"op": "push", "worker": -1, "step": 0}, {})
    assert reply["ok"] is False and "push from worker -1" in reply["error"]
    reply, _ = shard.handle({"op": "stats", "incarnation": shard.incarnation + 1}, {})
    assert reply == {"ok": False, "stale": True, "incarnation": shard.incarnation}


def test_a_shard_restarted_before_its_first_checkpoint_rejoins_empty(tmp_path):
    cfg = _cfg(num_workers=1, sync=True, checkpoint_path=str(tmp_path / "none.npz"))
    shard = Shard(cfg, restore=True)
    shard.push(0, 7, np.array([1]), np.array([0.5]))  # the workers are at step 7
    assert shard.version == 8 and shard.stats["lost_steps"] == [[0, 7]]
    # no claim of a restore from a file that does not exist (issue 17)
    assert shard.stats["restored_from"] is None and shard.stats["restored_empty"] is True
