"""The server's size limits: one model, one place (``Settings.limits``).

Each limit is answered with 413 (too large) or 422 (invalid) and a message that names
the limit and its value. ``miniflow-platform serve --limit NAME=VALUE`` sets any of
them; ``--quota-disk-mb`` sets the disk quota.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MiB = 2**20


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_body_bytes: int = Field(
        default=16 * MiB, gt=0, description="any JSON request body (Content-Length and bytes read)"
    )
    max_upload_bytes: int = Field(
        default=256 * MiB, gt=0, description="one archive sent to POST /v1/uploads"
    )
    max_env_vars: int = Field(default=256, ge=0, description="variables in one job's env")
    max_env_bytes: int = Field(
        default=64 * 1024, ge=0, description="sum of len(name) + len(value) in one job's env"
    )
    max_archive_members: int = Field(default=10_000, gt=0, description="files and dirs")
    max_unpacked_bytes: int = Field(
        default=512 * MiB, gt=0, description="sum of the members' sizes once unpacked"
    )
    disk_quota_bytes: int | None = Field(
        default=10 * 1024 * MiB,
        ge=0,
        description="per user: job dirs (code, artifacts, logs) + notebook dirs + uploads",
    )
    max_pids: int = Field(default=32768, gt=0, description="largest pids limit a job may ask")
    max_retries: int = Field(default=10, ge=0, description="largest max_retries a job may ask")
    max_retry_delay_s: float = Field(
        default=3600.0, gt=0, description="cap of the exponential backoff between attempts"
    )


def parse_assignments(items: list[str]) -> dict[str, str | None]:
    """``["max_body_bytes=1024", ...]`` -> a dict for ``Limits(**...)`` (names checked there).

    ``none`` means no limit, where a limit may be absent (``disk_quota_bytes=none``).
    """
    out: dict[str, str | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--limit expects NAME=VALUE, got {item!r}")
        value = value.strip()
        out[name.strip()] = None if value.lower() == "none" else value
    return out
