"""Side-by-side benchmark of the core library: W1-W4 (issue 3) in miniflow, TensorFlow
(TF1 graph, TF2 eager, tf.function), PyTorch, JAX and hand-written NumPy; W5-W8 (issue
22: CNN, LSTM, autoencoder, GAN) in miniflow graph and eager, TF1 graph, tf.function,
PyTorch and jax.jit, each with the framework's default threads and pinned to one.

Every (workload, framework) runs in its own process; frameworks alternate and each is
repeated (median reported) so the ratios hold on a noisy machine. Writes
results/core.md, results/nets.md and results/core.png. Environment knobs: BENCH_REPEATS
(default 3), BENCH_SCALE (fraction of the steps, default 1.0), BENCH_ONLY (comma list of
workloads), BENCH_THREADS (W5-W8 thread modes, default "0,1": 0 = the framework's
default), BENCH_LOAD (W5-W8: this many busy-looping processes run in the background),
BENCH_FRAMEWORKS (W5-W8: comma list of rows, default all).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

PLAN = {
    "W1": (
        20_000,
        [
            "miniflow-graph",
            "miniflow-eager",
            "tf1-graph",
            "tf2-eager",
            "tf-function",
            "torch-eager",
            "jax-jit",
            "numpy",
            "numpy-scalar",
        ],
    ),
    "W2": (2_000, ["miniflow-graph", "tf1-graph", "torch-eager", "jax-jit", "numpy"]),
    "W3": (20, ["miniflow-graph", "tf1-graph", "torch-eager", "jax-jit", "numpy"]),
    "W4": (2_000, ["miniflow-graph", "tf1-graph", "torch-eager", "numpy"]),
}
DESCRIPTION = {
    "W1": "scalar LR, 1 example/step, SGD (feed_dict + sess.run([train, loss]))",
    "W2": "digits MLP 64-128-10, batch 32",
    "W3": "MLP 1024-1024-10, batch 4096 (BLAS-bound)",
    "W4": "Adagrad step, 16-wide embedding, 100 ids (rows: 1M vs 1k)",
}


NETS = ["W5", "W6", "W6s", "W7", "W8"]
NET_FRAMEWORKS = [
    "miniflow-graph",
    "miniflow-eager",
    "tf1-graph",
    "tf-function",
    "torch-eager",
    "jax-jit",
]


def run_net(workload, framework, steps, threads):
    cmd = [sys.executable, str(HERE / "net_workloads.py"), "--workload", workload]
    cmd += ["--framework", framework, "--steps", str(steps), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": err[:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_one(workload, framework, steps, rows=None, env=None):
    cmd = [
        sys.executable,
        str(HERE / "core_workloads.py"),
        "--workload",
        workload,
        "--framework",
        framework,
        "--steps",
        str(steps),
    ]
    if rows:
        cmd += ["--rows", str(rows)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": err[:120]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(runs, key):
    vals = [r[key] for r in runs if key in r]
    return statistics.median(vals) if vals else None


def main():
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    if not only or only - set(NETS):
        main_w1_w4(only)
    if not only or only & set(NETS):
        main_nets(only)


def main_nets(only):
    """W5-W8: every framework and thread mode, rotated between repeats."""
    from nets_data import STEPS

    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    modes = [int(t) for t in os.environ.get("BENCH_THREADS", "0,1").split(",")]
    load = int(os.environ.get("BENCH_LOAD", "0"))
    fws = (
        os.environ.get("BENCH_FRAMEWORKS", "").split(",")
        if "BENCH_FRAMEWORKS" in os.environ
        else NET_FRAMEWORKS
    )
    jobs = [
        (wl, fw, max(int(STEPS[wl] * scale), 3), t)
        for wl in NETS
        if not only or wl in only
        for t in modes
        for fw in fws
        if wl != "W6s" or fw.endswith("graph")
    ]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(load)]
    results: dict = {}
    try:
        for rep in range(repeats):
            order = jobs[rep % len(jobs) :] + jobs[: rep % len(jobs)]
            for wl, fw, n, t in order:
                r = run_net(wl, fw, n, t)
                results.setdefault((wl, fw, t), []).append(r)
                us = r.get("us_per_step")
                print(
                    f"[{rep + 1}/{repeats}] {wl} {fw} threads={t or 'default'}: "
                    + (f"{us:,.0f} us/step" if us else r.get("error", "?")),
                    flush=True,
                )
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    report_nets(results, repeats, load)


def report_nets(results, repeats, load):
    from nets_data import DESCRIPTION

    lines = [
        "# miniflow W5-W8 (issue 22)",
        "",
        f"Median of {repeats} runs per cell, each in its own process"
        + (f", with {load} busy-looping background processes" if load else "")
        + ". `threads`: the framework's default, or pinned through its own API. "
        "`vs TF1` = TF1-graph time / this time in the same thread mode (higher is faster); "
        "`CPU µs/step` = process CPU time (all threads) per step, median and best; "
        "`CPU vs TF1` = TF1-graph CPU time / this CPU time (medians; on a shared machine "
        "the one-thread rows' CPU time is the steadiest measure).",
        "",
        "| workload | framework | threads | µs/step | vs TF1 | CPU µs/step (median / best) "
        "| CPU vs TF1 | GFLOP/s | final loss | peak RSS MB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (wl, fw, t), runs in sorted(results.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        us = median_of(runs, "us_per_step")
        mode = str(t) if t else "default"
        if us is None:
            err = next((r["error"] for r in runs if "error" in r), "no result")
            lines.append(f"| {wl} | {fw} | {mode} | n/a ({err}) | | | | | | |")
            continue
        tf1_runs = results.get((wl, "tf1-graph", t), [])
        tf1 = median_of(tf1_runs, "us_per_step")
        tf1_cpu = median_of(tf1_runs, "cpu_us_per_step")
        cpu = median_of(runs, "cpu_us_per_step")
        best = min(r["cpu_us_per_step"] for r in runs if "cpu_us_per_step" in r)
        lines.append(
            f"| {wl} | {fw} | {mode} | {us:,.0f} | {f'{tf1 / us:.2f}x' if tf1 else ''} | "
            f"{cpu:,.0f} / {best:,.0f} | {f'{tf1_cpu / cpu:.2f}x' if tf1_cpu else ''} | "
            f"{median_of(runs, 'gflops'):.1f} | "
            f"{median_of(runs, 'final_loss'):.5g} | {median_of(runs, 'peak_rss_mb'):.0f} |"
        )
    lines += [""] + [f"- {k}: {v}" for k, v in DESCRIPTION.items()]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("nets_load.md" if load else "nets.md")).write_text(text + "\n")


def main_w1_w4(only):
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    scale = float(os.environ.get("BENCH_SCALE", "1.0"))
    jobs = []
    for wl, (steps, fws) in PLAN.items():
        if only and wl not in only:
            continue
        n = max(int(steps * scale), 5)
        for fw in fws:
            if wl == "W4":
                jobs += [(wl, fw, n, 1_000_000), (wl, fw, n, 1_000)]
            else:
                jobs.append((wl, fw, n, None))
    if not only or "W3" in only:
        jobs.append(("matmul", "numpy", 20, None))
    results: dict = {}
    for rep in range(repeats):
        order = jobs[rep % len(jobs) :] + jobs[: rep % len(jobs)]  # rotate: alternate order
        for wl, fw, n, rows in order:
            r = run_one(wl, fw, n, rows)
            results.setdefault((wl, fw, rows), []).append(r)
            tag = f"{wl} {fw}" + (f" rows={rows}" if rows else "")
            print(
                f"[{rep + 1}/{repeats}] {tag}: "
                + (
                    f"{r['us_per_step']:.1f} us/step" if "us_per_step" in r else r.get("error", "?")
                ),
                flush=True,
            )
    blas_env = {
        k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    }
    if blas_env and (not only or "W3" in only):
        env = {k: v for k, v in os.environ.items() if k not in blas_env}
        for fw in ("miniflow-graph", "numpy"):
            runs = [run_one("W3", fw, max(int(20 * scale), 5), env=env) for _ in range(repeats)]
            results[("W3", fw + " (no OPENBLAS_*)", None)] = runs
        results[("matmul", "numpy (no OPENBLAS_*)", None)] = [
            run_one("matmul", "numpy", 20, env=env) for _ in range(repeats)
        ]
    report(results, repeats, blas_env)


def report(results, repeats, blas_env):
    def med(wl, fw, rows=None, key="us_per_step"):
        return median_of(results.get((wl, fw, rows), []), key)

    lines = [
        "# miniflow core benchmark",
        "",
        f"Median of {repeats} runs per cell, each in its own process. "
        "`vs TF1` = TF1-graph time / this time (higher is faster); "
        "`vs NumPy` = this time / hand-NumPy time (1.0 = as fast as NumPy).",
        "",
    ]
    if blas_env:
        lines.append(
            f"This machine sets {blas_env}; W3 rows marked (no OPENBLAS_*) rerun without them.\n"
        )
    lines += [
        "| workload | framework | µs/step | vs TF1 | vs NumPy | final loss | accuracy "
        "| GFLOP/s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    chart = []
    for (wl, fw, rows), runs in sorted(results.items(), key=lambda kv: (kv[0][0], str(kv[0][2]))):
        us = median_of(runs, "us_per_step")
        label = f"{wl}" + (f" ({rows:,} rows)" if rows else "")
        if us is None:
            err = next((r["error"] for r in runs if "error" in r), "no result")
            lines.append(f"| {label} | {fw} | n/a ({err}) | | | | | | |")
            continue
        tf1 = med(wl, "tf1-graph", rows)
        npy = med(wl, "numpy", rows)
        loss = median_of(runs, "final_loss")
        acc = median_of(runs, "accuracy")
        gf = median_of(runs, "gflops")
        rss = median_of(runs, "peak_rss_mb")
        lines.append(
            f"| {label} | {fw} | {us:,.1f} | {tf1 / us:.1f}x | {us / npy:.2f} |".replace(
                "| None", "| "
            )
            if tf1 and npy
            else f"| {label} | {fw} | {us:,.1f} | {'%.1fx' % (tf1 / us) if tf1 else ''} | "
            f"{'%.2f' % (us / npy) if npy else ''} |"
        )
        lines[-1] += (
            f" {'' if loss is None else f'{loss:.4g}'} | "
            f"{'' if acc is None else f'{acc:.3f}'} | "
            f"{'' if gf is None else f'{gf:.1f}'} | {rss:.0f} |"
        )
        if wl != "matmul":
            chart.append((label, fw, us))
    w4 = [(fw, med("W4", fw, 1_000_000), med("W4", fw, 1_000)) for fw in PLAN["W4"][1]]
    lines += ["", "W4 row-count independence (µs/step at 1M rows / at 1k rows):", ""]
    lines += [f"- {fw}: {a / b:.2f}" for fw, a, b in w4 if a and b]
    first = next(iter(results.values()))
    threads = next((r.get("threads") for r in first if "threads" in r), {})
    lines += ["", f"Thread settings (defaults of each framework): {threads}", ""]
    lines += [f"- {k}: {v}" for k, v in DESCRIPTION.items()]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "core.md").write_text(text + "\n")
    try:
        _chart(chart, RESULTS / "core.png")
    except ImportError:
        print("(matplotlib not installed: no chart)")


def _chart(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({r[0] for r in rows})
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 4.5))
    for ax, g in zip(axes if len(groups) > 1 else [axes], groups):
        data = sorted([(fw, us) for lbl, fw, us in rows if lbl == g], key=lambda x: x[1])
        colors = ["tab:green" if fw.startswith("miniflow") else "tab:gray" for fw, _ in data]
        ax.barh([fw for fw, _ in data], [us for _, us in data], color=colors)
        spread = max(us for _, us in data) / max(min(us for _, us in data), 1e-9)
        log = spread > 20  # a log axis only where times differ by orders of magnitude
        if log:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.set_title(g)
        ax.set_xlabel("µs/step (log)" if log else "µs/step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
