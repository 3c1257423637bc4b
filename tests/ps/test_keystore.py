"""ArrayKeyStore against a dict reference: same values for every key, after any mix of
reads, writes, growth and rehashes; and the FTRL update on it equals the dense one."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from miniflow.ml.optimizers import OPTIMIZERS, DenseStore
from miniflow.ps.keystore import ArrayKeyStore, mix64

SLOTS = {"z": 0.0, "n": 0.5}
FTRL = OPTIMIZERS["ftrl"]

# keys from a few clustered ranges (collide in the index) and the whole int64 range
keys_st = st.lists(
    st.one_of(
        st.integers(0, 40),
        st.integers(2**32 - 5, 2**32 + 5),
        st.integers(2**34 - 3, 2**34 + 3),
        st.integers(-(2**63), 2**63 - 1),
    ),
    min_size=0,
    max_size=60,
)


@settings(max_examples=10, deadline=None)
@given(batches=st.lists(keys_st, min_size=1, max_size=12), seed=st.integers(0, 2**16))
def test_matches_a_dict_after_any_sequence_of_writes(batches, seed):
    rng = np.random.default_rng(seed)
    store = ArrayKeyStore(SLOTS, np.float64, capacity=1)  # small: every batch may grow it
    ref: dict[int, list[float]] = {}
    for batch in batches:
        keys = np.array(batch, np.int64)
        z = rng.normal(size=len(keys))
        # a repeated key in one put: the last value wins, as NumPy fancy assignment
        store.put("z", keys, z)
        for k, v in zip(batch, z, strict=True):
            ref.setdefault(k, [0.0, 0.5])[0] = v
        probe = np.array(batch + [7, 2**40 + 1, -5], np.int64)
        got_z, got_n = store.get_many(("z", "n"), probe)
        want = [ref.get(int(k), [0.0, 0.5]) for k in probe]
        np.testing.assert_array_equal(got_z, [w[0] for w in want])
        np.testing.assert_array_equal(got_n, [w[1] for w in want])
    assert len(store) == len(ref)
    keys, z = store.items("z")
    assert sorted(keys.tolist()) == sorted(ref)
    assert list(keys) == list(ref)  # insertion order, as a dict
    np.testing.assert_array_equal(z, [ref[k][0] for k in keys.tolist()])
    np.testing.assert_array_equal(store.contains(keys), True)


def test_large_growth_keeps_every_key_and_stays_compact():
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 2**34, 200_000))
    rng.shuffle(keys)
    store = ArrayKeyStore(SLOTS, np.float32)
    for part in np.array_split(keys, 37):
        store.put_many(("z", "n"), part, [part.astype(np.float32), -part.astype(np.float32)])
    assert len(store) == len(keys)
    z, n = store.get_many(("z", "n"), keys)
    np.testing.assert_array_equal(z, keys.astype(np.float32))
    np.testing.assert_array_equal(n, -keys.astype(np.float32))
    # absent keys read as the initial values
    absent = np.setdiff1d(rng.integers(0, 2**34, 5000), keys)
    assert not store.contains(absent).any()
    np.testing.assert_array_equal(store.get("n", absent), 0.5)
    # key 8 + z,n float32 8 = 16 bytes, plus the spare rows and the index (docs/ps.md)
    per_key = store.nbytes / len(store)
    assert 16 < per_key <= 24
    assert store._index.size * 0.85 >= len(store)  # never above the 85% load


def test_bytes_per_key_stay_within_24_including_ftrl_state_at_every_size():
    """Issue 17's target, from the store's own accounting (the nbytes of its arrays):
    <= 24 bytes per key for FTRL (z, n) in float32 after every insert batch from 20k to
    400k keys, right after each growth of the rows and of the index included."""
    rng = np.random.default_rng(2)
    keys = np.unique(rng.integers(0, 2**34, 420_000))[:400_000]
    rng.shuffle(keys)
    store = ArrayKeyStore(FTRL.slots, np.float32)
    per_key, grew = [], 0
    for part in np.array_split(keys, 400):  # 1,000 new keys per batch
        before = (len(store._keys), len(store._index))
        store.put_many(("z", "n"), part, [np.float32(1), np.float32(2)])
        assert store.nbytes == store._keys.nbytes + store._rows.nbytes + store._index.nbytes
        grew += before != (len(store._keys), len(store._index))
        if len(store) >= 20_000:
            per_key.append(store.nbytes / len(store))
    assert grew > 30  # the path went through many growths of both arrays
    assert max(per_key) <= 24.0, max(per_key)
    assert 20.0 <= float(np.median(per_key)) <= 23.0
    # the arrays own their memory (grown in place, never a view of a bigger block)
    assert store._keys.base is None and store._rows.base is None
    z, n = store.get_many(("z", "n"), keys)
    assert (z == 1).all() and (n == 2).all()


def test_ftrl_on_the_key_store_equals_ftrl_on_a_dense_table():
    rng = np.random.default_rng(1)
    dense = FTRL(store=DenseStore(1 << 12, FTRL.slots, np.float32), alpha=0.2, l1=0.1)
    hashed = FTRL(store=ArrayKeyStore(FTRL.slots, np.float32), alpha=0.2, l1=0.1)
    for _ in range(30):
        keys = np.unique(rng.integers(0, 1 << 12, 300))
        grads = rng.normal(size=len(keys))
        for opt in (dense, hashed):
            opt.weights(keys)
            opt.update(keys, grads)
    every = np.arange(1 << 12)
    np.testing.assert_array_equal(hashed.weights(every), dense.weights(every))


def test_dirty_rows_name_exactly_the_rows_written_since_the_last_call():
    store = ArrayKeyStore(SLOTS, np.float32)
    assert len(store.dirty_rows()) == 0  # not tracking
    store.track_dirty = True
    store.put("z", np.array([5, 6, 7]), np.ones(3))
    assert store.dirty_rows().tolist() == [0, 1, 2]
    store.get("z", np.array([5, 6, 7]))  # reads are not writes
    store.put("n", np.array([7, 9]), np.ones(2))
    assert store.dirty_rows().tolist() == [2, 3]
    keys, rows = store.rows_of(np.array([2, 3]))
    assert keys.tolist() == [7, 9] and rows[:, 1].tolist() == [1.0, 1.0]
    assert len(store.dirty_rows()) == 0


def test_mix64_is_a_bijection_on_a_sample_and_refuses_nothing():
    keys = np.arange(-1000, 1000, dtype=np.int64)
    assert len(np.unique(mix64(keys))) == len(keys)
    with pytest.raises(ValueError, match="float dtype"):
        ArrayKeyStore(SLOTS, np.int32)
