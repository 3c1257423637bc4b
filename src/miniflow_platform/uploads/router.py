"""/v1/uploads: code archives sent as the raw request body, streamed to disk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.requests import ClientDisconnect

from miniflow_platform import errors
from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser, owned
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.uploads import service
from miniflow_platform.uploads.models import Upload
from miniflow_platform.uploads.schemas import UploadPublic, UploadsPublic

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])
OwnedUpload = owned(Upload, "upload_id", Annotated[int, Path(ge=1, le=2**53)], "upload")

_ARCHIVE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            ct: {"schema": {"type": "string", "format": "binary"}}
            for ct in ("application/octet-stream", "application/zip", "application/gzip")
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=UploadPublic,
    openapi_extra=_ARCHIVE_BODY,
    responses=errors.responses(413, 422),
)
async def create_upload(request: Request, p: PlatformDep, user: CurrentUser) -> UploadPublic:
    """Upload a .zip or .tar(.gz|.bz2|.xz) as the raw body; use its id as `code_upload_id`.

    Streamed to disk; refused with 413 over `limits.max_upload_bytes`, the unpacked
    size or member count limits, or the disk quota; 422 for unsafe or invalid archives.
    """
    declared = request.headers.get("content-length")
    size = int(declared) if declared and declared.isdigit() else None
    try:
        upload = await service.receive(p, user.id, request.stream(), size)
    except ClientDisconnect as e:  # nobody to answer; the .part file is already gone
        raise errors.PlatformError("the client disconnected during the upload") from e
    return UploadPublic.model_validate(upload)


@router.get("", response_model=UploadsPublic)
def read_uploads(session: SessionDep, user: CurrentUser) -> UploadsPublic:
    """List your uploads (admins: everyone's)."""
    found = [
        UploadPublic.model_validate(u) for u in auth_service.visible_rows(session, user, Upload)
    ]
    return UploadsPublic(data=found, count=len(found))


@router.get("/{upload_id}", response_model=UploadPublic)
def read_upload(upload: OwnedUpload) -> UploadPublic:
    """One upload: size, checksum, format, members and unpacked size."""
    return UploadPublic.model_validate(upload)


@router.delete("/{upload_id}", status_code=204)
def delete_upload(upload: OwnedUpload, p: PlatformDep, session: SessionDep) -> None:
    """Delete an upload (jobs already unpacked from it keep their code)."""
    service.delete_upload(p, session, upload)
