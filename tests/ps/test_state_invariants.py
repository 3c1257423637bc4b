"""Parameter-server state invariants: a HashStore row created by growing the store starts
at each slot's initial value (not 0), a shard's optimizer state matches the same
optimizer on a dense store for every optimizer and hyperparameter, and every read of a
shard's store happens under the shard's lock."""

from __future__ import annotations

import numpy as np
import pytest

from miniflow.ml.optimizers import OPTIMIZERS, CoordinateAdagrad, HashStore, make_optimizer
from miniflow.ps.shard import Shard, ShardConfig


def test_rows_added_by_growing_start_at_the_initial_values():
    store = HashStore({"w": 0.0, "n": 0.25, "m": -3.0}, capacity=2)
    keys = np.arange(100, 140)  # 40 keys into capacity 2: several doublings
    store.put("w", keys, np.arange(40.0))  # creates the rows through one slot only
    np.testing.assert_array_equal(store.get("n", keys), np.full(40, 0.25))
    np.testing.assert_array_equal(store.get("m", keys), np.full(40, -3.0))
    np.testing.assert_array_equal(store.get("w", keys), np.arange(40.0))
    n, m = store.get_many(("n", "m"), np.array([100, 139, 7]))  # 7: never seen
    np.testing.assert_array_equal(n, [0.25, 0.25, 0.25])
    np.testing.assert_array_equal(m, [-3.0, -3.0, -3.0])
    assert len(store) == 40
    got_keys, got_n = store.items("n")
    np.testing.assert_array_equal(got_keys, keys)
    np.testing.assert_array_equal(got_n, np.full(40, 0.25))


CASES = [
    ("sgd", {"lr": 0.1}),
    ("momentum", {"lr": 0.1, "momentum": 0.9}),
    ("adagrad", {"lr": 0.5, "initial_accumulator": 1.0}),
    ("adagrad", {"lr": 0.5}),
    ("adam", {"lr": 0.01}),
    ("ftrl", {"alpha": 0.1, "beta": 1.0}),
]


def test_every_optimizer_has_a_case():
    assert {name for name, _ in CASES} == set(OPTIMIZERS)


@pytest.mark.parametrize("name, hyper", CASES, ids=[f"{n}-{sorted(h)}" for n, h in CASES])
def test_a_shard_updates_as_the_optimizer_on_a_dense_store(name, hyper):
    assert name in OPTIMIZERS
    cfg = ShardConfig(optimizer=name, hyperparameters=hyper, num_workers=1, sync=False)
    shard = Shard(cfg)
    dense = make_optimizer(name, 3000, dtype=np.dtype(cfg.dtype), **hyper)
    rng = np.random.default_rng(7)
    for step in range(12):  # new keys at every step: the hash store grows past 1024 rows
        keys = np.unique(rng.integers(0, 3000, 400))
        g = rng.normal(size=len(keys))
        shard.push(0, step, keys, g)
        dense.update(keys, g)
    every = np.arange(3000)
    np.testing.assert_allclose(shard.pull(every), dense.weights(every), rtol=1e-12, atol=1e-15)
    assert shard.num_keys > 1024


def test_an_optimizer_refuses_a_store_built_for_other_initial_values():
    with pytest.raises(ValueError, match=r"store's slots start at .*'n': 0\.0"):
        CoordinateAdagrad(store=HashStore(CoordinateAdagrad.slots), initial_accumulator=0.1)
    CoordinateAdagrad(store=HashStore({"w": 0.0, "n": 0.1}), initial_accumulator=0.1)


class _LockCheckingStore:
    """Wraps a shard's store; records for every call whether the shard's lock was held."""

    def __init__(self, store, shard):
        self._store, self._shard, self.calls = store, shard, []

    def __getattr__(self, name):
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def checked(*args, **kwargs):
            self.calls.append((name, self._shard._cond._is_owned()))
            return attr(*args, **kwargs)

        return checked

    def __len__(self):
        self.calls.append(("__len__", self._shard._cond._is_owned()))
        return len(self._store)


def test_reads_of_the_shard_state_hold_the_shard_lock():
    shard = Shard(ShardConfig(hyperparameters={"alpha": 0.1, "beta": 1.0}, num_workers=1))
    shard.push(0, 0, np.array([3, 9, 27]), np.array([1.0, 0.0, -2.0]))
    checking = shard.opt.store = _LockCheckingStore(shard.opt.store, shard)
    keys, weights = shard.nonzero_weights()
    assert sorted(keys.tolist()) == [3, 27]  # key 9 got a zero gradient: weight 0
    assert weights.dtype == np.float32 and np.all(weights != 0)
    np.testing.assert_array_equal(np.sort(shard.keys()), [3, 9, 27])
    assert checking.calls and all(held for _, held in checking.calls), checking.calls
