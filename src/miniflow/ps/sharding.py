"""Which shard owns a key: a documented, pure hash partitioning of int64 keys.

    shard_of(k, N) = ((k * 0x9E3779B97F4A7C15) mod 2^64  >> 32)  mod N      for k >= 0
    shard_of(BIAS_KEY, N) = 0

The multiplier is 2^64 / golden ratio (Fibonacci hashing, Knuth TAOCP 6.4): it spreads
clustered keys (raw libsvm ids 1, 2, 3...) as evenly as random hashed ids, and it is
cheap to compute vectorised. The high 32 bits of the product are used because the low
bits of a multiplicative hash are the least mixed. The function depends on nothing but
``(k, N)``, so a worker, a shard, a serving process and a test all agree on the owner of
every key without talking to each other. Changing N re-partitions the keys (no
consistent hashing: a job keeps its shard count for its whole life).

The model's intercept is stored under the reserved key :data:`BIAS_KEY` (-1) on shard 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BIAS_KEY", "shard_of", "split_by_shard"]

BIAS_KEY = -1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def shard_of(keys: np.ndarray, num_shards: int) -> np.ndarray:
    """The shard index (int64, in ``0..num_shards-1``) of every key.

    Args:
        keys: int64 feature ids (>= 0) or :data:`BIAS_KEY`.
        num_shards: the job's number of shards (>= 1).
    """
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    keys = np.asarray(keys, np.int64)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point
        mixed = keys.astype(np.uint64) * _GOLDEN
    owner = ((mixed >> np.uint64(32)) % np.uint64(num_shards)).astype(np.int64)
    owner[keys == BIAS_KEY] = 0
    return owner


def split_by_shard(keys: np.ndarray, num_shards: int) -> list[np.ndarray]:
    """For each shard, the positions in ``keys`` of the keys it owns (in input order)."""
    owner = shard_of(keys, num_shards)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(num_shards + 1))
    return [order[bounds[s] : bounds[s + 1]] for s in range(num_shards)]
