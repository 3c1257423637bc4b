"""What job isolation costs: run latency, isolated vs. cgroups only.

    python benchmarks/bench_platform_isolation.py [--runs 10]

Runs small jobs through the local executor, the two modes interleaved so machine load
hits both alike. Prints medians of *to exec* (from ``submit`` to the job's first
statement: the sandbox plan, the runner, the sandbox init, the mounts) and *total*
(to the recorded end), and the ratio. Needs root with namespaces and cgroups.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from miniflow_platform.config import Settings
from miniflow_platform.executors import Resources, RunSpec, RunState, get_executor

START = "import time; print('T0', time.time(), flush=True)\n"
JOBS = {
    "empty": START,
    "import numpy": START + "import numpy",
    "file ops": START
    + (
        "import os\n"
        "for i in range(2000):\n"
        "    p = f'f{i}'\n"
        "    open(p, 'w').write('x'); os.stat(p); os.remove(p)\n"
    ),
}


def one_run(ex, root: Path, name: str, code: str, tenant: int) -> tuple[float, float]:
    run_dir = root / "jobs" / name
    (run_dir / "work").mkdir(parents=True)
    wall = time.time()
    start = time.perf_counter()
    ex.submit(
        RunSpec(
            [sys.executable, "-c", code],
            run_dir,
            run_dir / "work",
            {"PATH": "/usr/bin:/bin"},
            Resources(memory_mb=512),
            tenant=tenant,
        )
    )
    while ex.poll(run_dir).state == RunState.RUNNING:
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    log = ex.log_path(run_dir).read_text()
    assert ex.poll(run_dir).exit_code == 0, log
    return float(log.split("T0 ")[1].split()[0]) - wall, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        executors = {
            mode: get_executor("local", Settings(data_dir=Path(tmp) / mode, isolation=mode))
            for mode in ("isolated", "cgroups")
        }
        for label, code in JOBS.items():
            times: dict[str, list[tuple[float, float]]] = {m: [] for m in executors}
            for i in range(args.runs):
                for mode, ex in executors.items():
                    root = Path(tmp) / mode
                    times[mode].append(one_run(ex, root, f"{label[:5]}-{i}", code, 1))
            for k, what in enumerate(("to exec", "total")):
                iso, cg = (
                    statistics.median(t[k] for t in times[m]) * 1000
                    for m in ("isolated", "cgroups")
                )
                print(
                    f"{label:13s} {what:8s} isolated {iso:7.1f} ms   cgroups only {cg:7.1f} ms"
                    f"   ratio {iso / cg:4.2f}   ({iso - cg:+6.1f} ms)"
                )
        for ex in executors.values():
            ex.close()


if __name__ == "__main__":
    main()
