"""Streaming a run's log file: the whole file, or follow until the run ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool

CHUNK = 64 * 1024
FOLLOW_POLL_S = 0.25


async def stream_file(
    path: Path | Callable[[int], bytes],
    offset: int,
    follow: bool,
    request: Request,
    is_finished: Callable[[], bool],
) -> AsyncIterator[bytes]:
    """Yield the log from ``offset``; with ``follow``, keep yielding until the run ends.

    ``path`` is a file or a reader ``read(offset) -> next chunk`` (an executor's
    ``read_log``). The run is checked *before* the last read, so output written just
    before the end is never lost.
    """
    pos = offset
    while True:
        finished = await run_in_threadpool(is_finished) if follow else True
        while True:
            if isinstance(path, Path):
                data = _read(path, pos)
            else:
                data = await run_in_threadpool(path, pos)
            if not data:
                break
            pos += len(data)
            yield data
        if finished or await request.is_disconnected():
            return
        await asyncio.sleep(FOLLOW_POLL_S)


def _read(path: Path, pos: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(pos)
            return f.read(CHUNK)
    except OSError:
        return b""


def tail_file(path: Path, limit: int = 2**20) -> str:
    """The last ``limit`` bytes of a log file, as text ("" if there is none yet)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - limit))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
