"""One (W5-W8 workload, framework) measurement per process, printed as one JSON line
(run by bench_core.py, as core_workloads.py is for W1-W4).

`--threads N` pins the framework to N threads through its own API only (miniflow and TF1:
`ConfigProto(intra_op_parallelism_threads=N, inter_op_parallelism_threads=N)`; TF2:
`tf.config.threading`; PyTorch: `torch.set_num_threads`; JAX: `XLA_FLAGS`), so the row
also checks that the API really pins. 0 keeps the framework's default.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys

import nets_data as D
import nets_tf
import numpy as np
from core_workloads import threads_info

FLOPS = {
    "W5": D.cnn_flops,
    "W6": D.lstm_flops,
    "W6s": D.lstm_flops,
    "W7": D.ae_flops,
    "W8": D.gan_flops,
}


def run(workload, framework, steps, threads):
    if framework == "jax-jit" and threads:
        os.environ["XLA_FLAGS"] = (
            f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
        )
    if framework == "miniflow-graph":
        import nets_tf

        import miniflow as tf

        return nets_tf.graph_run(tf, workload, steps, threads, miniflow=True)
    if framework == "tf1-graph":
        import nets_tf
        import tensorflow.compat.v1 as tf

        tf.disable_eager_execution()
        return nets_tf.graph_run(tf, workload, steps, threads, miniflow=False)
    if framework == "miniflow-eager":
        import nets_tf

        import miniflow as tf

        tf.enable_eager_execution()
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
        return nets_tf.eager_run(tf, workload, steps, tf.train)
    if framework == "tf-function":
        import nets_tf
        import tensorflow as tf

        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        return nets_tf.eager_run(tf, workload, steps, tf.compat.v1.train, compile_fn=tf.function)
    if framework == "torch-eager":
        import nets_torch_jax

        return nets_torch_jax.torch_run(workload, steps, threads)
    if framework == "jax-jit":
        import nets_torch_jax

        return nets_torch_jax.jax_run(workload, steps, threads)
    raise SystemExit(f"unknown framework {framework}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", required=True, choices=sorted(FLOPS))
    ap.add_argument("--framework", required=True)
    ap.add_argument("--steps", type=int, default=0, help="0: the workload's default")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    steps = max(args.steps or D.STEPS[args.workload], 2)
    dt, losses = run(args.workload, args.framework, steps, args.threads)
    timed = nets_tf.TIMED_STEPS[0]
    out = {
        "workload": args.workload,
        "framework": args.framework,
        "steps": steps,
        "threads_arg": args.threads,
        "first_loss": float(losses[0]),
        "final_loss": float(np.mean(losses[-3:])),
        "us_per_step": dt / timed * 1e6,
        "cpu_us_per_step": nets_tf.CPU_SECONDS[0] / timed * 1e6,
        "gflops": FLOPS[args.workload](D.BATCH[args.workload]) * timed / dt / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": threads_info(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
