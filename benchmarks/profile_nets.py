"""Where each microsecond of a W5-W8 step goes in miniflow graph mode (README.md): every
registered kernel is wrapped with a timer, the workload trains as in the benchmark, and
the time per step is split by op type (after the warm-up step). The rest of the step
("session, outside kernels") is the plan function, feeds and fetches. Times are CPU time
of the process (`time.process_time`), pinned to one thread by default: on a machine
shared with other work they stay close to the idle machine's wall time, where wall time
does not.

    python profile_nets.py W5 [W6 ...] [--steps N] [--threads N]
"""

from __future__ import annotations

import argparse
import functools
import time
from collections import defaultdict

import nets_data as D
import nets_tf

import miniflow as tf
from miniflow.core import registry

TIMES: dict = defaultdict(float)
CALLS: dict = defaultdict(int)


def _wrap(opdef):
    inner = opdef.forward

    @functools.wraps(inner)
    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            TIMES[opdef.type] += time.process_time() - t
            CALLS[opdef.type] += 1

    opdef.forward = timed


def _timed_after_warmup(step, items):
    warm = 3 if len(items) >= 6 else 1
    losses = [step(it) for it in items[:warm]]
    TIMES.clear()
    CALLS.clear()
    t = time.process_time()
    for item in items[warm:]:
        losses.append(step(item))
    nets_tf.TIMED_STEPS[0] = len(items) - warm
    return time.process_time() - t, losses


def profile(workload, steps, threads):
    with tf.Graph().as_default():
        dt, _ = nets_tf.graph_run(tf, workload, steps, threads, miniflow=True)
    n = nets_tf.TIMED_STEPS[0]
    total = dt / n * 1e6
    rows = sorted(TIMES.items(), key=lambda kv: -kv[1])
    kernels = sum(TIMES.values()) / n * 1e6
    print(f"\n{workload} ({D.DESCRIPTION[workload]}), {n} timed steps\n")
    print("| part | µs/step | share | calls/step |\n|---|---:|---:|---:|")
    print(f"| step total | {total:,.0f} | 100% | |")
    print(f"| session, outside kernels | {total - kernels:,.0f} | {1 - kernels / total:.0%} | |")
    for op_type, sec in rows:
        us = sec / n * 1e6
        if us / total < 0.005:
            continue
        print(f"| {op_type} | {us:,.0f} | {us / total:.0%} | {CALLS[op_type] // n} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workloads", nargs="+")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    for opdef in list(registry._OPS.values()):
        _wrap(opdef)
    nets_tf._timed = _timed_after_warmup
    for w in args.workloads:
        profile(w, max(args.steps or D.STEPS[w] // 2, 3), args.threads)


if __name__ == "__main__":
    main()
