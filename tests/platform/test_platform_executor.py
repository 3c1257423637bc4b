"""LocalExecutor with real subprocesses: limits, OOM, CPU quota, timeout, cancel, logs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psutil
import pytest

from miniflow_platform.config import Settings
from miniflow_platform.executors import Resources, RunSpec, RunState, get_executor
from miniflow_platform.executors.local import LocalExecutor


@pytest.fixture(params=["auto", "rlimits"])
def any_executor(request, tmp_path):
    """The executor with the best isolation here, and with the rlimits fallback."""
    ex = get_executor("local", Settings(data_dir=tmp_path, isolation=request.param))
    yield ex
    from platform_helpers import kill_all_runs

    kill_all_runs(tmp_path)
    ex.close()


@pytest.fixture
def executor(tmp_path):
    ex = get_executor("local", Settings(data_dir=tmp_path))
    yield ex
    from platform_helpers import kill_all_runs

    kill_all_runs(tmp_path)
    ex.close()


def run(
    ex: LocalExecutor,
    tmp: Path,
    code: str,
    res: Resources | None = None,
    timeout: float | None = None,
    name: str = "r",
    wait: bool = True,
):
    run_dir = tmp / "runs" / name
    spec = RunSpec(
        [sys.executable, "-c", code],
        run_dir,
        tmp,
        {"PATH": "/usr/bin:/bin"},
        res or Resources(),
        timeout,
    )
    isolation = ex.submit(spec)
    if not wait:
        return run_dir, isolation
    deadline = time.time() + 60
    while (status := ex.poll(run_dir)).state == RunState.RUNNING:
        assert time.time() < deadline, "run did not finish"
        time.sleep(0.05)
    ex.release(run_dir)
    return status, ex.log_path(run_dir).read_text()


def test_exit_codes_and_logs(executor, tmp_path):
    status, log = run(executor, tmp_path, "print('out'); import sys; print('err', file=sys.stderr)")
    assert status.state == RunState.EXITED and status.exit_code == 0
    assert "out" in log and "err" in log
    status, _ = run(executor, tmp_path, "raise SystemExit(3)", name="fail")
    assert (status.state, status.exit_code) == (RunState.EXITED, 3)


def test_missing_program_is_a_failed_run(executor, tmp_path):
    run_dir = tmp_path / "runs" / "missing"
    executor.submit(RunSpec(["/nonexistent/program"], run_dir, tmp_path, {}))
    deadline = time.time() + 30
    while (status := executor.poll(run_dir)).state == RunState.RUNNING:
        assert time.time() < deadline
        time.sleep(0.05)
    assert status.exit_code == 127
    assert "cannot start" in executor.log_path(run_dir).read_text()


def test_gpus_are_handed_out_through_cuda_visible_devices(executor, tmp_path):
    code = "import os; print(repr(os.environ['CUDA_VISIBLE_DEVICES']))"
    _, log = run(executor, tmp_path, code, Resources(gpu_devices=("1", "3")))
    assert "'1,3'" in log
    _, log = run(executor, tmp_path, code, name="nogpu")
    assert "''" in log  # a job without GPUs sees none


def test_timeout_ends_timed_out(executor, tmp_path):
    start = time.time()
    status, log = run(executor, tmp_path, "import time; time.sleep(60)", timeout=1.0)
    assert status.state == RunState.TIMED_OUT
    assert time.time() - start < 15
    assert "timed out" in log


def test_cancel_kills_the_whole_tree(any_executor, tmp_path):
    executor = any_executor
    # The job starts a child and a double-forked, setsid'd grandchild that tries to escape.
    code = (
        "import os, subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "print('ready', flush=True)\n"
        "time.sleep(300)\n"
    )
    run_dir, _ = run(executor, tmp_path, code, wait=False, name="tree")
    log = executor.log_path(run_dir)
    deadline = time.time() + 30
    while "ready" not in (log.read_text() if log.exists() else ""):
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    runner = psutil.Process(json.loads((run_dir / "runner.json").read_text())["pid"])
    tree = runner.children(recursive=True)
    assert len(tree) >= 3, tree  # job, its child, the escaped grandchild (reparented to runner)
    executor.cancel(run_dir)
    for proc in [runner, *tree]:
        assert not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE, proc
    assert executor.poll(run_dir).state != RunState.RUNNING


def _has_cgroups() -> bool:
    ex = LocalExecutor(Settings(data_dir=Path("/tmp/miniflow-platform-probe")))
    ex.close()
    return ex.isolation.startswith("cgroups")


@pytest.mark.skipif(
    not _has_cgroups(), reason="no writable cgroup hierarchy on this machine; rlimit tests cover it"
)
class TestCgroups:
    def test_memory_limit_ends_oom_killed(self, executor, tmp_path):
        status, _ = run(
            executor, tmp_path, "x = bytearray(400 * 2**20); print(len(x))", Resources(memory_mb=64)
        )
        assert status.state == RunState.OOM_KILLED

    def test_cpu_quota_gives_about_that_share(self, executor, tmp_path):
        code = (
            "import os, time, json\n"
            "t = time.time()\n"
            "while time.time() - t < 3: pass\n"
            "c = os.times()\n"
            "print(json.dumps({'cpu': c.user + c.system, 'wall': time.time() - t}))\n"
        )
        status, log = run(executor, tmp_path, code, Resources(cpu=0.2))
        assert status.exit_code == 0
        result = json.loads(log.strip().splitlines()[-1])
        share = result["cpu"] / result["wall"]
        print(f"CPU share under a 0.2-CPU quota: {share:.3f}")
        assert 0.05 < share < 0.3, share  # the upper bound is the quota; low = busy box

    def test_pids_limit(self, executor, tmp_path):
        code = (
            "import subprocess, sys\n"
            "ps = []\n"
            "try:\n"
            "    for i in range(40):\n"
            "        ps.append(subprocess.Popen(['sleep', '5']))\n"
            "except OSError as e:\n"
            "    print('refused after', len(ps), e)\n"
            "for p in ps: p.kill()\n"
        )
        status, log = run(executor, tmp_path, code, Resources(pids=10))
        assert "refused after" in log, log


@pytest.mark.parametrize("any_executor", ["rlimits"], indirect=True)
def test_rlimits_fallback_marks_memory_error_oom(any_executor, tmp_path):
    ex = any_executor  # the fixture stops whatever it started
    assert ex.isolation == "rlimits"
    status, log = run(ex, tmp_path, "x = bytearray(800 * 2**20)", Resources(memory_mb=200))
    assert "MemoryError" in log
    assert status.state == RunState.OOM_KILLED
    status, _ = run(
        ex,
        tmp_path,
        "x = bytearray(10 * 2**20); print('ok')",
        Resources(memory_mb=200),
        name="fits",
    )
    assert status.state == RunState.EXITED and status.exit_code == 0
