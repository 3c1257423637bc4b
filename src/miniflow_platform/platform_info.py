"""``GET /v1/platform``: the server's version and how it keeps tenants' jobs apart."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from miniflow_platform import __version__
from miniflow_platform.context import Platform


class IsolationInfo(BaseModel):
    mode: Literal["isolated", "none"] = Field(
        description="isolated: each job runs as its tenant's own uid in its own namespaces; "
        "none: jobs run as the server's OS user (single-tenant servers only)"
    )
    limits: str = Field(description="how resources are limited: cgroups-v1, cgroups-v2, rlimits")
    single_tenant: bool = Field(description="the server was started with --single-tenant")
    reason: str = Field(description="why the mode is not 'isolated' (empty when it is)")
    tenant_uid_base: int | None = Field(
        description="tenant N's jobs run as uid/gid base+N (isolated mode only)"
    )


class PlatformInfo(BaseModel):
    version: str
    isolation: IsolationInfo


def describe(p: Platform) -> PlatformInfo:
    executor = p.executor
    mode = getattr(executor, "mode", "none")
    capability = getattr(executor, "capability", None)
    return PlatformInfo(
        version=__version__,
        isolation=IsolationInfo(
            mode="isolated" if mode == "isolated" else "none",
            limits=str(getattr(executor, "isolation", "none")),
            single_tenant=p.settings.single_tenant,
            reason="" if mode == "isolated" else getattr(capability, "reason", "not supported"),
            tenant_uid_base=p.settings.tenant_uid_base if mode == "isolated" else None,
        ),
    )
