"""Response bodies of the uploads API (the request body is the raw archive)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from miniflow_platform.api_types import UTCDatetime


class UploadPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    size_bytes: int
    sha256: str
    format: str
    members: int
    unpacked_bytes: int
    created_at: UTCDatetime


class UploadsPublic(BaseModel):
    data: list[UploadPublic]
    count: int
