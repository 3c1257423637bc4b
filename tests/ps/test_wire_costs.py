"""What a step costs on the wire: float32 state travels as float32 (weights and
gradients), keys as int32 when they fit; float64 state keeps float64."""

import numpy as np
import pytest

from miniflow.core import wire
from miniflow.ps.backends.local import LocalTransport
from miniflow.ps.client import ShardClient, wire_keys
from miniflow.ps.shard import Shard, ShardConfig, optimizer_hyperparameters


class Recorder(LocalTransport):
    """The local transport, keeping every request and reply (as they would be framed)."""

    def __init__(self, shards):
        super().__init__(shards)
        self.sent, self.received = [], []

    def call_many(self, calls):
        replies = super().call_many(calls)
        self.sent += calls
        self.received += replies
        return replies


def _client(dtype, dims_log2=20):
    hp = optimizer_hyperparameters("ftrl")
    shards = [
        Shard(ShardConfig(i, 2, 1, hyperparameters=hp, dtype=dtype, dims_log2=dims_log2))
        for i in range(2)
    ]
    return ShardClient(Recorder(shards), worker=0), shards


def _frame_bytes(header, arrays) -> int:
    return sum(len(b) for b in wire.encode(header, arrays))


@pytest.mark.parametrize(
    ("dtype", "dims", "key_type", "value_type"),
    [
        ("float32", 20, np.int32, np.float32),
        ("float32", 34, np.int64, np.float32),
        ("float64", 20, np.int32, np.float64),
    ],
)
def test_values_travel_in_the_state_dtype_and_keys_as_narrow_as_they_fit(
    dtype, dims, key_type, value_type
):
    client, shards = _client(dtype, dims)
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 1 << dims, 2000))
    keys[-1] = (1 << dims) - 1  # the largest id of the space
    for step in range(3):
        client.pull(keys, step)
        client.push(keys, rng.normal(size=len(keys)), step)
    w = client.pull(keys, 3)
    t = client.transport
    pulls = [(c, r) for c, r in zip(t.sent, t.received, strict=True) if c.header["op"] == "pull"]
    pushes = [c for c in t.sent if c.header["op"] == "push"]
    assert all(c.arrays["keys"].dtype == key_type for c, _ in pulls)
    assert all(r[1]["weights"].dtype == value_type for _, r in pulls)
    assert all(c.arrays["grads"].dtype == value_type for c in pushes)
    # what arrived is what a float64 client would have read, rounded to the state dtype
    direct = np.concatenate([s.pull(keys[s_keys(s, keys)]) for s in shards])
    order = np.concatenate([np.flatnonzero(s_keys(s, keys)) for s in shards])
    np.testing.assert_array_equal(w[order], direct.astype(value_type))
    assert client.pull(keys).dtype == np.float64  # callers always get float64


def s_keys(shard, keys):
    from miniflow.ps.sharding import shard_of

    return shard_of(keys, shard.config.num_shards) == shard.config.index


def test_bytes_per_touched_key_per_step_fall_from_32_to_16_for_float32_state():
    """Per key per step: pull request key + reply weight + push key + gradient."""
    n = 4096
    keys = np.arange(n, dtype=np.int64) * 97
    old = (
        _frame_bytes({}, {"keys": keys})
        + _frame_bytes({}, {"weights": np.zeros(n)})
        + _frame_bytes({}, {"keys": keys, "grads": np.zeros(n)})
    )
    k32 = wire_keys(keys)
    new = (
        _frame_bytes({}, {"keys": k32})
        + _frame_bytes({}, {"weights": np.zeros(n, np.float32)})
        + _frame_bytes({}, {"keys": k32, "grads": np.zeros(n, np.float32)})
    )
    assert old / n == pytest.approx(32, abs=0.1) and new / n == pytest.approx(16, abs=0.1)
    assert wire_keys(np.array([-1, 2**31 - 1])).dtype == np.int32
    assert wire_keys(np.array([-1, 2**31])).dtype == np.int64


def test_a_shard_refuses_float32_keys_and_integer_gradients_alike():
    _, (shard, _) = _client("float32")
    bad = {"op": "push", "worker": 0, "step": 0}
    header, _ = shard.handle(bad, {"keys": np.zeros(2, np.float32), "grads": np.zeros(2)})
    assert not header["ok"] and "integer" in header["error"]
    header, _ = shard.handle(bad, {"keys": np.zeros(2, np.int32), "grads": np.zeros(2, np.int32)})
    assert not header["ok"] and "floats" in header["error"]
