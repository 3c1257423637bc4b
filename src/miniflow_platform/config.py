"""Settings of one platform server. Built explicitly (CLI flags or tests); never read at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from miniflow_platform.limits import Limits

# auto: "isolated" (per-tenant uid + namespaces + cgroups) where the machine allows it,
# else the best resource limits; the others force one (docs/platform.md, threat model).
Isolation = Literal["auto", "isolated", "cgroups", "rlimits", "none"]


class Settings(BaseModel):
    """Everything a server needs; ``create_app(Settings(...))`` uses nothing else.

    Capacity defaults to the machine (CPU count, total memory); ``gpus`` lists the
    device ids handed out through ``CUDA_VISIBLE_DEVICES`` (countable devices).
    Quotas are per user and ``None`` means unlimited.
    """

    data_dir: Path
    db_url: str | None = None  # default: sqlite:///<data_dir>/platform.db
    host: str = "127.0.0.1"
    port: int = 8080
    executor: str = "local"
    isolation: Isolation = "auto"
    single_tenant: bool = False  # allow serving without job isolation (one trust domain)
    tenant_uid_base: int = Field(default=200_000, ge=1000)  # tenant N runs as uid/gid base+N
    capacity_cpu: float = Field(default_factory=lambda: float(os.cpu_count() or 1), gt=0)
    capacity_memory_mb: int = Field(default_factory=lambda: _total_memory_mb(), gt=0)
    gpus: list[str] = Field(default_factory=list)
    quota_cpu: float | None = None
    quota_memory_mb: int | None = None
    quota_gpu: int | None = None
    quota_running_jobs: int | None = None
    default_job_memory_mb: int = 1024
    default_pids_limit: int = 512
    poll_interval_s: float = 0.5
    notebook_idle_timeout_s: float = 3600.0
    service_start_timeout_s: float = 120.0
    limits: Limits = Field(default_factory=Limits)  # sizes, disk quota: limits.py

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'platform.db'}"


def _total_memory_mb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20)
    except (ValueError, OSError):
        return 4096
