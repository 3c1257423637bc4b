"""Receiving an upload: stream to disk off the event loop, check, record; unpack for a job."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from miniflow_platform import usage
from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.errors import NotFound, QuotaExceeded
from miniflow_platform.uploads import archive
from miniflow_platform.uploads.models import Upload

FLUSH_BYTES = 1 << 20  # chunks are gathered to this size, then written by a worker thread


def uploads_dir(p: Platform, owner_id: int) -> Path:
    return p.settings.data_dir / "uploads" / f"user-{owner_id}"


def upload_path(p: Platform, upload: Upload) -> Path:
    return uploads_dir(p, upload.owner_id) / f"{upload.id}.archive"


async def receive(
    p: Platform, user_id: int, chunks: AsyncIterator[bytes], declared: int | None
) -> Upload:
    """Stream ``chunks`` to a file; check quota, then the archive; record it.

    The event loop only collects chunks: opening, writing, hashing, checking and the
    database all run in worker threads.
    """
    room = await run_in_threadpool(_room_now, p, user_id)
    if room is not None and declared is not None and declared > room:
        raise _quota(p, declared, room)
    folder = uploads_dir(p, user_id)
    part = folder / f".{secrets.token_hex(8)}.part"
    await run_in_threadpool(folder.mkdir, parents=True, exist_ok=True)
    f = await run_in_threadpool(open, part, "xb")
    digest, size, pending = hashlib.sha256(), 0, bytearray()
    try:
        async for chunk in chunks:
            size += len(chunk)
            if room is not None and size > room:
                raise _quota(p, size, room)
            pending += chunk
            if len(pending) >= FLUSH_BYTES:
                await run_in_threadpool(_write, f, digest, bytes(pending))
                pending.clear()
        await run_in_threadpool(_write, f, digest, bytes(pending))
        await run_in_threadpool(f.close)
        summary = await run_in_threadpool(archive.inspect, part, p.settings.limits)
        return await run_in_threadpool(_record, p, user_id, part, size, digest.hexdigest(), summary)
    finally:
        await run_in_threadpool(f.close)
        await run_in_threadpool(part.unlink, missing_ok=True)


def _write(f: object, digest: hashlib._Hash, data: bytes) -> None:
    digest.update(data)
    f.write(data)  # type: ignore[attr-defined]


def _room_left(p: Platform, session: Session, owner_id: int) -> int | None:
    """Bytes the owner may still store (None: no disk quota)."""
    quota = p.settings.limits.disk_quota_bytes
    if quota is None:
        return None
    return max(0, quota - usage.disk_usage(p, session, owner_id).total_bytes)


def _room_now(p: Platform, user_id: int) -> int | None:
    with p.sessions() as session:
        return _room_left(p, session, user_id)


def _quota(p: Platform, size: int, room: int) -> QuotaExceeded:
    quota = p.settings.limits.disk_quota_bytes
    return QuotaExceeded(
        f"storing {size} bytes would exceed your disk quota of {quota} bytes "
        f"({room} bytes left; see GET /v1/users/me/usage)",
        {"quota_bytes": quota, "left_bytes": room},
    )


def _record(
    p: Platform, user_id: int, part: Path, size: int, sha256: str, summary: archive.Summary
) -> Upload:
    with p.sessions() as session:
        upload = Upload(
            owner_id=user_id,
            size_bytes=size,
            sha256=sha256,
            format=summary.format,
            members=summary.members,
            unpacked_bytes=summary.unpacked_bytes,
        )
        session.add(upload)
        session.flush()
        os.replace(part, upload_path(p, upload))
        session.commit()
        return upload


def delete_upload(p: Platform, session: Session, upload: Upload) -> None:
    path = upload_path(p, upload)
    session.delete(upload)
    session.commit()
    path.unlink(missing_ok=True)


def unpack_for(p: Platform, session: Session, user: User, upload_id: int, dest: Path) -> None:
    """Unpack one of ``user``'s uploads into ``dest``, within the limits and the disk quota."""
    upload = session.get(Upload, upload_id)
    if upload is None or not (user.is_admin or upload.owner_id == user.id):
        raise NotFound(f"upload {upload_id} not found")
    unpack_file(p, session, upload.owner_id, upload_path(p, upload), dest, upload.unpacked_bytes)


def unpack_file(
    p: Platform, session: Session, owner_id: int, path: Path, dest: Path, declared: int
) -> None:
    room = _room_left(p, session, owner_id)
    if room is not None and declared > room:
        raise _quota(p, declared, room)
    archive.extract(path, dest, p.settings.limits)
