"""Settings of one platform server. Built explicitly (CLI flags or tests); never read at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from miniflow_platform.limits import Limits

Image = Annotated[str, Field(min_length=1, pattern=r"^\S+$")]  # a container image reference

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
    # The schedules' clock: None = real time; a file holding an ISO time (tests, drills).
    clock_file: Path | None = None
    # Artifacts: None = data_dir; or s3://BUCKET/PREFIX (storage/, docs/kubernetes.md).
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    # executor="kubernetes" (executors/kubernetes.py, docs/kubernetes.md).
    kube_context: str | None = None  # None: in-cluster config inside a pod, else current
    kube_namespace_prefix: str = Field(
        default="miniflow-", pattern=r"^[a-z0-9]([-a-z0-9]{0,38}[-a-z0-9])?$"
    )
    kube_image: Image = "miniflow:latest"
    kube_images: dict[str, Image] = Field(default_factory=dict)  # environment -> image
    kube_data_pvc: str | None = None  # the data dir's PersistentVolumeClaim, shared by pods
    kube_platform_namespace: str = "miniflow"
    kube_service_host: str = "{name}.{namespace}.svc"  # how the proxy reaches a Service

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'platform.db'}"


def _total_memory_mb() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20)
    except (ValueError, OSError):
        return 4096
