"""Predicting with a model that lives on the shards: fetch only the touched keys.

:class:`ShardedModel` answers a sparse request by pulling the weights of the request's
unique feature ids (and the bias) from the shards that own them; nothing else crosses
the wire and no full model is ever assembled. It has the prediction surface of
:class:`~miniflow.ml.sparse_lr.SparseLinearModel` (``lookup``, ``decision_function``,
``predict_proba``), so a server can use either.
"""

from __future__ import annotations

import json
import os

import numpy as np

from miniflow.ml.data import Batch
from miniflow.ml.linear_model import sigmoid
from miniflow.ps.client import ShardClient
from miniflow.ps.sharding import BIAS_KEY
from miniflow.ps.worker import margins

__all__ = ["ShardedModel"]


class ShardedModel:
    """A read-only view of a sharded model for serving.

    Args:
        client: a :class:`ShardClient` (worker -1: pulls never wait).
        dims_log2: feature ids are reduced to this many bits, as the model was trained.

    Example:
        >>> model = ShardedModel.connect(["127.0.0.1:7001", "127.0.0.1:7002"], 22)  # doctest: +SKIP
        >>> model.predict_proba(batch)                                             # doctest: +SKIP
    """

    def __init__(self, client: ShardClient, dims_log2: int, backend=None):
        self.client = client
        self.dims_log2 = int(dims_log2)
        self.keys_fetched = 0
        self._backend = backend

    @classmethod
    def from_checkpoints(cls, job_dir, dims_log2: int, backend: str = "process") -> ShardedModel:
        """Starts shards restored from a job's checkpoints (``JOB_DIR/shard-*.ckpt.npz``,
        written at the end of every job with a job dir) and serves from them.

        Call :meth:`close` (or use ``with``) to stop the shards.
        """
        from miniflow.ps.backends import make_backend
        from miniflow.ps.backends.base import JobSpec
        from miniflow.ps.partition import Partitions
        from miniflow.ps.shard import ShardConfig

        job_dir = os.fspath(job_dir)
        configs = []
        while os.path.exists(path := os.path.join(job_dir, f"shard-{len(configs)}.ckpt.npz")):
            with np.load(path, allow_pickle=False) as z:
                configs.append(ShardConfig(**json.loads(z["meta"].tobytes())["config"]))
        if not configs:
            raise FileNotFoundError(
                f"{job_dir}: no shard-0.ckpt.npz; pass the --job-dir of a "
                "finished job (its shards checkpoint at the end)"
            )
        spec = JobSpec(configs, Partitions(job_dir, 1, 1, []), 1, job_dir)
        b = make_backend(backend, spec)
        try:
            b.start_shards(restore=True)
        except BaseException:
            b.stop()
            raise
        return cls(b.client(), dims_log2, backend=b)

    def close(self) -> None:
        """Closes the connections; stops the shards if :meth:`from_checkpoints` started them."""
        self.client.close()
        if self._backend is not None:
            self._backend.stop()
            self._backend = None

    def __enter__(self) -> ShardedModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def connect(
        cls, addresses: list[str], dims_log2: int, timeout: float = 30.0, identity=None
    ) -> ShardedModel:
        """Connects to the shards of a ``process``-backend job (``host:port`` each, in
        shard order) as a member of the job ``identity`` (a
        :class:`~miniflow.core.job_auth.JobIdentity`: ``job.backend.identity``, or
        ``JobIdentity.from_file(job_id, "JOB_DIR/secret")``)."""
        from miniflow.ps.transport import SocketTransport

        return cls(ShardClient(SocketTransport(addresses, timeout, identity=identity)), dims_log2)

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Weights of arbitrary feature ids (0 for ids no shard has)."""
        ids = np.asarray(ids, np.int64) & ((1 << self.dims_log2) - 1)
        uniq, local = np.unique(ids, return_inverse=True)
        self.keys_fetched += len(uniq)
        return self.client.pull(uniq)[local]

    def decision_function(self, X) -> np.ndarray:
        """Margins ``b + w.x`` of a :class:`Batch` or SciPy CSR matrix."""
        batch = X if isinstance(X, Batch) else Batch.from_csr(X, np.zeros(X.shape[0], np.float32))
        ids = np.asarray(batch.indices, np.int64) & ((1 << self.dims_log2) - 1)
        uniq, local = np.unique(ids, return_inverse=True)
        pulled = self.client.pull(np.append(uniq, BIAS_KEY))
        self.keys_fetched += len(uniq)
        return margins(batch, pulled[:-1][local], pulled[-1])

    def predict_proba(self, X) -> np.ndarray:
        """P(click) per row."""
        return sigmoid(self.decision_function(X))
