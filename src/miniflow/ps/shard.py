"""A parameter-server shard: the optimizer state of the keys it owns, and the barrier.

A :class:`Shard` keeps the per-coordinate state of the optimizer (FTRL z/n, Adagrad
n, ...) in an :class:`~miniflow.ps.keystore.ArrayKeyStore` (an open-addressing hash
table in NumPy arrays, about 23 bytes per key for FTRL in float32), so it holds rows
only for keys that were ever pushed: memory follows the distinct features seen, never
the key space.
``push`` applies the optimizer update on the shard itself; workers never send weights.
Shard 0 also owns the intercept (key :data:`~miniflow.ps.sharding.BIAS_KEY`), updated by
its own float64 optimizer without regularisation, exactly as ``SparseLRTrainer`` does.

Consistency (every request names its ``worker`` and ``step``):

* **sync**: the pushes of one global step from all ``num_workers`` workers are summed
  and applied as one update; ``pull(step=t)`` waits until step ``t-1`` is applied. The
  result equals single-process training with the global batch, up to float summation
  order.
* **async**: each push is applied when it arrives. With ``staleness=s``,
  ``pull(step=t)`` waits until every unfinished worker has pushed step ``t-s-1``
  (stale-synchronous parallel); with ``staleness=None`` nothing ever waits.

Pushes are idempotent: ``clock[w]`` is the next step expected from worker ``w``, and a
push with an older step is counted as a duplicate and dropped. That lets a replacement
worker or a retried request send a push again safely.

Fault tolerance: the state is checkpointed atomically (``np.savez`` to a temporary
file, fsync, ``os.replace``) every ``checkpoint_every`` updates (incrementally: the rows
written since the last snapshot, see :mod:`miniflow.ps.checkpoint`) and on request. A shard
built with ``restore=True`` loads the checkpoint and gets a new ``incarnation`` number;
clients that see it replay their last push (see :mod:`miniflow.ps.client`). The updates
applied after the checkpoint are lost, and only those: a restored sync shard skips
forward to the step the workers are on and records the skipped steps in
``stats["lost_steps"]``.
"""

from __future__ import annotations

import json
import os
import resource
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from miniflow.ml.optimizers import OPTIMIZERS, CoordinateOptimizer, make_optimizer
from miniflow.ps import checkpoint, model_parts, shard_requests
from miniflow.ps.factors import FactorTable
from miniflow.ps.keystore import ArrayKeyStore
from miniflow.ps.shard_requests import is_int
from miniflow.ps.sharding import BIAS_KEY

__all__ = ["Shard", "ShardConfig", "optimizer_hyperparameters"]

_ZERO = np.zeros(1, np.int64)


def optimizer_hyperparameters(
    optimizer: str, alpha: float = 0.2, beta: float = 1.0, lr: float = 0.1
) -> dict:
    """The optimizer arguments ``SparseLRTrainer`` passes for the same CLI flags."""
    return {"alpha": alpha, "beta": beta} if optimizer == "ftrl" else {"lr": lr}


@dataclass
class ShardConfig:
    """Everything a shard needs; JSON-serialisable (sent to shard processes and actors).

    Attributes:
        index, num_shards: which part of the key space (see :mod:`miniflow.ps.sharding`).
        num_workers: workers whose pushes make up one sync step.
        optimizer, hyperparameters, l1, l2, dtype: the update rule and its state dtype.
        sync: sync (barrier per step) or async.
        staleness: async only: how many steps a worker may run ahead (None: unbounded).
        checkpoint_path: where the checkpoint file lives (None: no checkpoints).
        checkpoint_every: checkpoint after every N updates (0: only on request).
        timeout: seconds a pull may wait for other workers before failing.
        dims_log2: pushed keys must lie in ``[0, 2**dims_log2)`` (or be the bias).
        factors: an FM/FFM job's :class:`~miniflow.ps.factors.FactorSpec` as a dict
            (None: logistic regression); its factor keys are then accepted too.
    """

    index: int = 0
    num_shards: int = 1
    num_workers: int = 1
    optimizer: str = "ftrl"
    hyperparameters: dict = field(default_factory=dict)
    l1: float = 0.0
    l2: float = 0.0
    dtype: str = "float32"
    sync: bool = True
    staleness: int | None = None
    checkpoint_path: str | None = None
    checkpoint_every: int = 0
    timeout: float = 300.0
    dims_log2: int = 62
    factors: dict | None = None


def peak_rss() -> int:
    """This process's peak resident set size in bytes.

    Linux's ``VmHWM`` counts from the process's last ``exec``; ``ru_maxrss`` (the
    fallback) would include the memory of the parent a child was forked from.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _build_optimizer(cfg: ShardConfig) -> CoordinateOptimizer:
    try:
        cls = OPTIMIZERS[cfg.optimizer]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {cfg.optimizer!r}; expected one of {sorted(OPTIMIZERS)}"
        ) from None
    # the slots' initial values may depend on the hyperparameters (Adagrad's
    # initial_accumulator): ask a one-coordinate instance
    slots = dict(cls(1, **cfg.hyperparameters).slots)
    store = ArrayKeyStore(slots, dtype=np.dtype(cfg.dtype))
    return make_optimizer(cfg.optimizer, store=store, l1=cfg.l1, l2=cfg.l2, **cfg.hyperparameters)


class Shard:
    """One shard's state and request handling (thread-safe; transport-agnostic).

    Args:
        config: a :class:`ShardConfig`.
        restore: load ``config.checkpoint_path`` if it exists (a restarted shard).
    """

    def __init__(self, config: ShardConfig, restore: bool = False):
        self.config = config
        self.incarnation = int.from_bytes(os.urandom(6), "little")
        self.opt = _build_optimizer(config)
        self.factors = (
            FactorTable(config.factors, config.optimizer, self.opt.store)
            if config.factors
            else None
        )
        self.bias_opt = (
            make_optimizer(config.optimizer, 1, dtype=np.float64, **config.hyperparameters)
            if config.index == 0
            else None
        )
        m = config.num_workers
        self.version = 0  # sync: global steps applied
        self.clock = np.zeros(m, np.int64)  # next step expected from each worker
        self.finished = np.zeros(m, np.bool_)
        self.stats = {
            "rows": 0,
            "loss": 0.0,
            "updates": 0,
            "pulls": 0,
            "pushes": 0,
            "duplicates": 0,
            "checkpoints": 0,
            "lost_steps": [],
            "restored_from": None,
            "restored_version": None,
            "restored_empty": False,
            "rejected": 0,
            "inputs": {},  # worker -> [rows, steps] of its input, told by its ``done``
        }
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_rows, self._pending_loss = 0, 0.0
        self._recovering = False
        # restored: the workers that have talked to this incarnation (see _can_wait)
        self._rejoined = np.zeros(m, np.bool_)
        self._closed = False
        self._cond = threading.Condition()
        self._snapshots = 0
        self._due: tuple | None = None  # a snapshot taken under the lock, to be written
        self._writer = checkpoint.CheckpointWriter(config.checkpoint_path or "")
        self._base: str | None = None  # id of the full snapshot deltas build on
        self._delta_rows = 0  # rows in the deltas since that full snapshot
        self.opt.store.track_dirty = bool(config.checkpoint_path)
        if restore and config.checkpoint_path and os.path.exists(config.checkpoint_path):
            self._load(config.checkpoint_path)
        elif restore:  # died before its first checkpoint: everything it had is lost
            self.stats.update(restored_empty=True, restored_version=0)
            self._recovering = True

    # -- requests -----------------------------------------------------------------------
    def handle(self, header: dict, arrays: dict) -> tuple[dict, dict]:
        """Serves one request ``{"op": ...}``; every transport calls only this."""
        return shard_requests.handle(self, header, arrays)

    def pull(
        self, keys: np.ndarray, worker: int | None = None, step: int | None = None
    ) -> np.ndarray:
        """Current weights (float64) at ``keys``; waits as the consistency mode requires.

        ``worker``/``step`` None (serving, the coordinator) never waits.
        """
        keys = np.asarray(keys, np.int64)
        with self._cond:
            if worker is not None and step is not None and worker >= 0:
                self._rejoined[worker] = True
                self._wait_for(worker, step)
            self.stats["pulls"] += 1
            return self._weights(keys)

    def push(
        self,
        worker: int,
        step: int,
        keys: np.ndarray,
        grads: np.ndarray,
        rows: int = 0,
        loss: float = 0.0,
    ) -> bool:
        """Applies (async) or accumulates (sync) one worker's gradient; False if a duplicate."""
        try:
            keys, grads = shard_requests.check_push(self, worker, step, keys, grads, rows, loss)
        except ValueError:
            with self._cond:
                self.stats["rejected"] += 1
            raise
        with self._cond:
            self._rejoined[worker] = True
            if step < self.clock[worker]:
                self.stats["duplicates"] += 1
                return False
            self.stats["pushes"] += 1
            if self.config.sync:
                self._push_sync(worker, step, keys, grads, rows, loss)
            else:
                self.clock[worker] = step + 1
                self._apply(keys, grads, rows, loss)
            self._cond.notify_all()
            due, self._due = self._due, None
        if due is not None:  # a periodic checkpoint: written by this push, lock released
            try:
                self._writer.write(*due)
            except OSError as e:  # a full disk must not stop training; it is reported
                self._writer.errors.append(f"{self.config.checkpoint_path}: {e}")
        return True

    def finish(self, worker: int, rows: int | None = None, steps: int | None = None) -> None:
        """Worker ``worker`` has pushed its last step (it no longer holds others back);
        ``rows``/``steps``: what its input held (kept in ``stats["inputs"]``)."""
        with self._cond:
            self.finished[worker] = True
            if is_int(rows) and is_int(steps) and rows >= 0 and steps >= 0:
                self.stats["inputs"][str(worker)] = [rows, steps]
            if self.config.sync:
                self._complete_step()
            self._cond.notify_all()
            due, self._due = self._due, None
        if due is not None:
            try:
                self._writer.write(*due)
            except OSError as e:
                self._writer.errors.append(f"{self.config.checkpoint_path}: {e}")

    def close(self) -> None:
        """Wakes every waiting pull with an error (the job is being torn down)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- consistency --------------------------------------------------------------------
    def _wait_for(self, worker: int, step: int) -> None:
        cfg = self.config
        if cfg.sync:
            if self._recovering and step > self.version and not self._can_wait(worker, step):
                self._skip_to(step)
            ready = lambda: self.version >= step  # noqa: E731
            waiting_for = lambda: (  # noqa: E731
                f"step {step - 1} to be complete; pushes of step "
                f"{self.version} missing from workers "
                f"{np.flatnonzero(self.clock <= self.version).tolist()}"
            )
        else:
            # A pull of step t means the worker pushed steps < t (or will replay them).
            self.clock[worker] = max(self.clock[worker], step)
            if cfg.staleness is None:
                return
            ready = lambda: self._slowest() >= step - cfg.staleness  # noqa: E731
            waiting_for = lambda: (  # noqa: E731
                f"the slowest worker to reach step {step - cfg.staleness} "
                f"(clocks {self.clock.tolist()})"
            )
        if not self._cond.wait_for(lambda: ready() or self._closed, cfg.timeout):
            raise TimeoutError(
                f"shard {cfg.index}: worker {worker} waited {cfg.timeout:.0f}s "
                f"for {waiting_for()}; is a worker dead without a replacement?"
            )
        if self._closed and not ready():
            raise RuntimeError(f"shard {cfg.index} was closed while worker {worker} waited")

    def _can_wait(self, worker: int, step: int) -> bool:
        """Whether a restored sync shard may hold ``worker``'s pull of ``step`` until
        step ``step - 1`` completes, rather than skip to ``step``.

        The worker has pushed ``step - 1``, and its client replayed that push on seeing
        the new incarnation. If the push is not here, the step cannot complete. If it
        is, the step completes only if every other worker's push of it still comes;
        that is known once each of them has talked to this incarnation (its pushes of
        the step, replayed or not, come here, and it waits on nobody who waits here).
        A worker that has not may be blocked on another shard's barrier for this
        worker's next push, its replay queued behind that: waiting would hang both.
        Skipping at every such pull (as before) could lose every later step: a worker
        always a push ahead discarded the pending step each time.
        """
        rest = ~self.finished
        rest[worker] = False
        return bool(self.clock[worker] >= step and self._rejoined[rest].all())

    def _slowest(self) -> float:
        active = self.clock[~self.finished]
        return float(active.min()) if len(active) else float("inf")

    def _push_sync(self, worker, step, keys, grads, rows, loss) -> None:
        if step > self.version:
            if not self._recovering:
                raise RuntimeError(
                    f"shard {self.config.index}: worker {worker} pushed step "
                    f"{step} while step {self.version} is incomplete"
                )
            self._skip_to(step)
        self.clock[worker] = step + 1
        self._pending.append((keys, grads))
        self._pending_rows += int(rows)
        self._pending_loss += float(loss)
        self._complete_step()

    def _complete_step(self) -> None:
        """Applies the pending step once every worker that has not finished pushed it
        (standalone workers reading their own input may run out of steps first)."""
        if self._pending and (self.clock[~self.finished] > self.version).all():
            k = np.concatenate([p[0] for p in self._pending])
            g = np.concatenate([p[1] for p in self._pending])
            uniq, inv = np.unique(k, return_inverse=True)
            rows, loss = self._pending_rows, self._pending_loss
            self._pending, self._pending_rows, self._pending_loss = [], 0, 0.0
            self.version += 1
            self._recovering = False
            self._apply(uniq, np.bincount(inv, weights=g, minlength=len(uniq)), rows, loss)

    def _skip_to(self, step: int) -> None:
        """A restored sync shard joins the workers' current step; steps in between are lost."""
        self.stats["lost_steps"].append([int(self.version), int(step)])
        self.version = step
        np.maximum(self.clock, step, out=self.clock)
        self._pending, self._pending_rows, self._pending_loss = [], 0, 0.0

    def _apply(self, keys, grads, rows, loss) -> None:
        is_bias = keys == BIAS_KEY
        if self.bias_opt is not None:
            self.bias_opt.update(_ZERO, np.array([grads[is_bias].sum()]))
        linear = keys >= 0
        self.opt.update(keys[linear], grads[linear])
        if self.factors is not None:
            factor = keys < BIAS_KEY
            self.factors.update(keys[factor], grads[factor])
        self.stats["rows"] += int(rows)
        self.stats["loss"] += float(loss)
        self.stats["updates"] += 1
        every = self.config.checkpoint_every
        if every and self.config.checkpoint_path and self.stats["updates"] % every == 0:
            self._due = self._snapshot()

    # -- state --------------------------------------------------------------------------
    @property
    def wire_dtype(self) -> np.dtype:
        """dtype of pulled weights on the wire: the state's (float32 or float64)."""
        return np.dtype(np.float32 if self.config.dtype == "float32" else np.float64)

    @property
    def bias(self) -> float:
        return float(self.bias_opt.weights(_ZERO)[0]) if self.bias_opt is not None else 0.0

    @property
    def num_keys(self) -> int:
        """Keys with a row in the store (every key ever pushed to this shard)."""
        return len(self.opt.store)

    def keys(self) -> np.ndarray:
        """Every key this shard holds state for."""
        with self._cond:
            return self.opt.store.items(next(iter(self.opt.slots)))[0]

    def _weights(self, keys: np.ndarray) -> np.ndarray:
        out = np.empty(len(keys), np.float64)
        is_bias = keys == BIAS_KEY
        out[is_bias] = self.bias
        factor = keys < BIAS_KEY
        linear = ~is_bias & ~factor
        out[linear] = self.opt.weights(keys[linear])
        out[factor] = 0.0 if self.factors is None else self.factors.weights(keys[factor])
        return out

    def nonzero_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, float32 weights) of every non-zero weight on this shard."""
        with self._cond:
            keys = self.opt.store.items(next(iter(self.opt.slots)))[0]
            keys = keys[keys >= 0]  # not an FM job's factor keys
            w = self.opt.weights(keys)
        nz = w != 0
        return keys[nz], w[nz].astype(np.float32)

    def trained_factor_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """An FM job's factor rows on this shard that training moved: (row keys,
        vectors ``(n, k)``), as ``FMTrainer.trained_factor_rows``."""
        if self.factors is None:
            raise ValueError(f"shard {self.config.index}: not an FM job (no factors)")
        with self._cond:
            keys = self.opt.store.items(next(iter(self.opt.slots)))[0]
            return self.factors.trained_rows(keys)

    def statistics(self) -> dict:
        """Counters, the key count and this process's peak RSS (bytes)."""
        with self._cond:
            return {
                **self.stats,
                "lost_steps": [list(r) for r in self.stats["lost_steps"]],
                "index": self.config.index,
                "keys": self.num_keys,
                "version": int(self.version),
                "clock": self.clock.tolist(),
                "finished": self.finished.tolist(),
                "store_bytes": self.opt.store.nbytes,
                "incarnation": self.incarnation,
                "peak_rss": peak_rss(),
                "checkpoint_errors": list(self._writer.errors),
                "checkpoint_bytes": self._writer.bytes_written,
            }

    def export(self, directory) -> dict:
        """Writes this shard's part of the model (its non-zero weights) into
        ``directory`` (an absolute path); the bias travels in the reply."""
        if not isinstance(directory, str) or not os.path.isabs(directory):
            raise ValueError(f"shard {self.config.index}: export needs an absolute directory")
        keys, weights = self.nonzero_weights()
        nnz = model_parts.write_part(directory, self.config.index, keys, weights)
        return {"part": self.config.index, "nnz": nnz, "bias": self.bias}

    def checkpoint(self) -> str:
        """Writes the checkpoint now (waits for the disk, not holding the lock); returns
        its path."""
        with self._cond:
            snap = self._snapshot(full=True)
        self._writer.write(*snap)
        return self.config.checkpoint_path

    def _snapshot(self, full: bool = False) -> tuple[int, dict, dict]:
        """A numbered copy of the state (called with the lock held: copies only): every
        row (``full``, the first after a start, after a failed write, or when the
        deltas have grown past half the store), else the rows written since the last
        snapshot (see :mod:`miniflow.ps.checkpoint`)."""
        if not self.config.checkpoint_path:
            raise ValueError(f"shard {self.config.index}: no checkpoint_path configured")
        self.stats["checkpoints"] += 1
        self._snapshots += 1
        store = self.opt.store
        dirty = store.dirty_rows()
        full = (
            full
            or self._base is None
            or self._writer.broken
            or self._delta_rows + len(dirty) > len(store) // 2
        )
        if full:
            keys, rows = store.all_rows()
            self._base, self._delta_rows = f"{self.incarnation:012x}{self._snapshots:06d}", 0
        else:
            keys, rows = store.rows_of(dirty)
            self._delta_rows += len(dirty)
        # sync: pushes pending for the next step are not in the state; a restored shard
        # must not count them as received
        clock = np.minimum(self.clock, self.version) if self.config.sync else self.clock.copy()
        arrays = {"keys": keys, "clock": clock, "finished": self.finished.copy()}
        for j, s in enumerate(store.slot_names):
            arrays["slot_" + s] = rows[:, j]
        if self.bias_opt is not None:
            for s in self.bias_opt.slots:
                arrays["bias_" + s] = self.bias_opt.store.array(s).copy()
        meta = {
            "version": int(self.version),
            "step": self.opt.step,
            "stats": json.loads(json.dumps(self.stats)),
            "bias_step": self.bias_opt.step if self.bias_opt is not None else 0,
            "factor_step": self.factors.opt.step if self.factors is not None else 0,
            "config": asdict(self.config),
            "kind": "full" if full else "delta",
            "id": self._base,
            "base": self._base,
            "seq": self._snapshots,
        }
        return self._snapshots, arrays, meta

    def _load(self, path: str) -> None:
        """The full checkpoint at ``path``, then its deltas in order."""
        base, base_meta, deltas = checkpoint.load_chain(path)
        z, meta = base, base_meta
        for z, meta in [(base, base_meta), *deltas]:  # noqa: B007  the last one's clocks
            for s in self.opt.slots:
                self.opt.store.put(s, z["keys"], z["slot_" + s])
        if self.bias_opt is not None:
            for s in self.bias_opt.slots:
                self.bias_opt.store.put(s, _ZERO, z["bias_" + s])
        self.clock[:] = z["clock"]
        self.finished[:] = z["finished"]
        self.opt.store.dirty_rows()  # loading is not a change to checkpoint
        self.version = meta["version"]
        self.opt.step = meta["step"]
        if self.bias_opt is not None:
            self.bias_opt.step = meta["bias_step"]
        if self.factors is not None:
            self.factors.opt.step = meta.get("factor_step", 0)
        self.stats = {
            "inputs": {},
            **meta["stats"],
            "restored_from": path,
            "restored_version": self.version,
            "restored_deltas": len(deltas),
        }
        self._recovering = True
