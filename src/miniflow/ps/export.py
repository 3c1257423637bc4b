"""Sharded export: every shard writes its own part; nothing gathers the whole model.

A sharded model directory::

    model.json               format "miniflow.sparse_lr", dims_log2, bias, nnz, and
                             "sharded": {"num_shards": N, "nnz": [per part]}
    part-00000.keys.npy      shard 0's non-zero weights, sorted by key
    part-00000.weights.npy   (see :mod:`miniflow.ps.model_parts`)
    ...

:class:`ShardedLinearModel` serves it: it memory-maps the parts, routes each feature
id to its part with :func:`~miniflow.ps.sharding.shard_of` and binary-searches there,
so a prediction reads the pages of the ids it needs and a server's memory does not
grow with the model. It has the prediction surface of
:class:`~miniflow.ml.sparse_lr.SparseLinearModel`; ``miniflow serve`` and ``miniflow
predict`` load such a directory like any sparse LR model, and
:func:`load_sharded_model` gives the same object in Python.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from miniflow.core import update_rules as rules
from miniflow.core.atomic_file import atomic_write
from miniflow.ml.data import Batch
from miniflow.ml.linear_model import sigmoid
from miniflow.ml.sparse_lr import FORMAT, FORMAT_VERSION
from miniflow.ps.model_parts import part_paths, read_part
from miniflow.ps.sharding import shard_of

__all__ = [
    "ShardedLinearModel",
    "write_manifest",
    "is_sharded_model",
    "load_sharded_model",
    "sharded_servable",
]


def write_manifest(directory: str, parts: list[dict], dims_log2: int, meta: dict) -> dict:
    """``model.json`` of the parts the shards wrote (``[{"part", "nnz", "bias"}]``)."""
    parts = sorted(parts, key=lambda p: p["part"])
    if [p["part"] for p in parts] != list(range(len(parts))):
        raise ValueError(f"{directory}: parts {[p['part'] for p in parts]} are not 0..N-1")
    manifest = {
        **meta,
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "dims_log2": int(dims_log2),
        "bias": float(parts[0]["bias"]),
        "nnz": int(sum(p["nnz"] for p in parts)),
        "sharded": {"num_shards": len(parts), "nnz": [int(p["nnz"]) for p in parts]},
    }
    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
    atomic_write(os.path.join(directory, "model.json"), data)
    return manifest


def is_sharded_model(directory) -> bool:
    try:
        with open(os.path.join(directory, "model.json")) as f:
            return "sharded" in json.load(f)
    except (OSError, ValueError, TypeError):
        return False


class ShardedLinearModel:
    """A sparse LR model served from its memory-mapped parts (see the module doc).

    Attributes:
        dims_log2, bias, nnz, meta: as :class:`~miniflow.ml.sparse_lr.SparseLinearModel`.
    """

    def __init__(
        self, parts: list[tuple[np.ndarray, np.ndarray]], bias, dims_log2, meta=None, directory=None
    ):
        self.parts = parts
        self.directory = directory
        self.bias = float(bias)
        self.dims_log2 = int(dims_log2)
        self.meta = dict(meta or {})

    @property
    def nnz(self) -> int:
        return int(sum(len(k) for k, _ in self.parts))

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Weights of arbitrary feature ids (0 where the model has none)."""
        ids = np.asarray(ids, np.int64) & ((1 << self.dims_log2) - 1)
        out = np.zeros(len(ids), np.float32)
        owner = shard_of(ids, len(self.parts))
        for s, (keys, weights) in enumerate(self.parts):
            at = np.flatnonzero(owner == s)
            if not len(at) or not len(keys):
                continue
            pos = np.minimum(np.searchsorted(keys, ids[at]), len(keys) - 1)
            hit = keys[pos] == ids[at]
            out[at[hit]] = weights[pos[hit]]
        return out

    def decision_function(self, X) -> np.ndarray:
        """Margins ``b + w.x`` of a :class:`Batch` or SciPy CSR matrix."""
        if isinstance(X, Batch):
            batch = X
        else:
            batch = Batch.from_csr(X, np.zeros(X.shape[0], np.float32))
        # the computation of SparseLinearModel: the same predictions, bit for bit
        w = self.lookup(batch.indices)
        return rules.sparse_margins(batch.indptr, w, batch.values, self.bias)

    def save(self, directory) -> None:
        """Copies the model's files to ``directory`` (file by file: never in memory)."""
        src, dst = os.path.abspath(self.directory), os.path.abspath(directory)
        if src == dst:
            return
        os.makedirs(dst, exist_ok=True)
        for i in range(len(self.parts)):
            for path in part_paths(src, i):
                shutil.copyfile(path, os.path.join(dst, os.path.basename(path)))
        shutil.copyfile(os.path.join(src, "model.json"), os.path.join(dst, "model.json"))

    def predict_proba(self, X) -> np.ndarray:
        """P(click) per row (1-D array)."""
        return sigmoid(self.decision_function(X))


def load_sharded_model(directory) -> ShardedLinearModel:
    """Opens a sharded model directory (its parts memory-mapped)."""
    directory = os.fspath(directory)
    with open(os.path.join(directory, "model.json")) as f:
        meta = json.load(f)
    if meta.get("format") != FORMAT or "sharded" not in meta:
        raise ValueError(f"{directory}: not a sharded {FORMAT} model")
    if meta.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"{directory}: model format version {meta['version']} is too new")
    n = int(meta["sharded"]["num_shards"])
    parts = [read_part(directory, i) for i in range(n)]
    for i, (keys, _) in enumerate(parts):
        if len(keys) != meta["sharded"]["nnz"][i]:
            raise ValueError(
                f"{directory}: part {i} holds {len(keys)} weights, model.json says "
                f"{meta['sharded']['nnz'][i]}"
            )
    skip = ("format", "version", "dims_log2", "bias", "nnz")
    extra = {k: v for k, v in meta.items() if k not in skip}
    return ShardedLinearModel(parts, meta["bias"], meta["dims_log2"], extra, directory)


def sharded_servable(path):
    """A ``miniflow serve`` servable answering from the memory-mapped parts at ``path``
    (the sparse LR servable's signatures and checks, this model's lookups)."""
    from miniflow.serving.sparse_lr import SparseLRServable

    class ShardedLRServable(SparseLRServable):
        def __init__(self, model: ShardedLinearModel):
            empty = np.empty(0, np.int64), np.empty(0, np.float32)
            super().__init__(*empty, model.bias, model.dims_log2)
            self.model = model

        def _margins(self, idx, vals, splits):
            n = len(splits) - 1
            contrib = self.model.lookup(idx).astype(np.float64) * vals
            rows = np.repeat(np.arange(n), np.diff(splits))
            return np.bincount(rows, weights=contrib, minlength=n) + self.bias

    return ShardedLRServable(load_sharded_model(path))
