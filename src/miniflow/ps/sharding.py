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

Factorization machines put their factor vectors on the shards too, one key per factor
coordinate: factor ``f`` of factor row ``r`` (FM: the feature id; FFM: ``id * fields +
field``) is the negative key ``-2 - (r * 256 + f)`` (:func:`factor_keys`), owned by the
shard of ``r``, so a row's k coordinates live together and a worker's pull of a row
goes to one shard. Linear weights (``>= 0``), the bias (-1) and factors (``<= -2``) never
collide.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BIAS_KEY",
    "MAX_FACTORS",
    "shard_of",
    "split_by_shard",
    "factor_keys",
    "decode_factor_keys",
]

BIAS_KEY = -1
FACTOR_BITS = 8
MAX_FACTORS = 1 << FACTOR_BITS  # factors (k) per row a PS key can address
MAX_FACTOR_ROW = (1 << (62 - FACTOR_BITS)) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def shard_of(keys: np.ndarray, num_shards: int) -> np.ndarray:
    """The shard index (int64, in ``0..num_shards-1``) of every key.

    Args:
        keys: int64 feature ids (>= 0), :data:`BIAS_KEY` or factor keys (<= -2: the
            shard of their row).
        num_shards: the job's number of shards (>= 1).
    """
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    keys = np.asarray(keys, np.int64)
    factor = keys < BIAS_KEY
    if factor.any():
        keys = np.where(factor, (-2 - keys) >> FACTOR_BITS, keys)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point
        mixed = keys.astype(np.uint64) * _GOLDEN
    owner = ((mixed >> np.uint64(32)) % np.uint64(num_shards)).astype(np.int64)
    owner[keys == BIAS_KEY] = 0
    return owner


def factor_keys(rows: np.ndarray, k: int) -> np.ndarray:
    """The PS keys of the ``k`` factors of each factor row, row-major (``len(rows) * k``)."""
    rows = np.asarray(rows, np.int64)
    return (-2 - ((rows[:, None] << FACTOR_BITS) | np.arange(k))).reshape(-1)


def decode_factor_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, factor) of each factor key (the inverse of :func:`factor_keys`)."""
    c = -2 - np.asarray(keys, np.int64)
    return c >> FACTOR_BITS, c & (MAX_FACTORS - 1)


def split_by_shard(keys: np.ndarray, num_shards: int) -> list[np.ndarray]:
    """For each shard, the positions in ``keys`` of the keys it owns (in input order)."""
    owner = shard_of(keys, num_shards)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(num_shards + 1))
    return [order[bounds[s] : bounds[s + 1]] for s in range(num_shards)]
