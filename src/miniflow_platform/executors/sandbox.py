"""The init process of an isolated run: ``python -m miniflow_platform.executors.sandbox RUN_DIR FD``.

The runner starts it as pid 1 of a new pid namespace (the runner unshares
``CLONE_NEWPID`` before its one fork). Still root, it

1. enters new mount, IPC and UTS namespaces and makes every mount private;
2. mounts a fresh ``/proc`` (only this run's processes are in it);
3. opens the paths the plan exposes, then mounts an empty tmpfs over each hidden root
   (the platform's data directory, and any directory the tenant could not traverse on
   the host) and binds the exposed paths back at their own paths;
4. forks the job, which joins the run's cgroups, makes every cgroup mount read-only,
   drops all capabilities (bounding and ambient sets too), sets ``no_new_privs``,
   becomes the tenant's uid/gid with no supplementary groups, sets umask 077, and
   executes the command.

It then stays pid 1: it forwards SIGTERM/SIGINT/SIGHUP to the job, reaps orphans,
and when the job ends writes its wait status to ``FD`` (a pipe to the runner) and
exits, which makes the kernel kill whatever is left in the namespace.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys

from miniflow_platform.executors import linux

SETUP_FAILED = 125
CANNOT_EXEC = 127


def _say(message: str) -> None:
    os.write(2, f"\n[miniflow-platform] {message}\n".encode())


def setup_mounts(plan: dict) -> None:
    """Steps 1-3: namespaces, /proc, hidden roots and exposed paths."""
    linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    linux.sethostname(plan.get("hostname", "miniflow-run"))
    quiet = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC
    linux.mount("proc", "/proc", "proc", quiet)
    exposed = [(path, mode, _open_exact(path)) for path, mode in plan["expose"]]
    for root in plan["hide"]:
        linux.mount("tmpfs", root, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=1m,mode=0755")
    for path in plan.get("skeleton", []):
        os.makedirs(path, mode=0o755, exist_ok=True)
    for path, mode, fd in exposed:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, mode=0o755, exist_ok=True)
        elif not os.path.exists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        linux.mount(f"/proc/self/fd/{fd}", path, None, linux.MS_BIND | linux.MS_REC)
        flags = linux.MS_BIND | linux.MS_REMOUNT | linux.MS_NOSUID | linux.MS_NODEV
        linux.mount(None, path, None, flags | (linux.MS_RDONLY if mode == "ro" else 0))
        os.close(fd)


def _open_exact(path: str) -> int:
    """Open ``path`` (O_PATH) and refuse it if it is no longer what the plan resolved.

    The plan holds resolved paths; a component swapped for a symlink since then (by
    another run of the tenant) would otherwise bind whatever it points to.
    """
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    if os.readlink(f"/proc/self/fd/{fd}") != path:
        os.close(fd)
        raise OSError(f"{path!r} changed since the run was planned; not exposing it")
    return fd


def read_only_mounts(prefixes: list[str]) -> None:
    """Remount every mount at or under ``prefixes`` read-only (in this namespace only)."""
    points = []
    with open("/proc/self/mountinfo") as f:
        lines = f.read().splitlines()
    for line in lines:
        point = line.split()[4].replace("\\040", " ")
        if any(point == p or point.startswith(p.rstrip("/") + "/") for p in prefixes):
            points.append(point)
    for point in sorted(points):
        flags = linux.MS_BIND | linux.MS_REMOUNT | linux.MS_RDONLY
        linux.mount(None, point, None, flags | linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)


def drop_privileges(uid: int, gid: int) -> None:
    """No capabilities, no way to gain any (setuid binaries, file caps), the tenant's ids."""
    for cap in range(linux.last_cap() + 1):
        with contextlib.suppress(OSError):  # EINVAL past the kernel's last capability
            linux.prctl(linux.PR_CAPBSET_DROP, cap)
    with contextlib.suppress(OSError):  # no ambient capabilities before Linux 4.3
        linux.prctl(linux.PR_CAP_AMBIENT, linux.PR_CAP_AMBIENT_CLEAR_ALL)
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # from root to non-root: the kernel clears every capability


def _job(spec: dict) -> None:
    """In the forked child: limits, then privileges, then the user's command. Never returns."""
    plan = spec["sandbox"]
    try:
        for group in spec["cgroups"]:
            with open(os.path.join(group, "cgroup.procs"), "w") as f:
                f.write("0")
        read_only_mounts(plan.get("readonly", []))
        os.umask(0o077)
        drop_privileges(plan["uid"], plan["gid"])
    except OSError as e:
        _say(f"sandbox setup failed: {e}")
        os._exit(SETUP_FAILED)
    try:
        os.chdir(spec["cwd"])
    except OSError as e:
        _say(f"cannot enter working directory {spec['cwd']!r} as uid {plan['uid']}: {e}")
        os._exit(SETUP_FAILED)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvpe(spec["command"][0], spec["command"], spec["env"])
    except OSError as e:
        _say(f"cannot start {spec['command'][0]!r}: {e}")
        os._exit(CANNOT_EXEC)


def run(run_dir: str, status_fd: int) -> int:
    os.set_inheritable(status_fd, False)
    with open(os.path.join(run_dir, "spec.json")) as f:
        spec = json.load(f)
    try:
        setup_mounts(spec["sandbox"])
    except OSError as e:
        _say(f"sandbox setup failed: {e}")
        return SETUP_FAILED
    child = os.fork()
    if child == 0:
        _job(spec)
    forward = {"sig": None}

    def _forward(signum: int, _frame: object) -> None:
        forward["sig"] = signum
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _forward)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return SETUP_FAILED
        if pid == child:
            break
    if os.WIFSIGNALED(status):
        record = {"signal": os.WTERMSIG(status)}
    else:
        record = {"exit_code": os.WEXITSTATUS(status)}
    with contextlib.suppress(OSError):
        os.write(status_fd, json.dumps(record).encode())
    return record.get("exit_code", 128 + record.get("signal", 0))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return run(args[0], int(args[1]))


if __name__ == "__main__":
    sys.exit(main())
