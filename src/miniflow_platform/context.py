"""The objects one server shares between its routes and its scheduler thread."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from miniflow_platform.config import Settings
from miniflow_platform.executors.base import Executor


@dataclass
class Platform:
    """Settings, DB sessions and the executor of one server.

    ``lock`` serialises the state changes that pair a DB update with an executor
    action (start, cancel, stop), so the scheduler and a request never race on one run.
    """

    settings: Settings
    sessions: sessionmaker[Session]
    executor: Executor
    lock: threading.RLock = field(default_factory=threading.RLock)
    # What time it is for the scheduler's time-driven steps (schedules); tests replace it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Hooks ``(platform, session, job) -> env`` a job's environment gets when it starts
    # (tracking adds its run and scoped token); registered by ``main.build_platform``.
    job_env_hooks: list[Callable[..., dict[str, str]]] = field(default_factory=list)

    def run_dir(self, kind: str, ident: int | str) -> Path:
        return self.settings.data_dir / kind / str(ident)

    def base_env(self, python_env: str | None = None) -> dict[str, str]:
        """Environment of a workload: a clean PATH with the chosen Python first.

        The server's own environment is not passed on (it may hold tokens); jobs get
        PATH, HOME, locale and TMPDIR plus what the request sets.
        """
        bins = [str(Path(python_env) / "bin")] if python_env else []
        bins.append(str(Path(sys.executable).parent))  # where `miniflow` and `python` live
        env = {
            "PATH": os.pathsep.join([*bins, os.environ.get("PATH", "/usr/bin:/bin")]),
            "PYTHONUNBUFFERED": "1",
        }
        if python_env:
            env["VIRTUAL_ENV"] = python_env
        for key in ("HOME", "LANG", "LC_ALL", "TMPDIR"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env
