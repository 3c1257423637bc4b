"""The supervisor process of one run: ``python -m miniflow_platform.executors.runner RUN_DIR``.

The local executor starts one runner per run in a new session, so the run survives
a server crash. The runner

* records its pid in ``runner.json`` (the server finds it again after a restart),
* becomes a child subreaper, so every descendant of the job stays its descendant
  even after a double fork or ``setsid`` (cancel and cleanup find the whole tree),
* starts the command with the run's cgroups joined or rlimits set, output appended
  to ``output.log``,
* enforces the timeout, kills any leftover descendants when the command exits, and
* writes the outcome to ``status.json`` atomically. That file is the only record the
  server trusts for exit codes, so a restarted server never guesses.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from miniflow_platform.executors import cgroups, linux

PR_SET_CHILD_SUBREAPER = 36
KILL_GRACE_S = 2.0
MEMORY_ERROR_MARKERS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically, mode 0600: specs hold the job's environment (its secrets)."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def kill_tree(root_pid: int, groups: list[str], grace_s: float = KILL_GRACE_S) -> dict[int, int]:
    """SIGTERM then SIGKILL every descendant of ``root_pid`` and every process in ``groups``.

    Returns the exit codes of the processes that were our own children: waiting for
    them here reaps them, so their Popen objects can no longer see the code.
    """
    codes: dict[int, int] = {}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        procs = _tree(root_pid, groups)
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(sig)
        gone, alive = psutil.wait_procs(procs, timeout=grace_s if sig == signal.SIGTERM else 5)
        codes.update({p.pid: p.returncode for p in gone if p.returncode is not None})
        if not alive:
            break
    return codes


def _tree(root_pid: int, groups: list[str]) -> list[psutil.Process]:
    found: dict[int, psutil.Process] = {}
    with contextlib.suppress(psutil.Error):
        for proc in psutil.Process(root_pid).children(recursive=True):
            found[proc.pid] = proc
    for pid in cgroups.pids(groups):
        with contextlib.suppress(psutil.Error):
            found.setdefault(pid, psutil.Process(pid))
    found.pop(os.getpid(), None)
    return list(found.values())


def _preexec(spec: dict[str, Any]) -> None:
    os.setpgid(0, 0)
    cgroups.join(spec["cgroups"], os.getpid())
    limits = spec.get("rlimits") or {}
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def _looks_like_memory_error(log: Path) -> bool:
    with contextlib.suppress(OSError), log.open("rb") as f:
        f.seek(max(0, log.stat().st_size - 8192))
        tail = f.read().decode(errors="replace")
        return any(marker in tail for marker in MEMORY_ERROR_MARKERS)
    return False


def run(run_dir: Path) -> int:
    spec = json.loads((run_dir / "spec.json").read_text())
    groups: list[str] = spec["cgroups"]
    log = Path(spec["log"])
    with contextlib.suppress(OSError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    write_json(run_dir / "runner.json", _me())
    stopping: dict[str, int | None] = {"signal": None}

    def _on_term(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGTERM, _on_term)
    started = time.monotonic()
    status_r = -1
    with log.open("ab") as out:
        try:
            if spec.get("sandbox"):
                child, status_r = _start_sandbox(run_dir, out)
                info = {"pid": child.pid, "create_time": psutil.Process(child.pid).create_time()}
                write_json(run_dir / "runner.json", {**_me(), "init": info})
            else:
                child = subprocess.Popen(  # noqa: S603  the command is the user's job, by design
                    spec["command"],
                    cwd=spec["cwd"],
                    env=spec["env"],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=lambda: _preexec(spec),
                )
        except (OSError, psutil.Error) as e:
            out.write(f"\n[miniflow-platform] cannot start {spec['command'][0]!r}: {e}\n".encode())
            out.flush()  # in the log before the status says the run ended
            write_json(
                run_dir / "status.json",
                {
                    "exit_code": 127,
                    "timed_out": False,
                    "oom_killed": False,
                    "finished_at": time.time(),
                },
            )
            cgroups.remove(groups)
            return 0
    timed_out = False
    timeout = spec.get("timeout_s")
    codes: dict[int, int] = {}
    while child.poll() is None and child.pid not in codes:
        if stopping["signal"] is not None:
            codes = kill_tree(os.getpid(), groups)
        elif timeout and time.monotonic() - started > timeout:
            timed_out = True
            codes = kill_tree(os.getpid(), groups)
        with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
            child.wait(timeout=0.2)
    code = codes.get(child.pid, child.returncode)
    if status_r >= 0:  # pid 1 of the sandbox cannot die of its job's signal; it reports it
        code = _sandbox_code(status_r, code)
    kill_tree(os.getpid(), groups, grace_s=0.5)  # leftovers of a finished job
    _reap_all()
    oom = (
        cgroups.oom_kills(groups) > 0
        if groups
        else (code != 0 and bool(spec.get("rlimits")) and _looks_like_memory_error(log))
    )
    if timed_out:
        with log.open("ab") as out:
            out.write(f"\n[miniflow-platform] timed out after {timeout} s; killed\n".encode())
    write_json(
        run_dir / "status.json",
        {
            "exit_code": code,
            "timed_out": timed_out,
            "oom_killed": oom,
            "cancelled": stopping["signal"] is not None,
            "finished_at": time.time(),
        },
    )
    cgroups.remove(groups)  # a run's groups never outlive it
    return 0


def _me() -> dict[str, Any]:
    return {"pid": os.getpid(), "create_time": psutil.Process().create_time()}


def _start_sandbox(run_dir: Path, out: Any) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``sandbox.py`` as pid 1 of a new pid namespace; returns it and its status pipe.

    unshare(CLONE_NEWPID) puts the runner's *next* child in the new namespace; the
    runner forks exactly once afterwards.
    """
    linux.unshare(linux.CLONE_NEWPID)
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(  # noqa: S603  fixed argv
            [
                sys.executable,
                "-m",
                "miniflow_platform.executors.sandbox",
                str(run_dir),
                str(write_end),
            ],
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            process_group=0,
        )
    finally:
        os.close(write_end)
    return child, read_end


def _sandbox_code(status_r: int, fallback: int | None) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        raw = os.read(status_r, 4096)
        os.close(status_r)
        if raw:
            record = json.loads(raw)
            return -record["signal"] if "signal" in record else int(record["exit_code"])
    return fallback  # init itself was killed (cancel, timeout): its own status says how


def _reap_all() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
