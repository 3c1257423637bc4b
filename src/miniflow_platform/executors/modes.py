"""Isolation modes: what this machine lets the platform do to keep tenants apart.

* ``isolated``: root, mount/pid/ipc/uts namespaces and writable cgroups. Every run is
  a per-tenant unprivileged uid in its own namespaces (``sandbox.py``).
* ``none``: runs are the server's own OS user, limited by cgroups or rlimits only. A
  job can read whatever the server can, so the server refuses to serve several tenants
  in this mode unless told ``--single-tenant``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

ISOLATED = "isolated"
NONE = "none"

_PROBE = (
    "import tempfile\n"
    "from miniflow_platform.executors import linux\n"
    "linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWPID | linux.CLONE_NEWIPC"
    " | linux.CLONE_NEWUTS)\n"
    "linux.mount(None, '/', None, linux.MS_REC | linux.MS_PRIVATE)\n"
    "linux.mount('tmpfs', tempfile.gettempdir(), 'tmpfs', 0, 'size=4k')\n"  # private: no trace
)


@dataclass(frozen=True)
class Capability:
    """The best mode this machine allows, and why not better when it is ``none``."""

    mode: str
    reason: str = ""


def probe() -> Capability:
    """Try, in a throwaway process, exactly what the sandbox needs (about 50 ms)."""
    if not sys.platform.startswith("linux"):
        return Capability(NONE, f"namespaces need Linux; this is {sys.platform}")
    if os.geteuid() != 0:
        return Capability(NONE, f"the server runs as uid {os.geteuid()}, not root")
    try:
        done = subprocess.run(  # noqa: S603  fixed argv
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return Capability(NONE, f"the namespace probe could not run: {e}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Capability(NONE, f"mount/pid/ipc/uts namespaces are not available: {last}")
    return Capability(ISOLATED)


def refusal(reason: str) -> str:
    """What the server says when it would serve several tenants without isolation."""
    return (
        "miniflow-platform: refusing to start in multi-tenant mode without job isolation "
        f"({reason}). Jobs would run as the server's own OS user and could read the "
        "platform database and every other user's jobs. Run the server as root on Linux "
        "with cgroups for isolated jobs, or pass --single-tenant if only one person (or "
        "one trust domain) uses this server."
    )
