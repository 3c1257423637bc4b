"""A data-parallel worker: read its partition, pull, compute the gradient, push.

Per step, exactly the computation of ``SparseLRTrainer.step`` split around the network:
unique keys of the minibatch -> ``pull`` their weights and the bias -> margins,
``p - y`` per row, the gradient summed per key -> ``push``. The progressive log loss
is computed before the update and travels with the push, so the shards count it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from miniflow.core import update_rules as rules
from miniflow.ml.data import Batch
from miniflow.ps.client import ShardClient
from miniflow.ps.factors import FactorSpec, fm_gradient, fm_step_keys
from miniflow.ps.partition import open_input
from miniflow.ps.sharding import BIAS_KEY

__all__ = ["gradient", "train_step", "run_worker", "WorkerResult"]


@dataclass
class WorkerResult:
    """What one worker did: the step it started at (after a restart) and its work."""

    worker: int
    first_step: int
    steps: int
    rows: int
    loss: float


def margins(batch: Batch, w_per_nnz: np.ndarray, bias: float) -> np.ndarray:
    """``b + w.x`` per row (segment sums of the occurrences' contributions)."""
    return rules.sparse_margins(batch.indptr, w_per_nnz, batch.values, bias)


def gradient(
    batch: Batch, local: np.ndarray, n_keys: int, w: np.ndarray, bias: float
) -> tuple[np.ndarray, float, float]:
    """(log-loss gradient per unique key, bias gradient, summed log loss) at weights ``w``.

    ``local`` maps each feature occurrence to its unique key; the gradient of row i is
    ``(sigmoid(margin_i) - y_i) x_i``, summed over the rows per key
    (:mod:`miniflow.core.update_rules`, shared with ``SparseLRTrainer.step``).
    """
    margin = margins(batch, w[local], bias)
    g, loss = rules.logistic_loss(margin, batch.labels)
    grads = rules.sparse_linear_gradient(g, batch.indptr, local, n_keys, batch.values)
    return grads, float(g.sum()), loss


def train_step(
    client: ShardClient, step: int, batch: Batch, factors: FactorSpec | None = None
) -> float:
    """One pull -> gradient -> push; returns the summed log loss before the update.

    With ``factors`` (an FM/FFM job) the pull and the push also carry the factor keys
    of the rows the batch's pairwise term uses (:mod:`miniflow.ps.factors`).
    """
    if factors is not None:
        return _fm_step(client, step, batch, factors)
    keys, local = np.unique(batch.indices, return_inverse=True)
    pulled = client.pull(np.append(keys, BIAS_KEY), step)
    grads, bias_grad, loss = gradient(batch, local, len(keys), pulled[:-1], pulled[-1])
    client.push(
        np.append(keys, BIAS_KEY), np.append(grads, bias_grad), step, rows=len(batch), loss=loss
    )
    return loss


def _fm_step(client: ShardClient, step: int, batch: Batch, spec: FactorSpec) -> float:
    keys, local, inter, fkeys = fm_step_keys(batch, spec)
    every = np.concatenate([keys, fkeys, [BIAS_KEY]])
    pulled = client.pull(every, step)
    n, nf = len(keys), len(fkeys)
    w, offsets = pulled[:n], pulled[n : n + nf]
    grads, fgrads, bias_grad, loss = fm_gradient(batch, spec, local, inter, w, offsets, pulled[-1])
    client.push(every, np.concatenate([grads, fgrads, [bias_grad]]), step, len(batch), loss)
    return loss


def run_worker(
    client: ShardClient,
    partition_path: str | dict | Callable[[], Iterable[Batch]],
    epochs: int = 1,
    pace: float = 0.0,
    stop: Callable[[], bool] | None = None,
    factors: FactorSpec | dict | None = None,
) -> WorkerResult:
    """Trains on one partition for ``epochs`` passes, then tells the shards it is done.

    ``partition_path`` is a partition file, a :class:`~miniflow.ps.partition.StreamedInput`
    descriptor (the worker reads the input files and keeps its slice of every step), or
    a function returning one pass of the worker's own batches (standalone workers).
    Steps are numbered across epochs. A replacement worker (same ``client.worker``)
    starts at :meth:`ShardClient.resume_step`, skipping the steps the shards have. The
    ``done`` message tells the shards how many rows and steps the worker's input had
    (all epochs), which is what the coordinator's loss report counts against.

    Args:
        pace: minimum seconds per step (demos and fault-injection tests slow a job
            down with it so a kill lands mid-training); 0 runs at full speed.
        stop: polled between steps; True ends the worker early (local backend).
        factors: an FM/FFM job's :class:`~miniflow.ps.factors.FactorSpec` (or its dict).
    """
    if isinstance(factors, dict):
        factors = FactorSpec(**factors)
    first = client.resume_step()
    passes = partition_path if callable(partition_path) else open_input(partition_path)
    step, done, rows, loss, input_rows = 0, 0, 0, 0.0, 0
    for _ in range(epochs):
        for batch in passes():
            input_rows += len(batch)
            if step >= first:
                t0 = time.perf_counter()
                loss += train_step(client, step, batch, factors)
                rows += len(batch)
                done += 1
                if pace:
                    time.sleep(max(0.0, pace - (time.perf_counter() - t0)))
            if stop is not None and stop():
                return WorkerResult(client.worker, first, done, rows, loss)
            step += 1
    client.done(input_rows, step)
    return WorkerResult(client.worker, first, done, rows, loss)
