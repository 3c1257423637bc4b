"""miniflow.ps: a parameter server for sharded sparse models and data-parallel workers.

Shards (:mod:`miniflow.ps.shard`) own hash-partitioned parts of the key space
(:mod:`miniflow.ps.sharding`) and apply the optimizer themselves; workers
(:mod:`miniflow.ps.worker`) pull the weights their minibatch touches and push
gradients through a :class:`ShardClient`. :class:`PSJob` runs a whole job on the
``local``, ``process`` or ``ray`` backend and exports the single-process model format.
See docs/ps.md.
"""

from miniflow.core.job_auth import AuthError, JobIdentity
from miniflow.ps.client import ShardClient, ShardError
from miniflow.ps.job import DataLossError, PSConfig, PSJob, PSResult
from miniflow.ps.serving import ShardedModel
from miniflow.ps.shard import Shard, ShardConfig
from miniflow.ps.sharding import BIAS_KEY, shard_of, split_by_shard

__all__ = [
    "AuthError",
    "DataLossError",
    "JobIdentity",
    "PSConfig",
    "PSJob",
    "PSResult",
    "Shard",
    "ShardConfig",
    "ShardClient",
    "ShardError",
    "ShardedModel",
    "BIAS_KEY",
    "shard_of",
    "split_by_shard",
]
