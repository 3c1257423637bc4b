"""LocalExecutor: runs each command under a runner process on this machine.

Isolation, in order of preference (``Settings.isolation`` may force one):

* ``cgroups-v1`` / ``cgroups-v2``: memory limit (the kernel OOM-kills the job, which
  ends OOM_KILLED), CPU quota (CFS), pids limit;
* ``rlimits``: RLIMIT_AS for memory (an allocation fails, and a MemoryError in the
  log marks the run OOM_KILLED), RLIMIT_CPU as a CPU-seconds budget when a timeout is
  set (cpu x timeout), RLIMIT_NPROC for pids (not enforced for root);
* ``none``.

The isolation used is returned by ``submit`` and stored on the job record.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from miniflow_platform.config import Settings
from miniflow_platform.executors import cgroups
from miniflow_platform.executors.base import Executor, RunSpec, RunState, RunStatus
from miniflow_platform.executors.runner import kill_tree, write_json

START_GRACE_S = 15.0  # a runner that has not written runner.json by then is lost


class LocalExecutor(Executor):
    def __init__(self, settings: Settings):
        self.settings = settings
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._layout: cgroups.CgroupLayout | None = None
        if settings.isolation in ("auto", "cgroups"):
            self._layout = cgroups.detect(str(settings.data_dir.resolve()))
            if self._layout is None and settings.isolation == "cgroups":
                raise RuntimeError(
                    "isolation='cgroups' was requested but no writable "
                    "cgroup hierarchy was found; use 'auto' or 'rlimits'"
                )

    @property
    def isolation(self) -> str:
        if self._layout is not None:
            return f"cgroups-v{self._layout.version}"
        return "none" if self.settings.isolation == "none" else "rlimits"

    def submit(self, spec: RunSpec) -> str:
        spec.run_dir.mkdir(parents=True, exist_ok=True)
        for stale in ("runner.json", "status.json"):
            (spec.run_dir / stale).unlink(missing_ok=True)
        res = spec.resources
        groups: list[str] = []
        rlimits: dict[str, int] = {}
        if self._layout is not None:
            groups = [str(g) for g in cgroups.create(self._layout, spec.run_dir.name, res)]
        elif self.isolation == "rlimits":
            if res.memory_mb:
                rlimits["RLIMIT_AS"] = res.memory_mb * 2**20
            if res.cpu and spec.timeout_s:
                rlimits["RLIMIT_CPU"] = int(res.cpu * spec.timeout_s) + 1
            if res.pids:
                rlimits["RLIMIT_NPROC"] = res.pids
        env = dict(spec.env)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(res.gpu_devices)
        write_json(
            spec.run_dir / "spec.json",
            {
                "command": spec.command,
                "cwd": str(spec.cwd),
                "env": env,
                "timeout_s": spec.timeout_s,
                "cgroups": groups,
                "rlimits": rlimits,
                "log": str(self.log_path(spec.run_dir)),
                "submitted_at": time.time(),
            },
        )
        with open(spec.run_dir / "runner.log", "ab") as runner_log:
            proc = subprocess.Popen(  # noqa: S603  fixed argv
                [sys.executable, "-m", "miniflow_platform.executors.runner", str(spec.run_dir)],
                stdin=subprocess.DEVNULL,
                stdout=runner_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        with self._lock:
            self._children[str(spec.run_dir)] = proc
        return self.isolation

    def poll(self, run_dir: Path) -> RunStatus:
        self._reap()
        status = _read_json(run_dir / "status.json")
        if status is not None:
            return _status_from_record(status)
        runner = _read_json(run_dir / "runner.json")
        if runner is not None and _alive(runner):
            return RunStatus(RunState.RUNNING)
        status = _read_json(run_dir / "status.json")  # the runner may have just finished
        if status is not None:
            return _status_from_record(status)
        spec = _read_json(run_dir / "spec.json")
        if runner is None and spec and time.time() - spec["submitted_at"] < START_GRACE_S:
            return RunStatus(RunState.RUNNING)
        return RunStatus(
            RunState.LOST, reason="the run's supervisor process is gone and left no exit record"
        )

    def cancel(self, run_dir: Path) -> None:
        spec = _read_json(run_dir / "spec.json") or {"cgroups": []}
        runner = _read_json(run_dir / "runner.json")
        deadline = time.time() + 5
        while runner is None and spec.get("submitted_at") and time.time() < deadline:
            time.sleep(0.05)  # submitted a moment ago; wait for the runner's pid
            runner = _read_json(run_dir / "runner.json")
        if runner is not None and _alive(runner):
            # Kill the job tree ourselves (do not rely on the runner), then the runner.
            kill_tree(runner["pid"], spec["cgroups"])
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(runner["pid"])
                proc.terminate()
                proc.wait(timeout=5)
        else:
            kill_tree(os.getpid(), spec["cgroups"], grace_s=0.5) if spec["cgroups"] else None
        self._reap()

    def log_path(self, run_dir: Path) -> Path:
        return run_dir / "output.log"

    def release(self, run_dir: Path) -> None:
        spec = _read_json(run_dir / "spec.json")
        if spec:
            cgroups.remove(spec["cgroups"])

    def close(self) -> None:
        if self._layout is not None:  # removes the parent groups only if no run is left
            cgroups.remove([str(parent) for parent in self._layout.parents.values()])

    def _reap(self) -> None:
        # Runners are our children; poll() reaps the finished ones so none stays a zombie.
        with self._lock:
            for key, proc in list(self._children.items()):
                if proc.poll() is not None:
                    del self._children[key]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return None


def _alive(runner: dict[str, Any]) -> bool:
    try:
        proc = psutil.Process(runner["pid"])
        # pid reuse: the same pid with another start time is another process.
        same = abs(proc.create_time() - float(runner["create_time"])) < 1.0
        return same and bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _status_from_record(rec: dict[str, Any]) -> RunStatus:
    code = rec.get("exit_code")
    if rec.get("oom_killed"):
        return RunStatus(RunState.OOM_KILLED, code, "the job exceeded its memory limit")
    if rec.get("timed_out"):
        return RunStatus(RunState.TIMED_OUT, code, "the job ran past its timeout and was killed")
    reason = f"killed by signal {-code}" if code is not None and code < 0 else ""
    return RunStatus(RunState.EXITED, code, reason)
