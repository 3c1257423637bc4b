"""Linux control groups: detect v1/v2, create one group per run, read OOM kills.

Groups are created under the server's own cgroup (read from /proc/self/cgroup), in a
directory named after the server's data dir, so two servers on one machine never
share groups. Everything here is plain file I/O on /sys/fs/cgroup.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from miniflow_platform.executors.base import Resources

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
V1_CONTROLLERS = {"memory": ("memory",), "cpu": ("cpu", "cpu,cpuacct"), "pids": ("pids",)}
V1_OPTIONAL = {"freezer": ("freezer",)}  # lets kill_all stop a fork bomb before killing it


@dataclass(frozen=True)
class CgroupLayout:
    """Where a server may create groups: ``version`` 1 or 2 and the parent dir(s)."""

    version: int
    parents: dict[str, Path]  # controller -> parent dir (v2: one dir under "unified")


def _own_paths() -> dict[str, str]:
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            paths[c] = path
    return paths


def detect(namespace: str) -> CgroupLayout | None:
    """Return a writable layout for this process, or None when cgroups cannot be used."""
    try:
        own = _own_paths()
    except OSError:
        return None
    tag = "miniflow-" + hashlib.sha256(namespace.encode()).hexdigest()[:10]
    if (ROOT / "cgroup.controllers").exists():
        return _detect_v2(own.get("", "/"), tag)
    parents = {}
    for controller, dirnames in {**V1_CONTROLLERS, **V1_OPTIONAL}.items():
        mount = next((ROOT / d for d in dirnames if (ROOT / d).is_dir()), None)
        if mount is None or controller not in own:
            if controller in V1_OPTIONAL:
                continue
            return None
        parent = mount / own[controller].lstrip("/") / tag
        try:
            parent.mkdir(exist_ok=True)
        except OSError:
            if controller in V1_OPTIONAL:
                continue
            return None
        parents[controller] = parent
        remove_stale_parents(mount, tag, keep=parent)
    return CgroupLayout(1, parents)


def remove_stale_parents(mount: Path, tag: str, keep: Path, depth: int = 4) -> list[Path]:
    """Remove this server's parent groups left elsewhere in ``mount`` by an earlier start.

    A server killed with ``kill -9`` leaves its ``miniflow-<hash>`` parent behind; the
    next start reuses it when it runs in the same cgroup, and otherwise (a new
    per-process cgroup) finds it here. Only empty groups go (``rmdir`` of a cgroup
    fails while it has processes or children): a lost run's leftovers are killed by
    reconciliation, after which the next start or shutdown removes them.
    """
    removed = []
    for parent in _find(mount, tag, depth):
        if parent == keep:
            continue
        children = [c for c in parent.iterdir() if c.is_dir()]
        if not remove([str(c) for c in children], timeout_s=0) and not remove(
            [str(parent)], timeout_s=0
        ):
            removed.append(parent)
    return removed


def _find(mount: Path, tag: str, depth: int) -> list[Path]:
    found = []
    for top, dirs, _ in os.walk(mount):
        level = len(Path(top).relative_to(mount).parts)
        if tag in dirs:
            found.append(Path(top, tag))
        # Never below a miniflow group (run groups) and not deeper than ``depth``.
        dirs[:] = [] if level >= depth else [d for d in dirs if not d.startswith("miniflow-")]
    return found


def _detect_v2(own: str, tag: str) -> CgroupLayout | None:
    # v2 forbids processes in a group whose children get controllers ("no internal
    # processes"), so we can only use a parent whose subtree_control we may set.
    base = ROOT / own.lstrip("/")
    parent = base / tag
    remove_stale_parents(ROOT, tag, keep=parent)
    try:
        parent.mkdir(exist_ok=True)
        (base / "cgroup.subtree_control").write_text("+memory +cpu +pids")
        (parent / "cgroup.subtree_control").write_text("+memory +cpu +pids")
    except OSError:
        with contextlib.suppress(OSError):
            parent.rmdir()
        return None
    return CgroupLayout(2, {"unified": parent})


def create(layout: CgroupLayout, name: str, res: Resources) -> list[Path]:
    """Create the groups of one run with its limits; returns the group dirs."""
    groups = []
    for controller, parent in layout.parents.items():
        group = parent / name
        group.mkdir(exist_ok=True)
        groups.append(group)
        if layout.version == 2:
            _limit_v2(group, res)
        elif controller == "memory" and res.memory_mb:
            (group / "memory.limit_in_bytes").write_text(str(res.memory_mb * 2**20))
            with contextlib.suppress(OSError):  # only present with swap accounting
                (group / "memory.memsw.limit_in_bytes").write_text(str(res.memory_mb * 2**20))
        elif controller == "cpu" and res.cpu:
            (group / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(max(1000, int(res.cpu * CPU_PERIOD_US))))
        elif controller == "pids" and res.pids:
            (group / "pids.max").write_text(str(res.pids))
    return groups


def _limit_v2(group: Path, res: Resources) -> None:
    if res.memory_mb:
        (group / "memory.max").write_text(str(res.memory_mb * 2**20))
        with contextlib.suppress(OSError):
            (group / "memory.swap.max").write_text("0")
    if res.cpu:
        (group / "cpu.max").write_text(f"{max(1000, int(res.cpu * CPU_PERIOD_US))} {CPU_PERIOD_US}")
    if res.pids:
        (group / "pids.max").write_text(str(res.pids))


def join(groups: list[str], pid: int) -> None:
    for group in groups:
        Path(group, "cgroup.procs").write_text(str(pid))


def pids(groups: list[str]) -> set[int]:
    found: set[int] = set()
    for group in groups:
        with contextlib.suppress(OSError):
            found.update(int(p) for p in Path(group, "cgroup.procs").read_text().split())
    return found


def oom_kills(groups: list[str]) -> int:
    """How many processes the kernel OOM-killed in these groups."""
    total = 0
    for group in groups:
        for fname in ("memory.oom_control", "memory.events"):
            with contextlib.suppress(OSError):
                for line in Path(group, fname).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        total += int(value)
    return total


def kill_all(groups: list[str], timeout_s: float = 5.0) -> int:
    """SIGKILL every process in ``groups``, frozen first so none can fork meanwhile.

    v1 uses the freezer group (freeze, kill, thaw: the kills land when it thaws), v2
    ``cgroup.kill`` where the kernel has it. Returns how many pids were signalled;
    waits until the groups are empty or ``timeout_s`` passes.
    """
    freezers = [Path(g) for g in groups if Path(g, "freezer.state").exists()]
    killers = [Path(g) for g in groups if Path(g, "cgroup.kill").exists()]
    for group in killers:
        with contextlib.suppress(OSError):
            (group / "cgroup.kill").write_text("1")
    _set_frozen(freezers, True)
    victims = pids(groups)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    _set_frozen(freezers, False)
    deadline = time.monotonic() + timeout_s
    while pids(groups) and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(victims)


def _set_frozen(freezers: list[Path], frozen: bool) -> None:
    want = "FROZEN" if frozen else "THAWED"
    for group in freezers:
        with contextlib.suppress(OSError):
            (group / "freezer.state").write_text(want)
    deadline = time.monotonic() + 2.0
    for group in freezers:
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if (group / "freezer.state").read_text().strip() == want:
                    break
            time.sleep(0.01)


def remove(groups: list[str], timeout_s: float = 2.0) -> list[str]:
    """Remove the groups; retries while exiting processes still hold them.

    Returns the groups that could not be removed (still populated or not ours).
    """
    left = []
    for group in groups:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                os.rmdir(group)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() >= deadline:
                    left.append(group)
                    break
                time.sleep(0.02)
    return left
