"""The requests a parameter-server shard answers: decoding, checking, dispatching.

Every transport (TCP frames, the local backend's calls, Ray actor methods) hands a
request to :meth:`Shard.handle <miniflow.ps.shard.Shard.handle>` as a JSON header
``{"op": ..., "worker": ..., "step": ...}`` plus named arrays; :func:`handle` checks the
header, calls the shard and turns any error into a reply that names it, so one bad
request never takes a shard down. :func:`check_push` is the check of a push's arrays
(integer keys this shard owns, finite float gradients of the same shape).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from miniflow.ps.sharding import BIAS_KEY, shard_of

__all__ = ["handle", "check_push", "is_int"]


def is_int(x) -> bool:
    """An ``int`` that is not a ``bool`` (JSON headers decode both)."""
    return isinstance(x, int) and not isinstance(x, bool)


def handle(shard: Any, header: dict, arrays: dict) -> tuple[dict, dict]:
    """``shard``'s reply ``(header, arrays)`` to one request ``{"op": ...}``; an error
    is a reply (``ok`` False, the exception named), never raised to the transport."""
    known = header.get("incarnation")
    if known is not None and known != shard.incarnation:
        return {"ok": False, "stale": True, "incarnation": shard.incarnation}, {}
    op = header.get("op")
    worker, step = header.get("worker"), header.get("step")
    reply: dict = {"ok": True, "incarnation": shard.incarnation}
    out: dict = {}
    try:
        if op in ("push", "done", "clock") and not (
            isinstance(worker, int) and 0 <= worker < shard.config.num_workers
        ):
            raise ValueError(
                f"shard {shard.config.index}: {op} from worker {worker}; this job "
                f"has workers 0..{shard.config.num_workers - 1}"
            )
        if op == "pull":
            if not (step is None or is_int(step)) or not (worker is None or is_int(worker)):
                raise ValueError(f"shard {shard.config.index}: pull with a non-integer step")
            keys = arrays.get("keys")
            if keys is None or keys.ndim != 1 or keys.dtype.kind not in "iu":
                raise ValueError(f"shard {shard.config.index}: pull needs 1-D integer keys")
            # float32 state travels as float32 (half the bytes of float64)
            out["weights"] = shard.pull(keys, worker, step).astype(shard.wire_dtype)
        elif op == "push":
            reply["applied"] = shard.push(
                worker,
                step,
                arrays["keys"],
                arrays["grads"],
                header.get("rows", 0),
                header.get("loss", 0.0),
            )
        elif op == "done":
            shard.finish(worker, header.get("rows"), header.get("steps"))
        elif op == "clock":
            reply["clock"] = int(shard.clock[worker])
        elif op == "stats":
            reply["stats"] = shard.statistics()
        elif op == "dump":
            out["keys"], out["weights"] = shard.nonzero_weights()
            reply["bias"] = shard.bias
        elif op == "dump_factors":
            out["rows"], out["factors"] = shard.trained_factor_rows()
        elif op == "checkpoint":
            reply["path"] = shard.checkpoint()
        elif op == "export":
            reply.update(shard.export(header.get("dir")))
        else:
            raise ValueError(f"shard {shard.config.index}: unknown op {op!r}")
    except Exception as e:  # noqa: BLE001  reported to the caller, who raises it
        return {
            "ok": False,
            "error": f"{type(e).__name__}: {e}",
            "incarnation": shard.incarnation,
        }, {}
    return reply, out


def check_push(shard: Any, worker, step, keys, grads, rows, loss) -> tuple[np.ndarray, np.ndarray]:
    """A push's keys (int64) and gradients (float64), or ValueError naming what is
    wrong; nothing is applied, so a malformed push is refused alone and the step waits
    for a valid one."""
    cfg, who = shard.config, f"shard {shard.config.index}: push of worker {worker}"
    if not is_int(step) or step < 0:
        raise ValueError(f"{who}: step must be an integer >= 0, got {step!r}")
    if not is_int(rows) or rows < 0 or not isinstance(loss, (int, float)):
        raise ValueError(f"{who}: rows must be an integer >= 0 and loss a number")
    if not np.isfinite(loss):
        raise ValueError(f"{who}: loss must be finite, got {loss}")
    keys, grads = np.asarray(keys), np.asarray(grads)
    if keys.ndim != 1 or keys.dtype.kind not in "iu":
        raise ValueError(f"{who}: keys must be a 1-D integer array, got {keys.dtype}")
    if grads.shape != keys.shape or grads.dtype.kind != "f":
        raise ValueError(
            f"{who}: grads must be floats of the keys' shape {keys.shape}, "
            f"got {grads.dtype} {grads.shape}"
        )
    keys, grads = keys.astype(np.int64, copy=False), grads.astype(np.float64, copy=False)
    if not np.isfinite(grads).all():
        raise ValueError(f"{who}: {int((~np.isfinite(grads)).sum())} NaN/Inf gradients")
    factor = keys < BIAS_KEY
    bad = (keys >= (1 << cfg.dims_log2)) | (factor if shard.factors is None else False)
    if bad.any():
        raise ValueError(
            f"{who}: key {int(keys[bad][0])} outside [0, 2**{cfg.dims_log2}) "
            f"({int(bad.sum())} such keys)"
        )
    if shard.factors is not None and factor.any():
        problem = shard.factors.check(keys[factor])
        if problem:
            raise ValueError(f"{who}: {problem}")
    foreign = shard_of(keys, cfg.num_shards) != cfg.index
    if foreign.any():
        raise ValueError(
            f"{who}: key {int(keys[foreign][0])} belongs to shard "
            f"{int(shard_of(keys[foreign][:1], cfg.num_shards)[0])}, not {cfg.index}"
        )
    return keys, grads
