"""LocalExecutor: runs each command under a runner process on this machine.

Job isolation (``mode``): ``isolated`` where ``modes.probe`` finds root, namespaces
and cgroups: each run is its tenant's uid in its own namespaces (``sandbox_plan``,
``sandbox``); else ``none``. Resource limits (``isolation``), in order of preference
(``Settings.isolation`` may force one):

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
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from miniflow_platform.config import Settings
from miniflow_platform.executors import cgroups, modes, sandbox_plan
from miniflow_platform.executors.base import (
    LOG_CHUNK,
    Endpoint,
    Executor,
    RunSpec,
    RunState,
    RunStatus,
    check_run_id,
)
from miniflow_platform.executors.runner import kill_tree, write_json
from miniflow_platform.paths import is_within
from miniflow_platform.storage import LocalStorage

START_GRACE_S = 15.0  # a runner that has not written runner.json by then is lost


class LocalExecutor(Executor):
    def __init__(self, settings: Settings):
        self.settings = settings
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._layout: cgroups.CgroupLayout | None = None
        self._storage = LocalStorage(settings.data_dir)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(settings.data_dir, 0o700)  # the platform's alone: DB, specs, every tenant
        wanted = settings.isolation
        if wanted in ("auto", "cgroups", "isolated"):
            self._layout = cgroups.detect(str(settings.data_dir.resolve()))
            if self._layout is None and wanted in ("cgroups", "isolated"):
                raise RuntimeError(
                    f"isolation={wanted!r} was requested but no writable "
                    "cgroup hierarchy was found; use 'auto' or 'rlimits'"
                )
        self.capability = modes.Capability(modes.NONE, f"isolation={wanted!r} was chosen")
        if self._layout is None and wanted == "auto":
            self.capability = modes.Capability(modes.NONE, "no writable cgroup hierarchy")
        elif wanted in ("auto", "isolated"):
            self.capability = modes.probe()
            if wanted == "isolated" and self.capability.mode != modes.ISOLATED:
                raise RuntimeError(
                    f"isolation='isolated' was requested but {self.capability.reason}"
                )

    @property
    def mode(self) -> str:
        """``isolated`` (per-tenant uid + namespaces) or ``none`` (see ``modes``)."""
        return self.capability.mode

    @property
    def isolation(self) -> str:
        """The resource limits used: ``cgroups-v1``, ``cgroups-v2``, ``rlimits`` or ``none``."""
        if self._layout is not None:
            return f"cgroups-v{self._layout.version}"
        return "none" if self.settings.isolation == "none" else "rlimits"

    @property
    def storage(self) -> LocalStorage:
        return self._storage

    def run_dir(self, run_id: str | Path) -> Path:
        """``<data_dir>/<run id>``; an absolute run id is the directory itself."""
        return self.settings.data_dir / check_run_id(str(run_id))

    def start(self, run_id: str, spec: RunSpec) -> str:
        spec = dataclasses.replace(spec, run_dir=self.run_dir(run_id))
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
        record: dict[str, Any] = {
            "command": spec.command,
            "cwd": str(spec.cwd),
            "env": env,
            "timeout_s": spec.timeout_s,
            "cgroups": groups,
            "rlimits": rlimits,
            "log": str(self.log_path(spec.run_dir)),
            "submitted_at": time.time(),
        }
        if self.mode == modes.ISOLATED:
            record["sandbox"] = self._sandbox(spec, env)
        write_json(spec.run_dir / "spec.json", record)  # 0600: the env may hold secrets
        _private_log(self.log_path(spec.run_dir), record.get("sandbox", {}).get("gid"))
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

    def _sandbox(self, spec: RunSpec, env: dict[str, str]) -> dict[str, Any]:
        """Hand the run's subdirectories to the tenant and plan what the run may see."""
        uid, gid = sandbox_plan.tenant_ids(self.settings.tenant_uid_base, spec.tenant)
        sandbox_plan.give_to_tenant(spec.run_dir, uid, gid)
        if not is_within(Path(env.get("HOME", "/")), spec.run_dir):
            env["HOME"] = str(spec.run_dir / "home")  # the server's HOME is not the tenant's
        return sandbox_plan.build(
            data_dir=self.settings.data_dir,
            run_dir=spec.run_dir,
            uid=uid,
            gid=gid,
            command=spec.command,
            env=env,
            cwd=spec.cwd,
        )

    def status(self, run_id: str) -> RunStatus:
        run_dir = self.run_dir(run_id)
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
        killed = _clean_up_lost(spec, runner)
        reason = "the run's supervisor process is gone and left no exit record"
        if killed:
            reason += f"; {killed} leftover process(es) of the run were killed"
        elif spec and not spec.get("cgroups"):
            reason += "; without cgroups its leftover processes, if any, cannot be found"
        return RunStatus(RunState.LOST, reason=reason)

    def cancel(self, run_id: str) -> None:
        run_dir = self.run_dir(run_id)
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
        else:  # the runner died: only the run's own init and cgroups, never our tree
            _clean_up_lost(spec, runner)
        self._reap()

    def log_path(self, run_id: str | Path) -> Path:
        """The file holding the run's stdout and stderr; it outlives the run."""
        return self.run_dir(run_id) / "output.log"

    def read_log(self, run_id: str, offset: int = 0, limit: int = LOG_CHUNK) -> bytes:
        try:
            with self.log_path(run_id).open("rb") as f:
                f.seek(offset)
                return f.read(limit)
        except OSError:
            return b""

    def log_tail(self, run_id: str, limit: int = 2**20) -> str:
        path = self.log_path(run_id)
        try:
            with path.open("rb") as f:
                f.seek(max(0, path.stat().st_size - limit))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def append_log(self, run_id: str, text: str) -> None:
        with contextlib.suppress(OSError), self.log_path(run_id).open("a") as log:
            log.write(text)

    def endpoint(self, run_id: str, port: int) -> Endpoint:
        return Endpoint("127.0.0.1", port)  # processes listen on loopback (managed.reserve)

    def release(self, run_id: str) -> None:
        spec = _read_json(self.run_dir(run_id) / "spec.json")
        if spec:
            cgroups.remove(spec["cgroups"])

    def remove(self, run_id: str) -> None:
        self.release(run_id)
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def close(self) -> None:
        if self._layout is not None:  # removes the parent groups only if no run is left
            cgroups.remove([str(parent) for parent in self._layout.parents.values()])

    def _reap(self) -> None:
        # Runners are our children; poll() reaps the finished ones so none stays a zombie.
        with self._lock:
            for key, proc in list(self._children.items()):
                if proc.poll() is not None:
                    del self._children[key]


def _clean_up_lost(spec: dict[str, Any] | None, runner: dict[str, Any] | None) -> int:
    """A run whose supervisor died: kill its sandbox init and every process in its cgroups.

    Freeze, kill, thaw (``cgroups.kill_all``), so nothing forks while it is being
    killed; then the cgroups are removed. Returns how many processes were killed.
    """
    killed = 0
    init = (runner or {}).get("init")
    if init and _alive(init):  # pid 1 of the run's namespace: its death kills the rest
        with contextlib.suppress(psutil.Error):
            psutil.Process(init["pid"]).kill()
            killed += 1
    if spec and spec.get("cgroups"):
        killed += cgroups.kill_all(spec["cgroups"])
        cgroups.remove(spec["cgroups"])
    return killed


def _private_log(log: Path, gid: int | None) -> None:
    """The log is the platform's and, through its group, the tenant's; nobody else's."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    os.close(fd)
    os.chmod(log, 0o640 if gid is not None else 0o600)
    if gid is not None:
        os.chown(log, os.geteuid(), gid)


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
