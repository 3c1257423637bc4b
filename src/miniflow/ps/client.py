"""The worker's view of the shards: split keys by owner, fan out, gather.

:class:`ShardClient` turns ``pull(keys)`` / ``push(keys, grads)`` into one request per
shard (keys partitioned by :func:`~miniflow.ps.sharding.shard_of`), hands them all to the
transport at once (each transport sends them concurrently: sockets are written before
any reply is read; Ray calls are submitted before any is awaited), and puts the replies
back in key order.

Recovery of a restarted shard: every request carries the shard's ``incarnation`` as the
client last saw it. A restarted shard has a new one and answers ``stale``; the client
then re-sends its last push to that shard (which the shard may have lost with its
state since the checkpoint) before retrying the request. Pushes are idempotent per
(worker, step), so a replay the shard already has is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from miniflow.ps.sharding import split_by_shard

__all__ = ["Call", "Transport", "ShardClient", "ShardError", "wire_keys"]


def wire_keys(keys: np.ndarray) -> np.ndarray:
    """``keys`` as int32 when every key fits (half the bytes), else int64."""
    if len(keys) and keys.min() >= -(1 << 31) and keys.max() < (1 << 31):
        return keys.astype(np.int32)
    return keys


class ShardError(RuntimeError):
    """A shard answered a request with an error (the message names the shard and op)."""


@dataclass
class Call:
    """One request to one shard."""

    shard: int
    header: dict
    arrays: dict = field(default_factory=dict)


class Transport(Protocol):
    """How requests reach shards; one implementation per backend."""

    num_shards: int

    def call_many(self, calls: list[Call]) -> list[tuple[dict, dict]]:
        """Sends every call, concurrently where possible; replies in the same order."""
        ...

    def close(self) -> None: ...


class ShardClient:
    """Pull/push against all shards of one job.

    Args:
        transport: the backend's :class:`Transport`.
        worker: this client's worker index; -1 for the coordinator or serving (whose
            pulls never wait and who never push).
    """

    def __init__(self, transport: Transport, worker: int = -1):
        self.transport = transport
        self.worker = worker
        self.num_shards = transport.num_shards
        self.incarnations: list[int | None] = [None] * self.num_shards
        self._last_push: list[Call | None] = [None] * self.num_shards
        # the dtype each shard sends weights in (its state's); gradients go back in it
        self.value_dtypes: list[np.dtype] = [np.dtype(np.float64)] * self.num_shards
        self.replays = 0

    # -- plumbing -----------------------------------------------------------------------
    def _stamp(self, call: Call) -> Call:
        header = {**call.header, "incarnation": self.incarnations[call.shard]}
        return Call(call.shard, header, call.arrays)

    def _call(self, calls: list[Call]) -> list[tuple[dict, dict]]:
        replies = self.transport.call_many([self._stamp(c) for c in calls])
        out = []
        for call, (header, arrays) in zip(calls, replies, strict=True):
            while header.get("stale"):
                header, arrays = self._recover(call, header["incarnation"])
            if not header.get("ok"):
                raise ShardError(
                    f"shard {call.shard}: {call.header.get('op')} failed: {header.get('error')}"
                )
            if self.incarnations[call.shard] is None:
                self.incarnations[call.shard] = header.get("incarnation")
            out.append((header, arrays))
        return out

    def _recover(self, call: Call, incarnation: int) -> tuple[dict, dict]:
        """The shard restarted: replay our last push to it, then retry ``call``."""
        self.incarnations[call.shard] = incarnation
        last = self._last_push[call.shard]
        if last is not None and last is not call:
            self.replays += 1
            ((reply, _),) = self.transport.call_many([self._stamp(last)])
            if reply.get("stale"):
                return reply, {}
        ((reply, arrays),) = self.transport.call_many([self._stamp(call)])
        return reply, arrays

    def _broadcast(self, header: dict) -> list[dict]:
        return [h for h, _ in self._call([Call(s, dict(header)) for s in range(self.num_shards)])]

    # -- training -----------------------------------------------------------------------
    def pull(self, keys: np.ndarray, step: int | None = None) -> np.ndarray:
        """float64 weights of ``keys`` (waits for ``step`` as the consistency mode says)."""
        keys = np.asarray(keys, np.int64)
        parts = split_by_shard(keys, self.num_shards)
        sent = wire_keys(keys)
        calls = [
            Call(s, {"op": "pull", "worker": self.worker, "step": step}, {"keys": sent[idx]})
            for s, idx in enumerate(parts)
            if len(idx)
        ]
        out = np.empty(len(keys), np.float64)
        for call, (_, arrays) in zip(calls, self._call(calls), strict=True):
            out[parts[call.shard]] = arrays["weights"]
            self.value_dtypes[call.shard] = arrays["weights"].dtype
        return out

    def push(
        self, keys: np.ndarray, grads: np.ndarray, step: int, rows: int = 0, loss: float = 0.0
    ) -> None:
        """Sends each shard its part of the gradient (every shard gets a message, possibly
        empty, because a sync step is complete only when all workers pushed)."""
        keys = np.asarray(keys, np.int64)
        grads = np.asarray(grads, np.float64)
        parts = split_by_shard(keys, self.num_shards)
        sent = wire_keys(keys)
        calls = []
        for s, idx in enumerate(parts):
            header = {"op": "push", "worker": self.worker, "step": step, "rows": rows, "loss": loss}
            g = grads[idx].astype(self.value_dtypes[s])
            calls.append(Call(s, header, {"keys": sent[idx], "grads": g}))
            self._last_push[s] = calls[-1]
        self._call(calls)

    def done(self, rows: int | None = None, steps: int | None = None) -> None:
        """Tells every shard this worker has pushed its last step (and how many rows
        and steps its input had)."""
        self._broadcast({"op": "done", "worker": self.worker, "rows": rows, "steps": steps})

    def resume_step(self) -> int:
        """The first step some shard has not received from this worker (a replacement
        worker starts there; later shards drop the steps they already have)."""
        return min(h["clock"] for h in self._broadcast({"op": "clock", "worker": self.worker}))

    # -- the coordinator ----------------------------------------------------------------
    def stats(self) -> list[dict]:
        """Every shard's :meth:`~miniflow.ps.shard.Shard.statistics`."""
        return [h["stats"] for h in self._broadcast({"op": "stats"})]

    def shard_stats(self, shard: int) -> dict:
        return self._call([Call(shard, {"op": "stats"})])[0][0]["stats"]

    def checkpoint(self) -> list[str]:
        """Checkpoints every shard now; returns the paths."""
        return [h["path"] for h in self._broadcast({"op": "checkpoint"})]

    def dump(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(keys, weights, bias): the merge of every shard's non-zero weights."""
        replies = self._call([Call(s, {"op": "dump"}) for s in range(self.num_shards)])
        keys = np.concatenate([a["keys"] for _, a in replies])
        weights = np.concatenate([a["weights"] for _, a in replies])
        return keys, weights, float(replies[0][0]["bias"])

    def dump_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """An FM job's (factor row keys, vectors ``(n, k)``): every shard's trained rows."""
        replies = self._call([Call(s, {"op": "dump_factors"}) for s in range(self.num_shards)])
        rows = np.concatenate([a["rows"] for _, a in replies])
        return rows, np.concatenate([a["factors"] for _, a in replies])

    def export(self, directory: str) -> list[dict]:
        """Each shard writes its part of the model into ``directory`` (see
        :mod:`miniflow.ps.export`); returns their ``{"part", "nnz", "bias"}``."""
        replies = self._broadcast({"op": "export", "dir": directory})
        return [{k: h[k] for k in ("part", "nnz", "bias")} for h in replies]

    def close(self) -> None:
        self.transport.close()
