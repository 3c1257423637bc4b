"""``tf.test.Benchmark``: times session runs and reports them (TF1's benchmark API)."""

from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from miniflow.graph.session import Session, get_default_session

_log = logging.getLogger("miniflow")
REPORT_ENV = "TEST_REPORT_FILE_PREFIX"  # TF's variable: write reports to <prefix><name>


class Benchmark:
    """Base class of benchmarks: ``run_op_benchmark`` times an op, ``report_benchmark``
    records a result (to ``$TEST_REPORT_FILE_PREFIX<name>`` as JSON when that is set,
    else to the log)."""

    def _get_name(self, overwrite_name=None) -> str:
        return overwrite_name or f"{type(self).__name__}"

    def report_benchmark(
        self,
        iters=None,
        cpu_time=None,
        wall_time=None,
        throughput=None,
        extras=None,
        name=None,
        metrics=None,
    ) -> None:
        entry = {
            "name": self._get_name(name),
            "iters": iters,
            "cpu_time": cpu_time,
            "wall_time": wall_time,
            "throughput": throughput,
            "extras": extras or {},
            "metrics": metrics or [],
        }
        prefix = os.environ.get(REPORT_ENV)
        if prefix:
            with open(prefix + entry["name"].replace("/", "__"), "w") as fh:
                json.dump(entry, fh, default=float)
        else:
            _log.info("Benchmark %s", entry)

    def run_op_benchmark(
        self,
        sess,
        op_or_tensor,
        feed_dict=None,
        burn_iters=2,
        min_iters=10,
        store_trace=False,
        store_memory_usage=True,
        name=None,
        extras=None,
        mbs=0,
    ) -> dict:
        """Runs ``op_or_tensor`` ``burn_iters`` times, then times ``min_iters`` runs;
        reports and returns ``{"iters", "wall_time" (median seconds), "extras", "name",
        "throughput" (``mbs`` per second)}``."""
        for _ in range(burn_iters):
            sess.run(op_or_tensor, feed_dict=feed_dict)
        deltas = []
        for _ in range(min_iters):
            start = time.perf_counter()
            sess.run(op_or_tensor, feed_dict=feed_dict)
            deltas.append(time.perf_counter() - start)
        wall = float(np.median(deltas))
        values = {
            "iters": min_iters,
            "wall_time": wall,
            "extras": dict(extras or {}),
            "name": name,
            "throughput": mbs / wall if wall > 0 else 0.0,
        }
        self.report_benchmark(**values)
        return values

    def evaluate(self, tensors):
        """The values of ``tensors`` in the default session (or a new one)."""
        sess = get_default_session()
        if sess is not None:
            return sess.run(tensors)
        with Session() as sess:
            return sess.run(tensors)
